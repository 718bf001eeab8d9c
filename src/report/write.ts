import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Format } from '../model/format.ts';
import { writeFileAtomic } from '../util/atomic-write.ts';
import { redactLive } from '../util/redact.ts';
import { toCsv } from './csv.ts';
import { toHtml } from './html.ts';
import { toMarkdown } from './markdown.ts';
import { toOcsf } from './ocsf.ts';
import { toOpenMetrics } from './openmetrics.ts';
import { toSarif } from './sarif.ts';
import type { TrendPoint } from './history.ts';
import type { Report } from './types.ts';
import { rulesTable } from './rules-table.ts';

export const FILE_NAMES: Record<Format, string> = {
  json: 'keydrift.json',
  sarif: 'keydrift.sarif',
  md: 'keydrift.md',
  html: 'keydrift.html',
  csv: 'keydrift.csv',
  ocsf: 'keydrift.ocsf.json',
  prom: 'keydrift.prom',
};

/** What a renderer may add beyond the report: trends across earlier runs. */
export interface RenderOptions {
  history?: TrendPoint[];
  /** Indented JSON; by default only a small report is (a large one is read by programs, and indentation doubled its size). */
  pretty?: boolean;
}

/** Items plus findings up to which a JSON report is indented unless told otherwise. */
export const PRETTY_LIMIT = 10_000;

/** The JSON report as written: the report with its rules table after the summary. */
export function jsonReport(report: Report): Report & { rules: ReturnType<typeof rulesTable> } {
  const { findings, inventory, drift, ...head } = report;
  return { ...head, rules: rulesTable(findings.map((finding) => finding.ruleId), report.scan.customRules), findings, inventory, ...(drift ? { drift } : {}) };
}

export function render(report: Report, format: Format, options: RenderOptions = {}): string {
  switch (format) {
    case 'json': {
      const pretty = options.pretty ?? report.inventory.length + report.findings.length <= PRETTY_LIMIT;
      return JSON.stringify(jsonReport(report), null, pretty ? 2 : undefined) + '\n';
    }
    case 'sarif':
      return JSON.stringify(toSarif(report), null, (options.pretty ?? report.findings.length <= PRETTY_LIMIT) ? 2 : undefined) + '\n';
    case 'md':
      return toMarkdown(report, options);
    case 'html':
      return toHtml(report, options.history ? { history: options.history } : {});
    case 'csv':
      return toCsv(report);
    case 'ocsf':
      return toOcsf(report);
    case 'prom':
      return toOpenMetrics(report);
  }
}

/**
 * Renders every format first, then writes each through a temporary file and a rename, so a
 * failure never leaves a half-written report next to complete ones.
 */
export async function writeReports(report: Report, formats: readonly Format[], outDir: string, options: RenderOptions = {}): Promise<string[]> {
  // Last line of defence: a credential this process holds never reaches a file, whatever path it took.
  const rendered = formats.map((format) => [path.join(outDir, FILE_NAMES[format]), redactLive(render(report, format, options))] as const);
  await mkdir(outDir, { recursive: true });
  for (const [file, text] of rendered) await writeFileAtomic(file, text);
  return rendered.map(([file]) => file);
}
