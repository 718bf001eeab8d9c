import { X509Certificate } from 'node:crypto';
import { canonicalPublicKey, canonicalSignatureAlgorithm, RSA_PSS_OID, type CanonicalKey } from '../inventory/algorithms.ts';
import type { CertificateInfo, InventoryItem, Purpose } from '../inventory/types.ts';
import { baseItem } from '../inventory/types.ts';
import { rfc3339 } from '../util/rfc3339.ts';
import { checkNesting, children, decodeOid, DerError, expectTag, readElement, TAG, type DerElement } from './der.ts';
import { certificateExtensions } from './extensions.ts';
import { SUBJECT_ALT_NAME_OID_DER, subjectAltNames } from './subject-alt-names.ts';

/** Everything the inventory needs from one certificate, independent of where it was found. */
export interface ParsedCertificate {
  certificate: CertificateInfo;
  key: CanonicalKey;
  purpose: Purpose;
  signatureAlgorithmOid: string;
  commonName: string | null;
}

/** A certificate that cannot be read, said in our words: node:crypto's own messages mislead (see parseCertificate). */
export class CertificateError extends Error {}

/** True for the errors parseCertificate throws about its input, as opposed to faults of ours. */
export function isCertificateError(error: unknown): error is Error {
  return error instanceof CertificateError || error instanceof DerError;
}

/**
 * Reads one DER certificate (bytes after it are ignored: callers that care compare lengths).
 * Throws CertificateError or DerError saying what is wrong with it.
 */
export function parseCertificate(der: Uint8Array): ParsedCertificate {
  const element = certificateStructure(der);
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(element.raw);
  } catch {
    // node:crypto retries failed DER as PEM, so its message is always "PEM routines::no start line".
    throw new CertificateError('not a valid X.509 certificate: its fields do not decode');
  }
  try {
    return fieldsOf(cert, element.raw);
  } catch (error) {
    if (isCertificateError(error) || !isOpenSslError(error)) throw error;
    throw new CertificateError('not a valid X.509 certificate: its fields do not decode');
  }
}

function fieldsOf(cert: X509Certificate, der: Uint8Array): ParsedCertificate {
  const { oid, pssHashOid } = signatureAlgorithmOf(der);
  const key = publicKeyOf(cert);
  const fingerprintSha256 = cert.fingerprint256.replaceAll(':', '').toLowerCase();
  const selfSigned = cert.subject === cert.issuer && safeVerify(cert);
  const commonName = commonNameOf(cert.subject);
  return {
    certificate: {
      subject: oneLine(cert.subject),
      issuer: oneLine(cert.issuer),
      serialNumber: cert.serialNumber.toLowerCase(),
      notBefore: certificateDate(cert.validFrom),
      notAfter: certificateDate(cert.validTo),
      signatureAlgorithm: canonicalSignatureAlgorithm(oid, pssHashOid),
      fingerprintSha256,
      selfSigned,
      isCA: cert.ca,
      sans: sansOf(der),
      commonName,
      ...certificateExtensions(der),
    },
    key,
    purpose: purposeOf(cert),
    signatureAlgorithmOid: oid,
    commonName,
  };
}

/** Builds the inventory item for a parsed certificate; callers supply uid, source and location. */
export function certificateItem(
  parsed: ParsedCertificate,
  fields: Pick<InventoryItem, 'uid' | 'provider' | 'sourceId' | 'location'> & { evidence: Record<string, unknown> },
): InventoryItem {
  const { certificate, key } = parsed;
  return baseItem({
    ...fields,
    kind: 'certificate',
    name: parsed.commonName ?? certificate.sans[0] ?? certificate.subject,
    algorithm: key.algorithm,
    keyType: key.keyType,
    keySize: key.keySize,
    curve: key.curve,
    purpose: parsed.purpose,
    createdAt: certificate.notBefore,
    expiresAt: certificate.notAfter,
    certificate,
    evidence: {
      ...fields.evidence,
      signatureAlgorithmOid: parsed.signatureAlgorithmOid,
    },
  });
}

const BIT_STRING = 0x03;

// Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue BIT STRING }
// TBSCertificate ::= SEQUENCE { [0] version OPTIONAL, serialNumber, signature, issuer, validity, subject,
//                               subjectPublicKeyInfo, ... }
// Checked here so a damaged certificate is described by what is damaged.
function certificateStructure(der: Uint8Array): DerElement {
  const certificate = expectTag(readElement(der), TAG.SEQUENCE, 'a certificate');
  checkNesting(certificate);
  const [tbs, algorithm, signature, ...rest] = children(certificate);
  const fields = children(expectTag(tbs, TAG.SEQUENCE, 'tbsCertificate'));
  expectTag(algorithm, TAG.SEQUENCE, 'signatureAlgorithm');
  expectTag(signature, BIT_STRING, 'signatureValue');
  if (rest.length > 0) throw new CertificateError('unexpected fields after the signature');
  let index = fields[0]?.tag === TAG.context(0) ? 1 : 0;
  for (const [tag, name] of TBS_FIELDS) expectTag(fields[index++], tag, `tbsCertificate.${name}`);
  return certificate;
}

const TBS_FIELDS: readonly (readonly [number, string])[] = [
  [TAG.INTEGER, 'serialNumber'],
  [TAG.SEQUENCE, 'signature'],
  [TAG.SEQUENCE, 'issuer'],
  [TAG.SEQUENCE, 'validity'],
  [TAG.SEQUENCE, 'subject'],
  [TAG.SEQUENCE, 'subjectPublicKeyInfo'],
];

function isOpenSslError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('ERR_OSSL');
}

function publicKeyOf(cert: X509Certificate): CanonicalKey {
  try {
    const publicKey = cert.publicKey;
    return canonicalPublicKey(publicKey.asymmetricKeyType, publicKey.asymmetricKeyDetails);
  } catch {
    // OpenSSL cannot load some keys (unknown curves, new PQC OIDs): keep the certificate, mark the key unknown.
    return canonicalPublicKey(undefined, undefined);
  }
}

function safeVerify(cert: X509Certificate): boolean {
  try {
    return cert.verify(cert.publicKey);
  } catch {
    return false;
  }
}

// Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm AlgorithmIdentifier, signatureValue }
function signatureAlgorithmOf(der: Uint8Array): { oid: string; pssHashOid: string | null } {
  const [, algorithm] = children(expectTag(readElement(der), TAG.SEQUENCE, 'Certificate'));
  const [oidElement, params] = children(expectTag(algorithm, TAG.SEQUENCE, 'AlgorithmIdentifier'));
  const oid = decodeOid(expectTag(oidElement, TAG.OID, 'signature algorithm OID').value);
  let pssHashOid: string | null = null;
  if (oid === RSA_PSS_OID && params?.tag === TAG.SEQUENCE) {
    // RSASSA-PSS-params ::= SEQUENCE { hashAlgorithm [0] AlgorithmIdentifier DEFAULT sha1, ... }
    const hash = children(params).find((element) => element.tag === TAG.context(0));
    const hashAlgorithm = hash ? children(hash)[0] : undefined;
    const hashOid = hashAlgorithm ? children(hashAlgorithm)[0] : undefined;
    if (hashOid?.tag === TAG.OID) pssHashOid = decodeOid(hashOid.value);
  }
  return { oid, pssHashOid };
}

const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

function purposeOf(cert: X509Certificate): Purpose {
  if (cert.ca) return 'sign';
  const usages = cert.keyUsage ?? [];
  if (usages.length === 0 || usages.includes(SERVER_AUTH) || usages.includes(CLIENT_AUTH)) return 'tls';
  return 'sign';
}

/**
 * Extensions that do not decode give no names, as node gives none when OpenSSL cannot decode the
 * subjectAltName (TLS clients then fall back to the CN): damage there does not lose the certificate.
 */
function sansOf(der: Uint8Array): string[] {
  try {
    const value = extensionValue(der, SUBJECT_ALT_NAME_OID_DER);
    return value ? subjectAltNames(value) : [];
  } catch (error) {
    if (error instanceof DerError) return [];
    throw error;
  }
}

const OCTET_STRING = 0x04;

// TBSCertificate ::= SEQUENCE { ..., subjectPublicKeyInfo, issuerUniqueID [1] IMPLICIT OPTIONAL,
//                               subjectUniqueID [2] IMPLICIT OPTIONAL, extensions [3] EXPLICIT OPTIONAL }
// Extensions ::= SEQUENCE OF Extension
// Extension ::= SEQUENCE { extnID OID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }
/** The value of the first extension with this id, as node reads it; null when there is none. */
function extensionValue(der: Uint8Array, oidDer: Uint8Array): Uint8Array | null {
  const [tbs] = children(readElement(der));
  const wrapper = children(expectTag(tbs, TAG.SEQUENCE, 'tbsCertificate')).find((field) => field.tag === TAG.context(3));
  if (!wrapper) return null;
  for (const extension of children(expectTag(children(wrapper)[0], TAG.SEQUENCE, 'extensions'))) {
    const fields = children(expectTag(extension, TAG.SEQUENCE, 'extension'));
    if (!Buffer.from(expectTag(fields[0], TAG.OID, 'extension id').value).equals(oidDer)) continue;
    return expectTag(fields.at(-1), OCTET_STRING, 'extension value').value;
  }
  return null;
}

function commonNameOf(subject: string): string | null {
  const line = subject.split('\n').find((part) => part.startsWith('CN='));
  return line ? line.slice(3) : null;
}

function oneLine(distinguishedName: string): string {
  return distinguishedName.split('\n').filter(Boolean).join(', ');
}

/** node:crypto prints "Jan  1 00:00:00 2030 GMT"; the inventory wants RFC 3339 UTC. */
export function certificateDate(openSslDate: string): string {
  const date = new Date(openSslDate);
  if (Number.isNaN(date.getTime())) throw new CertificateError(`unreadable certificate date "${openSslDate}"`);
  return rfc3339(date);
}
