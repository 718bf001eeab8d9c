// The floor under `keydrift evaluate --inventory` on N mixed items: the parts no implementation of
// the run can skip, each measured on its own with nothing else done, on this machine.
//   start-up   a Node process that loads the CLI's modules and exits (`keydrift --version`)
//   read       the evidence file read and JSON.parse'd once (the least a scan can know of it)
//   policy     the built-in wasm bundle alone over the file's items, inputs encoded beforehand, on
//              1 and on T worker threads (one instance each): opa-wasm's parse, rules and result dump;
//              and a bundle with no rules over the same inputs (what parsing the input costs alone)
//   serialize  the report's items and findings JSON.stringify'd once (one thread)
//   write      the bytes of the run's own JSON and SARIF reports written to disk and fsync'd; the
//              findings (ordered by rule and resource across every batch) and SARIF can only be
//              written after the last batch, the JSON report's inventory part could be written earlier
// A run cannot be faster than start-up + policy on T threads + (read + serialize) / T + writing
// what must follow the last batch, even with perfect parallelism and nothing else done (no schema
// check, digests or finding assembly); the sum printed at the end is that floor against the 4 s target.
// Usage: node bench/scale-floor.ts [N=100000] [T=cores]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { loadPolicy } from '@open-policy-agent/opa-wasm';
import { effectivePolicy } from '../src/config/settings.ts';
import { BUILTIN_BUNDLE, ENTRYPOINT, readBundle } from '../src/engine/bundle.ts';
import { encodedItemsInput, toArrayBuffer } from '../src/engine/engine.ts';
import { policyData, policyItem } from '../src/engine/input.ts';
import { PACKAGE_ROOT, runOpa } from '../src/engine/opa-cli.ts';
import type { InventoryItem } from '../src/inventory/types.ts';
import { writeFileAtomic } from '../src/util/atomic-write.ts';
import { mixedItem } from './mixed-estate.ts';

const NOW = '2026-11-01T00:00:00Z';
const BATCH = 200;

interface PolicyJob {
  bundle: string;
  entrypoint: string;
  data: Record<string, unknown>;
  inputs: ArrayBuffer[];
}

/** Evaluates pre-encoded inputs with a fresh instance; the seconds from the first to the last result. */
async function evaluateAll(job: PolicyJob): Promise<{ seconds: number; findings: number }> {
  const bundle = await readBundle(job.bundle);
  const policy = await loadPolicy(toArrayBuffer(bundle.wasm));
  policy.setData(job.data);
  const started = performance.now();
  let findings = 0;
  for (const input of job.inputs) findings += ((policy.evaluate(input, job.entrypoint) as { result: unknown[] }[])[0]!.result).length;
  return { seconds: (performance.now() - started) / 1000, findings };
}

if (!isMainThread) {
  const job = workerData as PolicyJob;
  // Loaded and set up first, then told to go, so that every thread's clock covers evaluation only.
  parentPort!.once('message', () => void evaluateAll(job).then((result) => parentPort!.postMessage(result)));
  parentPort!.postMessage('ready');
} else {
  await main();
}

async function main(): Promise<void> {
  const count = Number(process.argv[2] ?? 100_000);
  const threads = Number(process.argv[3] ?? Math.max(2, Math.min(8, availableParallelism())));
  const dir = mkdtempSync(path.join(tmpdir(), 'keydrift-bench-floor-'));
  try {
    const inventory = path.join(dir, 'mixed.json');
    const items = Array.from({ length: count }, (_, i) => mixedItem(i));
    const text = JSON.stringify({ schemaVersion: '1', kind: 'inventory', tool: { name: 'keydrift', version: '0.1.0' }, collectedAt: NOW, sources: [], items });
    writeFileSync(inventory, text);
    console.log(`floor of evaluate --inventory: ${count} mixed items (${mib(inventory)} MiB), ${availableParallelism()} cores, ${threads} threads`);

    const startup = timed(() => spawnSync(process.execPath, ['src/cli/main.ts', '--version'], { cwd: PACKAGE_ROOT, encoding: 'utf8' }));
    console.log(`  start-up (load the CLI, exit):        ${startup.toFixed(2)} s`);

    let parsed: { items: InventoryItem[] } | undefined;
    const read = timed(() => (parsed = JSON.parse(readFileSync(inventory, 'utf8')) as { items: InventoryItem[] }));
    console.log(`  read + JSON.parse (one thread):       ${read.toFixed(2)} s`);

    const data = policyData(effectivePolicy(undefined), parsed!.items, []);
    const now = new Date(NOW);
    const inputs: ArrayBuffer[] = [];
    for (let start = 0; start < count; start += BATCH) inputs.push(encodedItemsInput(now, parsed!.items.slice(start, start + BATCH).map((item) => JSON.stringify(policyItem(item)))));
    parsed = undefined;
    const builtin = { bundle: BUILTIN_BUNDLE, entrypoint: ENTRYPOINT, data, inputs };
    const one = await evaluateAll(builtin);
    console.log(`  policy alone, 1 thread:               ${one.seconds.toFixed(2)} s (${one.findings} findings)`);
    const many = await onThreads(threads, builtin);
    console.log(`  policy alone, ${threads} threads:              ${many.toFixed(2)} s`);
    const empty = await evaluateAll({ bundle: emptyBundle(dir), entrypoint: 'floor/findings', data, inputs });
    console.log(`  a bundle with no rules, 1 thread:     ${empty.seconds.toFixed(2)} s (its input parsed, an empty result)`);

    // The reports a real run writes, at their real size, then written again the way the CLI does.
    const out = path.join(dir, 'out');
    const run = spawnSync(process.execPath, ['src/cli/main.ts', 'evaluate', '--inventory', inventory, '--now', NOW, '--format', 'json,sarif', '--out', out, '--quiet'], { cwd: PACKAGE_ROOT, encoding: 'utf8' });
    if (run.status !== 0 && run.status !== 1) throw new Error(`keydrift evaluate exited ${run.status}: ${run.stderr}`);
    const [json, sarif] = ['keydrift.json', 'keydrift.sarif'].map((name) => readFileSync(path.join(out, name)));
    const report = JSON.parse(json!.toString('utf8')) as { findings: unknown[]; inventory: unknown[] };
    const serialize = timed(() => [report.findings, report.inventory].forEach((list) => list.forEach((entry) => JSON.stringify(entry))));
    console.log(`  serialize items + findings (1 thread): ${serialize.toFixed(2)} s (${report.findings.length} findings)`);
    const write = await writtenAsTheCliDoes(dir, 'copy', [json!, sarif!]);
    console.log(`  write + fsync the reports (${mebibytes(json!.length + sarif!.length)} MiB):   ${write.toFixed(2)} s`);
    const inventoryBytes = Buffer.byteLength(JSON.stringify(report.inventory));
    const after = await writtenAsTheCliDoes(dir, 'after', [json!.subarray(0, json!.length - inventoryBytes), sarif!]);
    console.log(`  of which after the last batch (${mebibytes(json!.length - inventoryBytes + sarif!.length)} MiB): ${after.toFixed(2)} s`);

    const floor = startup + many + (read + serialize) / threads + after;
    console.log(`  floor: start-up + policy on ${threads} threads + (read + serialize) / ${threads} + write after the last batch = ${floor.toFixed(2)} s (target 4 s)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Every thread loaded and given its share of the batches before the clock starts; wall time to the last result. */
async function onThreads(threads: number, job: PolicyJob): Promise<number> {
  const workers = Array.from({ length: threads }, (_, t) => new Worker(new URL(import.meta.url), { workerData: { ...job, inputs: job.inputs.filter((_, i) => i % threads === t) } }));
  await Promise.all(workers.map((worker) => new Promise((resolve) => worker.once('message', resolve))));
  const started = performance.now();
  await Promise.all(
    workers.map(
      (worker) =>
        new Promise((resolve) => {
          worker.once('message', resolve);
          worker.postMessage('go');
        }),
    ),
  );
  const seconds = (performance.now() - started) / 1000;
  await Promise.all(workers.map((worker) => worker.terminate()));
  return seconds;
}

/** A wasm bundle whose only rule reads the input's (empty) sources, built like the built-in one. */
function emptyBundle(dir: string): string {
  const source = path.join(dir, 'floor.rego');
  const bundle = path.join(dir, 'floor.tar.gz');
  writeFileSync(source, 'package floor\n\nfindings := [source | some source in input.sources]\n');
  const run = runOpa(['build', '--target', 'wasm', '--optimize', '2', '--entrypoint', 'floor/findings', '--output', bundle, source]);
  if (run.status !== 0) throw new Error(`opa build of the empty bundle failed: ${run.stderr}`);
  return bundle;
}

function timed(work: () => unknown): number {
  const started = performance.now();
  work();
  return (performance.now() - started) / 1000;
}

/** Seconds to write the reports side by side through the CLI's own atomic writer (temporary file, fsync, rename). */
async function writtenAsTheCliDoes(dir: string, prefix: string, reports: Buffer[]): Promise<number> {
  const started = performance.now();
  await Promise.all(reports.map((bytes, i) => writeFileAtomic(path.join(dir, `${prefix}-${i}`), bytes)));
  return (performance.now() - started) / 1000;
}

function mib(file: string): string {
  return mebibytes(statSync(file).size);
}

function mebibytes(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(0);
}
