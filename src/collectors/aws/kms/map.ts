import type { GetKeyRotationStatusResponse, GrantListEntry, KeyMetadata, RotationsListEntry } from '@aws-sdk/client-kms';
import { ecKey, rsaKey, unknownAlgorithm, type CanonicalKey } from '../../../inventory/algorithms.ts';
import type { InventoryItem, ItemState, Origin, Protection, Purpose, Replication, Rotation } from '../../../inventory/types.ts';
import { baseItem } from '../../../inventory/types.ts';
import { rfc3339OrNull } from '../../../util/rfc3339.ts';
import type { PolicyAccess } from '../key-policy.ts';
import type { StateChange } from './cloudtrail.ts';
import { kmsAccess } from './grants.ts';

// Pure mapping from KMS API responses to the normalized item; the collector only fetches.

export interface KmsKeyFacts {
  metadata: KeyMetadata;
  region: string;
  sourceId: string;
  aliases: string[];
  /** null when the call was not made or was denied: unknown, never "off". */
  rotationStatus: GetKeyRotationStatusResponse | null;
  rotations: RotationsListEntry[] | null;
  tags: Record<string, string> | null;
  access: PolicyAccess | null;
  /** null when ListGrants was not called (AWS managed keys) or failed: unknown, never "no grants". */
  grants?: GrantListEntry[] | null;
  /** From CloudTrail (opt-in): the event that put a disabled or pending-deletion key in its state; null when unknown. */
  stateChange?: StateChange | null;
}

/** A SYMMETRIC_DEFAULT key can only encrypt; some emulators omit KeyUsage for it. */
export function keyUsage(metadata: KeyMetadata): string | undefined {
  return metadata.KeyUsage ?? (metadata.KeySpec === 'SYMMETRIC_DEFAULT' ? 'ENCRYPT_DECRYPT' : undefined);
}

/** Rotation applies to customer-managed symmetric encryption keys whose material KMS generated. */
export function rotationSupported(metadata: KeyMetadata): boolean {
  return (
    metadata.KeyManager === 'CUSTOMER' &&
    metadata.KeySpec === 'SYMMETRIC_DEFAULT' &&
    keyUsage(metadata) === 'ENCRYPT_DECRYPT' &&
    metadata.Origin === 'AWS_KMS'
  );
}

export function kmsAlgorithm(keySpec: string | undefined, region: string): CanonicalKey {
  switch (keySpec) {
    case 'SYMMETRIC_DEFAULT':
      // China Regions back SYMMETRIC_DEFAULT with SM4 (KMS key spec reference).
      return region.startsWith('cn-')
        ? { algorithm: 'SM4-128', keyType: 'symmetric', keySize: 128, curve: null }
        : { algorithm: 'AES-256', keyType: 'symmetric', keySize: 256, curve: null };
    case 'RSA_2048':
    case 'RSA_3072':
    case 'RSA_4096':
      return rsaKey(Number(keySpec.slice(4)));
    case 'ECC_NIST_P256':
      return ecKey('P-256');
    case 'ECC_NIST_P384':
      return ecKey('P-384');
    case 'ECC_NIST_P521':
      return ecKey('P-521');
    case 'ECC_SECG_P256K1':
      return ecKey('secp256k1');
    case 'ECC_NIST_EDWARDS25519':
      return { algorithm: 'Ed25519', keyType: 'ec', keySize: 256, curve: 'Ed25519' };
    case 'SM2':
      return { algorithm: 'SM2', keyType: 'ec', keySize: 256, curve: 'SM2' };
    case 'HMAC_224':
    case 'HMAC_256':
    case 'HMAC_384':
    case 'HMAC_512': {
      const bits = Number(keySpec.slice(5));
      return { algorithm: `HMAC-SHA${bits}`, keyType: 'hmac', keySize: bits, curve: null };
    }
    case 'ML_DSA_44':
    case 'ML_DSA_65':
    case 'ML_DSA_87':
      return { algorithm: keySpec.replaceAll('_', '-'), keyType: 'pqc', keySize: null, curve: null };
    default:
      return unknownAlgorithm(keySpec ?? 'none');
  }
}

/** KMS KeyState → the inventory's state (remediation reads keys back through the same table). */
export const STATES: Record<string, ItemState> = {
  Enabled: 'enabled',
  Disabled: 'disabled',
  PendingDeletion: 'pending-deletion',
  PendingReplicaDeletion: 'pending-deletion',
  PendingImport: 'unavailable',
  Unavailable: 'unavailable',
  Creating: 'unavailable',
  Updating: 'enabled',
};

const PURPOSES: Record<string, Purpose> = {
  ENCRYPT_DECRYPT: 'encrypt',
  SIGN_VERIFY: 'sign',
  GENERATE_VERIFY_MAC: 'mac',
  KEY_AGREEMENT: 'agree',
};

// KMS keeps key material in FIPS-validated HSMs, imported material included; an external key
// store keeps it outside AWS.
const PROTECTION: Record<string, Protection> = { AWS_KMS: 'hsm', EXTERNAL: 'hsm', AWS_CLOUDHSM: 'hsm', EXTERNAL_KEY_STORE: 'external' };
const ORIGINS: Record<string, Origin> = { AWS_KMS: 'generated', AWS_CLOUDHSM: 'generated', EXTERNAL: 'imported', EXTERNAL_KEY_STORE: 'external' };

export function kmsRotation(facts: Pick<KmsKeyFacts, 'metadata' | 'rotationStatus' | 'rotations'>): Rotation {
  const { metadata, rotationStatus, rotations } = facts;
  if (metadata.KeyManager === 'AWS') {
    // AWS managed keys rotate every year, by AWS; nothing to call, nothing the customer can change.
    return { supported: true, automatic: true, periodDays: 365, lastRotatedAt: null, nextRotationAt: null };
  }
  if (!rotationSupported(metadata)) {
    return { supported: false, automatic: false, periodDays: null, lastRotatedAt: null, nextRotationAt: null };
  }
  const last = (rotations ?? [])
    .map((rotation) => rotation.RotationDate)
    .filter((date): date is Date => date instanceof Date)
    .sort((a, b) => b.getTime() - a.getTime())[0];
  return {
    supported: true,
    automatic: rotationStatus?.KeyRotationEnabled ?? null,
    periodDays: rotationStatus?.RotationPeriodInDays ?? null,
    lastRotatedAt: rotations === null ? null : rfc3339OrNull(last),
    nextRotationAt: rfc3339OrNull(rotationStatus?.NextRotationDate),
  };
}

/**
 * Which regions hold this key material: a multi-Region key's primary and replica regions (DescribeKey
 * lists them all, on the primary and on each replica), else the key's own region.
 */
export function kmsReplication(metadata: KeyMetadata, region: string): Replication {
  const configuration = metadata.MultiRegionConfiguration;
  if (!metadata.MultiRegion) return { multiRegion: false, role: null, regions: [region] };
  const regions = [region, configuration?.PrimaryKey?.Region, ...(configuration?.ReplicaKeys ?? []).map((replica) => replica.Region)];
  const type = configuration?.MultiRegionKeyType;
  return {
    multiRegion: true,
    role: type === 'PRIMARY' ? 'primary' : type === 'REPLICA' ? 'replica' : null,
    regions: [...new Set(regions.filter((name): name is string => typeof name === 'string' && name !== ''))].sort(),
  };
}

export function kmsItem(facts: KmsKeyFacts): InventoryItem {
  const { metadata, region } = facts;
  const key = kmsAlgorithm(metadata.KeySpec, region);
  const arn = metadata.Arn ?? `arn:aws:kms:${region}:${metadata.AWSAccountId ?? 'unknown'}:key/${metadata.KeyId}`;
  const aliases = [...facts.aliases].sort();
  return baseItem({
    uid: arn,
    kind: 'key',
    provider: 'aws-kms',
    sourceId: facts.sourceId,
    name: aliases[0] ?? metadata.KeyId ?? arn,
    location: `${metadata.AWSAccountId ?? 'unknown'}/${region}`,
    managedBy: metadata.KeyManager === 'AWS' ? 'provider' : 'customer',
    state: STATES[metadata.KeyState ?? ''] ?? 'unavailable',
    stateSince: facts.stateChange?.since ?? null,
    algorithm: key.algorithm,
    keyType: key.keyType,
    keySize: key.keySize,
    curve: key.curve,
    purpose: PURPOSES[keyUsage(metadata) ?? ''] ?? 'unknown',
    protection: PROTECTION[metadata.Origin ?? ''] ?? 'unknown',
    origin: ORIGINS[metadata.Origin ?? ''] ?? null,
    createdAt: rfc3339OrNull(metadata.CreationDate),
    expiresAt: rfc3339OrNull(metadata.ValidTo),
    rotation: kmsRotation(facts),
    versions: null,
    deletion: metadata.DeletionDate || metadata.KeyState === 'PendingDeletion' ? { scheduledFor: rfc3339OrNull(metadata.DeletionDate) } : null,
    attributes: null,
    access: kmsAccess(facts.access, facts.grants ?? null, metadata.AWSAccountId ?? null),
    tags: facts.tags ?? {},
    evidence: {
      KeyId: metadata.KeyId,
      KeySpec: metadata.KeySpec,
      KeyUsage: metadata.KeyUsage,
      KeyState: metadata.KeyState,
      Origin: metadata.Origin,
      KeyManager: metadata.KeyManager,
      MultiRegion: metadata.MultiRegion ?? false,
      ...(metadata.MultiRegionConfiguration?.MultiRegionKeyType ? { MultiRegionKeyType: metadata.MultiRegionConfiguration.MultiRegionKeyType } : {}),
      ...(metadata.CustomKeyStoreId ? { CustomKeyStoreId: metadata.CustomKeyStoreId } : {}),
      ...(metadata.ExpirationModel ? { ExpirationModel: metadata.ExpirationModel } : {}),
      ...(facts.rotationStatus?.RotationPeriodInDays !== undefined ? { RotationPeriodInDays: facts.rotationStatus.RotationPeriodInDays } : {}),
      rawAlgorithm: metadata.KeySpec ?? null,
      accountId: metadata.AWSAccountId ?? null,
      region,
      aliases,
      ...(facts.stateChange ? { stateSinceSource: 'cloudtrail', stateSinceEvent: facts.stateChange.event } : {}),
      ...(facts.rotations ? { rotationCount: facts.rotations.length } : {}),
      ...(facts.tags === null ? { tagsCollected: false } : {}),
      ...(facts.grants ? { grantCount: facts.grants.length } : {}),
      ...(facts.grants === null && metadata.KeyManager === 'CUSTOMER' ? { grantsCollected: false } : {}),
      ...(facts.access?.public
        ? { publicPrincipals: facts.access.publicPrincipals, publicActions: facts.access.publicActions, publicGrantSource: facts.access.publicGrantSource }
        : {}),
    },
    // A key whose DescribeKey failed has no KeyManager: its regions are unknown.
    replication: metadata.KeyManager ? kmsReplication(metadata, region) : null,
  });
}
