// What a user runs, end to end: `keydrift evaluate --inventory` on N mixed items (load, validate,
// evaluate, assemble, redact, write JSON + SARIF + Markdown), as a separate process, timed with
// its peak RSS. Usage: node bench/cli-evaluate.ts [items=100000] [runs=1]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PACKAGE_ROOT } from '../src/engine/opa-cli.ts';
import { mixedItem } from './mixed-estate.ts';

const count = Number(process.argv[2] ?? 100_000);
const runs = Number(process.argv[3] ?? 1);
const dir = mkdtempSync(path.join(tmpdir(), 'keydrift-bench-cli-'));
try {
  const inventory = path.join(dir, 'inventory.json');
  const items = Array.from({ length: count }, (_, i) => mixedItem(i));
  writeFileSync(inventory, JSON.stringify({ schemaVersion: '1', kind: 'inventory', tool: { name: 'keydrift', version: '0.1.0' }, collectedAt: '2026-11-01T00:00:00Z', sources: [], items }));
  console.log(`keydrift evaluate --inventory: ${count} items (${(statSync(inventory).size / 1024 / 1024).toFixed(0)} MiB inventory), ${runs} run(s)`);
  for (let run = 1; run <= runs; run++) {
    const out = path.join(dir, `out-${run}`);
    const started = performance.now();
    const result = spawnSync(
      '/usr/bin/time',
      ['-f', '%M', process.execPath, '--max-semi-space-size=16', 'src/cli/main.ts', 'evaluate', '--inventory', inventory, '--now', '2026-11-01T00:00:00Z', '--out', out, '--format', 'json,sarif,md', '--quiet'],
      { cwd: PACKAGE_ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
    );
    const seconds = (performance.now() - started) / 1000;
    if (result.status !== 0 && result.status !== 1) throw new Error(`evaluate exited ${result.status}: ${result.stderr}`);
    const peakMiB = Number(result.stderr.trim().split('\n').at(-1)) / 1024;
    const report = statSync(path.join(out, 'keydrift.json')).size / 1024 / 1024;
    console.log(`  run ${run}: wall ${seconds.toFixed(2)} s, ${Math.round(count / seconds)} items/s, peak RSS ${peakMiB.toFixed(0)} MiB, report ${report.toFixed(0)} MiB`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
