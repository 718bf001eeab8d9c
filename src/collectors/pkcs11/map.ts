import { ecKey, rsaKey, unknownAlgorithm, type CanonicalKey } from '../../inventory/algorithms.ts';
import { decodeOid } from '../../certificates/der.ts';
import { baseItem, type InventoryItem, type KeyUsage, type Purpose } from '../../inventory/types.ts';
import type * as pkcs11js from 'pkcs11js';

// Pure mapping from what C_GetAttributeValue returns to the normalized item; the collector only
// opens sessions, lists objects and reads the attributes named here.

/**
 * The pkcs11js module object. It is a native addon that the collector loads on first use (never at
 * startup: the bundled Action and machines without the addon must still run), so the CK* constants
 * are read from the loaded object at run time, and only its types are imported here.
 */
export type Pkcs11js = typeof pkcs11js;

// PKCS#11 v3.0 key types, absent from pkcs11js (a v2.40 binding).
const CKK_CHACHA20 = 0x33;
const CKK_EC_EDWARDS = 0x40;

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

export function pkcs11Algorithm(facts: KeyFacts, ck: Pkcs11js): CanonicalKey {
  switch (facts.keyType) {
    case ck.CKK_AES:
      return facts.valueLen ? { algorithm: `AES-${facts.valueLen * 8}`, keyType: 'symmetric', keySize: facts.valueLen * 8, curve: null } : { algorithm: 'AES', keyType: 'symmetric', keySize: null, curve: null };
    case ck.CKK_DES3:
      return { algorithm: '3DES', keyType: 'symmetric', keySize: 168, curve: null };
    case ck.CKK_DES2:
      return { algorithm: '3DES', keyType: 'symmetric', keySize: 112, curve: null };
    case ck.CKK_DES:
      return { algorithm: 'DES', keyType: 'symmetric', keySize: 56, curve: null };
    case ck.CKK_RC4:
      return { algorithm: 'RC4', keyType: 'symmetric', keySize: facts.valueLen ? facts.valueLen * 8 : null, curve: null };
    case CKK_CHACHA20:
      return { algorithm: 'ChaCha20', keyType: 'symmetric', keySize: 256, curve: null };
    case ck.CKK_GENERIC_SECRET:
    case ck.CKK_SHA256_HMAC:
      return { algorithm: 'HMAC-SHA256', keyType: 'hmac', keySize: facts.valueLen ? facts.valueLen * 8 : null, curve: null };
    case ck.CKK_SHA_1_HMAC:
      return { algorithm: 'HMAC-SHA1', keyType: 'hmac', keySize: facts.valueLen ? facts.valueLen * 8 : null, curve: null };
    case ck.CKK_SHA384_HMAC:
      return { algorithm: 'HMAC-SHA384', keyType: 'hmac', keySize: facts.valueLen ? facts.valueLen * 8 : null, curve: null };
    case ck.CKK_SHA512_HMAC:
      return { algorithm: 'HMAC-SHA512', keyType: 'hmac', keySize: facts.valueLen ? facts.valueLen * 8 : null, curve: null };
    case ck.CKK_RSA: {
      const bits = facts.modulusBits ?? (facts.modulus ? bitLength(facts.modulus) : null);
      return bits ? rsaKey(bits) : unknownAlgorithm('CKK_RSA');
    }
    case ck.CKK_EC: {
      const curve = curveOf(facts.ecParams);
      return curve ? ecKey(curve) : unknownAlgorithm('CKK_EC');
    }
    case CKK_EC_EDWARDS:
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

/**
 * The operations the object permits (attributes read as true), for KD-ACC-005. A flag the token did
 * not return may be true too, so the list is a lower bound; null when no flag could be read.
 */
export function usagesOf(flags: Record<KeyUsage, boolean | null>): KeyUsage[] | null {
  const entries = Object.entries(flags) as [KeyUsage, boolean | null][];
  if (entries.every(([, on]) => on === null)) return null;
  return entries.filter(([, on]) => on === true).map(([usage]) => usage);
}

/**
 * Whether the object may still apply protection: true when any of CKA_ENCRYPT, CKA_WRAP, CKA_SIGN
 * (MAC generation too) or CKA_DERIVE is true, false only when all four were read as false (the key
 * can only decrypt, unwrap or verify), else unknown.
 */
export function appliesProtection(flags: Record<KeyUsage, boolean | null>): boolean | null {
  const applying = [flags.encrypt, flags.wrap, flags.sign, flags.derive];
  if (applying.includes(true)) return true;
  return applying.every((flag) => flag === false) ? false : null;
}

/** A printable CKA_ID for uids: hex. */
export function hexId(id: Buffer | null): string {
  return id && id.length > 0 ? id.toString('hex') : '';
}

/** A CK_ULONG attribute (little-endian, as wide as the platform's unsigned long). */
export function ulong(value: Buffer | null): number | null {
  if (!value || value.length === 0) return null;
  return value.length >= 8 ? Number(value.readBigUInt64LE(0)) : value.readUIntLE(0, Math.min(value.length, 6));
}

export function bool(value: Buffer | null): boolean | null {
  return value && value.length > 0 ? value[0] !== 0 : null;
}

/** An object as the listing returns it: its handle and the attributes read for every object. */
export interface ListedObject {
  handle: Buffer;
  cls: number | null;
  id: Buffer | null;
  label: string;
}

/** The token an object is on, as C_GetTokenInfo and the slot list describe it. */
export interface TokenIdentity {
  id: string;
  label: string;
  serial: string;
}

export interface ObjectIdentity {
  uid: string;
  location: string;
  evidence: Record<string, unknown>;
}

/** The classes that become items: the CKO_ name (evidence) and the type tag of the uid. */
function classOf(cls: number | null, ck: Pkcs11js): { name: string; tag: string } | null {
  switch (cls) {
    case ck.CKO_CERTIFICATE:
      return { name: 'CKO_CERTIFICATE', tag: 'cert' };
    case ck.CKO_PUBLIC_KEY:
      return { name: 'CKO_PUBLIC_KEY', tag: 'public' };
    case ck.CKO_PRIVATE_KEY:
      return { name: 'CKO_PRIVATE_KEY', tag: 'private' };
    case ck.CKO_SECRET_KEY:
      return { name: 'CKO_SECRET_KEY', tag: 'secret-key' };
    default:
      return null;
  }
}

/**
 * Uid, location and evidence common to every item of an object; null for an object that is not
 * inventoried: another class (data, domain parameters), or a public key whose private half is on
 * the token (the private key's item describes the pair).
 */
export function objectIdentity(object: ListedObject, token: TokenIdentity, privateIds: ReadonlySet<string>, ck: Pkcs11js): ObjectIdentity | null {
  const kind = classOf(object.cls, ck);
  if (!kind) return null;
  const id = hexId(object.id);
  if (object.cls === ck.CKO_PUBLIC_KEY && privateIds.has(id)) return null;
  return {
    uid: `pkcs11:token=${encodeURIComponent(token.label)};serial=${encodeURIComponent(token.serial)};object=${encodeURIComponent(object.label)};id=${id};type=${kind.tag}`,
    location: `token ${token.label} (slot ${token.id})`,
    evidence: { class: kind.name, id, label: object.label, token: token.label, tokenSerial: token.serial, slot: token.id },
  };
}

/**
 * The attributes read from a key object of class `cls`, in reading order (one C_GetAttributeValue
 * each). A private key's CKA_MODULUS gives its size; CKA_MODULUS_BITS exists on public keys only.
 */
export function keyAttributes(cls: number, ck: Pkcs11js): number[] {
  const secretKey = cls === ck.CKO_SECRET_KEY;
  const publicKey = cls === ck.CKO_PUBLIC_KEY;
  return [
    ck.CKA_KEY_TYPE,
    ck.CKA_VALUE_LEN,
    ...(secretKey ? [] : [ck.CKA_MODULUS]),
    ...(publicKey ? [ck.CKA_MODULUS_BITS] : []),
    ...(secretKey ? [] : [ck.CKA_EC_PARAMS]),
    ck.CKA_ENCRYPT,
    ck.CKA_DECRYPT,
    ck.CKA_WRAP,
    ck.CKA_UNWRAP,
    ck.CKA_SIGN,
    ck.CKA_VERIFY,
    ck.CKA_DERIVE,
    ...(publicKey ? [] : [ck.CKA_EXTRACTABLE, ck.CKA_SENSITIVE]),
    ck.CKA_LOCAL,
    ck.CKA_START_DATE,
    ck.CKA_END_DATE,
    ...(publicKey ? [] : [ck.CKA_NEVER_EXTRACTABLE, ck.CKA_ALWAYS_SENSITIVE, ck.CKA_WRAP_WITH_TRUSTED]),
  ];
}

export interface KeyObject {
  identity: ObjectIdentity;
  cls: number;
  name: string;
  sourceId: string;
  /** The values of `keyAttributes(cls)`; null when not set, sensitive or not supported. */
  values: ReadonlyMap<number, Buffer | null>;
  /** Attributes the token failed to read, e.g. "CKA_START_DATE: CKR_GENERAL_ERROR". */
  unreadable: readonly string[];
  /** The dates of the public key with the same CKA_ID, read when a private key's own were unreadable. */
  publicDates: { start: Buffer | null; end: Buffer | null } | null;
}

export function keyItem(key: KeyObject, ck: Pkcs11js): InventoryItem {
  const value = (type: number) => key.values.get(type) ?? null;
  const facts: KeyFacts = {
    keyType: ulong(value(ck.CKA_KEY_TYPE)),
    valueLen: ulong(value(ck.CKA_VALUE_LEN)),
    modulus: value(ck.CKA_MODULUS),
    modulusBits: ulong(value(ck.CKA_MODULUS_BITS)),
    ecParams: value(ck.CKA_EC_PARAMS),
  };
  const flags = {
    encrypt: bool(value(ck.CKA_ENCRYPT)),
    decrypt: bool(value(ck.CKA_DECRYPT)),
    wrap: bool(value(ck.CKA_WRAP)),
    unwrap: bool(value(ck.CKA_UNWRAP)),
    sign: bool(value(ck.CKA_SIGN)),
    verify: bool(value(ck.CKA_VERIFY)),
    derive: bool(value(ck.CKA_DERIVE)),
  };
  const local = bool(value(ck.CKA_LOCAL));
  const startDate = ckDate(value(ck.CKA_START_DATE)) ?? (key.publicDates ? ckDate(key.publicDates.start) : null);
  const endDate = ckDate(value(ck.CKA_END_DATE)) ?? (key.publicDates ? ckDate(key.publicDates.end) : null);
  const algorithm = pkcs11Algorithm(facts, ck);
  return baseItem({
    uid: key.identity.uid,
    kind: 'key',
    provider: 'pkcs11',
    sourceId: key.sourceId,
    name: key.name,
    location: key.identity.location,
    managedBy: 'customer',
    state: 'enabled',
    algorithm: algorithm.algorithm,
    keyType: algorithm.keyType,
    keySize: algorithm.keySize,
    curve: algorithm.curve,
    purpose: purposeOf(flags),
    protection: 'hsm',
    origin: local === null ? null : local ? 'generated' : 'imported',
    createdAt: startDate,
    expiresAt: endDate,
    rotation: null,
    attributes: {
      extractable: bool(value(ck.CKA_EXTRACTABLE)),
      sensitive: bool(value(ck.CKA_SENSITIVE)),
      exportable: null,
      plaintextBackup: null,
      usages: usagesOf(flags),
      appliesProtection: appliesProtection(flags),
      wrapWithTrusted: bool(value(ck.CKA_WRAP_WITH_TRUSTED)),
    },
    evidence: {
      ...key.identity.evidence,
      ...(key.publicDates ? { datesFrom: 'public key with the same CKA_ID' } : {}),
      keyType: facts.keyType,
      rawAlgorithm: facts.keyType === null ? null : `CKK 0x${facts.keyType.toString(16)}`,
      neverExtractable: bool(value(ck.CKA_NEVER_EXTRACTABLE)),
      alwaysSensitive: bool(value(ck.CKA_ALWAYS_SENSITIVE)),
      local,
      usage: Object.entries(flags).filter(([, on]) => on).map(([flag]) => flag),
      ...(key.unreadable.length ? { unreadable: [...key.unreadable] } : {}),
    },
  });
}

/** Keys and certificates that share a CKA_ID belong together: the key's evidence names the certificate. */
export function linkCertificates(items: readonly InventoryItem[]): InventoryItem[] {
  const certificateIds = new Map<string, string>();
  for (const item of items) if (item.kind === 'certificate' && item.evidence['id']) certificateIds.set(item.evidence['id'] as string, item.uid);
  return items.map((item) => {
    const linked = item.kind === 'key' && item.evidence['id'] ? certificateIds.get(item.evidence['id'] as string) : undefined;
    return linked ? { ...item, evidence: { ...item.evidence, certificateUid: linked } } : item;
  });
}
