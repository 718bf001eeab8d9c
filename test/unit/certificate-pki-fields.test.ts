import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { parseCertificate } from '../../src/certificates/certificate.ts';
import { children, readElement } from '../../src/certificates/der.ts';
import { validator } from '../../src/util/schemas.ts';
import { certificateItem } from '../../src/certificates/certificate.ts';
import { makeCert, removeDir, tempDir, type TestCert } from '../support/certs.ts';

// The fields the certificate rules read beyond CONTRACT section 3 (version, key identifiers,
// revocation pointers, extended key usage, public-key fingerprint), read from certificates the
// openssl CLI made, and checked against what OpenSSL itself says about them.

describe('certificate PKI fields', () => {
  let dir: string;
  let root: TestCert;
  let v1Root: TestCert;
  let leaf: TestCert;
  let renewed: TestCert;
  let bare: TestCert;

  before(() => {
    dir = tempDir();
    root = makeCert(dir, { cn: 'Fields Root', key: 'rsa:2048', ca: true });
    v1Root = makeCert(dir, { cn: 'Fields V1 Root', key: 'rsa:2048', v1: true, md: 'sha1' });
    leaf = makeCert(dir, {
      cn: 'fields.test',
      issuer: root,
      crl: false,
      extensions: [
        'crlDistributionPoints=URI:http://crl.test/a.crl,URI:http://crl.test/b.crl',
        'authorityInfoAccess=OCSP;URI:http://ocsp.test/,caIssuers;URI:http://ca.test/root.cer',
        'noRevAvail=ASN1:NULL',
      ],
    });
    renewed = makeCert(dir, { cn: 'fields.test', issuer: root, keyFrom: leaf, extendedKeyUsage: null, sans: [] });
    bare = makeCert(dir, { cn: 'bare.test', issuer: v1Root, crl: false, extendedKeyUsage: 'clientAuth' });
  });

  after(() => removeDir(dir));

  test('an X.509 v1 root has version 1 and no extension facts: no key identifiers, pointers or usage limits', () => {
    const { certificate } = parseCertificate(v1Root.der);
    assert.equal(new X509Certificate(v1Root.der).ca, false, 'node does not call a v1 root a CA');
    assert.equal(certificate.selfSigned, true);
    assert.equal(certificate.version, 1);
    assert.equal(certificate.subjectKeyId, null);
    assert.equal(certificate.authorityKeyId, null);
    assert.deepEqual(certificate.crlDistributionPoints, []);
    assert.deepEqual(certificate.ocspUrls, []);
    assert.equal(certificate.noRevocationAvailable, false);
    assert.equal(certificate.extendedKeyUsage, null);
    assert.equal(certificate.commonName, 'Fields V1 Root');
  });

  test('key identifiers tie a leaf to its issuer', () => {
    const issuer = parseCertificate(root.der).certificate;
    const child = parseCertificate(leaf.der).certificate;
    assert.equal(child.version, 3);
    assert.match(issuer.subjectKeyId!, /^[0-9a-f]{40}$/);
    assert.equal(child.authorityKeyId, issuer.subjectKeyId);
    const printed = new X509Certificate(root.der).toLegacyObject().ext_key_usage;
    assert.equal(printed, undefined, 'a CA without extKeyUsage');
    assert.equal(issuer.extendedKeyUsage, null);
  });

  test('revocation pointers and noRevAvail are read from the extensions', () => {
    const { certificate } = parseCertificate(leaf.der);
    assert.deepEqual(certificate.crlDistributionPoints, ['http://crl.test/a.crl', 'http://crl.test/b.crl']);
    assert.deepEqual(certificate.ocspUrls, ['http://ocsp.test/']);
    assert.deepEqual(certificate.caIssuersUrls, ['http://ca.test/root.cer']);
    assert.equal(certificate.noRevocationAvailable, true);
    assert.deepEqual(certificate.extendedKeyUsage, ['1.3.6.1.5.5.7.3.1']);
    // node's infoAccess says the same
    assert.deepEqual(new X509Certificate(leaf.der).infoAccess?.split('\n').filter(Boolean), ['OCSP - URI:http://ocsp.test/', 'CA Issuers - URI:http://ca.test/root.cer']);
  });

  test('a renewal on the same key pair has the same public-key fingerprint, the SHA-256 of its SubjectPublicKeyInfo', () => {
    const first = parseCertificate(leaf.der).certificate;
    const second = parseCertificate(renewed.der).certificate;
    assert.notEqual(first.serialNumber, second.serialNumber);
    assert.notEqual(first.fingerprintSha256, second.fingerprintSha256);
    assert.equal(first.publicKeySha256, second.publicKeySha256);
    const spki = new X509Certificate(leaf.der).publicKey.export({ type: 'spki', format: 'der' });
    assert.equal(first.publicKeySha256, createHash('sha256').update(spki).digest('hex'));
    assert.notEqual(parseCertificate(bare.der).certificate.publicKeySha256, first.publicKeySha256);
  });

  test('no extKeyUsage is null (any purpose); clientAuth only is listed', () => {
    assert.equal(parseCertificate(renewed.der).certificate.extendedKeyUsage, null);
    assert.deepEqual(parseCertificate(renewed.der).certificate.sans, []);
    assert.deepEqual(parseCertificate(bare.der).certificate.extendedKeyUsage, ['1.3.6.1.5.5.7.3.2']);
    assert.equal(parseCertificate(bare.der).certificate.authorityKeyId, null, 'a v1 issuer has no key identifier to name');
  });

  test('an extension that does not decode leaves its fact out (unknown) and keeps the certificate', () => {
    const damaged = withBrokenCrlPointer(leaf.der);
    const { certificate } = parseCertificate(damaged);
    assert.equal('crlDistributionPoints' in certificate, false);
    assert.deepEqual(certificate.ocspUrls, ['http://ocsp.test/']);
    assert.equal(certificate.subject, 'CN=fields.test');
  });

  test('every new field validates against the published inventory item schema', () => {
    const validate = validator('inventory-item');
    for (const cert of [root, v1Root, leaf, renewed, bare]) {
      const item = certificateItem(parseCertificate(cert.der), { uid: cert.certPath, provider: 'x509-file', sourceId: 'files', location: cert.certPath, evidence: {} });
      assert.ok(validate(item), JSON.stringify(validate.errors));
    }
  });
});

/** The certificate with the first byte inside its cRLDistributionPoints value changed from SEQUENCE to NULL. */
function withBrokenCrlPointer(der: Buffer): Buffer {
  const copy = Buffer.from(der);
  const [tbs] = children(readElement(copy));
  const wrapper = children(tbs!).find((field) => field.tag === 0xa3)!;
  for (const extension of children(children(wrapper)[0]!)) {
    const [id, , value] = children(extension);
    if (Buffer.from(id!.value).toString('hex') !== '551d1f') continue;
    const octets = value ?? children(extension)[1]!;
    copy[octets.value.byteOffset - copy.byteOffset] = 0x05;
    return copy;
  }
  throw new Error('no cRLDistributionPoints extension');
}
