// Declared resources -> inventory items, through the live collectors' own mappers, so a declared
// key is judged exactly as the live key it will become. Only values the plan or state knows are
// used: an unknown one (known after apply) stays null, never false.

import { acmItem, acmKeyAlgorithm } from '../aws/acm/map.ts';
import { analyseKeyPolicy, type PolicyAccess } from '../aws/key-policy.ts';
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

/** An AWS resource's ARN (known once it exists), and the region and account it names; else the configured region. */
function awsPlacement(resource: ResourceInstance, pattern: RegExp): { arn: string | null; region: string | null; account: string | null } {
  const arn = text(attribute(resource, 'arn'));
  const where = arn ? pattern.exec(arn) : null;
  return { arn, region: where?.[1] ?? text(attribute(resource, 'region')), account: where?.[2] ?? null };
}

const awsKmsKey: Mapper = (resource, context) => {
  const spec = firstSet(attribute(resource, 'customer_master_key_spec'), attribute(resource, 'key_spec'));
  const usage = attribute(resource, 'key_usage');
  const rotationOn = attribute(resource, 'enable_key_rotation');
  const period = attribute(resource, 'rotation_period_in_days');
  const enabled = attribute(resource, 'is_enabled');
  const multiRegion = attribute(resource, 'multi_region');
  const tags = attribute(resource, 'tags');
  const policy = attribute(resource, 'policy');
  const { arn, region, account } = awsPlacement(resource, ARN);
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
    access: keyPolicyAccess(policy, account),
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
      'access.public': policy,
      'access.adminAndUse': policy,
      'access.externalUse': policy,
      'evidence.deletion_window_in_days': attribute(resource, 'deletion_window_in_days'),
    },
  };
};

/**
 * The access a key policy written in code grants, judged as the live policy would be (grants are
 * never in code, so use by grant stays unknown). Unknown until apply, or not JSON: unknown (null).
 */
function keyPolicyAccess(policy: Attribute, account: string | null): PolicyAccess | null {
  const document = text(policy);
  if (document === null) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(document);
  } catch {
    return null;
  }
  return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? analyseKeyPolicy(document, account) : null;
}

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
  // The path is the key's Vault identity only when the code names its mount (a reference to a
  // vault_mount is known after apply).
  const mountKnown = text(attribute(resource, 'backend')) !== null;
  const vaultPath = `${location.namespace ? `${location.namespace}/` : ''}${location.mount}/keys/${name}`;
  item.evidence = {
    ...item.evidence,
    ...declaredEvidence(resource, ['type', 'auto_rotate_period', 'exportable', 'allow_plaintext_backup', 'min_decryption_version']),
    ...(mountKnown ? { nativeId: vaultPath } : {}),
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
  item.evidence = {
    ...item.evidence,
    ...declaredEvidence(resource, ['max_ttl', 'ttl', 'key_type', 'key_bits']),
    ...(text(attribute(resource, 'backend')) !== null ? { nativeId: `${location.mount}/roles/${name}` } : {}),
  };
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

// aws_kms_external_key: a KMS key whose material is imported (Origin EXTERNAL). KMS never rotates
// imported material automatically, so kmsItem says rotation is not supported, whatever the spec.
// key_material_base64 is the plaintext key: only whether it is set is read (evidence.keyMaterialInState).
const awsKmsExternalKey: Mapper = (resource, context) => {
  // key_spec and key_usage are arguments of recent providers only; older ones always create a
  // SYMMETRIC_DEFAULT encryption key, which is also the default of the recent ones.
  const spec = attribute(resource, 'key_spec');
  const usage = attribute(resource, 'key_usage');
  const enabled = attribute(resource, 'enabled');
  const keyState = attribute(resource, 'key_state');
  const validTo = attribute(resource, 'valid_to');
  const expirationModel = attribute(resource, 'expiration_model');
  const multiRegion = attribute(resource, 'multi_region');
  const tags = attribute(resource, 'tags');
  const { arn, region, account } = awsPlacement(resource, ARN);
  const specName = spec.unknown ? null : (text(spec) ?? 'SYMMETRIC_DEFAULT');
  const usageName = usage.unknown ? null : text(usage);
  // Without material the key waits in PendingImport; the material may be imported outside
  // terraform, so only a state's key_state says so, else the key is judged as it will serve.
  const state = text(keyState) ?? (bool(enabled) === false ? 'Disabled' : 'Enabled');
  const item = kmsItem({
    metadata: {
      Arn: arn ?? undefined,
      KeyId: text(attribute(resource, 'id')) ?? undefined,
      AWSAccountId: account ?? undefined,
      KeySpec: (specName ?? undefined) as never,
      KeyUsage: (usageName ?? undefined) as never,
      KeyState: state as never,
      Origin: 'EXTERNAL',
      KeyManager: 'CUSTOMER',
      MultiRegion: bool(multiRegion) ?? undefined,
      ValidTo: date(validTo),
      ExpirationModel: (text(expirationModel) ?? undefined) as never,
    },
    region: region ?? 'unknown',
    sourceId: context.sourceId,
    aliases: [],
    rotationStatus: null,
    rotations: null,
    tags: stringMap(tags),
    access: null,
    grants: null,
  });
  if (specName === null) Object.assign(item, unknownAlgorithm('unresolved'));
  item.uid = context.fallbackUid;
  item.name = resource.address;
  if (!region) item.replication = null;
  if (!account) item.location = region ?? context.file;
  item.evidence = {
    ...declaredEvidence(resource, ['key_spec', 'key_usage', 'enabled', 'key_state', 'valid_to', 'expiration_model', 'deletion_window_in_days', 'multi_region']),
    KeySpec: specName,
    KeyUsage: usageName,
    KeyState: state,
    KeyManager: 'CUSTOMER',
    Origin: 'EXTERNAL',
    ExpirationModel: text(expirationModel),
    keyMaterialInState: isSet(attribute(resource, 'key_material_base64')),
    rawAlgorithm: specName,
    region,
    accountId: account,
    aliases: [],
    ...(arn ? { nativeId: arn } : {}),
  };
  return {
    item,
    sets: {
      algorithm: spec,
      keyType: spec,
      keySize: spec,
      purpose: usage,
      state: firstSet(keyState, enabled),
      expiresAt: validTo,
      replication: multiRegion,
      tags,
      'evidence.deletion_window_in_days': attribute(resource, 'deletion_window_in_days'),
    },
  };
};

const ACM_ARN = /^arn:aws[a-z-]*:acm:([a-z0-9-]+):(\d{12}):certificate\/.+$/;

/** The first certificate of a PEM text (a chain's leaf); null when it holds none or it does not parse. Keys in it are never decoded. */
function firstCertificate(pem: string | null): ParsedCertificate | null {
  if (pem === null) return null;
  const block = scanPem(pem).blocks.find((candidate) => candidate.label !== 'PKCS7');
  if (!block) return null;
  try {
    return parseCertificate(block.der);
  } catch (error) {
    if (isCertificateError(error)) return null;
    throw error;
  }
}

// aws_acm_certificate: requested from ACM (domain_name, validation_method, key_algorithm) or
// imported (certificate_body and private_key). The imported certificate is read from its body;
// the private key is only checked for presence. A requested certificate has no notBefore or
// notAfter before it is issued: certificate stays null and the key rules judge key_algorithm.
const awsAcmCertificate: Mapper = (resource, context) => {
  const keyAlgorithm = attribute(resource, 'key_algorithm');
  const body = attribute(resource, 'certificate_body');
  const domain = attribute(resource, 'domain_name');
  const sans = attribute(resource, 'subject_alternative_names');
  const status = attribute(resource, 'status');
  const notAfter = attribute(resource, 'not_after');
  const tags = attribute(resource, 'tags');
  const { arn, region, account } = awsPlacement(resource, ACM_ARN);
  const authority = text(attribute(resource, 'certificate_authority_arn'));
  const imported = isSet(body) === true || isSet(attribute(resource, 'private_key')) === true;
  const type = text(attribute(resource, 'type')) ?? (imported ? 'IMPORTED' : authority ? 'PRIVATE' : 'AMAZON_ISSUED');
  const parsed = firstCertificate(text(body));
  const item = acmItem({
    detail: {
      CertificateArn: arn ?? undefined,
      DomainName: text(domain) ?? undefined,
      SubjectAlternativeNames: sans.unknown ? undefined : strings(sans),
      KeyAlgorithm: (text(keyAlgorithm) ?? undefined) as never,
      Status: (text(status) ?? undefined) as never,
      Type: type as never,
      NotBefore: date(attribute(resource, 'not_before')),
      NotAfter: date(notAfter),
      RenewalEligibility: (text(attribute(resource, 'renewal_eligibility')) ?? undefined) as never,
      CertificateAuthorityArn: authority ?? undefined,
    },
    region: region ?? 'unknown',
    sourceId: context.sourceId,
    parsed,
    tags: stringMap(tags),
  });
  item.uid = context.fallbackUid;
  item.name = text(domain) ?? parsed?.commonName ?? resource.address;
  if (!account) item.location = region ?? context.file;
  // Not issued yet (status known after apply): judged as the certificate it will be once validated.
  if (text(status) === null) item.state = 'enabled';
  // A request that names no key_algorithm gets ACM's default, RSA_2048; an imported certificate's
  // key is the one its body certifies.
  const defaulted = !parsed && !imported && !keyAlgorithm.unknown && text(keyAlgorithm) === null;
  if (!parsed) {
    const keyName = keyAlgorithm.unknown ? null : (text(keyAlgorithm) ?? (defaulted ? 'RSA_2048' : null));
    const key = keyName === null ? unknownAlgorithm('unresolved') : acmKeyAlgorithm(keyName);
    Object.assign(item, { algorithm: key.algorithm, keyType: key.keyType, keySize: key.keySize, curve: key.curve });
  }
  item.evidence = {
    ...item.evidence,
    ...declaredEvidence(resource, ['domain_name', 'subject_alternative_names', 'validation_method', 'key_algorithm', 'certificate_authority_arn', 'early_renewal_duration', 'status', 'type', 'not_before', 'not_after']),
    Type: type,
    // Where a certificate is used is not in the declaration.
    InUseBy: null,
    importedCertificate: imported,
    privateKeyInState: isSet(attribute(resource, 'private_key')),
    ...(defaulted ? { defaults: { key_algorithm: 'RSA_2048' } } : {}),
    ...(arn ? { nativeId: arn } : {}),
  };
  return {
    item,
    sets: {
      algorithm: parsed ? body : keyAlgorithm,
      keyType: parsed ? body : keyAlgorithm,
      keySize: parsed ? body : keyAlgorithm,
      curve: parsed ? body : keyAlgorithm,
      'certificate.notAfter': parsed ? body : notAfter,
      expiresAt: parsed ? body : notAfter,
      'certificate.sans': sans,
      tags,
    },
  };
};

/** allowed_uses values that are extended key usages; the others are key usage bits. */
const EXTENDED_KEY_USES = new Set([
  'any_extended', 'server_auth', 'client_auth', 'code_signing', 'email_protection', 'ipsec_end_system', 'ipsec_tunnel', 'ipsec_user',
  'timestamping', 'ocsp_signing', 'microsoft_server_gated_crypto', 'netscape_server_gated_crypto', 'microsoft_commercial_code_signing',
  'microsoft_kernel_code_signing',
]);

/** As for a parsed certificate: a CA signs; a leaf without extended key usages (any purpose) or for TLS peers is TLS. */
function certificatePurpose(isCA: boolean | null, uses: string[]): Purpose {
  if (isCA === true) return 'sign';
  const extended = uses.filter((use) => EXTENDED_KEY_USES.has(use));
  return extended.length === 0 || extended.some((use) => use === 'server_auth' || use === 'client_auth' || use === 'any_extended') ? 'tls' : 'sign';
}

/** key_algorithm of a certificate resource: the family of the private key, whose size and curve are never read from it. */
function tlsKeyFamily(attr: Attribute): CanonicalKey {
  const name = text(attr);
  if (name === 'ED25519') return ED25519;
  if (name === 'RSA') return familyOnly('RSA', 'rsa');
  if (name === 'ECDSA') return familyOnly('ECDSA', 'ec');
  return unknownAlgorithm(name ?? 'unresolved');
}

// tls_self_signed_cert and tls_locally_signed_cert. A state holds cert_pem: the certificate itself,
// judged as an x509 file is. A plan does not: the certificate template then has no notBefore or
// notAfter (certificate: null), the validity every certificate it issues will have in
// evidence.durationSeconds (what KD-CRT-003 judges for a declared certificate) and the key as far
// as the resource says (linkCertificateKeys follows the private key reference). The private keys
// (private_key_pem, ca_private_key_pem) are never read.
function tlsCertificate(selfSigned: boolean): Mapper {
  return (resource, context): DeclaredResource => {
    const hours = attribute(resource, 'validity_period_hours');
    const isCA = attribute(resource, 'is_ca_certificate');
    const uses = attribute(resource, 'allowed_uses');
    const commonName = attribute(resource, 'subject', 0, 'common_name');
    const dnsNames = attribute(resource, 'dns_names');
    // A self-signed certificate certifies its own private key; a locally signed one the key of
    // its certificate request (ca_key_algorithm is the issuer's key, which only signs it).
    const keyAlgorithm = attribute(resource, selfSigned ? 'key_algorithm' : 'cert_request_pem');
    const names = selfSigned
      ? ['validity_period_hours', 'early_renewal_hours', 'is_ca_certificate', 'allowed_uses', 'dns_names', 'ip_addresses', 'uris', 'key_algorithm', 'validity_start_time', 'validity_end_time', 'ready_for_renewal']
      : ['validity_period_hours', 'early_renewal_hours', 'is_ca_certificate', 'allowed_uses', 'ca_key_algorithm', 'validity_start_time', 'validity_end_time', 'ready_for_renewal'];
    const evidence = { ...declaredEvidence(resource, names), selfSigned };
    const parsed = firstCertificate(text(attribute(resource, 'cert_pem')));
    if (parsed) {
      const item = certificateItem(parsed, { uid: context.fallbackUid, provider: 'x509-file', sourceId: context.sourceId, location: context.file, evidence });
      return {
        item: { ...item, name: resource.address, protection: 'software', origin: 'generated' },
        sets: { 'certificate.notAfter': hours, expiresAt: hours, 'certificate.isCA': isCA, 'certificate.commonName': commonName, 'certificate.sans': dnsNames },
      };
    }
    const validityHours = num(hours);
    const ca = isCA.unknown ? null : bool(isCA) === true;
    const key = selfSigned ? tlsKeyFamily(keyAlgorithm) : unknownAlgorithm('unresolved');
    const item = baseItem({
      uid: context.fallbackUid,
      kind: 'certificate',
      provider: 'x509-file',
      sourceId: context.sourceId,
      name: resource.address,
      location: context.file,
      algorithm: key.algorithm,
      keyType: key.keyType,
      keySize: key.keySize,
      curve: key.curve,
      purpose: uses.unknown ? 'unknown' : certificatePurpose(ca, strings(uses)),
      protection: 'software',
      origin: 'generated',
      createdAt: timestamp(attribute(resource, 'validity_start_time')),
      expiresAt: timestamp(attribute(resource, 'validity_end_time')),
      certificate: null,
      evidence: {
        ...evidence,
        duration: validityHours === null ? null : `${validityHours}h`,
        durationSeconds: validityHours === null ? null : validityHours * 3600,
        isCA: ca,
        commonName: text(commonName),
        dnsNames: strings(dnsNames),
        rawAlgorithm: selfSigned ? text(keyAlgorithm) : null,
      },
    });
    return {
      item,
      sets: {
        'certificate.notAfter': hours,
        'evidence.durationSeconds': hours,
        'certificate.isCA': isCA,
        'evidence.isCA': isCA,
        algorithm: keyAlgorithm,
        keyType: keyAlgorithm,
        keySize: keyAlgorithm,
        curve: keyAlgorithm,
        purpose: uses,
        'certificate.commonName': commonName,
        'certificate.sans': dnsNames,
      },
    };
  };
}

/** key_opts (JSON Web Key operations) -> the inventory's key usages. */
const JWK_USAGES: Readonly<Record<string, KeyUsage>> = { encrypt: 'encrypt', decrypt: 'decrypt', sign: 'sign', verify: 'verify', wrapKey: 'wrap', unwrapKey: 'unwrap' };
/** Key Vault curve names (SECP256K1 is how older vaults report P-256K) -> the canonical spelling ecKey knows. */
const AZURE_CURVES: Readonly<Record<string, string>> = { 'P-256': 'P-256', 'P-384': 'P-384', 'P-521': 'P-521', 'P-256K': 'secp256k1', SECP256K1: 'secp256k1' };

function azureKey(type: Attribute, size: Attribute, curve: Attribute): CanonicalKey {
  if (type.unknown) return unknownAlgorithm('unresolved');
  const raw = text(type) ?? 'none';
  switch (raw.replace(/-HSM$/i, '').toUpperCase()) {
    case 'RSA': {
      const bits = num(size);
      return bits === null ? familyOnly('RSA', 'rsa') : rsaKey(bits);
    }
    case 'EC': {
      if (curve.unknown) return familyOnly('EC', 'ec');
      // Key Vault creates P-256 when no curve is given.
      const name = text(curve) ?? 'P-256';
      return ecKey(AZURE_CURVES[name.toUpperCase()] ?? name);
    }
    case 'OCT': {
      const bits = num(size);
      return bits === null ? familyOnly('AES', 'symmetric') : { algorithm: `AES-${bits}`, keyType: 'symmetric', keySize: bits, curve: null };
    }
    default:
      return unknownAlgorithm(raw);
  }
}

/**
 * The purpose the strictest rules apply to: a key allowed to encrypt protects secrecy (and has the
 * shortest cryptoperiod in NIST SP 800-57's table) whatever else it may do. KD-ACC-005 reports a
 * key allowed both to sign and to decrypt.
 */
function usagesPurpose(usages: KeyUsage[] | null): Purpose {
  if (usages === null) return 'unknown';
  if (usages.includes('encrypt') || usages.includes('decrypt')) return 'encrypt';
  if (usages.includes('wrap') || usages.includes('unwrap')) return 'wrap';
  if (usages.includes('sign') || usages.includes('verify')) return 'sign';
  return 'unknown';
}

/**
 * An ISO 8601 duration as Key Vault rotation policies write them (P90D, P1Y, P6M, P1Y6M, PT12H) in
 * days, counting a year as 365 days and a month as 30; null when the text is not one.
 */
export function isoDurationDays(value: string | null): number | null {
  const match = value === null ? null : /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(value);
  if (!match || value === 'P') return null;
  const [years, months, weeks, days, hours, minutes, seconds] = match.slice(1).map((part) => Number(part ?? 0)) as [number, number, number, number, number, number, number];
  return years * 365 + months * 30 + weeks * 7 + days + (hours + minutes / 60 + seconds / 3600) / 24;
}

/**
 * A rotation_policy block: `automatic` rotates time_after_creation after each version is created,
 * or time_before_expiry before it expires (new versions expire expire_after after creation, so
 * the period is expire_after minus time_before_expiry). Without a policy nothing rotates the key.
 */
function azureRotation(resource: ResourceInstance): { rotation: Rotation; automatic: Attribute; period: Attribute; policy: Record<string, string | null> } {
  const block = attribute(resource, 'rotation_policy', 0);
  const automatic = attribute(resource, 'rotation_policy', 0, 'automatic', 0);
  const afterCreation = attribute(resource, 'rotation_policy', 0, 'automatic', 0, 'time_after_creation');
  const beforeExpiry = attribute(resource, 'rotation_policy', 0, 'automatic', 0, 'time_before_expiry');
  const expireAfter = attribute(resource, 'rotation_policy', 0, 'expire_after');
  const policy = {
    expireAfter: text(expireAfter),
    notifyBeforeExpiry: text(attribute(resource, 'rotation_policy', 0, 'notify_before_expiry')),
    timeAfterCreation: text(afterCreation),
    timeBeforeExpiry: text(beforeExpiry),
  };
  const none = { supported: true, lastRotatedAt: null, nextRotationAt: null };
  const on = block.unknown || automatic.unknown ? null : automatic.value !== null;
  let periodDays: number | null = null;
  if (on === true && !afterCreation.unknown && !beforeExpiry.unknown && !expireAfter.unknown) {
    const afterCreationDays = isoDurationDays(policy.timeAfterCreation);
    const beforeExpiryDays = isoDurationDays(policy.timeBeforeExpiry);
    const expireAfterDays = isoDurationDays(policy.expireAfter);
    const beforeExpiryPeriod = beforeExpiryDays !== null && expireAfterDays !== null ? expireAfterDays - beforeExpiryDays : null;
    const periods = [afterCreationDays, beforeExpiryPeriod].filter((days): days is number => days !== null && days > 0);
    periodDays = periods.length > 0 ? Math.min(...periods) : null;
  }
  return {
    rotation: { ...none, automatic: on, periodDays },
    automatic: firstSet(automatic, block),
    period: firstSet(afterCreation, beforeExpiry),
    policy,
  };
}

// azurerm_key_vault_key: a key in an Azure Key Vault (or Managed HSM, for the -HSM and oct types).
// Key Vault rotates any key type once a rotation policy says when.
const azureKeyVaultKey: Mapper = (resource, context) => {
  const type = attribute(resource, 'key_type');
  const size = attribute(resource, 'key_size');
  const curve = attribute(resource, 'curve');
  const opts = attribute(resource, 'key_opts');
  const expiration = attribute(resource, 'expiration_date');
  const tags = attribute(resource, 'tags');
  const vault = text(attribute(resource, 'key_vault_id'));
  const versionless = text(attribute(resource, 'versionless_id'));
  const key = azureKey(type, size, curve);
  const usages = opts.unknown ? null : [...new Set(strings(opts).flatMap((op) => (JWK_USAGES[op] ? [JWK_USAGES[op]] : [])))];
  const { rotation, automatic, period, policy } = azureRotation(resource);
  const typeName = text(type);
  const item = baseItem({
    uid: context.fallbackUid,
    kind: 'key',
    provider: 'azure-key-vault',
    sourceId: context.sourceId,
    name: text(attribute(resource, 'name')) ?? resource.address,
    location: vault ?? context.file,
    algorithm: key.algorithm,
    keyType: key.keyType,
    keySize: key.keySize,
    curve: key.curve,
    purpose: usagesPurpose(usages),
    protection: typeName === null ? 'unknown' : /-HSM$/i.test(typeName) ? 'hsm' : 'software',
    // The provider creates keys; it cannot import them.
    origin: 'generated',
    expiresAt: timestamp(expiration),
    rotation,
    attributes: {
      extractable: null,
      sensitive: null,
      exportable: null,
      plaintextBackup: null,
      usages,
      appliesProtection: usages === null ? null : usages.some((usage) => usage === 'encrypt' || usage === 'wrap' || usage === 'sign'),
    },
    tags: stringMap(tags),
    evidence: {
      ...declaredEvidence(resource, ['key_type', 'key_size', 'curve', 'key_opts', 'not_before_date', 'expiration_date']),
      rawAlgorithm: typeName,
      keyVaultId: vault,
      rotationPolicy: policy,
      ...(versionless ? { nativeId: versionless } : {}),
    },
  });
  return {
    item,
    sets: {
      algorithm: type,
      keyType: type,
      keySize: key.keyType === 'ec' ? curve : size,
      curve,
      protection: type,
      purpose: opts,
      'attributes.usages': opts,
      expiresAt: expiration,
      'rotation.automatic': automatic,
      'rotation.periodDays': period,
      tags,
    },
  };
};

export const MAPPERS: Readonly<Record<string, Mapper>> = {
  aws_kms_key: awsKmsKey,
  aws_kms_external_key: awsKmsExternalKey,
  aws_acm_certificate: awsAcmCertificate,
  google_kms_crypto_key: googleKmsCryptoKey,
  vault_transit_secret_backend_key: vaultTransitKey,
  vault_pki_secret_backend_role: vaultPkiRole,
  tls_private_key: tlsPrivateKey,
  tls_self_signed_cert: tlsCertificate(true),
  tls_locally_signed_cert: tlsCertificate(false),
  azurerm_key_vault_key: azureKeyVaultKey,
};

// --- References between the resources of one file ---------------------------------------------
// Some resources are no item of their own but say something about one: an alias names a key, a
// private key is what a certificate certifies. In a state the link is a value (a key id or ARN); in
// a plan creating both it is known only after apply, and the configuration's reference
// (`refs`, when the reader supplies it) names the resource instead.

const refsOf = (resource: ResourceInstance): Record<string, string> => (resource as { refs?: Record<string, string> }).refs ?? {};

/** An address split at the dots outside instance keys (a for_each key may hold dots: `a["x.y"]`). */
function addressParts(address: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  let depth = 0;
  for (let index = 0; index < address.length; index++) {
    const char = address[index]!;
    if (quoted) {
      current += char;
      if (char === '\\') current += address[++index] ?? '';
      else if (char === '"') quoted = false;
      continue;
    }
    if (char === '"') quoted = true;
    else if (char === '[') depth++;
    else if (char === ']') depth--;
    if (char === '.' && depth === 0) {
      parts.push(current);
      current = '';
    } else {
      current += char;
    }
  }
  parts.push(current);
  return parts;
}

/** The module path an address sits in, with its trailing dot: `module.m["a"].` for `module.m["a"].aws_kms_key.k`. */
function modulePrefix(address: string): string {
  const parts = addressParts(address);
  let at = 0;
  while (parts[at] === 'module' && parts.length > at + 2) at += 2;
  return at === 0 ? '' : `${parts.slice(0, at).join('.')}.`;
}

/**
 * The resource a reference names, without the attribute: `module.m.aws_kms_key.a[0].arn` ->
 * `module.m.aws_kms_key.a[0]`. Null for what is not a managed resource (data sources, variables
 * and locals name something else, and never match an address).
 */
export function referencedResource(reference: string): string | null {
  const parts = addressParts(reference);
  let at = 0;
  while (parts[at] === 'module' && parts.length > at + 2) at += 2;
  if (parts[at] === 'data' || parts[at] === 'module' || parts.length < at + 2 || parts.slice(at, at + 2).some((part) => part === '')) return null;
  return parts.slice(0, at + 2).join('.');
}

/**
 * The target `from.refs[name]` points at. A reference written inside a module is relative to it
 * and is tried there first. A configuration reference names a resource, not an instance
 * (`aws_kms_key.a` for `aws_kms_key.a[0]`): it is taken only when the resource has one instance.
 */
function referenced<T>(from: ResourceInstance, name: string, targets: ReadonlyMap<string, T>): T | undefined {
  const reference = refsOf(from)[name];
  const resource = typeof reference === 'string' ? referencedResource(reference) : null;
  if (resource === null) return undefined;
  const prefix = modulePrefix(from.address);
  const candidates = prefix !== '' && !resource.startsWith(prefix) ? [`${prefix}${resource}`, resource] : [resource];
  for (const candidate of candidates) {
    const exact = targets.get(candidate);
    if (exact !== undefined) return exact;
    const depth = addressParts(candidate).length;
    const instances = [...targets.keys()].filter((address) => address.startsWith(`${candidate}[`) && addressParts(address).length === depth);
    if (instances.length === 1) return targets.get(instances[0]!);
  }
  return undefined;
}

/** The declared items of one provider by resource address (an item not yet given its address is named by it). */
function itemsByAddress(items: InventoryItem[], provider: InventoryItem['provider']): Map<string, InventoryItem> {
  return new Map(items.filter((item) => item.provider === provider).map((item) => [item.address ?? item.name, item]));
}

const KMS_KEY_TYPES = new Set(['aws_kms_key', 'aws_kms_external_key']);

/**
 * After every resource of a file is mapped: each aws_kms_alias's name joins evidence.aliases of the
 * KMS key it targets, where the live collector lists a key's aliases (KD-RET-006 counts them; drift
 * matching uses them as names). The target is matched by target_key_arn or target_key_id (a key id
 * or ARN, known in a state) against the keys' key_id, id and arn, else by the reference to the key
 * resource. An alias whose name is known only after apply (name_prefix) is left out.
 */
export function linkAliases(resources: ResourceInstance[], items: InventoryItem[]): void {
  const keys = itemsByAddress(items, 'aws-kms');
  const keyResources = new Map<string, InventoryItem>();
  const byId = new Map<string, InventoryItem>();
  for (const resource of resources) {
    const item = KMS_KEY_TYPES.has(resource.type) ? keys.get(resource.address) : undefined;
    if (!item) continue;
    keyResources.set(resource.address, item);
    for (const name of ['key_id', 'id', 'arn']) {
      const id = text(attribute(resource, name));
      if (id) byId.set(id, item);
    }
  }
  for (const alias of resources) {
    if (alias.type !== 'aws_kms_alias') continue;
    const name = text(attribute(alias, 'name'));
    if (name === null) continue;
    const ids = [text(attribute(alias, 'target_key_arn')), text(attribute(alias, 'target_key_id'))];
    const key = ids.map((id) => (id === null ? undefined : byId.get(id))).find((found) => found !== undefined) ?? referenced(alias, 'target_key_id', keyResources);
    if (!key) continue;
    const listed = Array.isArray(key.evidence['aliases']) ? (key.evidence['aliases'] as unknown[]).filter((entry): entry is string => typeof entry === 'string') : [];
    key.evidence['aliases'] = [...new Set([...listed, name])].sort();
  }
}

/**
 * After every resource of a file is mapped: a certificate template whose key the plan does not
 * know takes the algorithm of the tls_private_key its private_key_pem refers to (through the
 * tls_cert_request a locally signed certificate certifies, whose subject names it also takes).
 * Only configuration references are followed: the private key's value is never read.
 */
export function linkCertificateKeys(resources: ResourceInstance[], items: InventoryItem[]): void {
  const certificates = itemsByAddress(items, 'x509-file');
  const privateKeys = new Map<string, InventoryItem>();
  const requests = new Map<string, ResourceInstance>();
  for (const resource of resources) {
    if (resource.type === 'tls_cert_request') requests.set(resource.address, resource);
    const item = resource.type === 'tls_private_key' ? certificates.get(resource.address) : undefined;
    if (item) privateKeys.set(resource.address, item);
  }
  for (const resource of resources) {
    if (resource.type !== 'tls_self_signed_cert' && resource.type !== 'tls_locally_signed_cert') continue;
    const certificate = certificates.get(resource.address);
    if (!certificate || certificate.certificate !== null || !certificate.algorithm.startsWith('UNKNOWN:')) continue;
    let owner: ResourceInstance | undefined = resource;
    if (resource.type === 'tls_locally_signed_cert') {
      owner = referenced(resource, 'cert_request_pem', requests);
      if (!owner) continue;
      certificate.evidence['certRequest'] = owner.address;
      certificate.evidence['commonName'] ??= text(attribute(owner, 'subject', 0, 'common_name'));
      const dnsNames = strings(attribute(owner, 'dns_names'));
      if (dnsNames.length > 0) certificate.evidence['dnsNames'] = dnsNames;
    }
    const key = referenced(owner, 'private_key_pem', privateKeys);
    if (!key || key.algorithm.startsWith('UNKNOWN:')) continue;
    Object.assign(certificate, { algorithm: key.algorithm, keyType: key.keyType, keySize: key.keySize, curve: key.curve });
    certificate.evidence['keyFrom'] = key.address ?? key.name;
  }
}
