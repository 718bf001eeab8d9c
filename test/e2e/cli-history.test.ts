import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Report } from '../../src/report/types.ts';
import { REPO, runCli } from '../support/cli.ts';
import { removeDir, tempDir } from '../support/certs.ts';

// Five nights of the demo estate, appended one by one as a nightly job would: on night 4 the
// Vault key "orders" is past its 30-day period plus the 7-day grace without a rotation, on night 5
// the certificate source comes back partial. `history anomalies` must name exactly those two.

const DAY = 86_400_000;
const ORDERS = 'https://vault.example.internal:8200/transit/keys/orders';
const CARD_DATA = 'projects/example-prod/locations/europe-west1/keyRings/payments/cryptoKeys/card-data';
// Due 2026-10-28T12:00Z; the grace ends 2026-11-04T12:00Z, between night 3 (11-04) and night 4 (11-05).
const ORDERS_LAST_ROTATED = '2026-09-28T12:00:00Z';

const shift = (time: string, days: number): string => new Date(Date.parse(time) + days * DAY).toISOString();

/** The committed demo report as night `n` (1-based) saw it: the clock n days after the demo's. */
function night(n: number): Report {
  const report = JSON.parse(readFileSync(path.join(REPO, 'reports', 'keydrift.json'), 'utf8')) as Report;
  report.scan.now = shift(report.scan.now, n);
  report.scan.startedAt = shift(report.scan.now, 3 / 24);
  report.scan.finishedAt = shift(report.scan.startedAt, 1 / 1440);
  const key = (uid: string) => report.inventory.find((item) => item.uid === uid)!.rotation!;
  const orders = key(ORDERS);
  orders.lastRotatedAt = ORDERS_LAST_ROTATED;
  orders.nextRotationAt = '2026-10-28T12:00:00Z';
  // card-data rotates on schedule (due 2026-11-02T09:00Z): steady, no anomaly.
  if (n >= 2) {
    const card = key(CARD_DATA);
    card.lastRotatedAt = '2026-11-02T09:00:00Z';
    card.nextRotationAt = '2027-01-31T09:00:00Z';
  }
  if (n === 5) {
    const certs = report.sources.find((source) => source.id === 'demo-certs')!;
    certs.status = 'partial';
    certs.errors = [{ code: 'unreadable', message: 'cannot read file (EACCES)', resource: 'certs/web/new-api.pem' }];
  }
  return report;
}

describe('keydrift history', () => {
  let dir: string;
  let history: string;
  const reports: string[] = [];

  before(async () => {
    dir = tempDir();
    history = path.join(dir, 'history.jsonl');
    for (let n = 1; n <= 5; n++) {
      const file = path.join(dir, `night-${n}.json`);
      writeFileSync(file, JSON.stringify(night(n), null, 2));
      reports.push(file);
    }
  });
  after(() => removeDir(dir));

  test('five nights appended: one line each, earlier lines never rewritten', async () => {
    let previous = '';
    for (const [index, report] of reports.entries()) {
      const run = await runCli(['history', 'append', report, '--to', history]);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, new RegExp(`appended the run at .* \\(run ${index + 1}\\)\\n$`));
      const text = readFileSync(history, 'utf8');
      assert.ok(text.startsWith(previous));
      assert.equal(text.split('\n').length, index + 2);
      previous = text;
    }
  });

  test('anomalies: exactly the stopped rotation and the partial source', async () => {
    const run = await runCli(['history', 'anomalies', '--from', history, '--format', 'json']);
    assert.equal(run.code, 1, run.stderr);
    const result = JSON.parse(run.stdout) as { runs: number; lastRunAt: string; anomalies: { kind: string; subject: string; since: string; evidence: Record<string, unknown> }[] };
    assert.equal(result.runs, 5);
    assert.equal(result.lastRunAt, '2026-11-06T00:00:00.000Z');
    assert.deepEqual(
      result.anomalies.map(({ kind, subject, since }) => ({ kind, subject, since })),
      [
        { kind: 'rotation-stopped', subject: ORDERS, since: '2026-11-05T00:00:00.000Z' },
        { kind: 'source-degraded', subject: 'demo-certs', since: '2026-11-06T00:00:00.000Z' },
      ],
    );
    assert.equal(result.anomalies[0]!.evidence['lastRotatedAt'], ORDERS_LAST_ROTATED);
    assert.equal(result.anomalies[0]!.evidence['lastOnScheduleRun'], '2026-11-04T00:00:00.000Z');
    assert.equal(result.anomalies[1]!.evidence['status'], 'partial');
  });

  test('anomalies as Markdown by default', async () => {
    const run = await runCli(['history', 'anomalies', '--from', history]);
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stdout, /^# keydrift history: 2 anomalies\n/);
    assert.match(run.stdout, /\| rotation-stopped \| `https:\/\/vault\.example\.internal:8200\/transit\/keys\/orders` \|/);
    assert.match(run.stdout, /\| source-degraded \| `demo-certs` \|/);
  });

  test('four nights in: the stopped rotation alone; three nights in: nothing', async () => {
    const partial = path.join(dir, 'history-partial.jsonl');
    for (const report of reports.slice(0, 3)) assert.equal((await runCli(['history', 'append', report, '--to', partial, '--quiet'])).code, 0);
    const three = await runCli(['history', 'anomalies', '--from', partial, '--format', 'json']);
    assert.equal(three.code, 0, three.stdout);
    assert.deepEqual(JSON.parse(three.stdout).anomalies, []);
    assert.equal((await runCli(['history', 'append', reports[3]!, '--to', partial, '--quiet'])).code, 0);
    const four = await runCli(['history', 'anomalies', '--from', partial, '--format', 'json']);
    assert.equal(four.code, 1);
    assert.deepEqual(JSON.parse(four.stdout).anomalies.map((anomaly: { kind: string }) => anomaly.kind), ['rotation-stopped']);
  });

  test('the same night twice is refused with exit 2 and the history is unchanged', async () => {
    const before = readFileSync(history, 'utf8');
    const run = await runCli(['history', 'append', reports[2]!, '--to', history]);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /refusing to append: this report is already in the history \(line 3, same report digest sha256:[0-9a-f]{64}\)/);
    assert.equal(readFileSync(history, 'utf8'), before);
  });

  test('bad input exits 2: a broken last line, a file that is not a report, a missing history, a wrong subcommand', async () => {
    const broken = path.join(dir, 'broken.jsonl');
    writeFileSync(broken, readFileSync(history, 'utf8'));
    appendFileSync(broken, '{"v":1,"at":');
    const appendRun = await runCli(['history', 'append', reports[4]!, '--to', broken]);
    assert.equal(appendRun.code, 2);
    assert.match(appendRun.stderr, /refusing to append: line 6 is not valid JSON/);
    const judged = await runCli(['history', 'anomalies', '--from', broken]);
    assert.equal(judged.code, 2);
    assert.match(judged.stderr, /line 6 is not valid JSON/);

    const notReport = path.join(dir, 'not-a-report.json');
    writeFileSync(notReport, '{"findings": []}');
    const foreign = await runCli(['history', 'append', notReport, '--to', path.join(dir, 'other.jsonl')]);
    assert.equal(foreign.code, 2);
    assert.match(foreign.stderr, /not a keydrift JSON report/);

    assert.equal((await runCli(['history', 'anomalies', '--from', path.join(dir, 'absent.jsonl')])).code, 2);
    assert.equal((await runCli(['history', 'anomalies', '--from', history, '--format', 'sarif'])).code, 2);
    assert.equal((await runCli(['history', 'rewrite'])).code, 2);
    assert.equal((await runCli(['history', 'append', reports[0]!])).code, 2, 'append needs --to');
  });

  test('help: the command and the main usage list it', async () => {
    const own = await runCli(['history', '--help']);
    assert.equal(own.code, 0);
    assert.match(own.stdout, /^Usage: keydrift history append REPORT\.json --to HISTORY\.jsonl/);
    const main = await runCli(['--help']);
    assert.match(main.stdout, /history append \| anomalies/);
  });
});
