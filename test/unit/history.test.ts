import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { digestOf } from '../../src/findings/fingerprint.ts';
import {
  anomalies,
  anomaliesMarkdown,
  appendToHistory,
  type HistoryError,
  historyLine,
  lineProblem,
  readHistory,
  trendSeries,
  type HistoryKey,
  type HistoryLine,
} from '../../src/report/history.ts';
import type { Report } from '../../src/report/types.ts';
import { REPO } from '../support/cli.ts';
import { removeDir, tempDir } from '../support/certs.ts';

// The run history is what a nightly job compares tonight with: its lines must keep their shape,
// the file must only ever grow by whole valid lines, and each anomaly must fire on its change and
// stay quiet in a steady estate.

const demo = (): Report => JSON.parse(readFileSync(path.join(REPO, 'reports', 'keydrift.json'), 'utf8')) as Report;

const DAY = 86_400_000;
const T0 = Date.parse('2026-11-01T00:00:00Z');
const day = (n: number): string => new Date(T0 + n * DAY).toISOString();

const ROTATING = 'vault:transit/keys/orders';

/** A run `n` nights after T0, steady unless told otherwise. */
function run(n: number, change: { keys?: Record<string, HistoryKey>; medium?: number; coverage?: HistoryLine['coverage']; policyDigest?: string } = {}): HistoryLine {
  return {
    v: 1,
    at: day(n),
    reportDigest: `sha256:${String(n).padStart(64, '0')}`,
    toolVersion: '0.1.0',
    configName: 'nightly',
    profile: 'default',
    policyDigest: change.policyDigest ?? 'sha256:policy',
    counts: { bySeverity: { critical: 1, high: 4, medium: change.medium ?? 10, low: 2, info: 1 }, byRule: { 'KD-ROT-001': 5, 'KD-CRT-011': change.medium ?? 10 }, waived: 0 },
    coverage: change.coverage ?? [
      { id: 'aws', type: 'aws-kms', status: 'ok', items: 40, errors: 0 },
      { id: 'certs', type: 'x509-files', status: 'ok', items: 12, errors: 0 },
    ],
    keys: change.keys ?? { [ROTATING]: { lastRotatedAt: day(-10), automatic: true, periodDays: 30 } },
  };
}

const steady = (count: number): HistoryLine[] => Array.from({ length: count }, (_, n) => run(n));
const kinds = (lines: HistoryLine[]): string[] => anomalies(lines).map((anomaly) => `${anomaly.kind} ${anomaly.subject}`);

describe('history line', () => {
  test('one compact line per report: counts, coverage and the rotation facts of enabled customer keys', () => {
    const report = demo();
    const line = historyLine(report);
    const text = JSON.stringify(line);
    assert.doesNotMatch(text, /\n/);
    assert.deepEqual(JSON.parse(text), line);
    assert.equal(line.v, 1);
    assert.equal(line.at, report.scan.now);
    assert.equal(line.reportDigest, digestOf(report), 'the piecewise digest is the canonical digestOf');
    assert.equal(line.toolVersion, report.tool.version);
    assert.equal(line.configName, 'demo');
    assert.equal(line.profile, 'default');
    assert.equal(line.policyDigest, report.scan.policyDigest);
    assert.deepEqual(line.counts.bySeverity, report.summary.findings);
    assert.equal(line.counts.waived, report.summary.waived);
    const standing = report.findings.filter((finding) => !finding.waiver).length;
    assert.equal(Object.values(line.counts.byRule).reduce((sum, count) => sum + count, 0), standing, 'byRule counts unwaived findings only');
    assert.equal(line.counts.byRule['KD-CRT-003'], undefined, 'the waived KD-CRT-003 finding is not counted');
    assert.ok(!('new' in line.counts) && !('fixed' in line.counts), 'no baseline: no new/fixed');
    assert.deepEqual(line.coverage, [
      { id: 'demo-certs', type: 'x509-files', status: 'ok', items: 14, errors: 0 },
      { id: 'demo-keys', type: 'snapshot', status: 'ok', items: 8, errors: 0 },
    ]);
    assert.deepEqual(line.keys['https://vault.example.internal:8200/transit/keys/orders'], { lastRotatedAt: '2026-10-12T08:00:00Z', automatic: true, periodDays: 30 });
    const uids = Object.keys(line.keys);
    assert.ok(!uids.some((uid) => uid.includes('key/5e6f7a8b')), 'a provider-managed key is not ours to rotate');
    assert.ok(!uids.some((uid) => uid.includes('key/a1b2c3d4')), 'a key pending deletion does not rotate by design');
    assert.ok(!uids.some((uid) => uid.startsWith('pkcs11:')), 'a disabled key without rotation facts is left out');
    assert.ok(!uids.some((uid) => uid.startsWith('certs/')), 'certificates are not keys');
    assert.equal(lineProblem(line), null);
  });

  test('new and fixed only when the report was compared with a baseline; rotationCount when the provider lists rotations', () => {
    const report = demo();
    report.drift = { baselineNow: '2026-10-31T00:00:00Z', added: [], removed: [], changed: [] };
    report.summary.new = 2;
    report.summary.fixed = 3;
    const orders = report.inventory.find((item) => item.uid.endsWith('/transit/keys/orders'))!;
    orders.evidence['rotationCount'] = 4;
    const line = historyLine(report);
    assert.equal(line.counts.new, 2);
    assert.equal(line.counts.fixed, 3);
    assert.equal(line.keys[orders.uid]!.rotationCount, 4);
  });

  test('a uid such as "__proto__" stays a key of its own', () => {
    const report = demo();
    report.inventory.find((item) => item.uid.endsWith('/transit/keys/orders'))!.uid = '__proto__';
    const line = historyLine(report);
    assert.ok(Object.hasOwn(line.keys, '__proto__'));
    assert.deepEqual(readHistory(JSON.stringify(line) + '\n')[0]!.keys, line.keys);
  });
});

describe('readHistory', () => {
  const text = (lines: unknown[]): string => lines.map((line) => JSON.stringify(line) + '\n').join('');

  test('reads every line, with or without a final newline; an empty text is no runs', () => {
    assert.deepEqual(readHistory(text(steady(3))), steady(3));
    assert.deepEqual(readHistory(text(steady(3)).slice(0, -1)), steady(3));
    assert.deepEqual(readHistory(''), []);
  });

  test('a last line cut short is named', () => {
    const broken = text(steady(3)) + JSON.stringify(run(3)).slice(0, 40);
    assert.throws(() => readHistory(broken), (error: HistoryError) => error.line === 4 && /line 4 is not valid JSON \(a run cut short/.test(error.message));
  });

  test('a line of the wrong shape is named with the field at fault', () => {
    const bad = { ...run(1), counts: { ...run(1).counts, bySeverity: { ...run(1).counts.bySeverity, high: -1 } } };
    assert.throws(() => readHistory(text([run(0), bad])), /line 2 is not a keydrift history line: counts\.bySeverity\.high: expected a non-negative integer/);
    const badKey = run(1, { keys: { k: { lastRotatedAt: 'yesterday', automatic: true, periodDays: 30 } } });
    assert.throws(() => readHistory(text([run(0), badKey])), /line 2 .*keys\["k"\]\.lastRotatedAt: expected an RFC 3339 time/);
    const badSource = run(1, { coverage: [{ id: 'aws', type: 'aws-kms', status: 'broken' as 'ok', items: 1, errors: 0 }] });
    assert.throws(() => readHistory(text([run(0), badSource])), /line 2 .*coverage\[0\]\.status: expected ok, partial or failed/);
    assert.throws(() => readHistory(text([{ ...run(0), v: 2 }])), /line 1 .*v: version 2 is newer/);
    const { counts: _counts, ...missing } = run(0);
    assert.throws(() => readHistory(text([missing])), /line 1 .*counts: missing/);
  });

  test('an empty line and a line out of time order are refused', () => {
    assert.throws(() => readHistory(`${JSON.stringify(run(0))}\n\n${JSON.stringify(run(1))}\n`), /line 2 is empty/);
    assert.throws(() => readHistory(text([run(1), run(0)])), /line 2 \(run at .*\) is not later than line 1/);
  });
});

describe('appendToHistory', () => {
  let dir: string;
  let counter = 0;
  before(() => (dir = tempDir()));
  after(() => removeDir(dir));

  function night(n: number): Report {
    const report = demo();
    report.scan.now = day(n);
    return report;
  }

  test('creates the history, then only ever adds one line at the end', async () => {
    const file = path.join(dir, `history-${++counter}.jsonl`);
    assert.equal((await appendToHistory(file, night(0))).number, 1);
    const first = readFileSync(file, 'utf8');
    const second = await appendToHistory(file, night(1));
    assert.equal(second.number, 2);
    const after = readFileSync(file, 'utf8');
    assert.ok(after.startsWith(first), 'earlier lines are untouched');
    assert.equal(after.slice(first.length), JSON.stringify(second.line) + '\n');
    assert.equal(readHistory(after).length, 2);
  });

  test('the same run twice is refused: same report, or same scan.now', async () => {
    const file = path.join(dir, `history-${++counter}.jsonl`);
    await appendToHistory(file, night(0));
    const before = readFileSync(file, 'utf8');
    await assert.rejects(appendToHistory(file, night(0)), /refusing to append: this report is already in the history \(line 1, same report digest sha256:/);
    const rerun = night(0);
    rerun.scan.startedAt = '2026-11-01T00:05:00Z';
    await assert.rejects(appendToHistory(file, rerun), /refusing to append: the history already has a run at 2026-11-01T00:00:00\.000Z \(line 1\)/);
    assert.equal(readFileSync(file, 'utf8'), before);
  });

  test('a report older than the last run is refused', async () => {
    const file = path.join(dir, `history-${++counter}.jsonl`);
    await appendToHistory(file, night(5));
    await assert.rejects(appendToHistory(file, night(4)), /scan\.now .* is before the last run's \(line 1, .*\): a history is kept in time order/);
  });

  test('a history whose last line is not valid JSON is refused and left as it is', async () => {
    const file = path.join(dir, `history-${++counter}.jsonl`);
    await appendToHistory(file, night(0));
    writeFileSync(file, readFileSync(file, 'utf8') + '{"v":1,"at":"2026-11-02');
    const before = readFileSync(file, 'utf8');
    await assert.rejects(appendToHistory(file, night(2)), (error: HistoryError) => error.line === 2 && /refusing to append: line 2 is not valid JSON/.test(error.message));
    assert.equal(readFileSync(file, 'utf8'), before);
  });

  test('a valid last line without its newline gets one before the new line', async () => {
    const file = path.join(dir, `history-${++counter}.jsonl`);
    await appendToHistory(file, night(0));
    writeFileSync(file, readFileSync(file, 'utf8').trimEnd());
    await appendToHistory(file, night(1));
    assert.equal(readHistory(readFileSync(file, 'utf8')).length, 2);
  });
});

describe('anomalies', () => {
  test('a steady estate raises nothing, and one run has nothing to compare with', () => {
    assert.deepEqual(anomalies(steady(10)), []);
    assert.deepEqual(anomalies(steady(1)), []);
    assert.deepEqual(anomalies([]), []);
  });

  test('a key that keeps rotating on its period raises nothing', () => {
    // Rotated every 30 days; each run sees the latest rotation.
    const lines = Array.from({ length: 70 }, (_, n) => run(n, { keys: { [ROTATING]: { lastRotatedAt: day(Math.floor(n / 30) * 30), automatic: true, periodDays: 30 } } }));
    assert.deepEqual(anomalies(lines), []);
  });

  test('rotation stopped: still automatic, not rotated for more than period + 7 days, after runs that saw it on schedule', () => {
    const key = (n: number): HistoryLine => run(n, { keys: { [ROTATING]: { lastRotatedAt: day(0), automatic: true, periodDays: 30, rotationCount: 3 } } });
    // Day 37 is exactly period + grace: still on schedule. Past it, stopped.
    assert.deepEqual(anomalies([key(30), key(37)]), []);
    const lines = [key(30), key(37), key(38), key(39)];
    const [anomaly, ...rest] = anomalies(lines);
    assert.deepEqual(rest, []);
    assert.equal(anomaly!.kind, 'rotation-stopped');
    assert.equal(anomaly!.subject, ROTATING);
    assert.equal(anomaly!.since, day(38), 'since the first run that saw it late');
    assert.deepEqual(anomaly!.evidence, {
      reason: 'overdue',
      lastRotatedAt: day(0),
      periodDays: 30,
      graceDays: 7,
      dueAt: '2026-12-01T00:00:00Z',
      graceEndedAt: '2026-12-08T00:00:00Z',
      daysSinceRotation: 39,
      lastOnScheduleRun: day(37),
      rotationCount: 3,
    });
  });

  test('a key already late when the history began, or never rotated, is left to the rotation rules', () => {
    const late = (n: number): HistoryLine => run(n, { keys: { [ROTATING]: { lastRotatedAt: day(-100), automatic: true, periodDays: 30 } } });
    assert.deepEqual(anomalies([late(0), late(1), late(2)]), []);
    const never = (n: number): HistoryLine => run(n, { keys: { [ROTATING]: { lastRotatedAt: null, automatic: true, periodDays: 30 } } });
    assert.deepEqual(anomalies([never(0), never(60)]), []);
  });

  test('rotation stopped: automatic switched from true to false, raised on the run that saw it', () => {
    const on = run(0);
    const off = (n: number): HistoryLine => run(n, { keys: { [ROTATING]: { lastRotatedAt: day(-10), automatic: false, periodDays: null } } });
    const found = anomalies([on, off(1)]);
    assert.deepEqual(kinds([on, off(1)]), [`rotation-stopped ${ROTATING}`]);
    assert.equal(found[0]!.evidence['reason'], 'automatic-off');
    assert.equal(found[0]!.since, day(1));
    assert.deepEqual(anomalies([on, off(1), off(2)]), [], 'off and off again is no change');
    const unknown = run(1, { keys: { [ROTATING]: { lastRotatedAt: day(-10), automatic: null, periodDays: null } } });
    assert.deepEqual(kinds([on, unknown, off(2)]), [`rotation-stopped ${ROTATING}`], 'an unknown in between is skipped, not taken for off');
    assert.deepEqual(anomalies([on, unknown]), [], 'unknown is not off');
  });

  test('findings rose: more than max(5, 50%) above the median of the previous 7 runs', () => {
    // 15 at or above medium (1 + 4 + 10) each night: the threshold is max(5, 7.5) = 7.5.
    assert.deepEqual(anomalies([...steady(7), run(7, { medium: 17 })]), [], '+7 is within the threshold');
    const lines = [...steady(7), run(7, { medium: 18 })];
    const [anomaly, ...rest] = anomalies(lines);
    assert.deepEqual(rest, []);
    assert.equal(anomaly!.kind, 'findings-rose');
    assert.equal(anomaly!.since, day(7));
    assert.equal(anomaly!.evidence['median'], 15);
    assert.equal(anomaly!.evidence['atOrAboveMedium'], 23);
    assert.equal(anomaly!.evidence['threshold'], 7.5);
    assert.deepEqual(anomaly!.evidence['rulesUp'], { 'KD-CRT-011': 8 });
    assert.equal(anomaly!.evidence['policyChanged'], false);
  });

  test('findings rose: the floor of 5 holds on a small estate, and one bad night does not become the yardstick', () => {
    const small = (n: number, medium: number): HistoryLine => ({ ...run(n), counts: { ...run(n).counts, bySeverity: { critical: 0, high: 0, medium, low: 0, info: 0 } } });
    assert.deepEqual(anomalies([small(0, 2), small(1, 2), small(2, 7)]), [], '+5 on 2 is not more than 5');
    assert.deepEqual(kinds([small(0, 2), small(1, 2), small(2, 8)]), ['findings-rose nightly']);
    // A spike two nights ago stays out of the median: 8 runs, the median is still 15.
    const spiked = [...steady(7)];
    spiked[5] = run(5, { medium: 60 });
    assert.deepEqual(kinds([...spiked, run(7, { medium: 18 })]), ['findings-rose nightly']);
    // Only the previous 7 runs count: an old low stretch is forgotten.
    const old = Array.from({ length: 5 }, (_, n) => run(n, { medium: 0 }));
    const recent = Array.from({ length: 7 }, (_, n) => run(n + 5, { medium: 10 }));
    assert.deepEqual(anomalies([...old, ...recent, run(12, { medium: 12 })]), []);
  });

  test('findings rose: a policy change is said, not excused', () => {
    const [anomaly] = anomalies([...steady(3), run(3, { medium: 40, policyDigest: 'sha256:other' })]);
    assert.equal(anomaly!.evidence['policyChanged'], true);
    assert.match(anomaly!.message, /the policy or profile changed/);
  });

  test('a source that was ok and went partial or failed; not one that was already partial', () => {
    const coverage = (aws: 'ok' | 'partial' | 'failed', errors = 0): HistoryLine['coverage'] => [
      { id: 'aws', type: 'aws-kms', status: aws, items: aws === 'failed' ? 0 : 40, errors },
      { id: 'certs', type: 'x509-files', status: 'ok', items: 12, errors: 0 },
    ];
    const lines = [run(0), run(1, { coverage: coverage('partial', 2) })];
    const [anomaly, ...rest] = anomalies(lines);
    assert.deepEqual(rest, []);
    assert.equal(anomaly!.kind, 'source-degraded');
    assert.equal(anomaly!.subject, 'aws');
    assert.equal(anomaly!.since, day(1));
    assert.deepEqual(anomaly!.evidence, { type: 'aws-kms', status: 'partial', errors: 2, items: 40, previousStatus: 'ok', previousItems: 40, previousRun: day(0) });
    assert.deepEqual(kinds([run(0), run(1, { coverage: coverage('failed', 1) })]), ['source-degraded aws']);
    assert.deepEqual(anomalies([run(0), run(1, { coverage: coverage('partial', 2) }), run(2, { coverage: coverage('failed', 1) })]), [], 'it was not ok the run before');
  });

  test('a source that disappeared; a new one is not an anomaly', () => {
    const only = (ids: string[]): HistoryLine['coverage'] => ids.map((id) => ({ id, type: 'x509-files', status: 'ok' as const, items: 3, errors: 0 }));
    const [anomaly, ...rest] = anomalies([run(0, { coverage: only(['a', 'b']) }), run(1, { coverage: only(['a', 'c']) })]);
    assert.deepEqual(rest, []);
    assert.equal(anomaly!.kind, 'source-missing');
    assert.equal(anomaly!.subject, 'b');
    assert.deepEqual(anomaly!.evidence, { type: 'x509-files', previousStatus: 'ok', previousItems: 3, previousRun: day(0) });
  });

  test('several anomalies come by kind, then subject; the Markdown escapes what the history holds', () => {
    const lines = [
      run(0),
      run(1, {
        medium: 40,
        coverage: [{ id: 'aws', type: 'aws-kms', status: 'failed', items: 0, errors: 1 }],
        keys: { [ROTATING]: { lastRotatedAt: day(-10), automatic: false, periodDays: null } },
      }),
    ];
    assert.deepEqual(kinds(lines), [`rotation-stopped ${ROTATING}`, 'findings-rose nightly', 'source-degraded aws', 'source-missing certs']);
    const markdown = anomaliesMarkdown(lines, anomalies(lines));
    assert.match(markdown, /^# keydrift history: 4 anomalies\n/);
    assert.match(markdown, /the 1 run before it/);
    assert.match(markdown, /\| rotation-stopped \| `vault:transit\/keys\/orders` \|/);
    const hostile = [run(0, { coverage: [{ id: 'x|<img src=1>\n# y', type: 't', status: 'ok', items: 1, errors: 0 }] }), run(1, { coverage: [] })];
    const escaped = anomaliesMarkdown(hostile, anomalies(hostile));
    assert.doesNotMatch(escaped, /^# y/m, 'no heading from data');
    assert.doesNotMatch(escaped.replace(/`[^`]*`/g, ''), /(?<!\\)<img/, 'no HTML outside a code span');
    const row = escaped.split('\n').find((line) => line.startsWith('| source-missing'))!;
    assert.equal(row.split(/(?<!\\)\|/).length, 6, 'a | in the id does not add a cell');
  });
});

describe('trendSeries', () => {
  test('one point per run: time, counts by severity, items, sources not ok', () => {
    const lines = [run(0), run(1, { coverage: [{ id: 'aws', type: 'aws-kms', status: 'partial', items: 30, errors: 1 }, { id: 'certs', type: 'x509-files', status: 'ok', items: 12, errors: 0 }] })];
    assert.deepEqual(trendSeries(lines), [
      { at: day(0), bySeverity: { critical: 1, high: 4, medium: 10, low: 2, info: 1 }, items: 52, sourcesNotOk: [] },
      { at: day(1), bySeverity: { critical: 1, high: 4, medium: 10, low: 2, info: 1 }, items: 42, sourcesNotOk: ['aws'] },
    ]);
  });
});
