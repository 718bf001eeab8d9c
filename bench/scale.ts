// What a user runs at scale, end to end, each as its own process timed with its peak RSS (the
// figures in docs/scale.md):
//   threads   `keydrift evaluate --inventory` on N mixed items to JSON + SARIF, one thread and then
//             one per core: wall time, CPU, peak RSS, and the findings counted and hashed (the same
//             with any number of threads, and the same as --expect when given)
//   million   the same on M items read from JSON Lines
//   shards    N items spread over 40 AWS accounts and 40 Google Cloud projects, evaluated whole and
//             as --shard 1/4..4/4, then `report --merge`d: findings, inventory digest and summary compared
// Usage: node bench/scale.ts [threads|million|shards|all] [N=100000] [M=1000000] [--expect SHA256]
//        node bench/scale.ts digest REPORT.json   (the findings digest of a report made elsewhere)
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { PACKAGE_ROOT } from '../src/engine/opa-cli.ts';
import type { InventoryItem } from '../src/inventory/types.ts';
import { mixedItem } from './mixed-estate.ts';

const args = process.argv.slice(2);
const expectAt = args.indexOf('--expect');
const expected = expectAt >= 0 ? args.splice(expectAt, 2)[1] : undefined;
const [mode = 'all', n = '100000', m = '1000000'] = args;
const NOW = '2026-11-01T00:00:00Z';
const dir = mkdtempSync(path.join(tmpdir(), 'keydrift-bench-scale-'));

interface Run {
  seconds: number;
  cpu: number;
  peakMiB: number;
  out: string;
}

/** One CLI run, as a separate process under /usr/bin/time. */
function cli(argv: string[], out: string): Run {
  const started = performance.now();
  const result = spawnSync('/usr/bin/time', ['-f', '%M %U %S', process.execPath, '--max-semi-space-size=16', 'src/cli/main.ts', ...argv, '--out', out, '--quiet'], {
    cwd: PACKAGE_ROOT,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const seconds = (performance.now() - started) / 1000;
  if (result.status !== 0 && result.status !== 1) throw new Error(`keydrift ${argv[0]} exited ${result.status}: ${result.stderr}`);
  const [peak, user, system] = result.stderr.trim().split('\n').at(-1)!.split(' ').map(Number);
  return { seconds, cpu: user! + system!, peakMiB: peak! / 1024, out };
}

/**
 * The findings as the report lists them: how many, and the SHA-256 of their JSON (order included)
 * without `declaredAt`, which names the evidence file itself when nothing more precise is known
 * (so it differs with the file's path). `node bench/scale.ts digest REPORT.json` prints it for a
 * report made elsewhere (an earlier version's, for --expect).
 */
export function findingsOf(report: string): { count: number; sha256: string; inventoryDigest: string; summary: string } {
  const parsed = JSON.parse(readFileSync(report, 'utf8')) as { findings: { declaredAt?: unknown }[]; scan: { inventoryDigest: string }; summary: unknown };
  const findings = parsed.findings.map(({ declaredAt: _declaredAt, ...finding }) => finding);
  return {
    count: findings.length,
    sha256: createHash('sha256').update(JSON.stringify(findings)).digest('hex'),
    inventoryDigest: parsed.scan.inventoryDigest,
    summary: JSON.stringify(parsed.summary),
  };
}

function writeInventory(file: string, count: number, item: (i: number) => InventoryItem, jsonLines: boolean): void {
  const fd = openSync(file, 'w');
  const header = { schemaVersion: '1', kind: 'inventory', tool: { name: 'keydrift', version: '0.1.0' }, collectedAt: NOW, sources: [] };
  if (jsonLines) writeSync(fd, JSON.stringify(header) + '\n');
  else writeSync(fd, JSON.stringify(header).slice(0, -1) + ',"items":[');
  for (let i = 0; i < count; i += 1000) {
    const lines: string[] = [];
    for (let j = i; j < Math.min(count, i + 1000); j++) lines.push(JSON.stringify(item(j)));
    writeSync(fd, (jsonLines ? '' : i > 0 ? ',' : '') + lines.join(jsonLines ? '\n' : ',') + (jsonLines ? '\n' : ''));
  }
  if (!jsonLines) writeSync(fd, ']}');
  closeSync(fd);
}

const mib = (file: string) => (statSync(file).size / 1024 / 1024).toFixed(0);
const line = (label: string, run: Run) => `  ${label}: wall ${run.seconds.toFixed(2)} s, CPU ${run.cpu.toFixed(2)} s, peak RSS ${run.peakMiB.toFixed(0)} MiB`;

function threads(count: number): void {
  const inventory = path.join(dir, 'mixed.json');
  writeInventory(inventory, count, mixedItem, false);
  const cores = availableParallelism();
  console.log(`evaluate --inventory, ${count} mixed items (${mib(inventory)} MiB JSON), to JSON + SARIF, ${cores} cores`);
  const results = [1, Math.max(2, Math.min(8, cores))].map((threadCount) => {
    const run = cli(['evaluate', '--inventory', inventory, '--now', NOW, '--format', 'json,sarif', '--threads', String(threadCount)], path.join(dir, `threads-${threadCount}`));
    const findings = findingsOf(path.join(run.out, 'keydrift.json'));
    console.log(`${line(`${threadCount} thread${threadCount === 1 ? '' : 's'}`, run)}, report ${mib(path.join(run.out, 'keydrift.json'))} MiB; ${findings.count} findings, sha256 ${findings.sha256}`);
    return { run, findings };
  });
  const [one, many] = results;
  console.log(`  same findings in the same order: ${one!.findings.sha256 === many!.findings.sha256 ? 'yes' : 'NO'}; speed-up ${(one!.run.seconds / many!.run.seconds).toFixed(2)}x`);
  if (expected !== undefined) console.log(`  same findings as --expect: ${one!.findings.sha256 === expected ? 'yes' : 'NO'}`);
}

function million(count: number): void {
  const inventory = path.join(dir, 'million.jsonl');
  writeInventory(inventory, count, mixedItem, true);
  console.log(`evaluate --inventory, ${count} mixed items (${mib(inventory)} MiB JSON Lines), to JSON + SARIF`);
  const run = cli(['evaluate', '--inventory', inventory, '--now', NOW, '--format', 'json,sarif'], path.join(dir, 'million'));
  console.log(`${line('one per core', run)}, report ${mib(path.join(run.out, 'keydrift.json'))} MiB`);
  rmSync(inventory);
}

/** The mixed estate, its AWS keys spread over 40 accounts and its Cloud KMS keys over 40 projects. */
function spreadItem(i: number): InventoryItem {
  const item = mixedItem(i);
  const hex = i.toString(16).padStart(12, '0');
  if (item.provider === 'aws-kms') return { ...item, uid: `arn:aws:kms:us-east-1:${String(111122220000 + (i % 40))}:key/${hex}` };
  if (item.provider === 'gcp-kms') return { ...item, uid: `projects/project-${i % 40}/locations/us-east1/keyRings/ring/cryptoKeys/${hex}` };
  return item;
}

function shards(count: number): void {
  const inventory = path.join(dir, 'spread.json');
  writeInventory(inventory, count, spreadItem, false);
  console.log(`--shard 1/4..4/4 and report --merge vs one run, ${count} items over 40 accounts and 40 projects`);
  const whole = cli(['evaluate', '--inventory', inventory, '--now', NOW, '--format', 'json'], path.join(dir, 'whole'));
  console.log(line('unsharded', whole));
  const parts: string[] = [];
  for (let index = 1; index <= 4; index++) {
    const part = cli(['evaluate', '--inventory', inventory, '--now', NOW, '--format', 'json', '--shard', `${index}/4`], path.join(dir, `shard-${index}`));
    console.log(line(`shard ${index}/4`, part));
    parts.push(path.join(part.out, 'keydrift.json'));
  }
  const started = performance.now();
  const merge = spawnSync(process.execPath, ['src/cli/main.ts', 'report', '--merge', ...parts, '--format', 'json', '--out', path.join(dir, 'merged'), '--quiet'], { cwd: PACKAGE_ROOT, encoding: 'utf8' });
  if (merge.status !== 0 && merge.status !== 1) throw new Error(`report --merge exited ${merge.status}: ${merge.stderr}`);
  console.log(`  report --merge: ${((performance.now() - started) / 1000).toFixed(2)} s`);
  const a = findingsOf(path.join(whole.out, 'keydrift.json'));
  const b = findingsOf(path.join(dir, 'merged', 'keydrift.json'));
  console.log(`  unsharded: ${a.count} findings, sha256 ${a.sha256}, inventory ${a.inventoryDigest}`);
  console.log(`  merged:    ${b.count} findings, sha256 ${b.sha256}, inventory ${b.inventoryDigest}`);
  console.log(`  equal: findings ${a.sha256 === b.sha256 ? 'yes' : 'NO'}, inventory digest ${a.inventoryDigest === b.inventoryDigest ? 'yes' : 'NO'}, summary ${a.summary === b.summary ? 'yes' : 'NO'}`);
}

try {
  if (mode === 'digest') {
    const { count, sha256 } = findingsOf(n);
    console.log(`${count} findings, sha256 ${sha256}`);
  }
  if (mode === 'threads' || mode === 'all') threads(Number(n));
  if (mode === 'shards' || mode === 'all') shards(Number(n));
  if (mode === 'million' || mode === 'all') million(Number(m));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
