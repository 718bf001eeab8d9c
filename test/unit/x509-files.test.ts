import assert from 'node:assert/strict';
import { symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { quietContext } from '../support/collect.ts';
import type { SourceConfig, SourceError } from '../../src/collectors/types.ts';
import { x509FilesCollector } from '../../src/collectors/x509/files.ts';
import type { InventoryItem } from '../../src/inventory/types.ts';
import { validator } from '../../src/util/schemas.ts';
import { makeCert, makePkcs7, removeDir, tempDir, type TestCert } from '../support/certs.ts';

async function collect(baseDir: string, paths: string[]): Promise<{ items: InventoryItem[]; errors: SourceError[] }> {
  const items: InventoryItem[] = [];
  const source: SourceConfig = { id: 'files', type: 'x509-files', paths };
  const ctx = quietContext(baseDir);
  const errors = ctx.errors;
  const validate = validator('inventory-item');
  for await (const item of x509FilesCollector.collect(source, ctx)) {
    // Every collected item must match the published inventory item schema.
    assert.ok(validate(item), `${item.uid}: ${JSON.stringify(validate.errors)}`);
    items.push(item);
  }
  return { items, errors };
}

describe('x509-files source', () => {
  let dir: string;
  let root: TestCert;
  let leaf: TestCert;
  let weak: TestCert;
  let sha1: TestCert;

  before(() => {
    dir = tempDir();
    root = makeCert(dir, { cn: 'Files Root', key: 'rsa:2048', ca: true, notBefore: '2020-01-01T00:00:00Z', notAfter: '2035-01-01T00:00:00Z' });
    leaf = makeCert(dir, { cn: 'leaf.test', key: 'ec:P-256', issuer: root, notBefore: '2026-01-01T00:00:00Z', notAfter: '2026-12-31T00:00:00Z' });
    weak = makeCert(dir, { cn: 'weak.test', key: 'rsa:1024', issuer: root });
    sha1 = makeCert(dir, { cn: 'sha1.test', key: 'rsa:2048', md: 'sha1', issuer: root });
  });

  after(() => removeDir(dir));

  test('reads several certificates from one PEM file, with the lines each occupies', async () => {
    const chain = path.join(dir, 'chain.crt');
    writeFileSync(chain, `# a comment line\n${leaf.certPem}${root.certPem}`);
    const { items, errors } = await collect(dir, ['chain.crt']);
    assert.deepEqual(errors, []);
    assert.deepEqual(items.map((item) => item.name), ['leaf.test', 'Files Root']);
    const [first, second] = items as [InventoryItem, InventoryItem];
    const region = first.evidence['region'] as { startLine: number; endLine: number };
    assert.equal(region.startLine, 2);
    assert.equal((second.evidence['region'] as { startLine: number }).startLine, region.endLine + 1);
    assert.equal(first.certificate?.notBefore, '2026-01-01T00:00:00Z');
    assert.equal(first.certificate?.notAfter, '2026-12-31T00:00:00Z');
    assert.equal(first.certificate?.selfSigned, false);
    assert.equal(second.certificate?.selfSigned, true);
    assert.equal(second.certificate?.isCA, true);
    assert.equal(first.certificate?.sans[0], 'DNS:leaf.test');
    assert.match(first.uid, /^chain\.crt#sha256:[0-9a-f]{64}$/);
    const validate = validator('inventory-item');
    for (const item of items) assert.ok(validate(item), JSON.stringify(validate.errors));
  });

  test('maps key and signature algorithms to canonical names', async () => {
    writeFileSync(path.join(dir, 'weak.pem'), weak.certPem);
    writeFileSync(path.join(dir, 'sha1.pem'), sha1.certPem);
    const { items } = await collect(dir, ['weak.pem', 'sha1.pem']);
    const byName = new Map(items.map((item) => [item.name, item]));
    assert.equal(byName.get('weak.test')?.algorithm, 'RSA-1024');
    assert.equal(byName.get('weak.test')?.keySize, 1024);
    assert.equal(byName.get('weak.test')?.certificate?.signatureAlgorithm, 'RSA-SHA256');
    assert.equal(byName.get('sha1.test')?.certificate?.signatureAlgorithm, 'RSA-SHA1');
  });

  test('reads DER certificates and PKCS#7 bundles in DER and PEM form', async () => {
    writeFileSync(path.join(dir, 'leaf.der'), leaf.der);
    makePkcs7(dir, [leaf, root], 'DER', 'bundle.p7b');
    makePkcs7(dir, [weak], 'PEM', 'bundle-pem.p7c');
    const { items, errors } = await collect(dir, ['leaf.der', 'bundle.p7b', 'bundle-pem.p7c']);
    assert.deepEqual(errors, []);
    assert.deepEqual(
      items.map((item) => [item.location.split('/').pop(), item.name, item.evidence['format']]),
      [
        ['bundle-pem.p7c', 'weak.test', 'pkcs7-pem'],
        ['bundle.p7b', 'leaf.test', 'pkcs7-der'],
        ['bundle.p7b', 'Files Root', 'pkcs7-der'],
        ['leaf.der', 'leaf.test', 'der'],
      ],
    );
  });

  test('a broken file is a source error naming it; the other files are still collected', async () => {
    const sub = path.join(dir, 'mixed');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(sub);
    writeFileSync(path.join(sub, 'good.pem'), leaf.certPem);
    writeFileSync(path.join(sub, 'garbage.pem'), 'this is not a certificate\n');
    writeFileSync(path.join(sub, 'truncated.pem'), leaf.certPem.slice(0, 200));
    writeFileSync(path.join(sub, 'bad-base64.pem'), '-----BEGIN CERTIFICATE-----\n%%%%\n-----END CERTIFICATE-----\n');
    symlinkSync(path.join(sub, 'missing-target.pem'), path.join(sub, 'dangling.pem'));
    const { items, errors } = await collect(dir, ['mixed/*.pem']);
    assert.deepEqual(items.map((item) => item.name), ['leaf.test']);
    const byFile = new Map(errors.map((error) => [path.basename(error.resource ?? ''), error]));
    assert.equal(byFile.get('garbage.pem')?.code, 'certificate-invalid');
    assert.equal(byFile.get('truncated.pem')?.code, 'certificate-invalid');
    assert.match(byFile.get('truncated.pem')!.message, /truncated\.pem: PEM block "CERTIFICATE" at line 1 has no END line/);
    assert.equal(byFile.get('bad-base64.pem')?.code, 'certificate-invalid');
    assert.equal(byFile.get('dangling.pem')?.code, 'file-unreadable');
    assert.equal(errors.length, 4);
  });

  test('a file holding only a private key is skipped without an error and without reading the key', async () => {
    writeFileSync(path.join(dir, 'only.key.pem'), leaf.keyPem);
    const { items, errors } = await collect(dir, ['only.key.pem']);
    assert.deepEqual(items, []);
    assert.deepEqual(errors, []);
  });

  test('a pattern that matches nothing is reported, never a silent empty pass', async () => {
    const { items, errors } = await collect(dir, ['nowhere/**/*.pem']);
    assert.deepEqual(items, []);
    assert.equal(errors[0]?.code, 'no-files-matched');
    assert.match(errors[0]!.message, /no file matches "nowhere\/\*\*\/\*\.pem"/);
  });

  test('the same certificate twice in one file is one item', async () => {
    writeFileSync(path.join(dir, 'dup.pem'), leaf.certPem + leaf.certPem);
    const { items } = await collect(dir, ['dup.pem']);
    assert.equal(items.length, 1);
  });
});
