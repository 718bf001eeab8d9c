// The collection loop end to end: `keydrift inventory` (or `scan`) over a snapshot source of N
// mixed items (read, check each item, re-attribute, write), as a separate process, timed with its
// peak RSS. Every collected item is checked against the item schema in the loop; this measures it.
// Usage: node bench/cli-collect-snapshot.ts [items=100000] [runs=1] [command=inventory|scan]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PACKAGE_ROOT } from '../src/engine/opa-cli.ts';
import { mixedItem } from './mixed-estate.ts';

const count = Number(process.argv[2] ?? 100_000);
const runs = Number(process.argv[3] ?? 1);
const command = process.argv[4] ?? 'inventory';
if (command !== 'inventory' && command !== 'scan') throw new Error(`command must be inventory or scan, not ${command}`);
const dir = mkdtempSync(path.join(tmpdir(), 'keydrift-bench-collect-'));
try {
  const saved = path.join(dir, 'saved.json');
  const items = Array.from({ length: count }, (_, i) => mixedItem(i));
  writeFileSync(saved, JSON.stringify({ schemaVersion: '1', kind: 'inventory', tool: { name: 'keydrift', version: '0.1.0' }, collectedAt: '2026-11-01T00:00:00Z', sources: [], items }));
  const config = path.join(dir, 'keydrift.yaml');
  writeFileSync(config, 'version: 1\nsources:\n  - { id: saved, type: snapshot, path: saved.json }\n');
  console.log(`keydrift ${command} over a snapshot source: ${count} items (${(statSync(saved).size / 1024 / 1024).toFixed(0)} MiB snapshot), ${runs} run(s)`);
  for (let run = 1; run <= runs; run++) {
    const out = path.join(dir, `out-${run}`);
    const output = command === 'inventory' ? ['--output', path.join(out, 'inventory.json')] : ['--out', out, '--format', 'json'];
    const started = performance.now();
    const result = spawnSync(
      '/usr/bin/time',
      ['-f', '%M %U %S', process.execPath, '--max-semi-space-size=16', 'src/cli/main.ts', command, '--config', config, '--now', '2026-11-01T00:00:00Z', ...output, '--quiet'],
      { cwd: PACKAGE_ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
    );
    const seconds = (performance.now() - started) / 1000;
    // scan exits 1 on findings; any other code means the run did not do what is measured.
    if (result.status !== 0 && !(command === 'scan' && result.status === 1)) throw new Error(`${command} exited ${result.status}: ${result.stderr}`);
    // /usr/bin/time's own lines: "Command exited with non-zero status N", then peak RSS (KiB), user and system CPU seconds.
    const lines = result.stderr.trim().split('\n').filter((line) => !line.startsWith('Command exited'));
    const [peakKiB, user, system] = lines.pop()!.split(' ').map(Number) as [number, number, number];
    const peakMiB = peakKiB / 1024;
    if (lines.length > 0) throw new Error(`${command} wrote to stderr despite --quiet: ${lines.join('\n')}`);
    statSync(command === 'inventory' ? path.join(out, 'inventory.json') : path.join(out, 'keydrift.json'));
    // CPU time says more than wall time on a shared machine.
    console.log(`  run ${run}: wall ${seconds.toFixed(2)} s, ${Math.round(count / seconds)} items/s, CPU ${(user + system).toFixed(2)} s, peak RSS ${peakMiB.toFixed(0)} MiB`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
