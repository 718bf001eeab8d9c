import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { parseCertificate } from '../../src/certificates/certificate.ts';
import { makeCert, removeDir, tempDir } from '../support/certs.ts';

// Subject alternative names are read from the certificate's DER. node:crypto's subjectAltName is
// one ", "-joined string in which a value with a comma (and a few other characters) is quoted and
// escaped, so it does not give the names back; its type words and address formats are still
// what the inventory writes, so an ordinary certificate reads exactly as before.

/** Node's string split at its separators: right whenever no value needed quoting. */
function nodeNames(der: Buffer): string[] {
  const raw = new X509Certificate(der).subjectAltName;
  if (raw === undefined) return [];
  assert.doesNotMatch(raw, /"/, 'this helper only reads names node did not quote');
  return raw.split(', ');
}

/** The same certificate with one byte of the first occurrence of `text` (inside the SAN) changed. */
function withByte(der: Buffer, text: string, index: number, byte: number): Buffer {
  const copy = Buffer.from(der);
  const at = copy.indexOf(Buffer.from(text, 'latin1'), copy.indexOf(SAN_OID));
  assert.ok(at > 0, `"${text}" not found in the subjectAltName`);
  copy[at + index] = byte;
  return copy;
}

/** The extension id of subjectAltName (2.5.29.17) as DER. */
const SAN_OID = Buffer.from('0603551d11', 'hex');

describe('subject alternative names', () => {
  let dir: string;

  before(() => {
    dir = tempDir();
  });

  after(() => removeDir(dir));

  test('a URI with ", " inside and IPv6 addresses read as the certificate holds them', () => {
    const cert = makeCert(dir, {
      cn: 'shop.test',
      altNames: ['DNS.1=shop.test', 'URI.1=https://shop.test/a, b', 'IP.1=2001:db8::1', 'IP.2=192.0.2.7', 'IP.3=::', 'email.1=ops@shop.test'],
    });
    // What node makes of it: the URI quoted, its comma escaped.
    assert.match(new X509Certificate(cert.der).subjectAltName ?? '', /URI:"https:\/\/shop\.test\/a\\u002c b"/);
    assert.deepEqual(parseCertificate(cert.der).certificate.sans, [
      'DNS:shop.test',
      'URI:https://shop.test/a, b',
      'IP Address:2001:DB8:0:0:0:0:0:1',
      'IP Address:192.0.2.7',
      'IP Address:0:0:0:0:0:0:0:0',
      'email:ops@shop.test',
    ]);
  });

  test('ordinary names read exactly as node prints them', () => {
    const certs = [
      makeCert(dir, { cn: 'plain.test' }),
      makeCert(dir, { cn: 'many.test', sans: ['DNS:many.test', 'DNS:*.many.test', 'IP:10.0.0.1', 'IP:fe80::1:abcd', 'email:a@many.test', 'URI:https://many.test/x?y=1'] }),
      makeCert(dir, {
        cn: 'other.test',
        altNames: [
          'RID.1=1.2.3.4',
          'otherName.1=1.3.6.1.4.1.311.20.2.3;UTF8:upn@other.test',
          'otherName.2=1.3.6.1.5.5.7.8.7;IA5:_ldap._tcp.other.test',
          'otherName.3=1.3.6.1.5.5.7.8.5;UTF8:user@xmpp.other.test',
          'otherName.4=1.2.3.4;UTF8:not one node names',
        ],
      }),
    ];
    for (const cert of certs) assert.deepEqual(parseCertificate(cert.der).certificate.sans, nodeNames(cert.der));
    assert.deepEqual(parseCertificate(certs[2]!.der).certificate.sans, [
      'Registered ID:1.2.3.4',
      'othername:UPN:upn@other.test',
      'othername:SRVName:_ldap._tcp.other.test',
      'othername:XmppAddr:user@xmpp.other.test',
      'othername:<unsupported>',
    ]);
  });

  test('a registeredID whose first arcs take more than one byte', () => {
    const cert = makeCert(dir, { cn: 'rid.test', altNames: ['RID.1=2.999.3', 'RID.2=2.100.3', 'RID.3=2.48'] });
    const expected = ['Registered ID:2.999.3', 'Registered ID:2.100.3', 'Registered ID:2.48'];
    assert.deepEqual(nodeNames(cert.der), expected);
    assert.deepEqual(parseCertificate(cert.der).certificate.sans, expected);
  });

  test('a directoryName reads as RFC 4514 text, as node prints it inside its quotes', () => {
    const cert = makeCert(dir, {
      cn: 'dir.test',
      altNames: ['DNS.1=dir.test', 'dirName.1=dir'],
      extraConfig: ['[dir]', 'C=DE', 'O=Org, Inc.', 'CN=dir name', '+UID=u1', 'OU=a+b;c<d>e', 'x.2.999.1=unknown type'],
    });
    const sans = parseCertificate(cert.der).certificate.sans;
    assert.deepEqual(sans, ['DNS:dir.test', 'DirName:2.999.1=#0C0C756E6B6E6F776E2074797065,OU=a\\+b\\;c\\<d\\>e,UID=u1+CN=dir name,O=Org\\, Inc.,C=DE']);
    const quoted = /DirName:(".*")$/.exec(new X509Certificate(cert.der).subjectAltName ?? '')?.[1];
    assert.equal(`DirName:${JSON.parse(quoted ?? 'null')}`, sans[1]);
  });

  test('a control character in a name is escaped, never written raw', () => {
    const cert = makeCert(dir, { cn: 'ctl.test', sans: ['DNS:ctl.test', 'email:a@ctl.test'] });
    const damaged = withByte(withByte(cert.der, 'ctl.test', 3, 0x0a), 'a@ctl', 1, 0x7f);
    assert.deepEqual(parseCertificate(damaged).certificate.sans, ['DNS:ctl\\u000atest', 'email:a\\u007fctl.test']);
  });

  test('a subjectAltName that does not decode gives no names, and the certificate is still read', () => {
    const cert = makeCert(dir, { cn: 'broken.test', sans: ['DNS:broken.test'] });
    // GeneralName tag [2] (dNSName) made [9], which GeneralName does not have.
    const damaged = withByte(cert.der, '\x82\x0bbroken.test', 0, 0x89);
    assert.equal(new X509Certificate(damaged).subjectAltName, undefined);
    const parsed = parseCertificate(damaged);
    assert.deepEqual(parsed.certificate.sans, []);
    assert.equal(parsed.commonName, 'broken.test');
  });
});
