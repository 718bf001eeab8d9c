import { ecKey, rsaKey, unknownAlgorithm, type CanonicalKey } from '../../inventory/algorithms.ts';
import type { InventoryItem, ItemState, KeyVersion, Origin, Protection, Purpose, Rotation } from '../../inventory/types.ts';
import { baseItem } from '../../inventory/types.ts';
import { rfc3339FromSeconds } from '../../util/rfc3339.ts';
import { effectiveGcpAccess, type GcpBinding } from './access.ts';

export { gcpAccess, type GcpBinding } from './access.ts';

// Pure mapping from Cloud KMS resources (as the Node client returns them) to the normalized item.

export interface Timestamp {
  seconds?: string | number | { toString(): string } | null;
  nanos?: number | null;
}

export interface GcpCryptoKeyVersion {
  name?: string | null;
  state?: string | null;
  protectionLevel?: string | null;
  algorithm?: string | null;
  createTime?: Timestamp | null;
  destroyTime?: Timestamp | null;
  destroyEventTime?: Timestamp | null;
  importJob?: string | null;
  importTime?: Timestamp | null;
}

export interface GcpCryptoKey {
  name?: string | null;
  primary?: GcpCryptoKeyVersion | null;
  purpose?: string | null;
  createTime?: Timestamp | null;
  nextRotationTime?: Timestamp | null;
  rotationPeriod?: Timestamp | null;
  versionTemplate?: { protectionLevel?: string | null; algorithm?: string | null } | null;
  labels?: Record<string, string> | null;
  importOnly?: boolean | null;
  destroyScheduledDuration?: Timestamp | null;
  cryptoKeyBackend?: string | null;
}

export interface GcpKeyFacts {
  key: GcpCryptoKey;
  sourceId: string;
  /** null when ListCryptoKeyVersions failed: unknown. */
  versions: GcpCryptoKeyVersion[] | null;
  /** null when GetIamPolicy failed or was not called. */
  bindings: GcpBinding[] | null;
  /** The key ring's bindings, which apply to the key too: null when the ring's GetIamPolicy failed, absent when it was not read. */
  ringBindings?: GcpBinding[] | null;
}

export function seconds(value: Timestamp | null | undefined): number | null {
  if (!value || value.seconds === undefined || value.seconds === null) return null;
  const whole = Number(value.seconds.toString());
  return Number.isFinite(whole) ? whole + (value.nanos ?? 0) / 1e9 : null;
}

export function timestamp(value: Timestamp | null | undefined): string | null {
  const epoch = seconds(value);
  if (epoch === null || epoch <= 0) return null;
  return rfc3339FromSeconds(epoch);
}

/** Cloud KMS algorithm names (CryptoKeyVersionAlgorithm) in canonical form. */
export function gcpAlgorithm(algorithm: string | null | undefined): CanonicalKey {
  const name = algorithm ?? '';
  if (name === 'GOOGLE_SYMMETRIC_ENCRYPTION' || name === 'EXTERNAL_SYMMETRIC_ENCRYPTION') {
    return { algorithm: 'AES-256', keyType: 'symmetric', keySize: 256, curve: null };
  }
  const aes = /^AES_(128|256)_(GCM|CBC|CTR)$/.exec(name);
  if (aes) return { algorithm: `AES-${aes[1]}`, keyType: 'symmetric', keySize: Number(aes[1]), curve: null };
  const rsa = /^RSA_(?:SIGN|DECRYPT)_[A-Z0-9_]*?_(2048|3072|4096)(?:_|$)/.exec(name);
  if (rsa) return rsaKey(Number(rsa[1]));
  const curves: Record<string, string> = { EC_SIGN_P256_SHA256: 'P-256', EC_SIGN_P384_SHA384: 'P-384', EC_SIGN_SECP256K1_SHA256: 'secp256k1' };
  if (curves[name]) return ecKey(curves[name]);
  if (name === 'EC_SIGN_ED25519') return { algorithm: 'Ed25519', keyType: 'ec', keySize: 256, curve: 'Ed25519' };
  const hmac = /^HMAC_SHA(1|224|256|384|512)$/.exec(name);
  if (hmac) {
    const bits = hmac[1] === '1' ? 160 : Number(hmac[1]);
    return { algorithm: `HMAC-SHA${hmac[1]}`, keyType: 'hmac', keySize: bits, curve: null };
  }
  const mlDsa = /^PQ_SIGN_ML_DSA_(44|65|87)/.exec(name);
  if (mlDsa) return { algorithm: `ML-DSA-${mlDsa[1]}`, keyType: 'pqc', keySize: null, curve: null };
  const slhDsa = /^PQ_SIGN_SLH_DSA_(.+)$/.exec(name);
  if (slhDsa) return { algorithm: `SLH-DSA-${slhDsa[1]!.replaceAll('_', '-')}`, keyType: 'pqc', keySize: null, curve: null };
  const mlKem = /^ML_KEM_(512|768|1024)$/.exec(name);
  if (mlKem) return { algorithm: `ML-KEM-${mlKem[1]}`, keyType: 'pqc', keySize: null, curve: null };
  if (name === 'KEM_XWING') return { algorithm: 'X-Wing', keyType: 'pqc', keySize: null, curve: null };
  return unknownAlgorithm(name || 'none');
}

const PURPOSES: Record<string, Purpose> = {
  ENCRYPT_DECRYPT: 'encrypt',
  RAW_ENCRYPT_DECRYPT: 'encrypt',
  ASYMMETRIC_DECRYPT: 'encrypt',
  ASYMMETRIC_SIGN: 'sign',
  MAC: 'mac',
  KEY_ENCAPSULATION: 'agree',
};

const PROTECTION: Record<string, Protection> = { SOFTWARE: 'software', HSM: 'hsm', HSM_SINGLE_TENANT: 'hsm', EXTERNAL: 'external', EXTERNAL_VPC: 'external' };

/** Purposes whose versions decrypt (or unwrap): an old enabled version of these still opens old data. */
const DECRYPTING = new Set(['ENCRYPT_DECRYPT', 'RAW_ENCRYPT_DECRYPT', 'ASYMMETRIC_DECRYPT', 'KEY_ENCAPSULATION']);

const LIVE_VERSION_STATES = new Set(['ENABLED', 'DISABLED', 'PENDING_GENERATION', 'PENDING_IMPORT']);
const DESTROYED_STATES = new Set(['DESTROYED', 'PENDING_EXTERNAL_DESTRUCTION', 'EXTERNAL_DESTRUCTION_FAILED']);

function versionState(state: string | null | undefined): ItemState {
  switch (state) {
    case 'ENABLED':
      return 'enabled';
    case 'DISABLED':
      return 'disabled';
    case 'DESTROY_SCHEDULED':
      return 'pending-deletion';
    case 'DESTROYED':
    case 'PENDING_EXTERNAL_DESTRUCTION':
    case 'EXTERNAL_DESTRUCTION_FAILED':
      return 'destroyed';
    default:
      return 'unavailable';
  }
}

const versionId = (name: string | null | undefined) => (name ?? '').split('/').pop() ?? '';

export function gcpVersions(key: GcpCryptoKey, versions: GcpCryptoKeyVersion[]): KeyVersion[] {
  const primaryId = key.primary?.name ? versionId(key.primary.name) : null;
  const decrypting = DECRYPTING.has(key.purpose ?? '');
  const ordered = [...versions].sort((a, b) => (seconds(a.createTime) ?? 0) - (seconds(b.createTime) ?? 0));
  return ordered.map((version, index) => {
    const id = versionId(version.name);
    const next = ordered[index + 1];
    const primary = id === primaryId;
    return {
      id,
      state: versionState(version.state),
      createdAt: timestamp(version.createTime),
      primary,
      // Only ENABLED versions take cryptographic requests; signing and MAC versions never decrypt.
      decryptable: decrypting ? version.state === 'ENABLED' : false,
      // A version is superseded when the next one is created (Cloud KMS keeps no other record).
      supersededAt: primary || !next ? null : timestamp(next.createTime),
    };
  });
}

/** The key is as usable as its versions: any enabled one makes it enabled. */
export function gcpKeyState(key: GcpCryptoKey, versions: GcpCryptoKeyVersion[] | null): ItemState {
  const states = (versions ?? (key.primary ? [key.primary] : [])).map((version) => version.state ?? '');
  if (states.length === 0) return 'unavailable';
  if (key.primary?.state) {
    if (key.primary.state === 'ENABLED') return 'enabled';
    if (key.primary.state === 'DISABLED' && states.every((state) => state !== 'ENABLED')) return 'disabled';
  }
  if (states.includes('ENABLED')) return 'enabled';
  if (states.some((state) => LIVE_VERSION_STATES.has(state))) return states.includes('DISABLED') ? 'disabled' : 'unavailable';
  if (states.includes('DESTROY_SCHEDULED')) return 'pending-deletion';
  if (states.every((state) => DESTROYED_STATES.has(state))) return 'destroyed';
  return 'unavailable'; // generation or import failed: no usable material, but nothing was destroyed
}

export function gcpRotation(key: GcpCryptoKey): Rotation {
  if (key.purpose !== 'ENCRYPT_DECRYPT') {
    return { supported: false, automatic: false, periodDays: null, lastRotatedAt: null, nextRotationAt: null };
  }
  const period = seconds(key.rotationPeriod);
  return {
    supported: true,
    automatic: period !== null && period > 0,
    periodDays: period !== null && period > 0 ? Math.round((period / 86400) * 100) / 100 : null,
    lastRotatedAt: timestamp(key.primary?.createTime),
    nextRotationAt: timestamp(key.nextRotationTime),
  };
}

const scheduledVersions = (versions: GcpCryptoKeyVersion[] | null) => (versions ?? []).filter((version) => version.state === 'DESTROY_SCHEDULED');

/**
 * Cloud KMS never deletes a key, only its versions: any version in DESTROY_SCHEDULED is a scheduled
 * deletion, on an otherwise enabled key too (its data under that version is lost on the date).
 * scheduledFor is the latest destroy time, when everything scheduled is gone. The remediation
 * executor reads deletions back through this same function.
 */
export function gcpDeletion(versions: GcpCryptoKeyVersion[] | null): { scheduledFor: string | null } | null {
  const times = scheduledVersions(versions)
    .map((version) => seconds(version.destroyTime))
    .filter((value): value is number => value !== null);
  return times.length > 0 ? { scheduledFor: timestamp({ seconds: Math.max(...times) }) } : null;
}

function destroyScheduledEvidence(versions: GcpCryptoKeyVersion[] | null): { destroyScheduled?: { version: string; destroyTime: string | null }[] } {
  const scheduled = scheduledVersions(versions);
  return scheduled.length > 0 ? { destroyScheduled: scheduled.map((version) => ({ version: versionId(version.name), destroyTime: timestamp(version.destroyTime) })) } : {};
}

/**
 * When the key entered its state, where Cloud KMS records it: a version's destroy_time is the
 * moment DestroyCryptoKeyVersion ran plus the key's (immutable) destroy_scheduled_duration, so a
 * key pending deletion got there when its last live version was scheduled; a destroyed key when its
 * last version's destroy_event_time passed. Nothing records when a version was disabled or enabled.
 */
export function gcpStateSince(key: GcpCryptoKey, versions: GcpCryptoKeyVersion[] | null, state: ItemState): { at: string; source: string } | null {
  if (versions === null || versions.length === 0) return null;
  if (state === 'pending-deletion') {
    const duration = seconds(key.destroyScheduledDuration);
    const times = scheduledVersions(versions).map((version) => seconds(version.destroyTime));
    if (duration === null || times.length === 0 || times.some((time) => time === null)) return null;
    const at = timestamp({ seconds: Math.max(...(times as number[])) - duration });
    return at ? { at, source: 'gcp-destroy-time' } : null;
  }
  if (state === 'destroyed') {
    const times = versions.map((version) => seconds(version.destroyEventTime));
    if (times.some((time) => time === null)) return null;
    const at = timestamp({ seconds: Math.max(...(times as number[])) });
    return at ? { at, source: 'gcp-destroy-event-time' } : null;
  }
  return null;
}

export function parseKeyName(name: string): { project: string; location: string; keyRing: string; key: string } {
  const parts = name.split('/');
  return { project: parts[1] ?? '', location: parts[3] ?? '', keyRing: parts[5] ?? '', key: parts[7] ?? '' };
}

export function gcpItem(facts: GcpKeyFacts): InventoryItem {
  const { key } = facts;
  const name = key.name ?? 'unknown';
  const where = parseKeyName(name);
  const template = key.versionTemplate ?? {};
  const algorithmName = key.primary?.algorithm ?? template.algorithm ?? null;
  const canonical = gcpAlgorithm(algorithmName);
  const protectionLevel = key.primary?.protectionLevel ?? template.protectionLevel ?? '';
  const versions = facts.versions === null ? null : gcpVersions(key, facts.versions);
  const state = gcpKeyState(key, facts.versions);
  const imported = Boolean(key.primary?.importJob) || (facts.versions ?? []).some((version) => Boolean(version.importJob)) || key.importOnly === true;
  const origin: Origin = protectionLevel.startsWith('EXTERNAL') ? 'external' : imported ? 'imported' : 'generated';
  const since = gcpStateSince(key, facts.versions, state);
  const effective = effectiveGcpAccess(facts.bindings, facts.ringBindings);
  const access = effective.access;
  return baseItem({
    uid: name,
    kind: 'key',
    provider: 'gcp-kms',
    sourceId: facts.sourceId,
    name: where.key,
    location: `${where.project}/${where.location}/${where.keyRing}`,
    managedBy: 'customer',
    state,
    algorithm: canonical.algorithm,
    keyType: canonical.keyType,
    keySize: canonical.keySize,
    curve: canonical.curve,
    purpose: PURPOSES[key.purpose ?? ''] ?? 'unknown',
    protection: PROTECTION[protectionLevel] ?? 'unknown',
    origin,
    createdAt: timestamp(key.createTime),
    expiresAt: null,
    rotation: gcpRotation(key),
    versions,
    stateSince: since?.at ?? null,
    deletion: gcpDeletion(facts.versions),
    attributes: null,
    access,
    tags: { ...(key.labels ?? {}) },
    evidence: {
      purpose: key.purpose ?? null,
      rawAlgorithm: algorithmName,
      protectionLevel: protectionLevel || null,
      primaryVersion: key.primary?.name ? versionId(key.primary.name) : null,
      rotationPeriodSeconds: seconds(key.rotationPeriod),
      nextRotationTime: timestamp(key.nextRotationTime),
      destroyScheduledDurationSeconds: seconds(key.destroyScheduledDuration),
      project: where.project,
      region: where.location,
      keyRing: where.keyRing,
      versionCount: facts.versions?.length ?? null,
      ...destroyScheduledEvidence(facts.versions),
      ...(since ? { stateSinceSource: since.source } : {}),
      ...(key.importOnly ? { importOnly: true } : {}),
      ...(key.cryptoKeyBackend ? { cryptoKeyBackend: key.cryptoKeyBackend } : {}),
      ...(access?.public ? { publicPrincipals: effective.publicMembers, publicActions: effective.publicRoles, publicGrantSource: effective.publicGrantSource } : {}),
      ...(facts.ringBindings === null ? { keyRingIamCollected: false } : {}),
    },
  });
}
