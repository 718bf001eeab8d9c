import { createHash, type Hash } from 'node:crypto';
import { lstat, open } from 'node:fs/promises';
import path from 'node:path';
import { SEVERITIES } from '../model/severity.ts';
import type { SourceState } from '../model/source.ts';
import { countBySeverity } from '../findings/outcome.ts';
import { MIB, readRegularFile } from '../util/read-regular-file.ts';
import { displayPath } from '../util/paths.ts';
import type { Report, SeverityCounts } from './types.ts';

// The run history (docs/history.md): one compact JSON line per nightly report, appended and never
// rewritten, so a job can compare tonight with the nights before without keeping every report.

export const HISTORY_VERSION = 1;

/** A history is read whole: these keep a crafted or runaway file from filling memory. */
export const MAX_HISTORY_BYTES = 256 * MIB;
export const MAX_HISTORY_LINE_CHARS = 16 * MIB;
export const MAX_HISTORY_RUNS = 100_000;

export interface HistoryCounts {
  /** Standing findings (not waived, not fixed since a baseline) by severity: the report's summary. */
  bySeverity: SeverityCounts;
  /** Standing findings by rule id. */
  byRule: Record<string, number>;
  waived: number;
  /** Only when the report was compared with a baseline. */
  new?: number;
  fixed?: number;
}

export interface HistoryCoverage {
  id: string;
  type: string;
  status: SourceState;
  items: number;
  /** How many errors the source reported (their text stays in the report). */
  errors: number;
}

export interface HistoryKey {
  lastRotatedAt: string | null;
  /** Rotations the provider lists (AWS KMS), when it lists them. */
  rotationCount?: number;
  automatic: boolean | null;
  periodDays: number | null;
}

export interface HistoryLine {
  v: typeof HISTORY_VERSION;
  /** The report's scan.now: the run's own clock, the only time the anomalies judge by. */
  at: string;
  /** Canonical digest of the whole report: the same run is never appended twice. */
  reportDigest: string;
  toolVersion: string;
  configName: string;
  profile: string;
  policyDigest: string;
  counts: HistoryCounts;
  coverage: HistoryCoverage[];
  /** Enabled customer-managed live keys with rotation facts, by uid. */
  keys: Record<string, HistoryKey>;
}

/** A history file that cannot be read or extended as it is; `line` is 1-based when one line is at fault. */
export class HistoryError extends Error {
  readonly line: number | null;
  constructor(message: string, line: number | null = null) {
    super(message);
    this.line = line;
  }
}

/** The compact line for one report (no trailing newline). */
export function historyLine(report: Report): HistoryLine {
  const standing = report.findings.filter((finding) => !finding.waiver && finding.baselineState !== 'absent');
  const byRule = new Map<string, number>();
  for (const finding of standing) byRule.set(finding.ruleId, (byRule.get(finding.ruleId) ?? 0) + 1);
  return {
    v: HISTORY_VERSION,
    at: report.scan.now,
    reportDigest: reportDigest(report),
    toolVersion: report.tool.version,
    configName: report.scan.configName,
    profile: report.scan.policy.profile,
    policyDigest: report.scan.policyDigest,
    counts: {
      bySeverity: countBySeverity(standing),
      byRule: Object.fromEntries([...byRule].sort(([a], [b]) => compare(a, b))),
      waived: report.summary.waived,
      // `drift` is what a baseline adds to a report: without one, new and fixed mean nothing.
      ...(report.drift ? { new: report.summary.new, fixed: report.summary.fixed } : {}),
    },
    coverage: report.sources.map((source) => ({ id: source.id, type: source.type, status: source.status, items: source.items, errors: source.errors.length })),
    keys: rotationFacts(report),
  };
}

/**
 * Keys whose rotation can stop: live (not declared in infrastructure code), customer-managed
 * (a provider rotates its own keys), enabled (a disabled key does not rotate by design; the
 * retirement rules judge it) and with rotation facts at all.
 */
function rotationFacts(report: Report): Record<string, HistoryKey> {
  const entries: [string, HistoryKey][] = [];
  for (const item of report.inventory) {
    if (item.kind !== 'key' || item.declared || item.managedBy !== 'customer' || item.state !== 'enabled' || !item.rotation) continue;
    const count = item.evidence['rotationCount'];
    entries.push([
      item.uid,
      {
        lastRotatedAt: item.rotation.lastRotatedAt,
        ...(Number.isSafeInteger(count) && (count as number) >= 0 ? { rotationCount: count as number } : {}),
        automatic: item.rotation.automatic,
        periodDays: item.rotation.periodDays,
      },
    ]);
  }
  // fromEntries defines own properties: a uid such as "__proto__" stays a key, not a prototype.
  return Object.fromEntries(entries.sort(([a], [b]) => compare(a, b)));
}

/**
 * sha256 of the report's canonical JSON (sorted keys, as digestOf writes it), hashed piece by
 * piece: a report near the evidence size limit would not fit in one string.
 */
export function reportDigest(report: Report): string {
  const hash = createHash('sha256');
  hashCanonical(hash, report);
  return `sha256:${hash.digest('hex')}`;
}

function hashCanonical(hash: Hash, value: unknown): void {
  if (Array.isArray(value)) {
    hash.update('[');
    value.forEach((inner, index) => {
      if (index > 0) hash.update(',');
      hashCanonical(hash, inner);
    });
    hash.update(']');
  } else if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, inner]) => inner !== undefined)
      .sort(([a], [b]) => compare(a, b));
    hash.update('{');
    entries.forEach(([key, inner], index) => {
      hash.update(`${index > 0 ? ',' : ''}${JSON.stringify(key)}:`);
      hashCanonical(hash, inner);
    });
    hash.update('}');
  } else {
    hash.update(JSON.stringify(value));
  }
}

/**
 * Every line of a history, validated, in order. A history is kept in time order (append refuses
 * anything else), so a line out of order was edited in: refused like a malformed one.
 */
export function readHistory(text: string): HistoryLine[] {
  if (text.length > MAX_HISTORY_BYTES) throw new HistoryError(`larger than ${MAX_HISTORY_BYTES / MIB} MiB: start a new history from its last lines (see docs/history.md)`);
  const body = text.startsWith('\ufeff') ? text.slice(1) : text;
  if (body === '') return [];
  const rows = (body.endsWith('\n') ? body.slice(0, -1) : body).split('\n');
  if (rows.length > MAX_HISTORY_RUNS) throw new HistoryError(`more than ${MAX_HISTORY_RUNS} runs: start a new history from its last lines (see docs/history.md)`);
  const lines: HistoryLine[] = [];
  rows.forEach((row, index) => {
    const number = index + 1;
    const last = number === rows.length;
    if (row.trim() === '') throw new HistoryError(`line ${number} is empty`, number);
    if (row.length > MAX_HISTORY_LINE_CHARS) throw new HistoryError(`line ${number} is longer than ${MAX_HISTORY_LINE_CHARS / MIB} Mi characters`, number);
    let parsed: unknown;
    try {
      parsed = JSON.parse(row);
    } catch {
      throw new HistoryError(`line ${number} is not valid JSON${last ? ' (a run cut short while it was appended?): remove or repair that line' : ''}`, number);
    }
    const problem = lineProblem(parsed);
    if (problem) throw new HistoryError(`line ${number} is not a keydrift history line: ${problem}`, number);
    const line = parsed as HistoryLine;
    const previous = lines.at(-1);
    if (previous && Date.parse(line.at) <= Date.parse(previous.at)) {
      throw new HistoryError(`line ${number} (run at ${line.at}) is not later than line ${number - 1} (run at ${previous.at}): a history is kept in time order`, number);
    }
    lines.push(line);
  });
  return lines;
}

/** Why this line cannot be appended to `history` (read by readHistory); null when it can. */
export function appendRefusal(history: readonly HistoryLine[], line: HistoryLine): string | null {
  const same = history.findIndex((earlier) => earlier.reportDigest === line.reportDigest);
  if (same >= 0) return `this report is already in the history (line ${same + 1}, same report digest ${line.reportDigest})`;
  const sameTime = history.findIndex((earlier) => Date.parse(earlier.at) === Date.parse(line.at));
  if (sameTime >= 0) return `the history already has a run at ${line.at} (line ${sameTime + 1}): the same scan.now is the same run`;
  const last = history.at(-1);
  if (last && Date.parse(line.at) < Date.parse(last.at)) {
    return `the report's scan.now ${line.at} is before the last run's (line ${history.length}, ${last.at}): a history is kept in time order`;
  }
  return null;
}

/**
 * Appends the report's line to `file` (created when absent). The history already there is read
 * and validated first: a broken last line is refused, never buried under a new one. The line is
 * one write to a descriptor opened with O_APPEND, synced before this resolves; earlier lines are
 * never rewritten. Two appenders at once are not guarded against: run the nightly job serially.
 */
export async function appendToHistory(file: string, report: Report): Promise<{ line: HistoryLine; number: number }> {
  const shown = displayPath(file);
  const existing = await readExisting(file);
  let history: HistoryLine[];
  try {
    history = readHistory(existing ?? '');
  } catch (error) {
    if (error instanceof HistoryError) throw new HistoryError(`${shown}: refusing to append: ${error.message}`, error.line);
    throw error;
  }
  const line = historyLine(report);
  const refusal = appendRefusal(history, line);
  if (refusal) throw new HistoryError(`${shown}: refusing to append: ${refusal}`);
  // A last line without its newline (edited by hand) must not run into the new one.
  const separator = existing && !existing.endsWith('\n') ? '\n' : '';
  const bytes = Buffer.from(`${separator}${JSON.stringify(line)}\n`);
  let handle;
  try {
    handle = await open(file, 'a', 0o644);
  } catch (error) {
    throw new HistoryError(`${shown}: cannot open for appending (${(error as NodeJS.ErrnoException).code ?? 'EIO'})`);
  }
  try {
    let offset = 0;
    while (offset < bytes.length) offset += (await handle.write(bytes, offset, bytes.length - offset)).bytesWritten;
    await handle.sync();
  } catch (error) {
    throw new HistoryError(`${shown}: cannot append (${(error as NodeJS.ErrnoException).code ?? 'EIO'})`);
  } finally {
    await handle.close();
  }
  if (existing === null) await syncDirectory(path.dirname(file));
  return { line, number: history.length + 1 };
}

/** The history's text, or null when there is no file yet. */
async function readExisting(file: string): Promise<string | null> {
  try {
    await lstat(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
  }
  try {
    return (await readRegularFile(file, MAX_HISTORY_BYTES)).toString('utf8');
  } catch (error) {
    throw new HistoryError(`${displayPath(file)}: ${(error as Error).message.replace(/, skipped$/, '')}`);
  }
}

/** A new file's directory entry reaches the disk too; best effort where a directory cannot be synced. */
async function syncDirectory(directory: string): Promise<void> {
  try {
    const handle = await open(directory, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Not every platform or file system lets a directory be fsynced; the line itself is synced.
  }
}

export interface TrendPoint {
  at: string;
  bySeverity: SeverityCounts;
  /** Items collected, all sources together. */
  items: number;
  /** Ids of the sources that were partial or failed. */
  sourcesNotOk: string[];
}

/** One point per run, for trend charts and tables. */
export function trendSeries(lines: readonly HistoryLine[]): TrendPoint[] {
  return lines.map((line) => ({
    at: line.at,
    bySeverity: { ...line.counts.bySeverity },
    items: line.coverage.reduce((sum, source) => sum + source.items, 0),
    sourcesNotOk: line.coverage.filter((source) => source.status !== 'ok').map((source) => source.id),
  }));
}

/** The value under `key` only when it is the record's own (a uid may be "constructor"). */
export function own<T>(record: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// --- line validation: a history travels between CI runs as an artifact, so it is input like any file

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;
const STATUSES: readonly string[] = ['ok', 'partial', 'failed'];

/** A check returns "path: what was expected", or null when the value passes. */
type Check = (value: unknown, at: string) => string | null;

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const leaf = (passes: (value: unknown) => boolean, expected: string): Check => (value, at) => (passes(value) ? null : `${at}: expected ${expected}`);
const string = leaf((value) => typeof value === 'string', 'a string');
const time = leaf((value) => typeof value === 'string' && RFC3339.test(value) && !Number.isNaN(Date.parse(value)), 'an RFC 3339 time');
const count = leaf((value) => Number.isSafeInteger(value) && (value as number) >= 0, 'a non-negative integer');
const days = leaf((value) => typeof value === 'number' && Number.isFinite(value) && value >= 0, 'a non-negative number');
const boolean = leaf((value) => typeof value === 'boolean', 'true or false');
const status = leaf((value) => STATUSES.includes(value as string), 'ok, partial or failed');
const orNull = (check: Check): Check => (value, at) => (value === null ? null : check(value, at));

const fields = (shape: Record<string, Check>, optional: readonly string[] = []): Check => (value, at) => {
  if (!isObject(value)) return `${at || 'the line'}: expected an object`;
  for (const [name, check] of Object.entries(shape)) {
    const where = at ? `${at}.${name}` : name;
    if (!Object.hasOwn(value, name)) {
      if (optional.includes(name)) continue;
      return `${where}: missing`;
    }
    const problem = check(value[name], where);
    if (problem) return problem;
  }
  return null;
};

const record = (check: Check): Check => (value, at) => {
  if (!isObject(value)) return `${at}: expected an object`;
  for (const [key, inner] of Object.entries(value)) {
    const problem = check(inner, `${at}[${JSON.stringify(key)}]`);
    if (problem) return problem;
  }
  return null;
};

const list = (check: Check): Check => (value, at) => {
  if (!Array.isArray(value)) return `${at}: expected an array`;
  for (const [index, inner] of value.entries()) {
    const problem = check(inner, `${at}[${index}]`);
    if (problem) return problem;
  }
  return null;
};

const LINE = fields({
  at: time,
  reportDigest: string,
  toolVersion: string,
  configName: string,
  profile: string,
  policyDigest: string,
  counts: fields(
    { bySeverity: fields(Object.fromEntries(SEVERITIES.map((severity) => [severity, count]))), byRule: record(count), waived: count, new: count, fixed: count },
    ['new', 'fixed'],
  ),
  coverage: list(fields({ id: string, type: string, status, items: count, errors: count })),
  keys: record(fields({ lastRotatedAt: orNull(time), rotationCount: count, automatic: orNull(boolean), periodDays: orNull(days) }, ['rotationCount'])),
});

/** The first thing wrong with a parsed line, as "field: what was expected"; null when it is a line. */
export function lineProblem(value: unknown): string | null {
  if (!isObject(value)) return 'expected a JSON object';
  const version = value['v'];
  if (version !== HISTORY_VERSION) {
    return typeof version === 'number' && version > HISTORY_VERSION ? `v: version ${version} is newer than this keydrift reads (${HISTORY_VERSION})` : `v: expected ${HISTORY_VERSION}`;
  }
  return LINE(value, '');
}

export { anomalies, anomaliesMarkdown, ROTATION_GRACE_DAYS, type Anomaly, type AnomalyKind } from './history-anomalies.ts';
