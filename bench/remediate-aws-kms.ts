// `keydrift remediate apply` end to end (the CLI: read the plan, read, write, read back, append
// the audit log) on N KD-ROT-001 actions against moto behind a loopback proxy that adds a fixed
// round trip (default 50 ms), at concurrency 1 and 16: wall time, actions/s, provider calls per
// action (the proxy counts them), audit log entries.
// The plan comes from a scan straight against moto (no latency): planning is not what is measured.
// Usage: node bench/remediate-aws-kms.ts [actions=1000] [latencyMs=50]
import { writeFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { CreateKeyCommand, DisableKeyRotationCommand, KMSClient } from '@aws-sdk/client-kms';
import { mapBounded } from '../src/util/limit.ts';
import { removeDir, tempDir } from '../test/support/certs.ts';
import { runCli } from '../test/support/cli.ts';
import { startFaultProxy } from '../test/support/fault-proxy.ts';
import { startMoto, withoutAwsEnv } from '../test/support/moto.ts';

const count = Number(process.argv[2] ?? 1000);
const latencyMs = Number(process.argv[3] ?? 50);
const env = { ...withoutAwsEnv(process.env), AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: 'us-east-1' };
const moto = await startMoto();
const proxy = await startFaultProxy(moto.endpoint, [], { latencyMs, rotationPeriods: true });
const dir = tempDir();
try {
  const direct = new KMSClient({ region: 'us-east-1', endpoint: moto.endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  const ids: string[] = [];
  const seeded = performance.now();
  for await (const id of mapBounded(Array.from({ length: count }, (_, i) => i), 16, async (i) => {
    const key = await direct.send(new CreateKeyCommand({ Tags: [{ TagKey: 'owner', TagValue: `team-${i % 7}` }] }));
    return key.KeyMetadata!.KeyId!;
  })) ids.push(id);
  console.log(`seeded ${count} keys with rotation off in ${((performance.now() - seeded) / 1000).toFixed(1)} s`);

  const config = (name: string, endpoint: string) => {
    const file = path.join(dir, name);
    writeFileSync(
      file,
      ['version: 1', 'name: bench', 'sources:', `  - { id: bench-kms, type: aws-kms, regions: [us-east-1], endpoint: "${endpoint}" }`, 'remediation:', '  allow:', '    - { rule: KD-ROT-001 }', ''].join('\n'),
    );
    return file;
  };
  const planConfig = config('plan.yaml', moto.endpoint);
  const applyConfig = config('apply.yaml', proxy.endpoint);
  const out = path.join(dir, 'reports');
  const scan = await runCli(['scan', '--config', planConfig, '--out', out, '--format', 'json', '--quiet'], { env });
  if (scan.code !== 0 && scan.code !== 1) throw new Error(`scan failed (${scan.code}): ${scan.stderr}`);
  const planFile = path.join(dir, 'plan.json');
  const planned = await runCli(['remediate', 'plan', '--config', planConfig, '--from', path.join(out, 'keydrift.json'), '--plan', planFile, '--quiet'], { env });
  if (planned.code !== 0) throw new Error(`plan failed: ${planned.stderr}`);
  const actions = (JSON.parse(readFileSync(planFile, 'utf8')) as { actions: unknown[] }).actions.length;
  console.log(`plan: ${actions} KD-ROT-001 actions (EnableKeyRotation); apply through a ${latencyMs} ms round-trip proxy`);

  const timings: Record<number, number> = {};
  for (const concurrency of [1, 16]) {
    const log = path.join(dir, `audit-${concurrency}.jsonl`);
    proxy.calls.length = 0;
    const started = performance.now();
    const run = await runCli(['remediate', 'apply', planFile, '--config', applyConfig, '--audit-log', log, '--concurrency', String(concurrency)], { env });
    const seconds = (performance.now() - started) / 1000;
    timings[concurrency] = seconds;
    const summary = run.stdout.trim().split('\n').at(-1);
    const entries = readFileSync(log, 'utf8').trim().split('\n').length;
    const writes = proxy.calls.filter((call) => call.operation === 'EnableKeyRotation').length;
    console.log(
      `concurrency ${String(concurrency).padStart(2)}: ${seconds.toFixed(1)} s, ${(actions / seconds).toFixed(1)} actions/s, ` +
        `${(proxy.calls.length / actions).toFixed(2)} calls/action (${writes} writes), ${entries} audit entries, exit ${run.code}`,
    );
    console.log(`  ${summary}`);
    // Back to rotation off for the next run (through the proxy, so it forgets the periods too).
    const reset = new KMSClient({ region: 'us-east-1', endpoint: proxy.endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    for await (const _ of mapBounded(ids, 64, (KeyId) => reset.send(new DisableKeyRotationCommand({ KeyId })))) void _;
    reset.destroy();
  }
  console.log(`speed-up at concurrency 16: ${(timings[1]! / timings[16]!).toFixed(1)}x`);
  direct.destroy();
} finally {
  await proxy.stop();
  await moto.stop();
  removeDir(dir);
}
