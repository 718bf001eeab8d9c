// Evaluates N synthetic certificate items through the wasm engine and prints items/s and peak RSS.
// Usage: node --max-semi-space-size=16 bench/engine-certificates.ts [items=100000] [batchSize=500]
import { effectivePolicy } from '../src/config/settings.ts';
import { DEFAULT_BATCH_SIZE, PolicyEngine } from '../src/engine/engine.ts';
import { baseItem, type InventoryItem } from '../src/inventory/types.ts';
import { rfc3339 as iso } from '../src/util/rfc3339.ts';

const count = Number(process.argv[2] ?? 100_000);
const batchSize = Number(process.argv[3] ?? DEFAULT_BATCH_SIZE);
const now = new Date('2026-11-01T00:00:00Z');
const DAY = 86_400_000;

function syntheticCertificate(index: number): InventoryItem {
  // A spread of states: ~1/7 expired, ~1/7 expiring, some long-lived, weak keys and SHA-1.
  const notBefore = new Date(now.getTime() - ((index * 37) % 700) * DAY);
  const notAfter = new Date(notBefore.getTime() + (30 + ((index * 53) % 900)) * DAY);
  const rsa = index % 3 === 0;
  const bits = rsa ? (index % 11 === 0 ? 1024 : 2048) : 256;
  const fingerprint = index.toString(16).padStart(64, '0');
  return baseItem({
    uid: `bench/cert-${index}.pem#sha256:${fingerprint}`,
    kind: 'certificate',
    provider: 'x509-file',
    sourceId: 'bench',
    name: `host-${index}.example.com`,
    location: `bench/cert-${index}.pem`,
    algorithm: rsa ? `RSA-${bits}` : 'EC-P256',
    keyType: rsa ? 'rsa' : 'ec',
    keySize: bits,
    curve: rsa ? null : 'P-256',
    purpose: 'tls',
    createdAt: iso(notBefore),
    expiresAt: iso(notAfter),
    certificate: {
      subject: `CN=host-${index}.example.com`,
      issuer: 'CN=Bench CA',
      serialNumber: index.toString(16),
      notBefore: iso(notBefore),
      notAfter: iso(notAfter),
      signatureAlgorithm: index % 17 === 0 ? 'RSA-SHA1' : rsa ? 'RSA-SHA256' : 'ECDSA-SHA256',
      fingerprintSha256: fingerprint,
      selfSigned: false,
      isCA: index % 50 === 0,
      sans: [`DNS:host-${index}.example.com`],
    },
    evidence: { file: `bench/cert-${index}.pem` },
  });
}

const items = Array.from({ length: count }, (_, index) => syntheticCertificate(index));
const engine = await PolicyEngine.load(undefined, batchSize);
const policy = effectivePolicy(undefined);
const rssBefore = process.memoryUsage().rss;
const started = performance.now();
const findings = engine.evaluate({ items, sources: [{ id: 'bench', type: 'x509-files', status: 'ok', items: count, errors: [] }], now, policy });
const seconds = (performance.now() - started) / 1000;
const peakRss = process.resourceUsage().maxRSS * 1024;
const byRule = new Map<string, number>();
for (const finding of findings) byRule.set(finding.rule, (byRule.get(finding.rule) ?? 0) + 1);

console.log(`items:        ${count} (batch size ${batchSize})`);
console.log(`findings:     ${findings.length} ${JSON.stringify(Object.fromEntries(byRule))}`);
console.log(`wall time:    ${seconds.toFixed(2)} s`);
console.log(`throughput:   ${Math.round(count / seconds)} items/s`);
console.log(`peak RSS:     ${(peakRss / 1024 / 1024).toFixed(0)} MiB (before evaluation ${(rssBefore / 1024 / 1024).toFixed(0)} MiB)`);
console.log(`node:         ${process.version}`);
