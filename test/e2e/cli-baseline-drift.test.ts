import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { baseItem, type InventoryItem } from '../../src/inventory/types.ts';
import type { Report } from '../../src/report/types.ts';
import { removeDir, tempDir } from '../support/certs.ts';
import { runCli } from '../support/cli.ts';
import { assertReportsValid } from '../support/reports.ts';

// Fixture pairs: a baseline estate and the same estate a month later, with a new key, a removed
// key, a fixed finding, a changed rotation period and a waiver that expired in between.

const T0 = '2026-10-01T00:00:00Z';
const T1 = '2026-11-01T00:00:00Z';

function key(id: string, overrides: Partial<InventoryItem> = {}): InventoryItem {
  return baseItem({
    uid: `arn:aws:kms:us-east-1:111122223333:key/${id}`,
    kind: 'key',
    provider: 'aws-kms',
    sourceId: 'estate',
    name: id,
    location: '111122223333/us-east-1',
    algorithm: 'AES-256',
    keyType: 'symmetric',
    keySize: 256,
    purpose: 'encrypt',
    protection: 'hsm',
    origin: 'generated',
    createdAt: '2026-09-01T00:00:00Z',
    rotation: { supported: true, automatic: true, periodDays: 365, lastRotatedAt: null, nextRotationAt: null },
    ...overrides,
  });
}

const rsa = key('signing', { algorithm: 'RSA-2048', keyType: 'rsa', keySize: 2048, purpose: 'sign', rotation: { supported: false, automatic: false, periodDays: null, lastRotatedAt: null, nextRotationAt: null } });

const BASELINE: InventoryItem[] = [
  key('rotation-fixed', { rotation: { supported: true, automatic: false, periodDays: null, lastRotatedAt: null, nextRotationAt: null } }),
  key('period-changed'),
  rsa,
  key('removed', { rotation: { supported: true, automatic: false, periodDays: null, lastRotatedAt: null, nextRotationAt: null } }),
];

const CURRENT: InventoryItem[] = [
  key('rotation-fixed'),
  key('period-changed', { rotation: { supported: true, automatic: true, periodDays: 730, lastRotatedAt: null, nextRotationAt: null } }),
  rsa,
  key('added', { rotation: { supported: true, automatic: false, periodDays: null, lastRotatedAt: null, nextRotationAt: null } }),
];

function inventoryFile(dir: string, name: string, items: InventoryItem[]): string {
  const file = path.join(dir, name);
  writeFileSync(file, JSON.stringify({ schemaVersion: '1', kind: 'inventory', tool: { name: 'keydrift', version: '0.1.0' }, collectedAt: T0, sources: [], items }));
  return file;
}

describe('baseline drift', () => {
  let dir: string;
  let baseline: string;
  let current: string;

  before(async () => {
    dir = tempDir();
    baseline = path.join(dir, 'baseline');
    current = path.join(dir, 'current');
    const waiver = '  - { rule: KD-ALG-003, resource: "arn:aws:kms:*:key/signing", reason: "PQC plan", owner: "crypto-team", expires: 2026-10-15 }';
    writeFileSync(path.join(dir, 'before.yaml'), `version: 1\nsources:\n  - { id: estate, type: snapshot, path: before.json }\nwaivers:\n${waiver}\n`);
    writeFileSync(path.join(dir, 'after.yaml'), `version: 1\nsources:\n  - { id: estate, type: snapshot, path: after.json }\nwaivers:\n${waiver}\n`);
    inventoryFile(dir, 'before.json', BASELINE);
    inventoryFile(dir, 'after.json', CURRENT);
    const first = await runCli(['scan', '--config', path.join(dir, 'before.yaml'), '--now', T0, '--out', baseline, '--format', 'json']);
    // Rotation off on 30-day-old material is KD-ROT-001 medium (within the cryptoperiod): below --fail-on high.
    assert.equal(first.code, 0, first.stderr);
  });
  after(() => removeDir(dir));

  async function againstBaseline(extra: string[] = []): Promise<{ report: Report; code: number; stdout: string }> {
    const run = await runCli(['scan', '--config', path.join(dir, 'after.yaml'), '--now', T1, '--out', current, '--format', 'json,sarif,md', '--baseline', path.join(baseline, 'keydrift.json'), ...extra]);
    return { report: assertReportsValid(current), code: run.code, stdout: run.stdout };
  }

  test('every finding gets its state, and the counts are exact', async () => {
    const { report, stdout } = await againstBaseline();
    const states = report.findings.map((finding) => `${finding.ruleId} ${finding.resource.name} ${finding.baselineState}${finding.waiver ? ' waived' : ''}`).sort();
    assert.deepEqual(states, [
      'KD-ALG-003 signing unchanged', // waived in the baseline; the waiver expired, so it stands again
      'KD-GOV-002 KD-ALG-003 waiver for arn:aws:kms:*:key/signing new',
      'KD-ROT-001 added new',
      'KD-ROT-001 removed absent',
      'KD-ROT-001 rotation-fixed absent',
      'KD-ROT-002 period-changed new',
    ]);
    assert.equal(report.summary.new, 3);
    assert.equal(report.summary.fixed, 2);
    assert.deepEqual(report.summary.findings, { critical: 0, high: 0, medium: 3, low: 0, info: 1 });
    assert.match(stdout, /3 new, 2 fixed since the baseline/);
  });

  test('the inventory drift section lists added, removed and changed items with the changed fields', async () => {
    const { report } = await againstBaseline();
    assert.deepEqual(report.drift?.added.map((item) => item.name), ['added']);
    assert.deepEqual(report.drift?.removed.map((item) => item.name), ['removed']);
    assert.deepEqual(
      report.drift?.changed.map((item) => [item.name, item.changes]),
      [
        ['period-changed', { 'rotation.periodDays': { before: 365, after: 730 } }],
        ['rotation-fixed', { 'rotation.automatic': { before: false, after: true }, 'rotation.periodDays': { before: null, after: 365 } }],
      ],
    );
    assert.equal(report.drift?.baselineNow, '2026-10-01T00:00:00.000Z');
  });

  test('SARIF carries baselineState and leaves fixed findings out; Markdown shows new and fixed', async () => {
    await againstBaseline();
    const sarif = JSON.parse((await import('node:fs')).readFileSync(path.join(current, 'keydrift.sarif'), 'utf8')) as { runs: { results: { baselineState?: string; ruleId: string }[]; properties: { drift: unknown } }[] };
    const results = sarif.runs[0]!.results;
    assert.equal(results.length, 4);
    assert.ok(results.every((result) => result.baselineState && result.baselineState !== 'absent'));
    assert.deepEqual(sarif.runs[0]!.properties.drift, { new: 3, fixed: 2, added: 1, removed: 1, changed: 2, baselineNow: '2026-10-01T00:00:00.000Z' });
    const md = (await import('node:fs')).readFileSync(path.join(current, 'keydrift.md'), 'utf8');
    assert.match(md, /## Since the baseline \(2026-10-01T00:00:00.000Z\)/);
    assert.match(md, /### Fixed findings[\s\S]*KD-ROT-001 \| `rotation-fixed`/);
    assert.match(md, /- changed: `period-changed`: rotation\.periodDays 365 → 730/);
  });

  test('--fail-on-new-only fails only for new findings at or above the threshold', async () => {
    assert.equal((await againstBaseline(['--fail-on', 'medium'])).code, 1, 'the new KD-ROT-001 is medium');
    assert.equal((await againstBaseline(['--fail-on', 'medium', '--fail-on-new-only'])).code, 1);
    assert.equal((await againstBaseline(['--fail-on', 'critical', '--fail-on-new-only'])).code, 0);
    // Nothing new at or above medium when the same estate is compared with itself.
    const self = await runCli(['scan', '--config', path.join(dir, 'after.yaml'), '--now', T1, '--out', path.join(dir, 'self'), '--format', 'json', '--fail-on', 'medium']);
    assert.equal(self.code, 1);
    const again = await runCli(['scan', '--config', path.join(dir, 'after.yaml'), '--now', T1, '--out', path.join(dir, 'self2'), '--format', 'json', '--fail-on', 'medium', '--baseline', path.join(dir, 'self', 'keydrift.json'), '--fail-on-new-only']);
    assert.equal(again.code, 0);
  });

  test('policy impact: a tightened rotation limit, evaluated on the baseline inventory, reports exactly what it adds', async () => {
    // The PR tightens rotation.maxDays to 20: keys created 2026-09-01 are 30 days old at T0.
    writeFileSync(path.join(dir, 'tight.yaml'), 'version: 1\nsources: []\npolicy:\n  settings: { rotation: { maxDays: 20, graceDays: 7 } }\nwaivers:\n  - { rule: KD-ALG-003, resource: "arn:aws:kms:*:key/signing", reason: "PQC plan", owner: "crypto-team", expires: 2026-10-15 }\n');
    const out = path.join(dir, 'impact');
    const run = await runCli(['evaluate', '--inventory', path.join(baseline, 'keydrift.json'), '--config', path.join(dir, 'tight.yaml'), '--now', T0, '--baseline', path.join(baseline, 'keydrift.json'), '--out', out, '--format', 'json,md']);
    assert.equal(run.code, 1, run.stderr);
    const report = assertReportsValid(out);
    assert.deepEqual(
      report.findings.filter((finding) => finding.baselineState === 'new').map((finding) => `${finding.ruleId} ${finding.resource.name}`).sort(),
      ['KD-ROT-002 period-changed', 'KD-ROT-003 period-changed', 'KD-ROT-003 removed', 'KD-ROT-003 rotation-fixed', 'KD-ROT-003 signing'],
    );
    assert.equal(report.summary.fixed, 0);
    assert.equal(report.drift?.added.length, 0);
  });
});
