import { ecKey, rsaKey, unknownAlgorithm, type CanonicalKey } from '../../inventory/algorithms.ts';
import { decodeOid } from '../x509/der.ts';
import type { Purpose } from '../../inventory/types.ts';

// PKCS#11 constants (PKCS#11 v2.40 / v3.0 headers) used to read objects; values, not names, are
// what C_GetAttributeValue returns.
export const CKO = { CERTIFICATE: 1, PUBLIC_KEY: 2, PRIVATE_KEY: 3, SECRET_KEY: 4 } as const;
export const CKA = {
  CLASS: 0x0000,
  TOKEN: 0x0001,
  PRIVATE: 0x0002,
  LABEL: 0x0003,
  VALUE: 0x0011,
  CERTIFICATE_TYPE: 0x0080,
  KEY_TYPE: 0x0100,
  ID: 0x0102,
  SENSITIVE: 0x0103,
  ENCRYPT: 0x0104,
  DECRYPT: 0x0105,
  WRAP: 0x0106,
  UNWRAP: 0x0107,
  SIGN: 0x0108,
  VERIFY: 0x010a,
  DERIVE: 0x010c,
  START_DATE: 0x0110,
  END_DATE: 0x0111,
  MODULUS: 0x0120,
  MODULUS_BITS: 0x0121,
  VALUE_LEN: 0x0161,
  EXTRACTABLE: 0x0162,
  LOCAL: 0x0163,
  NEVER_EXTRACTABLE: 0x0164,
  ALWAYS_SENSITIVE: 0x0165,
  EC_PARAMS: 0x0180,
} as const;

export const CKK = {
  RSA: 0x00,
  DSA: 0x01,
  DH: 0x02,
  EC: 0x03,
  GENERIC_SECRET: 0x10,
  RC4: 0x12,
  DES: 0x13,
  DES2: 0x14,
  DES3: 0x15,
  AES: 0x1f,
  CHACHA20: 0x33,
  EC_EDWARDS: 0x40,
  SHA_1_HMAC: 0x28,
  SHA256_HMAC: 0x2b,
  SHA384_HMAC: 0x2c,
  SHA512_HMAC: 0x2d,
} as const;

// Return values that mean "this attribute is not available for this object", not a failure.
export const CKR = {
  GENERAL_ERROR: 0x05,
  ATTRIBUTE_SENSITIVE: 0x11,
  ATTRIBUTE_TYPE_INVALID: 0x12,
  DEVICE_REMOVED: 0x32,
  PIN_INCORRECT: 0xa0,
  PIN_LOCKED: 0xa4,
  SESSION_HANDLE_INVALID: 0xb3,
  TOKEN_NOT_PRESENT: 0xe0,
  USER_NOT_LOGGED_IN: 0x101,
  CRYPTOKI_ALREADY_INITIALIZED: 0x191,
} as const;

const CURVE_OIDS: Record<string, string> = {
  '1.2.840.10045.3.1.7': 'P-256',
  '1.3.132.0.34': 'P-384',
  '1.3.132.0.35': 'P-521',
  '1.3.132.0.10': 'secp256k1',
  '1.3.132.0.33': 'P-224',
  '1.3.36.3.3.2.8.1.1.7': 'brainpoolP256r1',
  '1.3.36.3.3.2.8.1.1.11': 'brainpoolP384r1',
  '1.3.101.112': 'Ed25519',
};

/** CKA_EC_PARAMS: a DER OID (namedCurve) or, on some tokens, a PrintableString curve name. */
export function curveOf(params: Buffer | null): string | null {
  if (!params || params.length < 2) return null;
  if (params[0] === 0x06) {
    try {
      const oid = decodeOid(params.subarray(2, 2 + params[1]!));
      return CURVE_OIDS[oid] ?? `OID ${oid}`;
    } catch {
      return null;
    }
  }
  if (params[0] === 0x13) return params.subarray(2, 2 + params[1]!).toString('latin1');
  return null;
}

export interface KeyFacts {
  keyType: number | null;
  valueLen: number | null;
  modulus: Buffer | null;
  modulusBits: number | null;
  ecParams: Buffer | null;
}

export function pkcs11Algorithm(facts: KeyFacts): CanonicalKey {
  switch (facts.keyType) {
    case CKK.AES:
      return facts.valueLen ? { algorithm: `AES-${facts.valueLen * 8}`, keyType: 'symmetric', keySize: facts.valueLen * 8, curve: null } : { algorithm: 'AES', keyType: 'symmetric', keySize: null, curve: null };
    case CKK.DES3:
      return { algorithm: '3DES', keyType: 'symmetric', keySize: 168, curve: null };
    case CKK.DES2:
      return { algorithm: '3DES', keyType: 'symmetric', keySize: 112, curve: null };
    case CKK.DES:
      return { algorithm: 'DES', keyType: 'symmetric', keySize: 56, curve: null };
    case CKK.RC4:
      return { algorithm: 'RC4', keyType: 'symmetric', keySize: facts.valueLen ? facts.valueLen * 8 : null, curve: null };
    case CKK.CHACHA20:
      return { algorithm: 'ChaCha20', keyType: 'symmetric', keySize: 256, curve: null };
    case CKK.GENERIC_SECRET:
    case CKK.SHA256_HMAC:
      return { algorithm: 'HMAC-SHA256', keyType: 'hmac', keySize: facts.valueLen ? facts.valueLen * 8 : null, curve: null };
    case CKK.SHA_1_HMAC:
      return { algorithm: 'HMAC-SHA1', keyType: 'hmac', keySize: facts.valueLen ? facts.valueLen * 8 : null, curve: null };
    case CKK.SHA384_HMAC:
      return { algorithm: 'HMAC-SHA384', keyType: 'hmac', keySize: facts.valueLen ? facts.valueLen * 8 : null, curve: null };
    case CKK.SHA512_HMAC:
      return { algorithm: 'HMAC-SHA512', keyType: 'hmac', keySize: facts.valueLen ? facts.valueLen * 8 : null, curve: null };
    case CKK.RSA: {
      const bits = facts.modulusBits ?? (facts.modulus ? bitLength(facts.modulus) : null);
      return bits ? rsaKey(bits) : unknownAlgorithm('CKK_RSA');
    }
    case CKK.EC: {
      const curve = curveOf(facts.ecParams);
      return curve ? ecKey(curve) : unknownAlgorithm('CKK_EC');
    }
    case CKK.EC_EDWARDS:
      return { algorithm: 'Ed25519', keyType: 'ec', keySize: 256, curve: 'Ed25519' };
    default:
      return unknownAlgorithm(facts.keyType === null ? 'CKK_UNKNOWN' : `CKK_0x${facts.keyType.toString(16)}`);
  }
}

function bitLength(modulus: Buffer): number {
  let start = 0;
  while (start < modulus.length && modulus[start] === 0) start++;
  if (start === modulus.length) return 0;
  return (modulus.length - start - 1) * 8 + (32 - Math.clz32(modulus[start]!));
}

/** CK_DATE: 8 ASCII digits YYYYMMDD; blank or zero means "not set" (unknown, not an error). */
export function ckDate(value: Buffer | null): string | null {
  if (!value || value.length !== 8) return null;
  const text = value.toString('latin1');
  if (!/^\d{8}$/.test(text) || text === '00000000') return null;
  const iso = `${text.slice(0, 4)}-${text.slice(4, 6)}-${text.slice(6, 8)}T00:00:00Z`;
  return Number.isNaN(Date.parse(iso)) ? null : iso;
}

export function purposeOf(flags: Record<'encrypt' | 'decrypt' | 'wrap' | 'unwrap' | 'sign' | 'verify' | 'derive', boolean | null>): Purpose {
  if (flags.sign || flags.verify) return 'sign';
  if (flags.wrap || flags.unwrap) return 'wrap';
  if (flags.encrypt || flags.decrypt) return 'encrypt';
  if (flags.derive) return 'agree';
  return 'unknown';
}

/** A printable CKA_ID for uids: hex. */
export function hexId(id: Buffer | null): string {
  return id && id.length > 0 ? id.toString('hex') : '';
}
