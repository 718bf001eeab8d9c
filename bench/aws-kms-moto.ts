// 2,000 KMS keys in moto, collected at concurrency 1 and at the default: wall time, API calls per
// key, peak RSS. moto answers on loopback in ~3 ms and is CPU-bound (one Python process), which
// is not what a scanner meets: AWS API calls from a CI runner take tens of milliseconds. A
// loopback proxy adds a fixed round-trip latency (default 50 ms) in front of moto.
// Usage: node bench/aws-kms-moto.ts [keys=2000] [latencyMs=50]
import { CreateKeyCommand, EnableKeyRotationCommand, KMSClient, type KeySpec, type KeyUsageType } from '@aws-sdk/client-kms';
import { quietContext } from '../test/support/collect.ts';
import { DEFAULT_CONCURRENCY, kmsCollector } from '../src/collectors/aws/kms/collector.ts';
import { mapBounded } from '../src/util/limit.ts';
import { startMoto } from '../test/support/moto.ts';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** Forwards to `target` after `delay` ms: a network round trip on loopback. */
async function latencyProxy(target: string, delay: number): Promise<{ endpoint: string; close(): void }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      setTimeout(() => {
        const upstream = http.request(`${target}${request.url ?? '/'}`, { method: request.method, headers: request.headers, agent }, (reply) => {
          response.writeHead(reply.statusCode ?? 502, reply.headers);
          reply.pipe(response);
        });
        upstream.on('error', () => response.destroy());
        upstream.end(Buffer.concat(chunks));
      }, delay);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => { server.close(); agent.destroy(); } };
}

const count = Number(process.argv[2] ?? 2000);
const latencyMs = Number(process.argv[3] ?? 50);
process.env['AWS_ACCESS_KEY_ID'] = 'test';
process.env['AWS_SECRET_ACCESS_KEY'] = 'test';
const moto = await startMoto();
try {
  const client = new KMSClient({ region: 'us-east-1', endpoint: moto.endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  const seedStarted = performance.now();
  // A realistic mix: 70% symmetric (half with rotation on), 20% asymmetric, 10% HMAC.
  const kinds: { spec?: KeySpec; usage?: KeyUsageType; rotate?: boolean }[] = [
    { rotate: true }, { rotate: false }, { rotate: true }, { rotate: false }, { rotate: true }, { rotate: false }, { rotate: true },
    { spec: 'RSA_2048', usage: 'SIGN_VERIFY' }, { spec: 'ECC_NIST_P256', usage: 'SIGN_VERIFY' },
    { spec: 'HMAC_256', usage: 'GENERATE_VERIFY_MAC' },
  ];
  for await (const _ of mapBounded(Array.from({ length: count }, (_, i) => i), 16, async (i) => {
    const kind = kinds[i % kinds.length]!;
    const key = await client.send(new CreateKeyCommand({ ...(kind.spec ? { KeySpec: kind.spec } : {}), ...(kind.usage ? { KeyUsage: kind.usage } : {}), Tags: [{ TagKey: 'n', TagValue: String(i) }] }));
    if (kind.rotate) await client.send(new EnableKeyRotationCommand({ KeyId: key.KeyMetadata!.KeyId! }));
  })) void _;
  client.destroy();
  console.log(`seeded ${count} keys in ${((performance.now() - seedStarted) / 1000).toFixed(1)} s`);

  const proxy = await latencyProxy(moto.endpoint, latencyMs);
  console.log(`collecting through a ${latencyMs} ms round-trip proxy`);
  for (const concurrency of [1, DEFAULT_CONCURRENCY]) {
    const ctx = quietContext();
    const { apiCalls, errors } = ctx;
    const started = performance.now();
    let items = 0;
    for await (const _ of kmsCollector.collect({ id: 'bench', type: 'aws-kms', regions: ['us-east-1'], endpoint: proxy.endpoint, concurrency }, ctx)) items++;
    const seconds = (performance.now() - started) / 1000;
    const calls = Object.values(apiCalls).reduce((sum, n) => sum + n, 0);
    console.log(
      `concurrency ${String(concurrency).padStart(2)}: ${items} keys in ${seconds.toFixed(1)} s (${Math.round(items / seconds)} keys/s), ` +
        `${calls} API calls = ${(calls / items).toFixed(2)} per key, errors ${errors.length}, peak RSS so far ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`,
    );
    console.log(`  ${JSON.stringify(apiCalls)}`);
  }
  proxy.close();
} finally {
  await moto.stop();
}
