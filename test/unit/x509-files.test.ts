import assert from 'node:assert/strict';
import { symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { quietContext } from '../support/collect.ts';
import type { SourceConfig, SourceError } from '../../src/model/source.ts';
import { children, readElement } from '../../src/certificates/der.ts';
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

/** The certificate with the tag of its validity field changed to NULL: well-formed DER, not a certificate. */
function withBrokenValidity(der: Buffer): Buffer {
  const copy = Buffer.from(der);
  const tbs = children(readElement(copy))[0]!;
  const fields = children(tbs);
  const validity = fields[fields[0]!.tag === 0xa0 ? 4 : 3]!;
  copy[validity.raw.byteOffset - copy.byteOffset] = 0x05;
  return copy;
}

function pemOf(der: Buffer): string {
  return `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END CERTIFICATE-----\n`;
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

  test('CR-only, CRLF and mixed line endings are all read, with the lines each certificate occupies', async () => {
    // A ruled comment is a comment, not a damaged boundary line.
    const chain = `# ----- chain -----\n${leaf.certPem}${root.certPem}`;
    writeFileSync(path.join(dir, 'cr.pem'), chain.replaceAll('\n', '\r'));
    writeFileSync(path.join(dir, 'crlf.pem'), chain.replaceAll('\n', '\r\n'));
    let toggle = 0;
    writeFileSync(path.join(dir, 'mixed.pem'), chain.replace(/\n/g, () => ['\n', '\r', '\r\n'][toggle++ % 3]!));
    const { items, errors } = await collect(dir, ['cr.pem', 'crlf.pem', 'mixed.pem']);
    assert.deepEqual(errors, []);
    assert.deepEqual(
      items.map((item) => [path.basename(item.location), item.name, (item.evidence['region'] as { startLine: number }).startLine]),
      ['cr.pem', 'crlf.pem', 'mixed.pem'].flatMap((file) => [[file, 'leaf.test', 2], [file, 'Files Root', (items[0]!.evidence['region'] as { endLine: number }).endLine + 1]]),
    );
  });

  test('a certificate file whose PEM is damaged is an error naming it, never an empty pass', async () => {
    const damaged: Record<string, string> = {
      'mangled-label.pem': leaf.certPem.replaceAll('CERTIFICATE', 'CERTIFXCATE'),
      'lower-case.pem': leaf.certPem.replace('-----BEGIN CERTIFICATE-----', '-----begin certificate-----'),
      'four-dashes.pem': leaf.certPem.replace('-----BEGIN', '----BEGIN'),
      'cut-begin.pem': '-----BEGIN CERTIF',
      'cut-begin-line.pem': leaf.certPem.replace('-----BEGIN CERTIFICATE-----', '-----BEGIN CERT'),
      'run-together.pem': leaf.certPem.replace('-----\n', '-----'),
      'end-only.pem': leaf.certPem.slice(leaf.certPem.indexOf('\n') + 1),
      'unknown-label.pem': '-----BEGIN SOMETHING ELSE-----\nAAAA\n-----END SOMETHING ELSE-----\n',
      'utf16.pem': '',
    };
    const sub = path.join(dir, 'damaged');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(sub);
    for (const [file, text] of Object.entries(damaged)) writeFileSync(path.join(sub, file), text);
    writeFileSync(path.join(sub, 'utf16.pem'), Buffer.from(`\ufeff${leaf.certPem}`, 'utf16le'));
    const { items, errors } = await collect(dir, ['damaged/*.pem']);
    assert.deepEqual(items, []);
    assert.deepEqual(errors.map((error) => path.basename(error.resource ?? '')).sort(), Object.keys(damaged).sort());
    for (const error of errors) {
      assert.equal(error.code, 'certificate-invalid', error.message);
      assert.ok(error.message.startsWith(`${error.resource}: `), error.message);
    }
    const byFile = new Map(errors.map((error) => [path.basename(error.resource ?? ''), error.message]));
    assert.match(byFile.get('mangled-label.pem')!, /PEM block "CERTIFXCATE" at line 1 is neither a certificate nor a known key/);
    assert.match(byFile.get('four-dashes.pem')!, /line 1: damaged PEM BEGIN\/END line; line \d+: END line without a BEGIN line/);
    assert.match(byFile.get('cut-begin.pem')!, /line 1: damaged PEM BEGIN\/END line/);
    assert.match(byFile.get('utf16.pem')!, /not a PEM, DER or PKCS#7 certificate \(UTF-16 text/);
  });

  test('a damaged DER file is described in our words, not as OpenSSL\'s "PEM routines::no start line"', async () => {
    writeFileSync(path.join(dir, 'flipped.der'), withBrokenValidity(leaf.der));
    writeFileSync(path.join(dir, 'cut.der'), leaf.der.subarray(0, leaf.der.length - 40));
    writeFileSync(path.join(dir, 'random.der'), Buffer.from([0x04, 0x03, 0x01, 0x02, 0x03, 0xff, 0x00]));
    const { items, errors } = await collect(dir, ['flipped.der', 'cut.der', 'random.der']);
    assert.deepEqual(items, []);
    const byFile = new Map(errors.map((error) => [path.basename(error.resource ?? ''), error]));
    for (const error of errors) {
      assert.equal(error.code, 'certificate-invalid');
      assert.doesNotMatch(error.message, /routines|no start line/);
    }
    assert.match(byFile.get('flipped.der')!.message, /flipped\.der: the DER certificate cannot be parsed: expected tbsCertificate\.validity/);
    assert.match(byFile.get('cut.der')!.message, /cut\.der: not a PEM, DER or PKCS#7 certificate \(DER that is damaged or cut short: /);
    assert.match(byFile.get('random.der')!.message, /random\.der: not a PEM, DER or PKCS#7 certificate \(binary data that is not DER\)/);
  });

  test('a chain with one damaged certificate yields the intact ones and an error for the damaged one', async () => {
    writeFileSync(path.join(dir, 'partly-bad.pem'), leaf.certPem + pemOf(withBrokenValidity(weak.der)) + root.certPem);
    const broken = weak.certPem.replace(/\n[A-Za-z0-9+/]{64}\n/, '\n%%%%\n');
    writeFileSync(path.join(dir, 'partly-bad-2.pem'), leaf.certPem + broken + root.certPem);
    const { items, errors } = await collect(dir, ['partly-bad.pem', 'partly-bad-2.pem']);
    for (const file of ['partly-bad.pem', 'partly-bad-2.pem']) {
      assert.deepEqual(items.filter((item) => path.basename(item.location) === file).map((item) => item.name), ['leaf.test', 'Files Root'], file);
    }
    assert.deepEqual(errors.map((error) => [error.code, path.basename(error.resource ?? '')]).sort(), [['certificate-invalid', 'partly-bad-2.pem'], ['certificate-invalid', 'partly-bad.pem']]);
  });

  test('a file of well-formed known non-certificate blocks is skipped; an unknown block among them is not', async () => {
    const crl = '-----BEGIN X509 CRL-----\nMIIBAA==\n-----END X509 CRL-----\n';
    writeFileSync(path.join(dir, 'key-and-crl.pem'), `${leaf.keyPem}${crl}`);
    writeFileSync(path.join(dir, 'key-and-junk.pem'), `${leaf.keyPem}-----BEGIN JUNK-----\nAAAA\n-----END JUNK-----\n`);
    writeFileSync(path.join(dir, 'key-cut.pem'), leaf.keyPem.slice(0, 100));
    const { items, errors } = await collect(dir, ['key-and-crl.pem', 'key-and-junk.pem', 'key-cut.pem']);
    assert.deepEqual(items, []);
    assert.deepEqual(errors.map((error) => path.basename(error.resource ?? '')).sort(), ['key-and-junk.pem', 'key-cut.pem']);
    // A damaged key block is reported by line only: its text never reaches a message.
    const keyBody = leaf.keyPem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
    for (const error of errors) assert.ok(!error.message.includes(keyBody.slice(0, 20)), error.message);
  });

  test('the same certificate twice in one file is one item', async () => {
    writeFileSync(path.join(dir, 'dup.pem'), leaf.certPem + leaf.certPem);
    const { items } = await collect(dir, ['dup.pem']);
    assert.equal(items.length, 1);
  });
});
