import { markdownCode, markdownText, markdownToken } from '../util/escape-markdown.ts';
import { rfc3339 } from '../util/rfc3339.ts';
import { own, type HistoryKey, type HistoryLine } from './history.ts';

// What a nightly job should raise, judged between the last run of a history and the runs before
// it (docs/history.md). Only the history's own times are used, never the clock: the same history
// gives the same anomalies whenever and wherever it is judged.

/** The same grace the rotation rules give by default (rotation.graceDays). */
export const ROTATION_GRACE_DAYS = 7;
/** How many runs before the last one the findings are compared with. */
export const FINDINGS_WINDOW = 7;
/** A rise must exceed both: a few findings more on a small estate, or half again on a large one. */
export const FINDINGS_RISE_MIN = 5;
export const FINDINGS_RISE_FRACTION = 0.5;

const DAY_MS = 86_400_000;

export type AnomalyKind = 'rotation-stopped' | 'findings-rose' | 'source-degraded' | 'source-missing';

const ORDER: readonly AnomalyKind[] = ['rotation-stopped', 'findings-rose', 'source-degraded', 'source-missing'];

export interface Anomaly {
  kind: AnomalyKind;
  /** The key uid, the source id, or the config name for findings-rose. */
  subject: string;
  message: string;
  /** The run time from which the condition has held. */
  since: string;
  evidence: Record<string, unknown>;
}

/** Every anomaly of the last run, by kind then subject; none with fewer than two runs. */
export function anomalies(lines: readonly HistoryLine[]): Anomaly[] {
  if (lines.length < 2) return [];
  const found = [...rotationStopped(lines), ...findingsRose(lines), ...sourceChanges(lines)];
  return found.sort((a, b) => ORDER.indexOf(a.kind) - ORDER.indexOf(b.kind) || (a.subject < b.subject ? -1 : a.subject > b.subject ? 1 : 0));
}

// --- (a) rotation stopped

function rotationStopped(lines: readonly HistoryLine[]): Anomaly[] {
  const last = lines.at(-1)!;
  const found: Anomaly[] = [];
  for (const [uid, key] of Object.entries(last.keys)) {
    const anomaly = overdue(lines, uid, key) ?? switchedOff(lines, uid, key);
    if (anomaly) found.push(anomaly);
  }
  return found;
}

/** Rotating on schedule at `at`: automatic, with a period, and rotated within period + grace. */
function onSchedule(at: string, key: HistoryKey): boolean {
  return key.automatic === true && key.periodDays !== null && key.lastRotatedAt !== null && Date.parse(at) - Date.parse(key.lastRotatedAt) <= (key.periodDays + ROTATION_GRACE_DAYS) * DAY_MS;
}

/**
 * Rotation is still configured (automatic, a period) yet the last rotation is more than period +
 * grace old, for a key an earlier run saw rotating on schedule. A key never seen on schedule is
 * left to the rotation rules, which report it every run: only a stop is news.
 */
function overdue(lines: readonly HistoryLine[], uid: string, key: HistoryKey): Anomaly | null {
  const last = lines.at(-1)!;
  if (key.automatic !== true || key.periodDays === null || key.lastRotatedAt === null || onSchedule(last.at, key)) return null;
  let seen = -1;
  for (let index = lines.length - 2; index >= 0 && seen < 0; index--) {
    const earlier = own(lines[index]!.keys, uid);
    if (earlier && onSchedule(lines[index]!.at, earlier)) seen = index;
  }
  if (seen < 0) return null;
  // The first run after the last on-schedule one that saw it late: the last run at the latest.
  const period = key.periodDays;
  const late = (at: string, seenKey: HistoryKey) =>
    seenKey.lastRotatedAt !== null && Date.parse(at) - Date.parse(seenKey.lastRotatedAt) > ((seenKey.periodDays ?? period) + ROTATION_GRACE_DAYS) * DAY_MS;
  let since = lines.length - 1;
  for (let index = seen + 1; index < lines.length - 1; index++) {
    const later = own(lines[index]!.keys, uid);
    if (later && late(lines[index]!.at, later)) {
      since = index;
      break;
    }
  }
  const rotated = Date.parse(key.lastRotatedAt);
  const dueAt = rfc3339(rotated + key.periodDays * DAY_MS);
  const graceEndedAt = rfc3339(rotated + (key.periodDays + ROTATION_GRACE_DAYS) * DAY_MS);
  return {
    kind: 'rotation-stopped',
    subject: uid,
    message:
      `Key ${uid} has automatic rotation every ${key.periodDays} days but last rotated at ${key.lastRotatedAt}: ` +
      `due at ${dueAt}, not done by the end of the ${ROTATION_GRACE_DAYS}-day grace (${graceEndedAt}). It was on schedule at the run of ${lines[seen]!.at}.`,
    since: lines[since]!.at,
    evidence: {
      reason: 'overdue',
      lastRotatedAt: key.lastRotatedAt,
      periodDays: key.periodDays,
      graceDays: ROTATION_GRACE_DAYS,
      dueAt,
      graceEndedAt,
      daysSinceRotation: Math.floor((Date.parse(last.at) - rotated) / DAY_MS),
      lastOnScheduleRun: lines[seen]!.at,
      ...(key.rotationCount !== undefined ? { rotationCount: key.rotationCount } : {}),
    },
  };
}

/** Automatic rotation off in the last run, on in the latest earlier run that knew: reported once, when it changes. */
function switchedOff(lines: readonly HistoryLine[], uid: string, key: HistoryKey): Anomaly | null {
  if (key.automatic !== false) return null;
  for (let index = lines.length - 2; index >= 0; index--) {
    const earlier = own(lines[index]!.keys, uid);
    if (!earlier || earlier.automatic === null) continue;
    if (earlier.automatic === false) return null;
    const last = lines.at(-1)!;
    return {
      kind: 'rotation-stopped',
      subject: uid,
      message: `Automatic rotation of key ${uid} was switched off: on at the run of ${lines[index]!.at}${earlier.periodDays !== null ? ` (every ${earlier.periodDays} days)` : ''}, off at the run of ${last.at}.`,
      since: last.at,
      evidence: {
        reason: 'automatic-off',
        automatic: false,
        previousAutomatic: true,
        previousRun: lines[index]!.at,
        previousPeriodDays: earlier.periodDays,
        lastRotatedAt: key.lastRotatedAt,
      },
    };
  }
  return null;
}

// --- (b) findings rose sharply

/** Standing findings that matter for the trend: medium and above (low and info move with estate size). */
function atOrAboveMedium(line: HistoryLine): number {
  const { critical, high, medium } = line.counts.bySeverity;
  return critical + high + medium;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/**
 * Standing findings at or above medium up by more than max(5, 50%) from the median of the previous
 * (up to 7) runs. The median, not the previous run: one bad night does not become the yardstick.
 */
function findingsRose(lines: readonly HistoryLine[]): Anomaly[] {
  const last = lines.at(-1)!;
  const previous = lines.slice(Math.max(0, lines.length - 1 - FINDINGS_WINDOW), -1);
  const before = median(previous.map(atOrAboveMedium));
  const now = atOrAboveMedium(last);
  const threshold = Math.max(FINDINGS_RISE_MIN, before * FINDINGS_RISE_FRACTION);
  if (now - before <= threshold) return [];
  const prior = lines.at(-2)!;
  const rulesUp = Object.entries(last.counts.byRule)
    .map(([rule, count]) => [rule, count - (own(prior.counts.byRule, rule) ?? 0)] as const)
    .filter(([, delta]) => delta > 0)
    .sort(([a, x], [b, y]) => y - x || (a < b ? -1 : a > b ? 1 : 0));
  const policyChanged = prior.policyDigest !== last.policyDigest || prior.profile !== last.profile;
  return [
    {
      kind: 'findings-rose',
      subject: last.configName,
      message:
        `Findings at or above medium rose to ${now} from a median of ${before} over the previous ${previous.length} run${previous.length === 1 ? '' : 's'} ` +
        `(more than the ${threshold} allowed)${policyChanged ? '; the policy or profile changed since the run before' : ''}.`,
      since: last.at,
      evidence: {
        atOrAboveMedium: now,
        median: before,
        threshold,
        previousRuns: previous.map((line) => line.at),
        bySeverity: last.counts.bySeverity,
        rulesUp: Object.fromEntries(rulesUp.slice(0, 10)),
        policyChanged,
      },
    },
  ];
}

// --- (c) a source went partial or failed, (d) a source disappeared: both against the run before

function sourceChanges(lines: readonly HistoryLine[]): Anomaly[] {
  const last = lines.at(-1)!;
  const prior = lines.at(-2)!;
  const before = new Map(prior.coverage.map((source) => [source.id, source]));
  const now = new Set(last.coverage.map((source) => source.id));
  const found: Anomaly[] = [];
  for (const source of last.coverage) {
    const previous = before.get(source.id);
    if (source.status === 'ok' || previous?.status !== 'ok') continue;
    found.push({
      kind: 'source-degraded',
      subject: source.id,
      message:
        `Source ${source.id} (${source.type}) was ${source.status} at the run of ${last.at}: ${source.errors} error${source.errors === 1 ? '' : 's'}, ${source.items} items; ` +
        `it was ok at the run before (${prior.at}, ${previous.items} items).`,
      since: last.at,
      evidence: { type: source.type, status: source.status, errors: source.errors, items: source.items, previousStatus: 'ok', previousItems: previous.items, previousRun: prior.at },
    });
  }
  for (const source of prior.coverage) {
    if (now.has(source.id)) continue;
    found.push({
      kind: 'source-missing',
      subject: source.id,
      message: `Source ${source.id} (${source.type}) is missing from the run of ${last.at}; the run before (${prior.at}) had it (${source.status}, ${source.items} items).`,
      since: last.at,
      evidence: { type: source.type, previousStatus: source.status, previousItems: source.items, previousRun: prior.at },
    });
  }
  return found;
}

// --- rendering

/** The anomalies as Markdown (a job summary, an issue body); every value from the history escaped. */
export function anomaliesMarkdown(lines: readonly HistoryLine[], found: readonly Anomaly[]): string {
  const last = lines.at(-1);
  const out: string[] = [];
  out.push(`# keydrift history: ${found.length === 0 ? 'no anomalies' : `${found.length} ${found.length === 1 ? 'anomaly' : 'anomalies'}`}`, '');
  if (!last) {
    out.push('The history has no runs yet.', '');
    return out.join('\n');
  }
  const before = lines.length - 1;
  out.push(
    `The last run (${markdownText(last.at)}, config ${markdownCode(last.configName, 'text')}) judged against ` +
      (before === 0 ? 'nothing yet: it is the only run.' : `the ${before} run${before === 1 ? '' : 's'} before it.`),
    '',
  );
  if (found.length > 0) {
    out.push('| anomaly | subject | since | details |', '|---|---|---|---|');
    for (const anomaly of found) {
      out.push(`| ${markdownToken(anomaly.kind)} | ${markdownCode(anomaly.subject)} | ${markdownText(anomaly.since)} | ${markdownText(anomaly.message)} |`);
    }
    out.push('');
  }
  return out.join('\n');
}
