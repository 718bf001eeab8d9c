import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { kubernetesCollector } from '../../src/collectors/kubernetes/collector.ts';
import { goDurationSeconds } from '../../src/collectors/kubernetes/go-duration.ts';
import { Manifest, ManifestSyntaxError } from '../../src/collectors/kubernetes/manifests.ts';
import type { InventoryItem } from '../../src/inventory/types.ts';
import { validator } from '../../src/util/schemas.ts';
import { quietContext } from '../support/collect.ts';

const FIXTURES = path.resolve('test/fixtures/iac/kubernetes');
const SHOWN = 'test/fixtures/iac/kubernetes/manifests';

async function collect(baseDir: string, paths: string[]): Promise<{ items: Map<string, InventoryItem>; errors: ReturnType<typeof quietContext>['errors'] }> {
  const ctx = quietContext(baseDir);
  const items = new Map<string, InventoryItem>();
  for await (const item of kubernetesCollector.collect({ id: 'cluster', type: 'kubernetes', paths }, ctx)) items.set(item.address!, item);
  return { items, errors: ctx.errors };
}

async function inTempDir(files: Record<string, string>, run: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kd-k8s-'));
  try {
    for (const [name, text] of Object.entries(files)) await writeFile(path.join(dir, name), text);
    await run(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('Go durations as the cert-manager API writes them', () => {
  assert.equal(goDurationSeconds('2160h'), 90 * 86400);
  assert.equal(goDurationSeconds('8760h0m0s'), 365 * 86400);
  assert.equal(goDurationSeconds('1h30m'), 5400);
  assert.equal(goDurationSeconds('1.5h'), 5400);
  assert.equal(goDurationSeconds('0'), 0);
  assert.equal(goDurationSeconds('90d'), null, 'there is no day unit');
  assert.equal(goDurationSeconds('2160'), null, 'a number needs a unit');
  assert.equal(goDurationSeconds(''), null);
});

test('every cert-manager Certificate in plain, List and Helm-rendered manifests becomes a declared certificate; other objects are ignored', async () => {
  const { items, errors } = await collect(FIXTURES, ['manifests/*.yaml', 'manifests/helm/*.yaml']);
  assert.deepEqual(errors, []);
  assert.deepEqual([...items.keys()].sort(), [
    'Certificate/release-name-shop-tls',
    'Certificate/sandbox/billing-api',
    'Certificate/sandbox/example-com',
    'Certificate/sandbox/legacy-meter',
    'Certificate/sandbox/sandbox-ca',
    'Certificate/web/acme-crt',
  ]);
  const validate = validator('inventory-item');
  for (const item of items.values()) assert.ok(validate(item), `${item.uid}: ${JSON.stringify(validate.errors)}`);

  const example = items.get('Certificate/sandbox/example-com')!;
  assert.equal(example.uid, 'kubernetes:manifests/certificates.yaml#Certificate/sandbox/example-com');
  assert.equal(example.provider, 'kubernetes-cert-manager');
  assert.equal(example.kind, 'certificate');
  assert.equal(example.declared, true);
  assert.equal(example.certificate, null, 'not issued yet: no dates, serial or fingerprint');
  assert.equal(example.algorithm, 'RSA-2048');
  assert.deepEqual(example.declaredIn, {
    file: `${SHOWN}/certificates.yaml`,
    line: 2,
    column: 1,
    attributes: {
      'certificate.notAfter': { line: 10, column: 3 },
      'evidence.durationSeconds': { line: 10, column: 3 },
      algorithm: { line: 18, column: 5 },
      keyType: { line: 18, column: 5 },
      keySize: { line: 20, column: 5 },
      curve: { line: 20, column: 5 },
      'certificate.isCA': { line: 16, column: 3 },
      'certificate.commonName': { line: 15, column: 3 },
      'certificate.sans': { line: 24, column: 3 },
    },
  });
  assert.equal(example.evidence['durationSeconds'], 90 * 86400);
  assert.equal(example.evidence['renewBeforeSeconds'], 15 * 86400);
  assert.deepEqual(example.evidence['dnsNames'], ['example.com', 'www.example.com']);
  assert.deepEqual(example.evidence['issuer'], { type: 'ca', honoursDuration: true, acmeServer: null, declaredIn: `${SHOWN}/issuers.yaml:11` });
  // Only the rotation policy is left out, and its default depends on the cert-manager version.
  assert.deepEqual(example.evidence['defaults'], { 'spec.privateKey.rotationPolicy': 'Always from cert-manager v1.18.0; Never in v1.8 to v1.17' });
  assert.equal(example.evidence['rotationPolicy'], null);

  const meter = items.get('Certificate/sandbox/legacy-meter')!;
  assert.equal(meter.algorithm, 'RSA-1024');
  assert.equal(meter.keySize, 1024);
  assert.equal(meter.evidence['durationSeconds'], 90 * 86400);
  assert.deepEqual(meter.evidence['defaults'], { 'spec.duration': '2160h', 'spec.privateKey.rotationPolicy': 'Always from cert-manager v1.18.0; Never in v1.8 to v1.17' });
  assert.deepEqual(meter.declaredIn!.attributes['keySize'], { line: 65, column: 5 });

  const billing = items.get('Certificate/sandbox/billing-api')!;
  assert.equal(billing.algorithm, 'EC-P384');
  assert.equal(billing.curve, 'P-384');
  assert.equal(billing.evidence['rotationPolicy'], 'Always');

  assert.equal(items.get('Certificate/sandbox/sandbox-ca')!.evidence['isCA'], true);
  assert.deepEqual(items.get('Certificate/sandbox/sandbox-ca')!.evidence['issuer'], { type: 'selfSigned', honoursDuration: true, acmeServer: null, declaredIn: `${SHOWN}/issuers.yaml:5` });

  const acme = items.get('Certificate/web/acme-crt')!;
  assert.equal(acme.evidence['duration'], '8760h');
  assert.equal(acme.evidence['durationSeconds'], null, 'an ACME server decides the validity: unknown, not the year asked for');
  assert.equal(acme.evidence['validityDecidedBy'], 'acme-server');

  const helm = items.get('Certificate/release-name-shop-tls')!;
  assert.equal(helm.evidence['namespace'], null, 'chosen at install time');
  assert.equal(helm.evidence['helmSource'], 'shop/templates/certificate.yaml');
  assert.equal(helm.evidence['durationSeconds'], 730 * 86400);
  assert.equal(helm.evidence['issuer'], null, 'the ClusterIssuer is not in the scanned manifests');
  assert.deepEqual(helm.declaredIn!.attributes['certificate.notAfter'], { line: 29, column: 3 });
  assert.equal(helm.algorithm, 'RSA-2048', "cert-manager's default key");
});

test('a malformed manifest is an error naming the file and line; the other files are still read', async () => {
  const { items, errors } = await collect(FIXTURES, ['manifests/**/*.yaml']);
  assert.equal(items.size, 6);
  assert.deepEqual(errors.map((error) => error.code), ['manifest-invalid']);
  assert.match(errors[0]!.message, new RegExp(`^${SHOWN}/broken/broken\\.yaml:7:3: not valid YAML: `));
  assert.throws(() => Manifest.parse('a: 1\nb: [1\n'), (error) => error instanceof ManifestSyntaxError && error.line === 3);
});

test('a value cert-manager would reject is an error naming its line; a placeholder not rendered yet stays unknown', async () => {
  const manifest = [
    'apiVersion: cert-manager.io/v1',
    'kind: Certificate',
    'metadata: { name: typo, namespace: ns }',
    'spec:',
    '  duration: 90d',
    '  privateKey: { algorithm: DSA }',
    '---',
    'apiVersion: cert-manager.io/v1',
    'kind: Certificate',
    'metadata: { name: templated }',
    'spec:',
    '  duration: "{{ .Values.duration }}"',
    '  privateKey: { size: "{{ .Values.keySize }}" }',
    '---',
    '{"apiVersion": "cert-manager.io/v1", "kind": "Certificate", "metadata": {"name": "json"}, "spec": {"privateKey": {"algorithm": "Ed25519"}}}',
    '---',
    'apiVersion: cert-manager.io/v1',
    'kind: Certificate',
    'metadata: { labels: { a: b } }',
    '',
  ].join('\n');
  await inTempDir({ 'certs.yaml': manifest, 'empty.yaml': '', 'values.yaml': 'replicas: 3\nimage: shop\n' }, async (dir) => {
    const { items, errors } = await collect(dir, ['*.yaml']);
    assert.deepEqual(errors.map((error) => [error.code, error.message.replace(/^.*certs\.yaml/, 'certs.yaml')]), [
      ['manifest-value-invalid', 'certs.yaml:5:3: Certificate ns/typo spec.duration "90d" is not a Go duration such as 2160h or 1h30m (there is no day unit)'],
      ['manifest-value-invalid', 'certs.yaml:6:17: Certificate ns/typo spec.privateKey.algorithm "DSA" is not RSA, ECDSA or Ed25519'],
    ]);
    assert.deepEqual([...items.keys()].sort(), ['Certificate/json', 'Certificate/ns/typo', 'Certificate/templated'], 'one without a name is skipped');
    assert.equal(items.get('Certificate/ns/typo')!.evidence['durationSeconds'], null);
    assert.equal(items.get('Certificate/ns/typo')!.algorithm, 'UNKNOWN:DSA');
    assert.equal(items.get('Certificate/templated')!.evidence['durationSeconds'], null);
    assert.equal(items.get('Certificate/templated')!.keySize, null);
    assert.equal(items.get('Certificate/json')!.algorithm, 'Ed25519');
    assert.deepEqual(items.get('Certificate/json')!.declaredIn!.attributes['algorithm'], { line: 15, column: 115 });
  });
});
