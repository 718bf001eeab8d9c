import { ecKey, rsaKey, unknownAlgorithm, type CanonicalKey } from '../../inventory/algorithms.ts';
import type { InventoryItem, KeyUsage, KeyVersion, Purpose } from '../../inventory/types.ts';
import { baseItem } from '../../inventory/types.ts';
import { rfc3339FromSeconds } from '../../util/rfc3339.ts';

// Pure mapping from Vault HTTP API responses (transit key read, PKI key and role reads).

export interface TransitKeyData {
  name?: string;
  type?: string;
  keys?: Record<string, number | { creation_time?: string; name?: string; public_key?: string }>;
  latest_version?: number;
  min_decryption_version?: number;
  min_encryption_version?: number;
  auto_rotate_period?: number | string;
  exportable?: boolean;
  allow_plaintext_backup?: boolean;
  deletion_allowed?: boolean;
  derived?: boolean;
  imported_key?: boolean;
  key_size?: number;
  managed_key_name?: string;
  supports_encryption?: boolean;
  supports_decryption?: boolean;
  supports_signing?: boolean;
}

/** Vault durations: integer seconds, or Go duration strings such as "720h" or "1h30m". */
export function durationSeconds(value: number | string | undefined | null): number | null {
  if (value === undefined || value === null || value === '') return null;
  if (typeof value === 'number') return value;
  if (/^\d+$/.test(value)) return Number(value);
  let total = 0;
  let matched = false;
  for (const [, amount, unit] of value.matchAll(/(\d+(?:\.\d+)?)(h|m|s|ms)/g)) {
    matched = true;
    total += Number(amount) * ({ h: 3600, m: 60, s: 1, ms: 0.001 } as Record<string, number>)[unit!]!;
  }
  return matched ? total : null;
}

export function transitAlgorithm(type: string | undefined, keySize?: number): CanonicalKey {
  switch (type) {
    case 'aes128-gcm96':
      return { algorithm: 'AES-128', keyType: 'symmetric', keySize: 128, curve: null };
    case 'aes256-gcm96':
      return { algorithm: 'AES-256', keyType: 'symmetric', keySize: 256, curve: null };
    case 'chacha20-poly1305':
      return { algorithm: 'ChaCha20-Poly1305', keyType: 'symmetric', keySize: 256, curve: null };
    case 'xchacha20-poly1305':
      return { algorithm: 'XChaCha20-Poly1305', keyType: 'symmetric', keySize: 256, curve: null };
    case 'ed25519':
      return { algorithm: 'Ed25519', keyType: 'ec', keySize: 256, curve: 'Ed25519' };
    case 'ecdsa-p256':
      return ecKey('P-256');
    case 'ecdsa-p384':
      return ecKey('P-384');
    case 'ecdsa-p521':
      return ecKey('P-521');
    case 'rsa-2048':
    case 'rsa-3072':
    case 'rsa-4096':
      return rsaKey(Number(type.slice(4)));
    case 'hmac': {
      const bits = keySize ? keySize * 8 : null;
      return { algorithm: 'HMAC-SHA256', keyType: 'hmac', keySize: bits, curve: null };
    }
    default:
      return unknownAlgorithm(type ?? 'none');
  }
}

function transitPurpose(type: string | undefined): Purpose {
  if (!type) return 'unknown';
  if (type.startsWith('aes') || type.includes('chacha') || type.startsWith('rsa')) return 'encrypt';
  if (type === 'ed25519' || type.startsWith('ecdsa')) return 'sign';
  if (type === 'hmac') return 'mac';
  return 'unknown';
}

/**
 * What the key type lets the key do, from the read's supports_* flags: Vault has no per-key switch
 * (an RSA key both decrypts and signs), only ACL policies on the encrypt, decrypt and sign paths.
 * HMAC is left out: transit keeps a separate HMAC key for each version.
 */
function transitUsages(data: TransitKeyData): { usages?: KeyUsage[]; usagesFromKeyType?: boolean } {
  const flags: [boolean | undefined, KeyUsage[]][] = [
    [data.supports_encryption, ['encrypt']],
    [data.supports_decryption, ['decrypt']],
    [data.supports_signing, ['sign', 'verify']],
  ];
  if (flags.every(([flag]) => flag === undefined)) return {};
  return { usages: flags.flatMap(([flag, usages]) => (flag === true ? usages : [])), usagesFromKeyType: true };
}

function creationSeconds(entry: number | { creation_time?: string } | undefined): number | null {
  if (entry === undefined) return null;
  if (typeof entry === 'number') return entry;
  const parsed = entry.creation_time ? Date.parse(entry.creation_time) : NaN;
  return Number.isNaN(parsed) ? null : parsed / 1000;
}

const iso = (epochSeconds: number | null): string | null =>
  epochSeconds === null || epochSeconds <= 0 ? null : rfc3339FromSeconds(epochSeconds);

export function transitVersions(data: TransitKeyData): KeyVersion[] {
  const latest = data.latest_version ?? 0;
  const minDecryption = data.min_decryption_version ?? 1;
  const ids = Object.keys(data.keys ?? {}).map(Number).filter(Number.isFinite).sort((a, b) => a - b);
  const decrypts = data.supports_encryption !== false && transitPurpose(data.type) === 'encrypt';
  return ids.map((id, index) => {
    const next = ids[index + 1];
    return {
      id: String(id),
      state: 'enabled',
      createdAt: iso(creationSeconds(data.keys?.[String(id)])),
      primary: id === latest,
      // Versions below min_decryption_version are refused by Vault; the rest still decrypt.
      decryptable: decrypts ? id >= minDecryption : false,
      supersededAt: id === latest || next === undefined ? null : iso(creationSeconds(data.keys?.[String(next)])),
    };
  });
}

export interface VaultLocation {
  address: string;
  namespace: string | null;
  mount: string;
  sourceId: string;
}

/** "Vault address + mount + name", with the namespace when there is one. */
export function vaultUid(location: VaultLocation, path: string): string {
  const namespace = location.namespace ? `${location.namespace.replace(/^\/|\/$/g, '')}/` : '';
  return `${location.address.replace(/\/$/, '')}/v1/${namespace}${location.mount.replace(/^\/|\/$/g, '')}/${path}`;
}

export function transitItem(location: VaultLocation, name: string, data: TransitKeyData): InventoryItem {
  const canonical = transitAlgorithm(data.type, data.key_size);
  const versions = transitVersions(data);
  const latest = versions.find((version) => version.primary);
  const period = durationSeconds(data.auto_rotate_period);
  const lastRotated = latest?.createdAt ?? null;
  const nextRotation = period && period > 0 && lastRotated ? iso(Date.parse(lastRotated) / 1000 + period) : null;
  const first = versions[0]?.createdAt ?? null;
  return baseItem({
    uid: vaultUid(location, `keys/${name}`),
    kind: 'key',
    provider: 'vault-transit',
    sourceId: location.sourceId,
    name,
    location: `${location.namespace ? `${location.namespace}/` : ''}${location.mount}`,
    managedBy: 'customer',
    // Transit has no disabled state (deletion is immediate): a key is enabled from its creation, at
    // or before its earliest version still kept (trimmed versions are no longer listed).
    state: 'enabled',
    stateSince: first,
    algorithm: canonical.algorithm,
    keyType: canonical.keyType,
    keySize: canonical.keySize,
    curve: canonical.curve,
    purpose: transitPurpose(data.type),
    // Transit keys live in Vault's barrier-encrypted storage; managed keys live in an HSM or KMS.
    protection: data.type === 'managed_key' ? 'hsm' : 'software',
    origin: data.imported_key ? 'imported' : data.type === 'managed_key' ? 'external' : 'generated',
    createdAt: first,
    rotation: {
      supported: data.type !== 'managed_key',
      automatic: period === null ? null : period > 0,
      periodDays: period && period > 0 ? Math.round((period / 86400) * 100) / 100 : null,
      lastRotatedAt: lastRotated,
      nextRotationAt: nextRotation,
    },
    versions,
    attributes: {
      extractable: null,
      sensitive: null,
      exportable: data.exportable ?? null,
      plaintextBackup: data.allow_plaintext_backup ?? null,
      ...transitUsages(data),
    },
    evidence: {
      type: data.type ?? null,
      rawAlgorithm: data.type ?? null,
      latest_version: data.latest_version ?? null,
      min_decryption_version: data.min_decryption_version ?? null,
      min_encryption_version: data.min_encryption_version ?? null,
      auto_rotate_period: data.auto_rotate_period ?? null,
      exportable: data.exportable ?? null,
      allow_plaintext_backup: data.allow_plaintext_backup ?? null,
      deletion_allowed: data.deletion_allowed ?? null,
      derived: data.derived ?? null,
      ...(first ? { stateSinceSource: 'vault-earliest-version' } : {}),
      mount: location.mount,
      ...(location.namespace ? { namespace: location.namespace } : {}),
    },
  });
}

export interface PkiRoleData {
  max_ttl?: number | string;
  ttl?: number | string;
  key_type?: string;
  key_bits?: number;
  allowed_domains?: string[];
}

/**
 * A PKI role is not a certificate, but it decides how long the certificates it issues live:
 * an item the certificate rules can judge (its `evidence.roleMaxTtlSeconds`).
 */
export function pkiRoleItem(location: VaultLocation, name: string, data: PkiRoleData, mountMaxTtlSeconds: number | null): InventoryItem {
  const key = data.key_type === 'rsa' ? rsaKey(data.key_bits || 2048) : data.key_type === 'ec' ? ecKey(`P-${data.key_bits || 256}`) : data.key_type === 'ed25519' ? { algorithm: 'Ed25519', keyType: 'ec' as const, keySize: 256, curve: 'Ed25519' } : unknownAlgorithm(data.key_type ?? 'any');
  const roleMax = durationSeconds(data.max_ttl);
  // max_ttl 0 means "the mount's maximum lease TTL".
  const effective = roleMax && roleMax > 0 ? roleMax : mountMaxTtlSeconds;
  return baseItem({
    uid: vaultUid(location, `roles/${name}`),
    kind: 'certificate',
    provider: 'vault-pki',
    sourceId: location.sourceId,
    name: `role ${name}`,
    location: location.mount,
    algorithm: key.algorithm,
    keyType: key.keyType,
    keySize: key.keySize,
    curve: key.curve,
    purpose: 'tls',
    certificate: null,
    evidence: {
      pkiRole: name,
      roleMaxTtlSeconds: effective,
      max_ttl: data.max_ttl ?? null,
      ttl: data.ttl ?? null,
      key_type: data.key_type ?? null,
      key_bits: data.key_bits ?? null,
      mount: location.mount,
    },
  });
}
