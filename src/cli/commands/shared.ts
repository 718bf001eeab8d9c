import { access } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../config/load.ts';
import { unknownWaiverRules } from '../../rules/catalogue.ts';
import type { Config } from '../../config/types.ts';
import type { Format } from '../../model/format.ts';
import { PROFILES, type Profile } from '../../model/profile.ts';
import type { FailOn } from '../../model/severity.ts';
import { carryFirstSeen, compareWithBaseline, loadBaseline, type BaselineReport } from '../../findings/baseline.ts';
import type { InventoryItem } from '../../inventory/types.ts';
import { digestOf } from '../../findings/fingerprint.ts';
import type { Report } from '../../report/types.ts';
import { writeReports } from '../../report/write.ts';
import { HistoryError, MAX_HISTORY_BYTES, readHistory, trendSeries, type TrendPoint } from '../../report/history.ts';
import { FileReadError, readRegularFile } from '../../util/read-regular-file.ts';
import type { Logger } from '../../model/logger.ts';
import { parseFailOn, parseFormats, UsageError, type Values } from '../options.ts';
import { displayPath } from '../../util/paths.ts';
import { terminalLine } from '../../util/terminal.ts';
import { bySeverity, countBySeverity, exitCodeFor } from '../../findings/outcome.ts';

export const DEFAULT_FORMATS: Format[] = ['json', 'sarif', 'md'];

export interface OutputChoice {
  formats: Format[];
  outDir: string;
  failOn: FailOn;
  /** --history: earlier runs, for the trends in the HTML and Markdown reports. */
  history?: TrendPoint[];
}

/** --history FILE: the runs it records as trend points (a missing or broken history is a usage error naming it). */
export async function historyOption(values: Values): Promise<TrendPoint[] | undefined> {
  const file = values['history'] as string | undefined;
  if (file === undefined) return undefined;
  try {
    return trendSeries(readHistory((await readRegularFile(file, MAX_HISTORY_BYTES)).toString('utf8')));
  } catch (error) {
    if (error instanceof FileReadError || error instanceof HistoryError) throw new UsageError(`--history ${displayPath(file)}: ${error.message}`);
    throw error;
  }
}

/** Flags beat the config's `report` section, which beats the defaults. */
export function outputChoice(values: Values, config: Config | null): OutputChoice {
  const formats = parseFormats(values['format'] as string | undefined) ?? config?.report?.formats ?? DEFAULT_FORMATS;
  const configOut = config?.report?.outDir ? path.resolve(config.baseDir, config.report.outDir) : undefined;
  const outDir = (values['out'] as string | undefined) ?? configOut ?? 'reports';
  const failOn = parseFailOn(values['fail-on'] as string | undefined) ?? config?.report?.failOn ?? 'high';
  return { formats, outDir, failOn };
}

export async function configFrom(values: Values): Promise<Config> {
  return withProfile(await loadConfig((values['config'] as string | undefined) ?? 'keydrift.yaml'), values);
}

/** --profile overrides the config's policy.profile. Checks what needs the rule catalogue too. */
export function withProfile(config: Config, values: Values): Config {
  const waiverProblems = unknownWaiverRules(config.waivers ?? []);
  if (waiverProblems.length > 0) throw new ConfigError(waiverProblems);
  const profile = values['profile'] as string | undefined;
  if (profile === undefined) return config;
  if (!(PROFILES as readonly string[]).includes(profile)) throw new UsageError(`--profile: "${profile}" is not one of ${PROFILES.join(', ')}`);
  return { ...config, policy: { ...config.policy, profile: profile as Profile } };
}

/** The config when one was named or a keydrift.yaml is here; null otherwise. */
export async function optionalConfig(values: Values): Promise<Config | null> {
  if (values['config']) return withProfile(await loadConfig(values['config'] as string), values);
  try {
    await access('keydrift.yaml');
  } catch {
    return values['profile'] ? withProfile({ version: 1, name: 'keydrift', sources: [], file: path.resolve('keydrift.yaml'), baseDir: process.cwd(), regions: {} }, values) : null;
  }
  return withProfile(await loadConfig('keydrift.yaml'), values);
}

export function configDigest(config: Config): string {
  const { file: _file, baseDir: _baseDir, regions: _regions, ...content } = config;
  return digestOf(content);
}

/** The --baseline report, read before anything is collected so a bad file fails fast; null without the option. */
export async function baselineOption(values: Values): Promise<BaselineReport | null> {
  const file = values['baseline'] as string | undefined;
  if (!file) return null;
  try {
    return await loadBaseline(file);
  } catch (error) {
    throw new UsageError(`--baseline: ${(error as Error).message}`);
  }
}

/** With a baseline, items take their first-seen state from it before they are evaluated (KD-RET-001). */
export function withFirstSeen(items: InventoryItem[], baseline: BaselineReport | null): InventoryItem[] {
  return baseline ? carryFirstSeen(items, baseline) : items;
}

export async function applyBaseline(report: Report, values: Values, loaded?: BaselineReport | null): Promise<Report> {
  const baseline = loaded === undefined ? await baselineOption(values) : loaded;
  if (!baseline) return report;
  const compared = compareWithBaseline(report.findings, baseline, report.inventory, report.sources.map((source) => source.id));
  const exitCode = exitCodeFor(compared.findings, report.sources, report.scan.failOn, Boolean(values['fail-on-new-only']));
  return {
    ...report,
    findings: compared.findings,
    drift: compared.drift,
    summary: {
      ...report.summary,
      findings: countBySeverity(compared.findings),
      new: compared.new,
      fixed: compared.fixed,
      exitCode,
      compliant: exitCode === 0,
    },
  };
}

export async function writeAndSummarise(report: Report, choice: OutputChoice, logger: Logger, quiet: boolean, options: { pretty?: boolean } = {}): Promise<number> {
  const files = await writeReports(report, choice.formats, choice.outDir, { ...(choice.history ? { history: choice.history } : {}), ...options });
  if (!quiet) process.stdout.write(summaryText(report, files));
  else logger.debug(files.join(', '));
  return report.summary.exitCode;
}

/**
 * `view`: a report whose findings are not held as objects (a streamed one) gives the count of its
 * standing findings and the most severe of them instead.
 */
export function summaryText(report: Report, files: string[], view?: { standing: number; top: Report['findings'] }): string {
  const { findings } = report.summary;
  const standingFindings = view ? view.top : report.findings.filter((finding) => !finding.waiver && finding.baselineState !== 'absent');
  const standing = view ? view.standing : standingFindings.length;
  const verdict = report.summary.compliant
    ? standing === 0
      ? 'compliant'
      : `passed (nothing at or above ${report.scan.failOn})`
    : report.summary.exitCode === 3
      ? 'incomplete'
      : `findings at or above ${report.scan.failOn}`;
  const sources = report.sources.map((source) => `${source.id} ${source.status} (${source.items})`).join(', ');
  return [
    `keydrift: ${count(report.summary.items, 'item')}, ${count(standing, 'finding')} ` +
      `(critical ${findings.critical}, high ${findings.high}, medium ${findings.medium}, low ${findings.low}, info ${findings.info})` +
      (report.summary.waived ? `, ${report.summary.waived} waived` : '') +
      (report.drift ? `, ${report.summary.new} new, ${report.summary.fixed} fixed since the baseline` : '') +
      ` -> ${verdict} (exit ${report.summary.exitCode})`,
    ...topFindingsTable(standingFindings, standing),
    `sources: ${sources || 'none'}`,
    `reports: ${files.map((file) => displayPath(file)).join(', ')}`,
    '',
  ].map(terminalLine).join('\n'); // ids, statuses and paths are data: one escaped line each
}

/** "1 item", "2 items". */
export function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

export const TERMINAL_TOP = 5;

/** The most severe findings as a short aligned table, as Trivy prints: what to look at first without opening a report. */
function topFindingsTable(standing: readonly Report['findings'][number][], total: number): string[] {
  if (standing.length === 0) return [];
  const top = [...standing].sort(bySeverity).slice(0, TERMINAL_TOP);
  const cut = (text: string, width: number) => (text.length > width ? `${text.slice(0, width - 1)}…` : text);
  const rows = top.map((finding) => [finding.severity, finding.ruleId, cut(finding.resource.name, 40), cut(finding.title, 60)]);
  const header = ['SEVERITY', 'RULE', 'RESOURCE', 'TITLE'];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: string[]) => `  ${cells.map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column]!))).join('  ')}`;
  const more = total - top.length;
  return [line(header), ...rows.map(line), ...(more > 0 ? [`  … and ${count(more, 'more finding')} in the reports`] : [])];
}
