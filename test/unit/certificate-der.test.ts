import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { certificateItem, parseCertificate } from '../../src/certificates/certificate.ts';
import { decodeOid, DerError, readElement } from '../../src/certificates/der.ts';
import { makeCert, removeDir, tempDir } from '../support/certs.ts';

// X.690 8.19: the first subidentifier of an OID packs the first two arcs as X*40+Y, and for
// X = 2 it can take more than one byte (2.999 is 1079, encoded 0x88 0x37).

const KNOWN_ENCODINGS: readonly (readonly [hex: string, oid: string])[] = [
  ['2a864886f70d01010b', '1.2.840.113549.1.1.11'],
  ['550403', '2.5.4.3'],
  ['883703', '2.999.3'],
  ['813403', '2.100.3'],
  ['7f', '2.47'],
  ['8100', '2.48'],
  ['00', '0.0'],
  ['27', '0.39'],
  ['28', '1.0'],
  ['4f', '1.39'],
  ['50', '2.0'],
  ['2b0601040182371402 03', '1.3.6.1.4.1.311.20.2.3'],
  // A UUID arc (X.667) is 128 bits: past what a JavaScript number holds exactly.
  ['6983f09da7ebcfdee0c7a1a7b2c0948cc8f9d776', '2.25.329800735698586629295641978511506172918'],
];

/** The DER content octets openssl writes for an OID: an encoder that is not ours. */
function opensslEncoding(dir: string, oid: string): Uint8Array {
  const file = path.join(dir, 'oid.der');
  execFileSync('openssl', ['asn1parse', '-genstr', `OID:${oid}`, '-noout', '-out', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  return readElement(readFileSync(file)).value;
}

describe('DER object identifiers', () => {
  let dir: string;

  before(() => {
    dir = tempDir();
  });

  after(() => removeDir(dir));

  test('known encodings decode, first arcs of more than one byte included', () => {
    for (const [hex, oid] of KNOWN_ENCODINGS) assert.equal(decodeOid(Buffer.from(hex.replaceAll(' ', ''), 'hex')), oid, hex);
  });

  test('whatever openssl encodes decodes back to the same OID', () => {
    const oids = ['2.999.3', '2.100.3', '2.48', '2.16.840.1.101.3.4.3.18', '1.2.840.10045.4.3.2', '0.9.2342.19200300.100.1.25', '2.999.1079.16383.16384.2097152', '2.25.340282366920938463463374607431768211455'];
    for (const oid of oids) assert.equal(decodeOid(opensslEncoding(dir, oid)), oid);
  });

  test('encodings DER does not allow are refused, by name', () => {
    const refused: readonly (readonly [string, RegExp])[] = [
      ['', /empty OID/],
      ['2a86', /ends inside a subidentifier/],
      ['2a8001', /leading zero byte/],
      ['80 01', /leading zero byte/],
      [`2a${'ff'.repeat(32)}01`, /arc longer than 32 bytes/],
    ];
    for (const [hex, message] of refused) {
      assert.throws(() => decodeOid(Buffer.from(hex.replaceAll(' ', ''), 'hex')), (error: Error) => error instanceof DerError && message.test(error.message), hex);
    }
  });

  test('a certificate signed with an algorithm under 2.999 keeps its OID', () => {
    const cert = makeCert(dir, { cn: 'oid.test', key: 'ec:P-256' });
    // ecdsa-with-SHA256 (1.2.840.10045.4.3.2) is 8 content bytes, as is 2.999.1.2.3.4.5.6: swapping
    // them in place leaves every length right; node reads the certificate, it just cannot verify it.
    const ecdsaSha256 = Buffer.from('06082a8648ce3d040302', 'hex');
    const under2999 = Buffer.from('0608883701020304050 6'.replaceAll(' ', ''), 'hex');
    const der = Buffer.from(cert.der);
    let swapped = 0;
    for (let at = der.indexOf(ecdsaSha256); at >= 0; at = der.indexOf(ecdsaSha256, at + 1), swapped++) under2999.copy(der, at);
    assert.equal(swapped, 2, 'the algorithm appears in tbsCertificate and after it');
    const parsed = parseCertificate(der);
    assert.equal(parsed.signatureAlgorithmOid, '2.999.1.2.3.4.5.6');
    assert.equal(parsed.certificate.signatureAlgorithm, 'UNKNOWN:2.999.1.2.3.4.5.6');
    const item = certificateItem(parsed, { uid: 'u', provider: 'x509-file', sourceId: 's', location: 'l', evidence: {} });
    assert.equal(item.evidence['signatureAlgorithmOid'], '2.999.1.2.3.4.5.6');
  });
});
