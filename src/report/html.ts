import type { TrendPoint } from './history.ts';
import type { Report } from './types.ts';
import { chartsSection } from './html/charts.ts';
import { complianceSection } from './html/compliance.ts';
import { driftSection } from './html/drift.ts';
import { html } from './html/escape.ts';
import { findingsSection } from './html/findings.ts';
import { inventorySection } from './html/inventory.ts';
import { page } from './html/layout.ts';
import { metadataSection } from './html/metadata.ts';
import { overviewSection } from './html/overview.ts';
import { rulesSection } from './html/rules.ts';
import { buildView } from './html/view.ts';

export interface HtmlOptions {
  /** Earlier runs (trendSeries of a history file), for the findings-over-time chart. */
  history?: TrendPoint[];
}

/**
 * The auditor's report: one self-contained page (inline CSS, SVG and one script, nothing remote)
 * that reads top down, verdict and coverage first, and prints to PDF with every detail open.
 * Every value from the report is escaped (a report can be crafted, a file name can be anything);
 * the Content-Security-Policy allows only the page's own script, by hash, should anything slip.
 */
export function toHtml(report: Report, options: HtmlOptions = {}): string {
  const view = buildView(report);
  const drift = driftSection(view);
  const sections: [string, string, string][] = [
    ['overview', 'Overview', overviewSection(view)],
    ['compliance', 'Compliance', complianceSection(view)],
    ['charts', 'Charts', chartsSection(view, options.history)],
    ['findings', 'Findings', findingsSection(view)],
    ['inventory', 'Inventory', inventorySection(view)],
    ...(drift ? [['drift', 'Drift', drift] as [string, string, string]] : []),
    ['rules', 'Rules', rulesSection(view)],
    ['metadata', 'Reproducing', metadataSection(view)],
  ];
  const title = `keydrift report: ${String(report.scan?.configName ?? '')}`;
  const body = `<header><h1>${html(title)}</h1>
<nav aria-label="Sections"><ul>${sections.map(([id, label]) => `<li><a href="#${id}">${label}</a></li>`).join('')}</ul></nav></header>
<main>
${sections.map(([, , section]) => section).join('\n')}
</main>`;
  return page({
    title,
    body,
    data: {
      tool: report.tool?.version ?? null,
      configName: report.scan?.configName ?? null,
      now: report.scan?.now ?? null,
      findings: view.findings.length,
      open: view.open.length,
      waived: view.waived.length,
      fixed: view.fixed.length,
      items: Array.isArray(report.inventory) ? report.inventory.length : 0,
    },
  });
}
