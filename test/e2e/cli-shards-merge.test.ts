import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { mixedItem } from '../../bench/mixed-estate.ts';
import type { InventoryItem } from '../../src/inventory/types.ts';
import type { Report } from '../../src/report/types.ts';
import { itemShardKey, shardOf } from '../../src/shard/shard.ts';
import { REPO, runCli } from '../support/cli.ts';
import { readValidReport } from '../support/reports.ts';

// --shard I/N splits an estate by AWS account, Google Cloud project or (otherwise) source, by a
// stable hash; `report --merge` of every part is the report of one run over the whole estate.

const NOW = '2026-11-01T00:00:00Z';

/** The mixed estate with its AWS keys in 12 accounts and its Cloud KMS keys in 12 projects. */
function spreadItem(i: number): InventoryItem {
  const item = mixedItem(i);
  const hex = i.toString(16).padStart(12, '0');
  if (item.provider === 'aws-kms') return { ...item, uid: `arn:aws:kms:us-east-1:${String(111122220000 + (i % 12))}:key/${hex}` };
  if (item.provider === 'gcp-kms') return { ...item, uid: `projects/project-${i % 12}/locations/us-east1/keyRings/ring/cryptoKeys/${hex}` };
  return item;
}

/** What must be equal between the merged parts and one run. */
function essence(report: Report) {
  return { findings: report.findings, summary: report.summary, inventoryDigest: report.scan.inventoryDigest, items: new Set(report.inventory.map((item) => item.uid)) };
}

describe('--shard and report --merge', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'keydrift-shards-'));
    writeFileSync(path.join(dir, 'estate.json'), JSON.stringify(Array.from({ length: 2_000 }, (_, i) => spreadItem(i))));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('evaluate: three shards merged equal the unsharded report, and every item is in exactly one shard', async () => {
    const whole = await runCli(['evaluate', '--inventory', 'estate.json', '--now', NOW, '--format', 'json', '--out', 'whole', '--quiet'], { cwd: dir });
    assert.equal(whole.code, 1, whole.stderr);
    const parts: string[] = [];
    const seen = new Set<string>();
    for (let index = 1; index <= 3; index++) {
      const run = await runCli(['evaluate', '--inventory', 'estate.json', '--now', NOW, '--format', 'json', '--out', `part-${index}`, '--shard', `${index}/3`, '--quiet'], { cwd: dir });
      assert.equal(run.code, 1, run.stderr);
      const part = readValidReport(path.join(dir, `part-${index}`, 'keydrift.json'));
      assert.deepEqual(part.scan.shard, { index, count: 3 });
      for (const item of part.inventory) {
        assert.equal(shardOf(itemShardKey(item), 3), index, item.uid);
        assert.ok(!seen.has(item.uid));
        seen.add(item.uid);
      }
      parts.push(`part-${index}/keydrift.json`);
    }
    assert.equal(seen.size, 2_000);
    const merged = await runCli(['report', '--merge', ...parts, '--format', 'json', '--out', 'merged', '--quiet'], { cwd: dir });
    assert.equal(merged.code, 1, merged.stderr);
    const one = readValidReport(path.join(dir, 'whole', 'keydrift.json'));
    const joined = readValidReport(path.join(dir, 'merged', 'keydrift.json'));
    assert.deepEqual(essence(joined), essence(one));
    assert.equal(joined.scan.shard, undefined);

    const missing = await runCli(['report', '--merge', parts[0]!, parts[2]!, '--format', 'json', '--out', 'incomplete'], { cwd: dir });
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /shard 2\/3 missing/);
  });

  test('scan: a source without accounts belongs to one shard, and the parts merge into the whole scan', async () => {
    const demo = path.join(dir, 'demo');
    cpSync(path.join(REPO, 'examples', 'demo'), demo, { recursive: true });
    const scan = (extra: string[], out: string) => runCli(['scan', '--config', 'keydrift.yaml', '--now', NOW, '--format', 'json', '--out', out, '--quiet', ...extra], { cwd: demo });
    assert.equal((await scan([], 'whole')).code, 1);
    const owners = new Map<string, number>();
    for (let index = 1; index <= 2; index++) {
      const run = await scan(['--shard', `${index}/2`], `part-${index}`);
      assert.ok(run.code === 0 || run.code === 1, run.stderr);
      for (const source of readValidReport(path.join(demo, `part-${index}`, 'keydrift.json')).sources) {
        assert.ok(!owners.has(source.id), `${source.id} in two shards`);
        owners.set(source.id, index);
      }
    }
    assert.deepEqual([...owners.keys()].sort(), ['demo-certs', 'demo-keys']);
    const merged = await runCli(['report', '--merge', 'part-1/keydrift.json', 'part-2/keydrift.json', '--format', 'json', '--out', 'merged', '--quiet'], { cwd: demo });
    assert.equal(merged.code, 1, merged.stderr);
    const one = JSON.parse(readFileSync(path.join(demo, 'whole', 'keydrift.json'), 'utf8')) as Report;
    const joined = readValidReport(path.join(demo, 'merged', 'keydrift.json'));
    assert.deepEqual(joined.findings, one.findings);
    assert.equal(joined.scan.inventoryDigest, one.scan.inventoryDigest);
  });
});
