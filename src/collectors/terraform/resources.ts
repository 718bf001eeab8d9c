// Declared resources -> inventory items, through the live collectors' own mappers, so a declared
// key is judged exactly as the live key it will become. Only values the plan or state knows are
// used: an unknown one (known after apply) stays null, never false.

import { acmItem, acmKeyAlgorithm } from '../aws/acm/map.ts';
import { kmsItem } from '../aws/kms/map.ts';
import { gcpItem, type GcpCryptoKey } from '../gcp-kms/map.ts';
import { pkiRoleItem, transitItem, type VaultLocation } from '../vault/map.ts';
import { certificateItem, isCertificateError, parseCertificate, type ParsedCertificate } from '../../certificates/certificate.ts';
import { scanPem } from '../../certificates/pem.ts';
import { ecKey, rsaKey, unknownAlgorithm, type CanonicalKey } from '../../inventory/algorithms.ts';
import { baseItem, type InventoryItem, type KeyType, type KeyUsage, type Purpose, type Rotation } from '../../inventory/types.ts';
import { rfc3339OrNull } from '../../util/rfc3339.ts';
import { pointer } from './json-positions.ts';
import type { ResourceInstance } from './show-json.ts';

/** An attribute's value, whether terraform knows it yet, and the JSON Pointer of its member (null when absent). */
export interface Attribute {
  value: unknown;
  unknown: boolean;
  at: string | null;
}

export interface DeclaredResource {
  item: InventoryItem;
  /** Inventory field path -> the attribute that sets it. */
  sets: Record<string, Attribute>;
}

/** What a mapper needs besides the resource: the uid of a declaration (its file and address: the live key it becomes has its own, the native id), and the source. */
export interface MapContext {
  fallbackUid: string;
  sourceId: string;
  /** The declaring file as reports show it: the location of an item whose region or project is not known yet. */
  file: string;
}

type Mapper = (resource: ResourceInstance, context: MapContext) => DeclaredResource;

export function attribute(resource: ResourceInstance, ...path: (string | number)[]): Attribute {
  let value: unknown = resource.values;
  let unknown: unknown = resource.unknown;
  let at = resource.valuesAt;
  for (const step of path) {
    if (unknown === true) return { value: null, unknown: true, at: null };
    unknown = unknown !== null && typeof unknown === 'object' ? (unknown as Record<string | number, unknown>)[step] : undefined;
    value = value !== null && typeof value === 'object' ? (value as Record<string | number, unknown>)[step] : undefined;
    at = pointer(at, step);
  }
  if (unknown === true) return { value: null, unknown: true, at: null };
  return { value: value ?? null, unknown: false, at: value === undefined ? null : at };
}

const bool = (attr: Attribute): boolean | null => (typeof attr.value === 'boolean' ? attr.value : null);
const text = (attr: Attribute): string | null => (typeof attr.value === 'string' && attr.value !== '' ? attr.value : null);
const num = (attr: Attribute): number | null => {
  if (typeof attr.value === 'number') return attr.value;
  return typeof attr.value === 'string' && /^\d+(\.\d+)?$/.test(attr.value) ? Number(attr.value) : null;
};
const stringMap = (attr: Attribute): Record<string, string> =>
  attr.value !== null && typeof attr.value === 'object' && !Array.isArray(attr.value)
    ? Object.fromEntries(Object.entries(attr.value).filter((entry): entry is [string, string] => typeof entry[1] === 'string'))
    : {};
/** Google's protobuf durations as terraform writes them: "7776000s". */
const googleSeconds = (attr: Attribute): number | null => {
  const match = typeof attr.value === 'string' ? /^(\d+(?:\.\d+)?)s$/.exec(attr.value) : null;
  return match ? Number(match[1]) : null;
};
/** The first of several spellings of one setting that is set (or unknown), else the first. */
const firstSet = (...attrs: Attribute[]): Attribute => attrs.find((attr) => attr.unknown || attr.value !== null) ?? attrs[0]!;
const strings = (attr: Attribute): string[] =>
  Array.isArray(attr.value) ? attr.value.filter((entry): entry is string => typeof entry === 'string' && entry !== '') : [];
/** An RFC 3339 attribute as a Date; undefined when unknown, absent or not a date. */
const date = (attr: Attribute): Date | undefined => {
  const value = text(attr);
  const parsed = value === null ? null : new Date(value);
  return parsed && !Number.isNaN(parsed.getTime()) ? parsed : undefined;
};
const timestamp = (attr: Attribute): string | null => rfc3339OrNull(date(attr));
/**
 * Whether a secret (key material, a private key) is set, for evidence: the answer is all that
 * leaves this function, never the value. Null when terraform does not know yet.
 */
const isSet = (attr: Attribute): boolean | null => (attr.unknown ? null : attr.value !== null && attr.value !== '');
/** A key whose family is known but not its size or curve (it is in a private key keydrift never reads, or known after apply). */
const familyOnly = (raw: string, keyType: KeyType): CanonicalKey => ({ ...unknownAlgorithm(raw), keyType });
const ED25519: CanonicalKey = { algorithm: 'Ed25519', keyType: 'ec', keySize: 256, curve: 'Ed25519' };

function declaredEvidence(resource: ResourceInstance, names: readonly string[]): Record<string, unknown> {
  const evidence: Record<string, unknown> = { resourceType: resource.type, address: resource.address };
  for (const name of names) {
    const attr = attribute(resource, name);
    evidence[name] = attr.unknown ? 'known after apply' : (attr.value ?? null);
  }
  return evidence;
}

const ARN = /^arn:aws[a-z-]*:kms:([a-z0-9-]+):(\d{12}):key\/.+$/;

const awsKmsKey: Mapper = (resource, context) => {
  const spec = firstSet(attribute(resource, 'customer_master_key_spec'), attribute(resource, 'key_spec'));
  const usage = attribute(resource, 'key_usage');
  const rotationOn = attribute(resource, 'enable_key_rotation');
  const period = attribute(resource, 'rotation_period_in_days');
  const enabled = attribute(resource, 'is_enabled');
  const multiRegion = attribute(resource, 'multi_region');
  const tags = attribute(resource, 'tags');
  const arn = text(attribute(resource, 'arn'));
  const where = arn ? ARN.exec(arn) : null;
  const region = where?.[1] ?? text(attribute(resource, 'region'));
  const account = where?.[2] ?? null;
  const origin = text(attribute(resource, 'xks_key_id')) ? 'EXTERNAL_KEY_STORE' : text(attribute(resource, 'custom_key_store_id')) ? 'AWS_CLOUDHSM' : 'AWS_KMS';
  const item = kmsItem({
    metadata: {
      Arn: arn ?? undefined,
      KeyId: text(attribute(resource, 'key_id')) ?? undefined,
      AWSAccountId: account ?? undefined,
      KeySpec: (text(spec) ?? undefined) as never,
      KeyUsage: (text(usage) ?? undefined) as never,
      KeyState: bool(enabled) === false ? 'Disabled' : 'Enabled',
      Origin: origin,
      KeyManager: 'CUSTOMER',
      MultiRegion: bool(multiRegion) ?? undefined,
    },
    region: region ?? 'unknown',
    sourceId: context.sourceId,
    aliases: [],
    rotationStatus: { KeyRotationEnabled: bool(rotationOn) ?? undefined, RotationPeriodInDays: num(period) || undefined },
    rotations: null,
    tags: stringMap(tags),
    access: null,
    grants: null,
  });
  // Whether KMS can rotate the key depends on its spec and usage: unknown when they are.
  if (spec.unknown || usage.unknown) item.rotation = { supported: null, automatic: bool(rotationOn), periodDays: num(period), lastRotatedAt: null, nextRotationAt: null };
  item.uid = context.fallbackUid;
  item.name = resource.address;
  if (!region) item.replication = null;
  if (!account) item.location = region ?? context.file;
  item.evidence = {
    ...declaredEvidence(resource, ['enable_key_rotation', 'rotation_period_in_days', 'customer_master_key_spec', 'key_spec', 'key_usage', 'deletion_window_in_days', 'is_enabled', 'multi_region']),
    KeySpec: text(spec),
    KeyUsage: text(usage),
    KeyManager: 'CUSTOMER',
    Origin: origin,
    rawAlgorithm: text(spec),
    region,
    accountId: account,
    ...(arn ? { nativeId: arn } : {}),
  };
  return {
    item,
    sets: {
      algorithm: spec,
      keyType: spec,
      keySize: spec,
      purpose: usage,
      state: enabled,
      'rotation.automatic': rotationOn,
      'rotation.periodDays': period,
      replication: multiRegion,
      tags,
      'evidence.deletion_window_in_days': attribute(resource, 'deletion_window_in_days'),
    },
  };
};

const googleKmsCryptoKey: Mapper = (resource, context) => {
  const purpose = attribute(resource, 'purpose');
  const rotationPeriod = attribute(resource, 'rotation_period');
  const template = attribute(resource, 'version_template', 0);
  const algorithm = attribute(resource, 'version_template', 0, 'algorithm');
  const protection = attribute(resource, 'version_template', 0, 'protection_level');
  const destroyAfter = attribute(resource, 'destroy_scheduled_duration');
  const labels = attribute(resource, 'labels');
  const keyName = text(attribute(resource, 'id')) ?? (text(attribute(resource, 'key_ring')) && text(attribute(resource, 'name')) ? `${text(attribute(resource, 'key_ring'))}/cryptoKeys/${text(attribute(resource, 'name'))}` : null);
  // ENCRYPT_DECRYPT is the provider's default purpose; without a version template Cloud KMS
  // creates GOOGLE_SYMMETRIC_ENCRYPTION versions in SOFTWARE (the only default it has).
  const purposeName = purpose.unknown ? null : (text(purpose) ?? 'ENCRYPT_DECRYPT');
  const defaulted = purposeName === 'ENCRYPT_DECRYPT' && (template.unknown || template.value === null);
  const key: GcpCryptoKey = {
    name: keyName ?? `projects/unknown/locations/unknown/keyRings/unknown/cryptoKeys/${text(attribute(resource, 'name')) ?? 'unknown'}`,
    purpose: purposeName,
    rotationPeriod: googleSeconds(rotationPeriod) === null ? null : { seconds: googleSeconds(rotationPeriod) },
    versionTemplate: { algorithm: defaulted ? 'GOOGLE_SYMMETRIC_ENCRYPTION' : text(algorithm), protectionLevel: defaulted ? 'SOFTWARE' : text(protection) },
    labels: stringMap(labels),
    importOnly: bool(attribute(resource, 'import_only')),
    destroyScheduledDuration: googleSeconds(destroyAfter) === null ? null : { seconds: googleSeconds(destroyAfter) },
  };
  const item = gcpItem({ key, sourceId: context.sourceId, versions: null, bindings: null });
  // A key is created with an enabled primary version unless told to skip it.
  item.state = bool(attribute(resource, 'skip_initial_version_creation')) === true ? 'unavailable' : 'enabled';
  if (purpose.unknown) item.rotation = { supported: null, automatic: null, periodDays: null, lastRotatedAt: null, nextRotationAt: null };
  else if (rotationPeriod.unknown && item.rotation?.supported) item.rotation = { ...item.rotation, automatic: null, periodDays: null };
  item.uid = context.fallbackUid;
  if (!keyName) {
    item.name = text(attribute(resource, 'name')) ?? resource.address;
    item.location = context.file;
  }
  item.evidence = {
    ...declaredEvidence(resource, ['rotation_period', 'purpose', 'destroy_scheduled_duration', 'import_only', 'skip_initial_version_creation']),
    purpose: purposeName,
    rawAlgorithm: key.versionTemplate?.algorithm ?? null,
    protectionLevel: key.versionTemplate?.protectionLevel ?? null,
    rotationPeriodSeconds: googleSeconds(rotationPeriod),
    destroyScheduledDurationSeconds: googleSeconds(destroyAfter),
    ...(keyName ? { nativeId: keyName } : {}),
  };
  return {
    item,
    sets: {
      algorithm,
      keyType: algorithm,
      keySize: algorithm,
      protection,
      purpose,
      'rotation.automatic': rotationPeriod,
      'rotation.periodDays': rotationPeriod,
      tags: labels,
      'evidence.destroyScheduledDurationSeconds': destroyAfter,
    },
  };
};

function vaultLocation(resource: ResourceInstance, sourceId: string): VaultLocation {
  return { address: '', namespace: text(attribute(resource, 'namespace')), mount: text(attribute(resource, 'backend')) ?? 'unknown', sourceId };
}

const vaultTransitKey: Mapper = (resource, context) => {
  const type = attribute(resource, 'type');
  const period = attribute(resource, 'auto_rotate_period');
  const exportable = attribute(resource, 'exportable');
  const backup = attribute(resource, 'allow_plaintext_backup');
  const minDecryption = attribute(resource, 'min_decryption_version');
  const location = vaultLocation(resource, context.sourceId);
  const name = text(attribute(resource, 'name')) ?? resource.address;
  const item = transitItem(location, name, {
    // aes256-gcm96 is the provider's default type.
    type: type.unknown ? undefined : (text(type) ?? 'aes256-gcm96'),
    auto_rotate_period: num(period) ?? undefined,
    exportable: bool(exportable) ?? undefined,
    allow_plaintext_backup: bool(backup) ?? undefined,
    min_decryption_version: num(minDecryption) ?? undefined,
    deletion_allowed: bool(attribute(resource, 'deletion_allowed')) ?? undefined,
    derived: bool(attribute(resource, 'derived')) ?? undefined,
  });
  item.uid = context.fallbackUid;
  const vaultPath = `${location.namespace ? `${location.namespace}/` : ''}${location.mount}/keys/${name}`;
  item.evidence = {
    ...item.evidence,
    ...declaredEvidence(resource, ['type', 'auto_rotate_period', 'exportable', 'allow_plaintext_backup', 'min_decryption_version']),
    nativeId: vaultPath,
  };
  return {
    item,
    sets: {
      algorithm: type,
      keyType: type,
      keySize: type,
      purpose: type,
      'rotation.automatic': period,
      'rotation.periodDays': period,
      'attributes.exportable': exportable,
      'attributes.plaintextBackup': backup,
      'evidence.min_decryption_version': minDecryption,
    },
  };
};

const vaultPkiRole: Mapper = (resource, context) => {
  const maxTtl = attribute(resource, 'max_ttl');
  const ttl = attribute(resource, 'ttl');
  const keyType = attribute(resource, 'key_type');
  const keyBits = attribute(resource, 'key_bits');
  const location = vaultLocation(resource, context.sourceId);
  const name = text(attribute(resource, 'name')) ?? resource.address;
  const known = (attr: Attribute) => (attr.unknown ? undefined : ((attr.value ?? undefined) as number | string | undefined));
  const item = pkiRoleItem(
    location,
    name,
    // rsa with 2048 bits is the provider's default.
    { max_ttl: known(maxTtl), ttl: known(ttl), key_type: keyType.unknown ? undefined : (text(keyType) ?? 'rsa'), key_bits: keyBits.unknown ? undefined : (num(keyBits) ?? undefined) },
    null,
  );
  item.uid = context.fallbackUid;
  item.evidence = { ...item.evidence, ...declaredEvidence(resource, ['max_ttl', 'ttl', 'key_type', 'key_bits']), nativeId: `${location.mount}/roles/${name}` };
  return { item, sets: { 'evidence.roleMaxTtlSeconds': maxTtl, algorithm: keyType, keyType, keySize: keyBits } };
};

/** tls_private_key's ecdsa_curve names -> the canonical curve (P224 is the provider's default). */
const TLS_CURVES: Record<string, string> = { P224: 'secp224r1', P256: 'P-256', P384: 'P-384', P521: 'P-521' };

const tlsPrivateKey: Mapper = (resource, context) => {
  const algorithm = attribute(resource, 'algorithm');
  const bits = attribute(resource, 'rsa_bits');
  const curve = attribute(resource, 'ecdsa_curve');
  const name = text(algorithm);
  let key: CanonicalKey;
  let size = algorithm;
  if (name === 'RSA') {
    key = bits.unknown ? unknownAlgorithm('RSA') : rsaKey(num(bits) ?? 2048);
    size = bits;
  } else if (name === 'ECDSA') {
    const curveName = curve.unknown ? null : (text(curve) ?? 'P224');
    key = curveName === null ? unknownAlgorithm('ECDSA') : ecKey(TLS_CURVES[curveName] ?? curveName);
    size = curve;
  } else if (name === 'ED25519') {
    key = { algorithm: 'Ed25519', keyType: 'ec', keySize: 256, curve: 'Ed25519' };
  } else {
    key = unknownAlgorithm(name ?? 'none');
  }
  // Only the algorithm settings are read: the state also holds the private key itself, never copied.
  const item = baseItem({
    uid: context.fallbackUid,
    kind: 'key',
    provider: 'x509-file',
    sourceId: context.sourceId,
    name: resource.address,
    location: context.file,
    algorithm: key.algorithm,
    keyType: key.keyType,
    keySize: key.keySize,
    curve: key.curve,
    purpose: 'sign',
    protection: 'software',
    origin: 'generated',
    evidence: { ...declaredEvidence(resource, ['algorithm', 'rsa_bits', 'ecdsa_curve']), rawAlgorithm: name },
  });
  return { item, sets: { algorithm, keyType: algorithm, keySize: size, curve } };
};

export const MAPPERS: Readonly<Record<string, Mapper>> = {
  aws_kms_key: awsKmsKey,
  google_kms_crypto_key: googleKmsCryptoKey,
  vault_transit_secret_backend_key: vaultTransitKey,
  vault_pki_secret_backend_role: vaultPkiRole,
  tls_private_key: tlsPrivateKey,
};
