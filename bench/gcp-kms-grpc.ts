// 2,000 Cloud KMS keys with 3 versions each, served by the test gRPC server on loopback and
// collected by the real client: wall time, RPCs per key, peak RSS.
// Usage: node bench/gcp-kms-grpc.ts [keys=2000] [concurrency=16]
import { quietContext } from '../test/support/collect.ts';
import { gcpKmsCollector } from '../src/collectors/gcp-kms/collector.ts';
import { startGcpKmsServer, type GcpKey } from '../test/support/gcp-kms-server.ts';
import { rfc3339 } from '../src/util/rfc3339.ts';

const count = Number(process.argv[2] ?? 2000);
const concurrency = Number(process.argv[3] ?? 16);
const RINGS = 20;
const iso = (day: number) => rfc3339(Date.UTC(2026, 0, 1) + day * 86_400_000);
const keys = (ring: number): GcpKey[] =>
  Array.from({ length: count / RINGS }, (_, i) => ({
    id: `key-${ring}-${i}`,
    purpose: 'ENCRYPT_DECRYPT',
    createTime: iso(0),
    rotationPeriodSeconds: 90 * 86_400,
    nextRotationTime: iso(400),
    versionTemplate: { algorithm: 'GOOGLE_SYMMETRIC_ENCRYPTION', protectionLevel: i % 2 ? 'HSM' : 'SOFTWARE' },
    primaryVersionId: '3',
    labels: { team: `t${i % 7}` },
    versions: [
      { id: '1', state: 'ENABLED', createTime: iso(0) },
      { id: '2', state: 'DISABLED', createTime: iso(90) },
      { id: '3', state: 'ENABLED', createTime: iso(180) },
    ],
    iamBindings: [{ role: 'roles/cloudkms.cryptoKeyEncrypterDecrypter', members: [`serviceAccount:app-${i % 13}@p.iam.gserviceaccount.com`] }],
  }));
const server = await startGcpKmsServer({
  projects: [{ id: 'bench', locations: [{ id: 'europe-west1', keyRings: Array.from({ length: RINGS }, (_, ring) => ({ id: `ring-${ring}`, keys: keys(ring) })) }] }],
});
try {
  const ctx = quietContext();
  const { apiCalls, errors } = ctx;
  const rssBefore = process.memoryUsage().rss;
  const started = performance.now();
  let items = 0;
  let versions = 0;
  for await (const item of gcpKmsCollector.collect({ id: 'bench', type: 'gcp-kms', projects: ['bench'], locations: ['europe-west1'], endpoint: `http://127.0.0.1:${server.port}`, concurrency }, ctx)) {
    items++;
    versions += item.versions?.length ?? 0;
  }
  const seconds = (performance.now() - started) / 1000;
  const rpcs = Object.values(apiCalls).reduce((sum, n) => sum + n, 0);
  console.log(`${items} keys, ${versions} versions in ${seconds.toFixed(2)} s (${Math.round(items / seconds)} keys/s) at concurrency ${concurrency}`);
  console.log(`${rpcs} RPCs = ${(rpcs / items).toFixed(3)} per key ${JSON.stringify(apiCalls)}; errors ${errors.length}`);
  console.log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB (before collecting ${(rssBefore / 1048576).toFixed(0)} MiB); server in the same process`);
} finally {
  await server.stop();
}
