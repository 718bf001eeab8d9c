// 100,000 mixed items through every built-in rule: keydrift's wasm engine, then the same input
// through `opa eval` on the Rego source, in the same run on the same machine.
// Usage: node bench/engine-vs-opa-eval.ts [items=100000] [--no-opa]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { effectivePolicy } from '../src/config/settings.ts';
import { PolicyEngine } from '../src/engine/engine.ts';
import { policyData, policyItem } from '../src/engine/input.ts';
import { opaBinary } from '../src/engine/opa-binary.ts';
import { PACKAGE_ROOT } from '../src/engine/opa-cli.ts';
import { mixedItem } from './mixed-estate.ts';

const count = Number(process.argv[2] ?? 100_000);
const now = new Date('2026-11-01T00:00:00Z');
const policy = effectivePolicy({ policy: { profile: 'default', settings: { governance: { requiredTags: ['owner'] } } } });

const items = Array.from({ length: count }, (_, i) => mixedItem(i));
const rssItems = process.memoryUsage().rss;
const engine = await PolicyEngine.load();
const started = performance.now();
const findings = engine.evaluate({ items, sources: [], now, policy });
const seconds = (performance.now() - started) / 1000;
const peak = process.resourceUsage().maxRSS / 1024;
const rules = new Set(findings.map((finding) => finding.rule));

console.log(`keydrift engine: ${count} items, ${findings.length} findings from ${rules.size} rules`);
console.log(`  wall ${seconds.toFixed(2)} s, ${Math.round(count / seconds)} items/s`);
console.log(`  peak RSS ${peak.toFixed(0)} MiB (items alone: ${(rssItems / 1024 / 1024).toFixed(0)} MiB)`);

if (!process.argv.includes('--no-opa')) {
  const dir = mkdtempSync(path.join(tmpdir(), 'keydrift-bench-'));
  try {
    const input = path.join(dir, 'input.json');
    const data = path.join(dir, 'data.json');
    writeFileSync(input, JSON.stringify({ now: now.toISOString(), now_s: now.getTime() / 1000, items: items.map(policyItem), sources: [], waivers: [] }));
    writeFileSync(data, JSON.stringify(policyData(policy)));
    const opaStarted = performance.now();
    const run = spawnSync('/usr/bin/time', ['-f', '%M', opaBinary(), 'eval', '--format', 'json', '--data', 'policies/keydrift', '--data', data, '--input', input, 'count(data.keydrift.main.findings)'], {
      cwd: PACKAGE_ROOT,
      encoding: 'utf8',
      maxBuffer: 1 << 30,
    });
    const opaSeconds = (performance.now() - opaStarted) / 1000;
    if (run.status !== 0) throw new Error(`opa eval failed: ${run.stderr}`);
    const opaCount = (JSON.parse(run.stdout) as { result: { expressions: { value: number }[] }[] }).result[0]!.expressions[0]!.value;
    const opaRss = Number(run.stderr.trim().split('\n').pop()) / 1024;
    console.log(`opa eval (${path.basename(opaBinary())} on the Rego source): ${opaCount} findings`);
    console.log(`  wall ${opaSeconds.toFixed(2)} s (including reading the ${count}-item input), peak RSS ${opaRss.toFixed(0)} MiB`);
    console.log(`ratio: keydrift is ${(opaSeconds / seconds).toFixed(1)}x faster than opa eval; same findings: ${opaCount === findings.length}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
