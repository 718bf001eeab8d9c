import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { InventoryFile } from '../../src/inventory/file.ts';
import { baseItem, type InventoryItem } from '../../src/inventory/types.ts';
import { removeDir, tempDir } from '../support/certs.ts';
import { runCli } from '../support/cli.ts';
import { assertReportsValid } from '../support/reports.ts';

// A snapshot with one bad item keeps the good ones and reports the bad one (the source is
// partial, KD-GOV-003), naming the field really at fault. `evaluate --inventory` on the same file
// still refuses it (exit 2): an auditor re-deriving findings must never silently get a subset.

const NOW = '2026-11-01T00:00:00Z';
const MISSING_SENSITIVE = 'attributes: missing required field "sensitive"';

function key(uid: string, fields: Partial<InventoryItem> = {}): InventoryItem {
  return baseItem({ uid, kind: 'key', provider: 'aws-kms', sourceId: 'old-scan', name: uid, location: 'us-east-1', algorithm: 'AES-256', createdAt: '2026-10-01T00:00:00Z', ...fields });
}

function inventory(items: unknown[]): string {
  return JSON.stringify({ schemaVersion: '1', kind: 'inventory', tool: { name: 'keydrift', version: '0.1.0' }, collectedAt: NOW, sources: [], items });
}

describe('a snapshot with invalid items', () => {
  let dir: string;

  before(() => {
    dir = tempDir();
    const noSensitive = key('key-2', { attributes: { extractable: false, exportable: null, plaintextBackup: null } as never });
    writeFileSync(path.join(dir, 'one-bad.json'), inventory([key('key-1'), noSensitive, key('key-3')]));
    writeFileSync(path.join(dir, 'all-bad.json'), inventory([noSensitive, { uid: 'key-9', kind: 'gadget' }]));
    writeFileSync(path.join(dir, 'many-bad.json'), inventory([key('key-1'), ...Array.from({ length: 23 }, (_, i) => key(`bad-${i}`, { state: 'on' as never }))]));
    for (const name of ['one-bad', 'all-bad', 'many-bad']) {
      writeFileSync(path.join(dir, `${name}.yaml`), `version: 1\nsources:\n  - { id: saved, type: snapshot, path: ${name}.json }\n`);
    }
  });
  after(() => removeDir(dir));

  async function scan(name: string) {
    const out = path.join(dir, `out-${name}`);
    const run = await runCli(['scan', '--config', path.join(dir, `${name}.yaml`), '--now', NOW, '--out', out, '--format', 'json,sarif', '--fail-on', 'critical']);
    return { run, report: assertReportsValid(out) };
  }

  test('scan keeps the good items, reports the bad one by file, index, uid and field: partial, KD-GOV-003, exit 3', async () => {
    const { run, report } = await scan('one-bad');
    assert.equal(run.code, 3, run.stderr);
    assert.match(run.stderr, new RegExp(`saved: .*one-bad\\.json: item 1 \\(key-2\\): ${MISSING_SENSITIVE}; item left out`));
    assert.deepEqual(report.inventory.map((item) => item.uid), ['key-1', 'key-3']);
    const source = report.sources[0]!;
    assert.equal(source.status, 'partial');
    assert.equal(source.items, 2);
    assert.deepEqual(source.errors.map((error) => [error.code, error.resource]), [['item-invalid', 'key-2']]);
    assert.ok(source.errors[0]!.message.endsWith(`one-bad.json: item 1 (key-2): ${MISSING_SENSITIVE}; item left out`), source.errors[0]!.message);
    const coverage = report.findings.filter((finding) => finding.ruleId === 'KD-GOV-003');
    assert.deepEqual(coverage.map((finding) => finding.resource.uid), ['source:saved']);
    assert.match(coverage[0]!.message, /attributes: missing required field "sensitive"/);
  });

  test('evaluate --inventory refuses the same file, naming the item and the field: exit 2', async () => {
    const run = await runCli(['evaluate', '--inventory', path.join(dir, 'one-bad.json'), '--now', NOW, '--out', path.join(dir, 'out-evaluate')]);
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, new RegExp(`one-bad\\.json: item 1 \\(key-2\\): ${MISSING_SENSITIVE}$`, 'm'));
    assert.doesNotMatch(run.stderr, /must be null/);
  });

  test('nothing valid in the snapshot: the source failed, exit 3', async () => {
    const { run, report } = await scan('all-bad');
    assert.equal(run.code, 3, run.stderr);
    assert.deepEqual(report.inventory, []);
    assert.equal(report.sources[0]?.status, 'failed');
    assert.deepEqual(report.sources[0]?.errors.map((error) => error.message.replace(/^.*all-bad\.json: /, '')), [
      `item 0 (key-2): ${MISSING_SENSITIVE}; item left out`,
      'item 1 (key-9): kind: must be one of "key", "certificate"; item left out',
    ]);
  });

  test('many bad items: the first 20 are listed and the rest counted, the good one kept', async () => {
    const { report } = await scan('many-bad');
    const source = report.sources[0]!;
    assert.equal(source.status, 'partial');
    assert.deepEqual(report.inventory.map((item) => item.uid), ['key-1']);
    assert.equal(source.errors.length, 21);
    assert.match(source.errors[20]!.message, /many-bad\.json: 3 more invalid items left out \(the first 20 are listed\)$/);
  });

  test('inventory over such a snapshot writes only valid items, which evaluate accepts', async () => {
    const written = path.join(dir, 'rewritten.json');
    const collected = await runCli(['inventory', '--config', path.join(dir, 'one-bad.yaml'), '--output', written, '--now', NOW]);
    assert.equal(collected.code, 3, collected.stderr);
    const saved = JSON.parse(readFileSync(written, 'utf8')) as InventoryFile;
    assert.deepEqual(saved.items.map((item) => item.uid), ['key-1', 'key-3']);
    assert.equal(saved.sources[0]?.status, 'partial');
    const evaluated = await runCli(['evaluate', '--inventory', written, '--now', NOW, '--out', path.join(dir, 'out-rewritten'), '--format', 'json', '--fail-on', 'critical']);
    // Accepted; the recorded partial source still says coverage is incomplete.
    assert.equal(evaluated.code, 3, evaluated.stderr);
  });
});
