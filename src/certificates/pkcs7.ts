import { children, decodeOid, expectTag, readElement, DerError, TAG } from './der.ts';

const SIGNED_DATA = '1.2.840.113549.1.7.2';

/**
 * The DER certificates inside a PKCS#7 / CMS SignedData bundle (.p7b, .p7c).
 * ContentInfo ::= SEQUENCE { contentType OID, content [0] EXPLICIT SignedData }
 * SignedData ::= SEQUENCE { version, digestAlgorithms SET, encapContentInfo,
 *                           certificates [0] IMPLICIT SET OF Certificate OPTIONAL, ... }
 */
export function certificatesFromPkcs7(der: Uint8Array): Uint8Array[] {
  const contentInfo = expectTag(readElement(der), TAG.SEQUENCE, 'PKCS#7 ContentInfo');
  const [type, explicit] = children(contentInfo);
  const oid = decodeOid(expectTag(type, TAG.OID, 'PKCS#7 content type').value);
  if (oid !== SIGNED_DATA) throw new DerError(`PKCS#7 content type ${oid} is not SignedData`);
  const signedData = expectTag(children(expectTag(explicit, TAG.context(0), 'PKCS#7 content'))[0], TAG.SEQUENCE, 'SignedData');
  const certificates = children(signedData).find((element) => element.tag === TAG.context(0));
  if (!certificates) return [];
  return children(certificates)
    .filter((element) => element.tag === TAG.SEQUENCE)
    .map((element) => element.raw);
}

/** True when the bytes start like a PKCS#7 ContentInfo rather than a bare certificate. */
export function looksLikePkcs7(der: Uint8Array): boolean {
  try {
    const [type] = children(readElement(der));
    return type?.tag === TAG.OID && decodeOid(type.value) === SIGNED_DATA;
  } catch {
    return false;
  }
}
