import type { KeyType } from './types.ts';

// Canonical algorithm names (CONTRACT section 3). Every collector maps its provider's spelling
// here, so a policy says "RSA-2048" once instead of learning five vocabularies.

export interface CanonicalKey {
  algorithm: string;
  keyType: KeyType | null;
  keySize: number | null;
  curve: string | null;
}

const CURVES: Record<string, { curve: string; bits: number }> = {
  prime256v1: { curve: 'P-256', bits: 256 },
  'p-256': { curve: 'P-256', bits: 256 },
  secp256r1: { curve: 'P-256', bits: 256 },
  secp384r1: { curve: 'P-384', bits: 384 },
  'p-384': { curve: 'P-384', bits: 384 },
  secp521r1: { curve: 'P-521', bits: 521 },
  'p-521': { curve: 'P-521', bits: 521 },
  secp256k1: { curve: 'secp256k1', bits: 256 },
  secp224r1: { curve: 'P-224', bits: 224 },
  prime192v1: { curve: 'P-192', bits: 192 },
  brainpoolp256r1: { curve: 'brainpoolP256r1', bits: 256 },
  brainpoolp384r1: { curve: 'brainpoolP384r1', bits: 384 },
  brainpoolp512r1: { curve: 'brainpoolP512r1', bits: 512 },
};

export function unknownAlgorithm(raw: string): CanonicalKey {
  return { algorithm: `UNKNOWN:${raw}`, keyType: 'other', keySize: null, curve: null };
}

export function rsaKey(bits: number): CanonicalKey {
  return { algorithm: `RSA-${bits}`, keyType: 'rsa', keySize: bits, curve: null };
}

/** An EC key from any common curve spelling (OpenSSL, JOSE, SEC). */
export function ecKey(curveName: string): CanonicalKey {
  const known = CURVES[curveName.toLowerCase()];
  if (!known) return { algorithm: `UNKNOWN:EC-${curveName}`, keyType: 'ec', keySize: null, curve: curveName };
  const label = known.curve.startsWith('P-') ? known.curve.replace('-', '') : known.curve;
  return { algorithm: `EC-${label}`, keyType: 'ec', keySize: known.bits, curve: known.curve };
}

/** Public keys as node:crypto describes them (KeyObject.asymmetricKeyType and details). */
export function canonicalPublicKey(
  type: string | undefined,
  details: { modulusLength?: number; namedCurve?: string } | undefined,
): CanonicalKey {
  switch (type) {
    case 'rsa':
    case 'rsa-pss':
      return details?.modulusLength ? rsaKey(details.modulusLength) : unknownAlgorithm(type);
    case 'dsa':
      return {
        algorithm: `DSA-${details?.modulusLength ?? 'UNKNOWN'}`,
        keyType: 'other',
        keySize: details?.modulusLength ?? null,
        curve: null,
      };
    case 'ec':
      return details?.namedCurve ? ecKey(details.namedCurve) : unknownAlgorithm('ec');
    case 'ed25519':
      return { algorithm: 'Ed25519', keyType: 'ec', keySize: 256, curve: 'Ed25519' };
    case 'ed448':
      return { algorithm: 'Ed448', keyType: 'ec', keySize: 456, curve: 'Ed448' };
    case 'x25519':
      return { algorithm: 'X25519', keyType: 'ec', keySize: 256, curve: 'X25519' };
    case 'x448':
      return { algorithm: 'X448', keyType: 'ec', keySize: 448, curve: 'X448' };
    case 'ml-dsa-44':
    case 'ml-dsa-65':
    case 'ml-dsa-87':
    case 'ml-kem-512':
    case 'ml-kem-768':
    case 'ml-kem-1024':
      return { algorithm: type.toUpperCase(), keyType: 'pqc', keySize: null, curve: null };
    default:
      return unknownAlgorithm(type ?? 'none');
  }
}

// Signature algorithms by OID, written "<scheme>-<hash>" so a policy can judge the hash alone.
const SIGNATURE_OIDS: Record<string, string> = {
  '1.2.840.113549.1.1.2': 'RSA-MD2',
  '1.2.840.113549.1.1.4': 'RSA-MD5',
  '1.2.840.113549.1.1.5': 'RSA-SHA1',
  '1.3.14.3.2.29': 'RSA-SHA1',
  '1.2.840.113549.1.1.14': 'RSA-SHA224',
  '1.2.840.113549.1.1.11': 'RSA-SHA256',
  '1.2.840.113549.1.1.12': 'RSA-SHA384',
  '1.2.840.113549.1.1.13': 'RSA-SHA512',
  '1.2.840.10045.4.1': 'ECDSA-SHA1',
  '1.2.840.10045.4.3.1': 'ECDSA-SHA224',
  '1.2.840.10045.4.3.2': 'ECDSA-SHA256',
  '1.2.840.10045.4.3.3': 'ECDSA-SHA384',
  '1.2.840.10045.4.3.4': 'ECDSA-SHA512',
  '1.2.840.10040.4.3': 'DSA-SHA1',
  '2.16.840.1.101.3.4.3.1': 'DSA-SHA224',
  '2.16.840.1.101.3.4.3.2': 'DSA-SHA256',
  '1.3.101.112': 'Ed25519',
  '1.3.101.113': 'Ed448',
  '2.16.840.1.101.3.4.3.17': 'ML-DSA-44',
  '2.16.840.1.101.3.4.3.18': 'ML-DSA-65',
  '2.16.840.1.101.3.4.3.19': 'ML-DSA-87',
};

export const RSA_PSS_OID = '1.2.840.113549.1.1.10';

const HASH_OIDS: Record<string, string> = {
  '1.3.14.3.2.26': 'SHA1',
  '2.16.840.1.101.3.4.2.4': 'SHA224',
  '2.16.840.1.101.3.4.2.1': 'SHA256',
  '2.16.840.1.101.3.4.2.2': 'SHA384',
  '2.16.840.1.101.3.4.2.3': 'SHA512',
  '1.2.840.113549.2.5': 'MD5',
};

/** `pssHashOid` is the RSASSA-PSS hashAlgorithm; RFC 4055 makes SHA-1 the default when absent. */
export function canonicalSignatureAlgorithm(oid: string, pssHashOid?: string | null): string {
  if (oid === RSA_PSS_OID) {
    const hash = pssHashOid ? (HASH_OIDS[pssHashOid] ?? `UNKNOWN:${pssHashOid}`) : 'SHA1';
    return `RSA-PSS-${hash}`;
  }
  return SIGNATURE_OIDS[oid] ?? `UNKNOWN:${oid}`;
}
