import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { baseItem, type InventoryItem } from '../../src/inventory/types.ts';
import type { Report } from '../../src/report/types.ts';
import { removeDir, tempDir } from '../support/certs.ts';
import { runCli } from '../support/cli.ts';
import { assertReportsValid } from '../support/reports.ts';

// The README's policy-impact preview: a nightly report of main, then a pull request that changes
// only `tiers:`. `evaluate --config` on the nightly's inventory must judge the items exactly as a
// scan with the pull request's config does, so the preview shows what merging would change.

const NOW = '2026-11-01T00:00:00Z';

function key(id: string, overrides: Partial<InventoryItem>): InventoryItem {
  return baseItem({
    uid: `arn:aws:kms:us-east-1:111122223333:key/${id}`,
    kind: 'key',
    provider: 'aws-kms',
    sourceId: 'estate',
    name: id,
    location: '111122223333/us-east-1',
    managedBy: 'customer',
    state: 'enabled',
    algorithm: 'AES-256',
    keyType: 'symmetric',
    keySize: 256,
    purpose: 'encrypt',
    protection: 'hsm',
    origin: 'generated',
    rotation: { supported: true, automatic: true, periodDays: 365, lastRotatedAt: null, nextRotationAt: null },
    ...overrides,
  });
}

const ESTATE: InventoryItem[] = [
  // 200 days old, rotated yearly: fine untiered (365 + 7 days), too old and too slow for a 90-day kek tier.
  key('kek-aes', { tags: { 'keydrift-tier': 'kek' }, createdAt: '2026-04-15T00:00:00Z' }),
  // Software-protected: KD-HSM-002 while the root tier (in hsmTiers by default) is assigned, nothing once it is not.
  key('root-soft', { tags: { 'keydrift-tier': 'root' }, protection: 'software', createdAt: '2026-09-01T00:00:00Z' }),
  // No tier tag: untouched by either config.
  key('plain', { createdAt: '2026-09-01T00:00:00Z' }),
];

const KEK_SETTINGS = 'policy:\n  tierSettings:\n    kek: { rotation: { maxDays: 90 } }\n';
const MAIN = `version: 1\nsources:\n  - { id: estate, type: snapshot, path: estate.json }\n${KEK_SETTINGS}tiers:\n  - { tag: keydrift-tier, value: root, tier: root }\n`;
// The pull request drops the root rule and adds a kek rule.
const PR = `version: 1\nsources:\n  - { id: estate, type: snapshot, path: estate.json }\n${KEK_SETTINGS}tiers:\n  - { tag: keydrift-tier, value: kek, tier: kek }\n`;
const NO_TIERS = `version: 1\nsources:\n  - { id: estate, type: snapshot, path: estate.json }\n${KEK_SETTINGS}`;

const uid = (id: string) => `arn:aws:kms:us-east-1:111122223333:key/${id}`;

/** Written from the settings: kek-aes in a kek tier of 90 days (KD-ROT-002: period 365 > 90; KD-ROT-003: 200 days > 90 + 7). */
const PR_FINDINGS = [`${uid('kek-aes')} KD-ROT-002 medium`, `${uid('kek-aes')} KD-ROT-003 high`].sort();
/** root-soft in the root tier, which protection.hsmTiers [kek, root] requires in an HSM. */
const MAIN_FINDINGS = [`${uid('root-soft')} KD-HSM-002 medium`];

const findings = (report: Report) => report.findings.map((finding) => `${finding.resource.uid} ${finding.ruleId} ${finding.severity}`).sort();
const tiers = (report: Report) => Object.fromEntries(report.inventory.map((item) => [item.name, item.tier]));

describe('evaluate assigns tiers from its config as scan does', () => {
  let dir: string;
  let nightly: string;

  before(async () => {
    dir = tempDir();
    writeFileSync(
      path.join(dir, 'estate.json'),
      JSON.stringify({ schemaVersion: '1', kind: 'inventory', tool: { name: 'keydrift', version: '0.1.0' }, collectedAt: NOW, sources: [], items: ESTATE }),
    );
    writeFileSync(path.join(dir, 'main.yaml'), MAIN);
    writeFileSync(path.join(dir, 'pr.yaml'), PR);
    writeFileSync(path.join(dir, 'no-tiers.yaml'), NO_TIERS);
    const out = path.join(dir, 'nightly');
    const run = await runCli(['scan', '--config', 'main.yaml', '--now', NOW, '--out', out, '--format', 'json', '--fail-on', 'none'], { cwd: dir });
    assert.equal(run.code, 0, run.stderr);
    nightly = path.join(out, 'keydrift.json');
    const report = assertReportsValid(out);
    assert.deepEqual(findings(report), MAIN_FINDINGS);
    assert.deepEqual(tiers(report), { 'kek-aes': null, 'root-soft': 'root', plain: null });
  });
  after(() => removeDir(dir));

  async function run(command: string[], name: string): Promise<Report> {
    const out = path.join(dir, name);
    const result = await runCli([...command, '--now', NOW, '--out', out, '--format', 'json', '--fail-on', 'none'], { cwd: dir });
    assert.equal(result.code, 0, result.stderr);
    return assertReportsValid(out);
  }

  test("the pull request's tiers: evaluate on the nightly inventory finds what a scan with them finds", async () => {
    const scanned = await run(['scan', '--config', 'pr.yaml'], 'pr-scan');
    const evaluated = await run(['evaluate', '--config', 'pr.yaml', '--inventory', nightly], 'pr-evaluate');
    assert.deepEqual(findings(scanned), PR_FINDINGS);
    assert.deepEqual(findings(evaluated), findings(scanned));
    // root-soft was saved in the root tier; the rule that put it there is gone, so it has none.
    assert.deepEqual(tiers(evaluated), { 'kek-aes': 'kek', 'root-soft': null, plain: null });
    assert.deepEqual(tiers(evaluated), tiers(scanned));
    // A scan replaying the nightly itself (root-soft saved in the root tier) assigns through the same function.
    writeFileSync(path.join(dir, 'pr-nightly.yaml'), PR.replace('path: estate.json', `path: ${JSON.stringify(nightly)}`));
    const replayed = await run(['scan', '--config', 'pr-nightly.yaml'], 'pr-replay');
    assert.deepEqual(tiers(replayed), tiers(evaluated));
    assert.deepEqual(findings(replayed), findings(evaluated));
  });

  test('the policy-impact preview shows the tier change as new and absent findings', async () => {
    const preview = await run(['evaluate', '--config', 'pr.yaml', '--inventory', nightly, '--baseline', nightly], 'preview');
    const state = (which: string) => preview.findings.filter((finding) => finding.baselineState === which).map((finding) => `${finding.resource.uid} ${finding.ruleId} ${finding.severity}`).sort();
    assert.deepEqual(state('new'), PR_FINDINGS);
    assert.deepEqual(state('absent'), MAIN_FINDINGS);
  });

  test('the recorded policy (no --config) keeps the tiers the scan assigned and reproduces its findings', async () => {
    const evaluated = await run(['evaluate', '--inventory', nightly], 'recorded');
    assert.deepEqual(findings(evaluated), MAIN_FINDINGS);
    assert.deepEqual(tiers(evaluated), { 'kek-aes': null, 'root-soft': 'root', plain: null });
  });

  test('a config without tiers: keeps the saved tiers, in evaluate and in a scan of the same inventory', async () => {
    const evaluated = await run(['evaluate', '--config', 'no-tiers.yaml', '--inventory', nightly], 'no-tiers-evaluate');
    assert.deepEqual(tiers(evaluated), { 'kek-aes': null, 'root-soft': 'root', plain: null });
    assert.deepEqual(findings(evaluated), MAIN_FINDINGS);
    writeFileSync(path.join(dir, 'no-tiers-nightly.yaml'), NO_TIERS.replace('path: estate.json', `path: ${JSON.stringify(nightly)}`));
    const scanned = await run(['scan', '--config', 'no-tiers-nightly.yaml'], 'no-tiers-scan');
    assert.deepEqual(findings(scanned), findings(evaluated));
  });
});
