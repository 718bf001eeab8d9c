import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { baseItem, type InventoryItem } from '../../src/inventory/types.ts';
import type { Report } from '../../src/report/types.ts';
import { removeDir, tempDir } from '../support/certs.ts';
import { runCli } from '../support/cli.ts';
import { assertReportsValid } from '../support/reports.ts';

// KD-RET-001 needs to know since when a key is disabled. No provider dates a disabled Cloud KMS
// key, and CloudTrail keeps 90 days: --baseline supplies the first scan that saw the key disabled,
// in evaluate as in scan.

const T0 = '2026-06-01T00:00:00Z';
const T1 = '2026-10-01T00:00:00Z'; // 122 days later

function key(id: string, state: InventoryItem['state']): InventoryItem {
  return baseItem({
    uid: `projects/acme/locations/europe-west1/keyRings/app/cryptoKeys/${id}`,
    kind: 'key',
    provider: 'gcp-kms',
    sourceId: 'estate',
    name: id,
    location: 'acme/europe-west1/app',
    algorithm: 'AES-256',
    keyType: 'symmetric',
    keySize: 256,
    purpose: 'encrypt',
    protection: 'hsm',
    origin: 'generated',
    state,
    createdAt: '2026-01-01T00:00:00Z',
    rotation: { supported: true, automatic: true, periodDays: 365, lastRotatedAt: null, nextRotationAt: null },
  });
}

function inventoryFile(dir: string, name: string, items: InventoryItem[]): string {
  const file = path.join(dir, name);
  writeFileSync(file, JSON.stringify({ schemaVersion: '1', kind: 'inventory', tool: { name: 'keydrift', version: '0.1.0' }, collectedAt: T0, sources: [], items }));
  return file;
}

describe('evaluate --baseline dates a disabled key by its first sighting', () => {
  let dir: string;
  let baselineReport: string;
  let current: string;

  before(async () => {
    dir = tempDir();
    const earlier = inventoryFile(dir, 'earlier.json', [key('long-disabled', 'disabled'), key('recently-disabled', 'enabled')]);
    const out = path.join(dir, 'earlier');
    await runCli(['evaluate', '--inventory', earlier, '--now', T0, '--out', out, '--format', 'json']);
    baselineReport = path.join(out, 'keydrift.json');
    current = inventoryFile(dir, 'current.json', [key('long-disabled', 'disabled'), key('recently-disabled', 'disabled')]);
  });
  after(() => removeDir(dir));

  async function evaluate(extra: string[]): Promise<Report> {
    const out = path.join(dir, `out-${Math.random().toString(36).slice(2)}`);
    await runCli(['evaluate', '--inventory', current, '--now', T1, '--out', out, '--format', 'json', ...extra]);
    return assertReportsValid(out);
  }

  test('without a baseline the date is unknown and KD-RET-001 stays silent', async () => {
    const report = await evaluate([]);
    assert.deepEqual(report.findings.filter((finding) => finding.ruleId === 'KD-RET-001'), []);
  });

  test('with it, the key the baseline already saw disabled is 122 days disabled; the one it saw enabled is not dated', async () => {
    const report = await evaluate(['--baseline', baselineReport]);
    const retired = report.findings.filter((finding) => finding.ruleId === 'KD-RET-001' && finding.baselineState !== 'absent');
    assert.deepEqual(retired.map((finding) => finding.resource.uid.split('/').pop()), ['long-disabled']);
    assert.equal(retired[0]!.evidence['disabledSince'], T0);
    assert.equal(retired[0]!.evidence['disabledDays'], 122);
    assert.equal(retired[0]!.evidence['disabledSinceSource'], 'baseline');
    const recent = report.inventory.find((item) => item.name === 'recently-disabled')!;
    assert.equal(recent.stateSince, null);
  });
});
