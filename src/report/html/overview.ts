import { SEVERITIES } from '../../model/severity.ts';
import type { SourceStatus } from '../../model/source.ts';
import { html } from './escape.ts';
import { compareText, countOpen, emptyCounts, isSeverity, plural, type FindingView, type ReportView, type RowState } from './view.ts';

/** Errors listed per source; the JSON report keeps them all. */
const ERRORS_SHOWN = 20;

/**
 * What an auditor reads first: the verdict, then what was not seen (coverage, never collapsed),
 * then the open findings by severity and where they are, and what changed since the baseline.
 */
export function overviewSection(view: ReportView): string {
  const { report } = view;
  const sources = Array.isArray(report.sources) ? report.sources : [];
  const itemCount = Array.isArray(report.inventory) ? report.inventory.length : 0;
  return `<section id="overview" aria-labelledby="overview-title">
<h2 id="overview-title">Overview</h2>
${verdict(view)}
<p>${plural(itemCount, 'item')} from ${plural(sources.length, 'source')}, evaluated at <time datetime="${html(report.scan?.now)}">${html(report.scan?.now)}</time> with profile <code>${html(report.scan?.policy?.profile)}</code> (fail-on: <code>${html(report.scan?.failOn)}</code>).</p>
${coverageSection(view, sources)}
${severityTable(view)}
${view.hasBaseline ? baselineTable(view) : ''}
${providerTable(view)}
</section>`;
}

function verdict(view: ReportView): string {
  const { summary, scan } = view.report;
  const failOn = html(scan?.failOn);
  const [kind, text] = summary?.compliant === true
    ? view.open.length === 0
      ? ['pass', 'Compliant']
      : ['pass', `Passed: no finding at or above the threshold (fail-on: ${failOn})`]
    : summary?.exitCode === 3
      ? ['incomplete', 'Incomplete: some sources were not fully collected']
      : ['fail', `Not compliant (fail-on: ${failOn})`];
  return `<p id="verdict" class="verdict ${kind}" data-verdict="${kind}">${text}. <span class="note">Exit code ${html(summary?.exitCode)}.</span></p>`;
}

/** Per source: its status, items, open findings by severity and its errors; gaps first. */
function coverageSection(view: ReportView, sources: readonly SourceStatus[]): string {
  const gaps = sources.filter((source) => source.status !== 'ok');
  const bySource = groupOpen(view.open, (finding) => finding.finding.resource?.sourceId);
  const known = new Set(sources.map((source) => source.id));
  // Findings about waivers (sourceId "config") or a source the report does not list still count somewhere.
  const others = [...bySource.keys()].filter((id) => !known.has(id)).sort(compareText);
  const ordered = [...gaps, ...sources.filter((source) => source.status === 'ok')];
  const rows = ordered.map((source) => {
    const errors = Array.isArray(source.errors) ? source.errors : [];
    const shown = errors.slice(0, ERRORS_SHOWN).map((error) => `<li>${error.resource ? `<code>${html(error.resource)}</code>: ` : ''}${html(error.message)} <span class="note">(${html(error.code)})</span></li>`);
    if (errors.length > ERRORS_SHOWN) shown.push(`<li class="note">and ${errors.length - ERRORS_SHOWN} more in the JSON report</li>`);
    return `<tr data-source="${html(source.id)}" data-status="${html(source.status)}"><th scope="row"><code>${html(source.id)}</code></th><td>${html(source.type)}</td>` +
      `<td><span class="status status-${html(source.status)}">${html(source.status)}</span></td><td class="num">${html(source.items)}</td>` +
      `${severityCells(bySource.get(source.id))}<td>${shown.length > 0 ? `<ul>${shown.join('')}</ul>` : 'none'}</td></tr>`;
  });
  for (const id of others) {
    rows.push(`<tr data-source="${html(id)}" data-status="none"><th scope="row"><code>${html(id)}</code></th><td class="note">not a scanned source${id === 'config' ? ' (waivers in the config)' : ''}</td><td>n/a</td><td class="num">0</td>${severityCells(bySource.get(id))}<td>none</td></tr>`);
  }
  const statement = sources.length === 0
    ? 'The report lists no sources: nothing was collected, so no control is assessed.'
    : gaps.length === 0
      ? `All ${sources.length} sources were fully collected.`
      : `${gaps.length} of ${sources.length} sources were not fully collected (${gaps.map((source) => `<code>${html(source.id)}</code> ${html(source.status)}`).join(', ')}): findings from them may be missing, and a control only they could show is not assessed.`;
  return `<section id="coverage" aria-labelledby="coverage-title">
<h3 id="coverage-title">Coverage</h3>
<p class="${gaps.length > 0 ? 'verdict incomplete' : ''}" id="coverage-statement" data-gaps="${gaps.length}">${statement}</p>
<table id="sources-table"><caption>Sources: status, items and open findings by severity</caption>
<thead><tr><th scope="col">Source</th><th scope="col">Type</th><th scope="col">Status</th><th scope="col" class="num">Items</th>${severityHeaders()}<th scope="col">Errors</th></tr></thead>
<tbody>${rows.join('\n')}</tbody></table>
</section>`;
}

function severityTable(view: ReportView): string {
  const counts = countOpen(view.open);
  const unknown = view.open.filter((finding) => !isSeverity(finding.finding.severity)).length;
  return `<table id="severity-counts"><caption>Open findings by severity (waived and fixed findings are counted apart, never as open)</caption>
<thead><tr>${SEVERITIES.map((severity) => `<th scope="col" class="num">${severity}</th>`).join('')}${unknown > 0 ? '<th scope="col" class="num">other severity</th>' : ''}<th scope="col" class="num">open</th><th scope="col" class="num">waived</th>${view.hasBaseline ? '<th scope="col" class="num">fixed</th>' : ''}</tr></thead>
<tbody><tr>${SEVERITIES.map((severity) => `<td class="num" data-count="${severity}">${counts[severity]}</td>`).join('')}${unknown > 0 ? `<td class="num" data-count="other">${unknown}</td>` : ''}` +
    `<td class="num" data-count="open">${view.open.length}</td><td class="num" data-count="waived">${view.waived.length}</td>${view.hasBaseline ? `<td class="num" data-count="fixed">${view.fixed.length}</td>` : ''}</tr></tbody></table>`;
}

const BASELINE_STATES: [RowState, string][] = [
  ['new', 'new'],
  ['unchanged', 'unchanged'],
  ['updated', 'updated'],
  ['fixed', 'fixed (absent now)'],
];

function baselineTable(view: ReportView): string {
  const counts = new Map<RowState, number>();
  for (const finding of view.findings) counts.set(finding.state, (counts.get(finding.state) ?? 0) + 1);
  const baselineNow = view.report.drift?.baselineNow;
  const waivedNew = view.findings.filter((finding) => finding.state === 'new' && finding.waived).length;
  return `<table id="baseline-summary"><caption>Since the baseline${typeof baselineNow === 'string' ? ` of <time datetime="${html(baselineNow)}">${html(baselineNow)}</time>` : ''}: findings by state</caption>
<thead><tr>${BASELINE_STATES.map(([, label]) => `<th scope="col" class="num">${label}</th>`).join('')}</tr></thead>
<tbody><tr>${BASELINE_STATES.map(([state]) => `<td class="num" data-state-count="${state}">${counts.get(state) ?? 0}</td>`).join('')}</tr></tbody></table>
${waivedNew > 0 ? `<p class="note">${waivedNew} of the new findings are waived.</p>` : ''}`;
}

function providerTable(view: ReportView): string {
  const inventory = Array.isArray(view.report.inventory) ? view.report.inventory : [];
  const items = new Map<string, { keys: number; certificates: number }>();
  for (const item of inventory) {
    const entry = items.get(item.provider) ?? { keys: 0, certificates: 0 };
    if (item.kind === 'certificate') entry.certificates++;
    else entry.keys++;
    items.set(item.provider, entry);
  }
  const byProvider = groupOpen(view.open, (finding) => finding.finding.resource?.provider);
  const waived = new Map<string, number>();
  for (const finding of view.waived) waived.set(String(finding.finding.resource?.provider), (waived.get(String(finding.finding.resource?.provider)) ?? 0) + 1);
  const providers = [...new Set([...items.keys(), ...byProvider.keys(), ...waived.keys()].map(String))].sort(compareText);
  const rows = providers.map((provider) => {
    const entry = items.get(provider) ?? { keys: 0, certificates: 0 };
    return `<tr data-provider="${html(provider)}"><th scope="row"><code>${html(provider)}</code></th><td class="num">${entry.keys + entry.certificates}</td><td class="num">${entry.keys}</td><td class="num">${entry.certificates}</td>` +
      `${severityCells(byProvider.get(provider))}<td class="num">${waived.get(provider) ?? 0}</td></tr>`;
  });
  return `<table id="providers-table"><caption>Posture by provider: items and open findings by severity</caption>
<thead><tr><th scope="col">Provider</th><th scope="col" class="num">Items</th><th scope="col" class="num">Keys</th><th scope="col" class="num">Certificates</th>${severityHeaders()}<th scope="col" class="num">Waived</th></tr></thead>
<tbody>${rows.join('\n') || `<tr><td colspan="${10}">No items and no findings.</td></tr>`}</tbody></table>`;
}

function groupOpen(findings: readonly FindingView[], key: (finding: FindingView) => unknown): Map<string, FindingView[]> {
  const groups = new Map<string, FindingView[]>();
  for (const finding of findings) {
    const name = String(key(finding));
    const group = groups.get(name);
    if (group) group.push(finding);
    else groups.set(name, [finding]);
  }
  return groups;
}

function severityHeaders(): string {
  return SEVERITIES.map((severity) => `<th scope="col" class="num">${severity}</th>`).join('');
}

function severityCells(findings: readonly FindingView[] | undefined): string {
  const counts = findings ? countOpen(findings) : emptyCounts();
  return SEVERITIES.map((severity) => `<td class="num">${counts[severity]}</td>`).join('');
}
