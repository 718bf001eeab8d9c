import { createHash } from 'node:crypto';
import type { CertificateInfo } from '../inventory/types.ts';
import { children, decodeOid, DerError, expectTag, readElement, TAG, type DerElement } from './der.ts';

// The facts the certificate rules read beyond what node:crypto exposes: the version, the key
// identifiers that tie a certificate to its issuer, where revocation status is published, the
// extended key usages and a fingerprint of the public key. All are read from the DER, so each
// is exactly what the certificate holds.

/**
 * What one certificate says about its place in a PKI (each field is documented on CertificateInfo);
 * a field is absent when its extension does not decode.
 */
export type CertificateExtensions = Required<Pick<CertificateInfo, 'publicKeySha256'>> &
  Pick<CertificateInfo, 'version' | 'subjectKeyId' | 'authorityKeyId' | 'crlDistributionPoints' | 'ocspUrls' | 'caIssuersUrls' | 'noRevocationAvailable' | 'extendedKeyUsage'>;

const OCTET_STRING = 0x04;
const BOOLEAN = 0x01;

// Extension ids as DER bytes: compared without decoding.
const EXTENSION = {
  subjectKeyId: '551d0e',
  authorityKeyId: '551d23',
  crlDistributionPoints: '551d1f',
  extendedKeyUsage: '551d25',
  noRevocationAvailable: '551d38',
  authorityInfoAccess: '2b06010505070101',
} as const;

const OCSP = '1.3.6.1.5.5.7.48.1';
const CA_ISSUERS = '1.3.6.1.5.5.7.48.2';
/** GeneralName uniformResourceIdentifier [6] IMPLICIT IA5String. */
const URI = TAG.context(6, false);

/**
 * The extension facts of a DER certificate whose outer structure has already been checked.
 * An extension that does not decode leaves its fields out (unknown) rather than losing the
 * certificate, as relying parties tolerate what they do not need; throws DerError only when the
 * tbsCertificate itself does not decode.
 */
export function certificateExtensions(der: Uint8Array): CertificateExtensions {
  const [tbs] = children(readElement(der));
  const fields = children(expectTag(tbs, TAG.SEQUENCE, 'tbsCertificate'));
  const versioned = fields[0]?.tag === TAG.context(0);
  const spki = fields[versioned ? 6 : 5];
  const facts: CertificateExtensions = {
    version: versioned ? versionOf(fields[0]!) : 1,
    publicKeySha256: createHash('sha256').update(expectTag(spki, TAG.SEQUENCE, 'subjectPublicKeyInfo').raw).digest('hex'),
  };
  const extensions = extensionsOf(fields);
  if (!extensions) {
    // Nothing there is nothing published: no key identifiers, no revocation pointers, any purpose.
    return withoutUnknown({ ...facts, subjectKeyId: null, authorityKeyId: null, crlDistributionPoints: [], ocspUrls: [], caIssuersUrls: [], noRevocationAvailable: false, extendedKeyUsage: null });
  }
  const read = <T>(id: string, decode: (value: Uint8Array) => T, absent: T): T | undefined => {
    const value = extensions.get(id);
    if (value === undefined) return absent;
    try {
      return decode(value);
    } catch (error) {
      if (error instanceof DerError) return undefined;
      throw error;
    }
  };
  const access = read(EXTENSION.authorityInfoAccess, accessUrls, { ocsp: [], caIssuers: [] });
  return withoutUnknown({
    ...facts,
    subjectKeyId: read(EXTENSION.subjectKeyId, (value) => hex(expectTag(readElement(value), OCTET_STRING, 'subjectKeyIdentifier').value), null),
    authorityKeyId: read(EXTENSION.authorityKeyId, authorityKeyId, null),
    crlDistributionPoints: read(EXTENSION.crlDistributionPoints, distributionPointUris, []),
    ocspUrls: access?.ocsp,
    caIssuersUrls: access?.caIssuers,
    noRevocationAvailable: extensions.has(EXTENSION.noRevocationAvailable),
    extendedKeyUsage: read(EXTENSION.extendedKeyUsage, extendedKeyUsage, null),
  });
}

// Version ::= INTEGER { v1(0), v2(1), v3(2) }, under [0] EXPLICIT. OpenSSL reads other values
// too; they are left unknown here rather than losing the certificate.
function versionOf(wrapper: DerElement): number | undefined {
  const integer = children(wrapper)[0];
  if (integer?.tag !== TAG.INTEGER || integer.value.length !== 1 || integer.value[0]! > 2) return undefined;
  return integer.value[0]! + 1;
}

// Extensions ::= SEQUENCE OF Extension; Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }
function extensionsOf(fields: DerElement[]): Map<string, Uint8Array> | null {
  const wrapper = fields.find((field) => field.tag === TAG.context(3));
  if (!wrapper) return null;
  const found = new Map<string, Uint8Array>();
  for (const extension of children(expectTag(children(wrapper)[0], TAG.SEQUENCE, 'extensions'))) {
    const [id, second, third] = children(expectTag(extension, TAG.SEQUENCE, 'extension'));
    const value = second?.tag === BOOLEAN ? third : second;
    const key = hex(expectTag(id, TAG.OID, 'extension id').value);
    // The first of a repeated id wins, as for the subjectAltName reading.
    if (!found.has(key)) found.set(key, expectTag(value, OCTET_STRING, 'extension value').value);
  }
  return found;
}

// AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] IMPLICIT OCTET STRING OPTIONAL, ... }
function authorityKeyId(value: Uint8Array): string | null {
  const keyIdentifier = children(expectTag(readElement(value), TAG.SEQUENCE, 'authorityKeyIdentifier')).find((field) => field.tag === TAG.context(0, false));
  return keyIdentifier ? hex(keyIdentifier.value) : null;
}

// CRLDistributionPoints ::= SEQUENCE OF DistributionPoint
// DistributionPoint ::= SEQUENCE { distributionPoint [0] DistributionPointName OPTIONAL, reasons [1], cRLIssuer [2] }
// DistributionPointName ::= CHOICE { fullName [0] IMPLICIT GeneralNames, nameRelativeToCRLIssuer [1] }
function distributionPointUris(value: Uint8Array): string[] {
  const uris: string[] = [];
  for (const point of children(expectTag(readElement(value), TAG.SEQUENCE, 'cRLDistributionPoints'))) {
    const name = children(expectTag(point, TAG.SEQUENCE, 'DistributionPoint')).find((field) => field.tag === TAG.context(0));
    const fullName = name ? children(name).find((field) => field.tag === TAG.context(0)) : undefined;
    if (fullName) uris.push(...urisOf(children(fullName)));
  }
  return uris;
}

// AuthorityInfoAccessSyntax ::= SEQUENCE OF AccessDescription { accessMethod OID, accessLocation GeneralName }
function accessUrls(value: Uint8Array): { ocsp: string[]; caIssuers: string[] } {
  const urls = { ocsp: [] as string[], caIssuers: [] as string[] };
  for (const description of children(expectTag(readElement(value), TAG.SEQUENCE, 'authorityInfoAccess'))) {
    const [method, location] = children(expectTag(description, TAG.SEQUENCE, 'AccessDescription'));
    const oid = decodeOid(expectTag(method, TAG.OID, 'accessMethod').value);
    const uris = location ? urisOf([location]) : [];
    if (oid === OCSP) urls.ocsp.push(...uris);
    else if (oid === CA_ISSUERS) urls.caIssuers.push(...uris);
  }
  return urls;
}

// ExtKeyUsageSyntax ::= SEQUENCE SIZE (1..MAX) OF KeyPurposeId (OID)
function extendedKeyUsage(value: Uint8Array): string[] {
  return children(expectTag(readElement(value), TAG.SEQUENCE, 'extKeyUsage')).map((purpose) => decodeOid(expectTag(purpose, TAG.OID, 'KeyPurposeId').value));
}

/** Printable ASCII only: a URI is reported, never a control character that could break a report line. */
function urisOf(names: DerElement[]): string[] {
  return names.filter((name) => name.tag === URI).map((name) => [...name.value].map((byte) => (byte >= 0x20 && byte < 0x7f ? String.fromCharCode(byte) : '?')).join(''));
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

function withoutUnknown(facts: CertificateExtensions): CertificateExtensions {
  return Object.fromEntries(Object.entries(facts).filter(([, value]) => value !== undefined)) as unknown as CertificateExtensions;
}
