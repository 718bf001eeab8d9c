import type { InventoryItem, KeyVersion } from '../../inventory/types.ts';
import { allowedRotationDays } from '../allowed-period.ts';
import type { FixProposal, FixRequest, KeyStateView, LoggedChange, PlannedCall, ProposedAction, RemediationDeclaration } from '../types.ts';

/** rotation_period: "Must be at least 24 hours and at most 876,000 hours." */
export const GCP_MIN_ROTATION_DAYS = 1;
export const GCP_MAX_ROTATION_DAYS = 36_500;
/** The update_mask of every rotation schedule change: both fields, so an omitted one is cleared. */
export const ROTATION_MASK = 'rotation_period,next_rotation_time';
/** UpdateCryptoKeyPrimaryVersion's version comes from the CreateCryptoKeyVersion call before it. */
export const CREATED_VERSION = 'CreateCryptoKeyVersion';

const DAY_MS = 86_400_000;
const KEY_NAME = /^projects\/[^/]+\/locations\/[^/]+\/keyRings\/[^/]+\/cryptoKeys\/[^/]+$/;

/**
 * Google Cloud KMS keys. Operations are named by RPC; `permission` is the IAM permission the API
 * reference names for it (the custom role of the write policy). Every action reads with one RPC
 * (GetCryptoKey for the rotation schedule and primary version, ListCryptoKeyVersions for version
 * states), writes, and reads back with the same RPC.
 */
export const gcpKmsRemediation: RemediationDeclaration = {
  provider: 'gcp-kms',
  operations: [
    { name: 'GetCryptoKey', access: 'read', permission: 'cloudkms.cryptoKeys.get' },
    { name: 'ListCryptoKeyVersions', access: 'read', permission: 'cloudkms.cryptoKeyVersions.list' },
    { name: 'UpdateCryptoKey', access: 'write', permission: 'cloudkms.cryptoKeys.update' },
    { name: 'CreateCryptoKeyVersion', access: 'write', permission: 'cloudkms.cryptoKeyVersions.create' },
    // updatePrimaryVersion is authorised as an update of the key.
    { name: 'UpdateCryptoKeyPrimaryVersion', access: 'write', permission: 'cloudkms.cryptoKeys.update' },
    { name: 'UpdateCryptoKeyVersion', access: 'write', permission: 'cloudkms.cryptoKeyVersions.update' },
    { name: 'DestroyCryptoKeyVersion', access: 'write', permission: 'cloudkms.cryptoKeyVersions.destroy' },
    { name: 'RestoreCryptoKeyVersion', access: 'write', permission: 'cloudkms.cryptoKeyVersions.restore' },
  ],
  rules: ['KD-ROT-001', 'KD-ROT-002', 'KD-ROT-003', 'KD-ROT-004', 'KD-RET-001', 'KD-RET-002', 'KD-RET-003'],
  destructiveRules: ['KD-RET-001', 'KD-RET-003'],
  plan: planGcpKmsFix,
  planRotation: planGcpKmsRotation,
  planRollback: planGcpKmsRollback,
  load: async () => (await import('./executor.ts')).gcpKmsExecutor,
};

// ---------------------------------------------------------------------------------------------
// Version states in a KeyStateView

/**
 * The states of the versions an action is about, as one comparable value: "1=ENABLED,2=ENABLED"
 * (Cloud KMS state names, ordered by version number), so that apply's field-by-field comparison
 * covers every version the action touches.
 */
export function formatVersionStates(states: Iterable<readonly [string, string]>): string {
  return [...states]
    .sort(([a], [b]) => Number(a) - Number(b) || a.localeCompare(b))
    .map(([id, state]) => `${id}=${state}`)
    .join(',');
}

export function parseVersionStates(text: string | null | undefined): Map<string, string> {
  const states = new Map<string, string>();
  for (const pair of (text ?? '').split(',')) {
    const at = pair.indexOf('=');
    if (at > 0) states.set(pair.slice(0, at), pair.slice(at + 1));
  }
  return states;
}

/** The short id of a version name (…/cryptoKeyVersions/3 → "3"). */
export function versionIdOf(name: string): string {
  return name.slice(name.lastIndexOf('/') + 1);
}

/** The version names an action's calls are about, in call order, each once. */
export function versionNamesOf(calls: readonly PlannedCall[]): string[] {
  const names = calls.map((call) => String(call.params['name'] ?? '')).filter((name) => name.includes('/cryptoKeyVersions/'));
  return [...new Set(names)];
}

/** The inventory's version states back in Cloud KMS terms, where the mapping is one to one. */
const RAW_STATE: Partial<Record<KeyVersion['state'], string>> = { enabled: 'ENABLED', disabled: 'DISABLED', 'pending-deletion': 'DESTROY_SCHEDULED' };

// ---------------------------------------------------------------------------------------------
// Planning

function keyNameOf(item: InventoryItem): string | null {
  return KEY_NAME.test(item.uid) ? item.uid : null;
}

const purposeOf = (item: InventoryItem): string => (typeof item.evidence['purpose'] === 'string' ? item.evidence['purpose'] : 'unknown');

function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.000Z$/, 'Z');
}

/** Why Cloud KMS cannot make new material for this key, or null. */
function cannotGenerate(item: InventoryItem): string | null {
  if (item.origin === 'external') return 'the key material lives in an external key manager: Cloud KMS cannot generate or rotate it';
  if (item.origin === 'imported' || item.evidence['importOnly'] === true) return 'the key material was imported: new material must be imported too, Cloud KMS does not generate it';
  return null;
}

/**
 * When the first automatic rotation should happen: one period after the current material
 * (the primary version's creation, else the key's), or a day from now when that time has passed,
 * so that turning rotation on never rotates at once behind the reviewer's back.
 */
export function firstRotationTime(item: InventoryItem, periodDays: number, nowMs = Date.now()): string {
  const base = Date.parse(item.rotation?.lastRotatedAt ?? item.createdAt ?? '');
  const due = Number.isNaN(base) ? Number.NaN : base + periodDays * DAY_MS;
  if (!Number.isNaN(due) && due > nowMs) return rfc3339(Math.floor(due / 1000) * 1000);
  return rfc3339(Math.floor((nowMs + DAY_MS) / 1000) * 1000);
}

export function planGcpKmsFix({ finding, item, policy }: FixRequest): FixProposal {
  const name = keyNameOf(item);
  if (name === null) return { ok: false, reason: `${item.uid} is not a Cloud KMS key name (projects/*/locations/*/keyRings/*/cryptoKeys/*)` };
  switch (finding.ruleId) {
    case 'KD-ROT-001':
    case 'KD-ROT-002':
      return planRotationSchedule(finding.ruleId, name, item, allowedRotationDays(finding.evidence['maxDays'], item, policy));
    case 'KD-ROT-003':
    case 'KD-ROT-004':
      if (purposeOf(item) !== 'ENCRYPT_DECRYPT') {
        return {
          ok: false,
          reason: `a ${purposeOf(item)} key has no primary version: a new version is used only once its callers ask for it, and the key stays as old as its creation; rotate it with remediate rotate-now and move the callers`,
        };
      }
      return planGcpKmsRotation(item);
    case 'KD-RET-002':
      return planRestore(name, item);
    case 'KD-RET-003':
      return planDisableOldVersions(name, item, finding.evidence['decryptableVersions']);
    case 'KD-RET-001':
      return planDestroy(name, item);
    default:
      return { ok: false, reason: 'no automatic fix for this rule on gcp-kms' };
  }
}

function planRotationSchedule(rule: string, name: string, item: InventoryItem, allowed: number): FixProposal {
  if (purposeOf(item) !== 'ENCRYPT_DECRYPT') return { ok: false, reason: `Cloud KMS rotates automatically only ENCRYPT_DECRYPT keys (this one is ${purposeOf(item)})` };
  const refused = cannotGenerate(item);
  if (refused) return { ok: false, reason: refused };
  const period = Math.min(GCP_MAX_ROTATION_DAYS, Math.max(GCP_MIN_ROTATION_DAYS, Math.floor(allowed)));
  const current = item.rotation?.periodDays ?? null;
  if (rule === 'KD-ROT-002' && item.rotation?.automatic === true && current !== null && current <= period) {
    return { ok: false, reason: `the rotation period is already ${current} days, within the ${period} days allowed` };
  }
  const next = firstRotationTime(item, period);
  const notes = period !== allowed ? [`the policy allows ${allowed} days; Cloud KMS takes whole days from 1 to ${GCP_MAX_ROTATION_DAYS}, so the period is ${period} days`] : [];
  notes.push(`the first automatic rotation is at ${next} (one period after the current material, or a day from planning when that has passed)`);
  return {
    ok: true,
    action: {
      kind: 'set',
      summary: rule === 'KD-ROT-001' ? `turn automatic rotation on, every ${period} days, first at ${next}` : `shorten the rotation period from ${current} to ${period} days, next rotation at ${next}`,
      calls: [{ operation: 'UpdateCryptoKey', params: { name, updateMask: ROTATION_MASK, rotationPeriodSeconds: period * 86_400, nextRotationTime: next } }],
      before: { rotationAutomatic: item.rotation?.automatic ?? null, rotationPeriodDays: current, nextRotationAt: item.rotation?.nextRotationAt ?? null },
      after: { rotationAutomatic: true, rotationPeriodDays: period, nextRotationAt: next },
      // The schedule can be put back; versions made by rotations in between stay.
      reversible: true,
      destructive: false,
      notes,
    },
  };
}

/**
 * An incident rotation: a new version, made primary on ENCRYPT_DECRYPT keys. An automatic
 * schedule that is overdue is moved on by whole periods first: a manual rotation does not move
 * next_rotation_time, so the stalled schedule (KD-ROT-004) would stay behind otherwise.
 */
export function planGcpKmsRotation(item: InventoryItem): FixProposal {
  const name = keyNameOf(item);
  if (name === null) return { ok: false, reason: `${item.uid} is not a Cloud KMS key name (projects/*/locations/*/keyRings/*/cryptoKeys/*)` };
  if (item.kind !== 'key' || item.managedBy !== 'customer') return { ok: false, reason: 'only customer managed keys can be rotated' };
  if (item.state !== 'enabled') return { ok: false, reason: `only an enabled key is rotated (this one is ${item.state})` };
  const refused = cannotGenerate(item);
  if (refused) return { ok: false, reason: refused };
  const notes = ['a rotation cannot be undone; earlier versions stay enabled and keep decrypting what they encrypted'];
  if (purposeOf(item) !== 'ENCRYPT_DECRYPT') {
    if (item.versions === null) return { ok: false, reason: 'the key versions were not collected: the newest version is unknown' };
    return {
      ok: true,
      action: {
        kind: 'rotate',
        summary: `create a new version (a ${purposeOf(item)} key has no primary version: callers choose the version they use, so move them to the new one)`,
        calls: [{ operation: 'CreateCryptoKeyVersion', params: { parent: name } }],
        // Without a primary, "the version in use" is the newest one.
        before: { primaryVersion: newestVersion(item.versions) },
        after: {},
        reversible: false,
        destructive: false,
        notes,
      },
    };
  }
  const calls: PlannedCall[] = [];
  const schedule = overdueSchedule(item);
  if (schedule) {
    calls.push({ operation: 'UpdateCryptoKey', params: { name, updateMask: ROTATION_MASK, rotationPeriodSeconds: schedule.periodSeconds, nextRotationTime: schedule.next } });
    notes.push(`the automatic rotation due at ${item.rotation?.nextRotationAt} never happened: the next one is moved to ${schedule.next}`);
  }
  calls.push({ operation: 'CreateCryptoKeyVersion', params: { parent: name } }, { operation: 'UpdateCryptoKeyPrimaryVersion', params: { name, cryptoKeyVersionIdFrom: CREATED_VERSION } });
  return {
    ok: true,
    action: {
      kind: 'rotate',
      summary: 'rotate now: create a new version and make it primary (earlier versions still decrypt)',
      calls,
      before: { primaryVersion: typeof item.evidence['primaryVersion'] === 'string' ? item.evidence['primaryVersion'] : null },
      after: {},
      reversible: false,
      destructive: false,
      notes,
    },
  };
}

function newestVersion(versions: readonly KeyVersion[]): string | null {
  let newest: string | null = null;
  for (const version of versions) if (newest === null || Number(version.id) > Number(newest)) newest = version.id;
  return newest;
}

/** The automatic schedule moved past now by whole periods (as the service itself advances it), when it is overdue. */
function overdueSchedule(item: InventoryItem, nowMs = Date.now()): { periodSeconds: number; next: string } | null {
  const rotation = item.rotation;
  const due = Date.parse(rotation?.nextRotationAt ?? '');
  const periodSeconds = Number(item.evidence['rotationPeriodSeconds']);
  if (rotation?.automatic !== true || Number.isNaN(due) || due > nowMs || !(periodSeconds >= 86_400)) return null;
  const periods = Math.floor((nowMs + DAY_MS - due) / (periodSeconds * 1000)) + 1;
  return { periodSeconds, next: rfc3339(due + periods * periodSeconds * 1000) };
}

function versionName(key: string, id: string): string {
  return `${key}/cryptoKeyVersions/${id}`;
}

/** KD-RET-002: the legal hold wins, every version scheduled for destruction is restored. */
function planRestore(name: string, item: InventoryItem): FixProposal {
  if (item.versions === null) return { ok: false, reason: 'the key versions were not collected: which are scheduled for destruction is unknown' };
  const scheduled = item.versions.filter((version) => version.state === 'pending-deletion').map((version) => version.id);
  if (scheduled.length === 0) return { ok: false, reason: 'no version of this key is scheduled for destruction' };
  const stillEnabled = item.versions.some((version) => version.state === 'enabled');
  return {
    ok: true,
    action: {
      kind: 'set',
      summary: `restore version(s) ${scheduled.join(', ')} scheduled for destruction (key under legal hold)`,
      calls: scheduled.map((id) => ({ operation: 'RestoreCryptoKeyVersion', params: { name: versionName(name, id) } })),
      before: { state: item.state, deletionScheduledFor: item.deletion?.scheduledFor ?? null, versionState: formatVersionStates(scheduled.map((id) => [id, 'DESTROY_SCHEDULED'])) },
      after: { state: stillEnabled ? 'enabled' : 'disabled', deletionScheduledFor: null, versionState: formatVersionStates(scheduled.map((id) => [id, 'DISABLED'])) },
      reversible: false,
      destructive: false,
      notes: [
        'Cloud KMS leaves a restored version DISABLED: enable it (UpdateCryptoKeyVersion) if it is still in use',
        'a rollback does not schedule the destruction again: the key is under legal hold',
      ],
    },
  };
}

/** KD-RET-003 (destructive): disable the superseded versions that still decrypt. */
function planDisableOldVersions(name: string, item: InventoryItem, evidence: unknown): FixProposal {
  const named = Array.isArray(evidence) ? evidence.map(String) : [];
  const byId = new Map((item.versions ?? []).map((version) => [version.id, version]));
  const ids = named.filter((id) => byId.get(id)?.state === 'enabled' && byId.get(id)?.primary === false);
  if (ids.length === 0) return { ok: false, reason: 'the finding names no enabled, non-primary version to disable' };
  const primary = (item.versions ?? []).find((version) => version.primary)?.id;
  return {
    ok: true,
    action: {
      kind: 'set',
      summary: `disable superseded version(s) ${ids.join(', ')} that still decrypt`,
      calls: ids.map((id) => ({ operation: 'UpdateCryptoKeyVersion', params: { name: versionName(name, id), updateMask: 'state', state: 'DISABLED' } })),
      before: { versionState: formatVersionStates(ids.map((id) => [id, 'ENABLED'])) },
      after: { versionState: formatVersionStates(ids.map((id) => [id, 'DISABLED'])) },
      reversible: true,
      destructive: true,
      dataImpact: `data encrypted under version(s) ${ids.join(', ')} of ${item.uid} cannot be decrypted while they are disabled (re-encrypt it under the primary version${primary ? ` ${primary}` : ''} first); new data is unaffected`,
      notes: ['reversible: keydrift remediate rollback enables the versions again'],
    },
  };
}

/** KD-RET-001 (destructive): schedule every remaining version of a long-disabled key for destruction. */
function planDestroy(name: string, item: InventoryItem): FixProposal {
  if (item.state !== 'disabled') return { ok: false, reason: `only a disabled key is retired (this one is ${item.state})` };
  if (item.versions === null) return { ok: false, reason: 'the key versions were not collected: which versions to destroy is unknown' };
  const targets = item.versions.filter((version) => version.state === 'enabled' || version.state === 'disabled');
  if (targets.length === 0) return { ok: false, reason: 'no version of this key is enabled or disabled: nothing left to schedule for destruction' };
  const left = item.versions.filter((version) => !targets.includes(version) && version.state !== 'destroyed' && version.state !== 'pending-deletion');
  const seconds = Number(item.evidence['destroyScheduledDurationSeconds']);
  const duration = Number.isFinite(seconds) && seconds > 0 ? `${Math.round((seconds / 86_400) * 100) / 100} days` : 'the key\u2019s destroy-scheduled duration';
  const ids = targets.map((version) => version.id);
  const after: KeyStateView = { versionState: formatVersionStates(ids.map((id) => [id, 'DESTROY_SCHEDULED'])) };
  if (left.length === 0) after.state = 'pending-deletion';
  return {
    ok: true,
    action: {
      kind: 'set',
      summary: `schedule version(s) ${ids.join(', ')} of this disabled key for destruction in ${duration}`,
      calls: ids.map((id) => ({ operation: 'DestroyCryptoKeyVersion', params: { name: versionName(name, id) } })),
      before: {
        state: item.state,
        deletionScheduledFor: null,
        versionState: formatVersionStates(targets.map((version) => [version.id, RAW_STATE[version.state]!])),
      },
      after,
      reversible: true,
      destructive: true,
      dataImpact: `after ${duration} Cloud KMS destroys the material of version(s) ${ids.join(', ')}: everything encrypted under ${item.uid} with them can no longer be decrypted`,
      notes: [
        'reversible until each version\u2019s destroy time with RestoreCryptoKeyVersion (keydrift remediate rollback)',
        ...(left.length > 0 ? [`version(s) ${left.map((version) => version.id).join(', ')} are neither enabled nor disabled and cannot be scheduled`] : []),
      ],
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Rollback

/** The action that puts back what a logged change changed, or why it cannot be undone. */
export function planGcpKmsRollback({ action, observed, verified }: LoggedChange): FixProposal {
  const operations = action.calls.map((call) => call.operation);
  if (operations.length === 0) return { ok: false, reason: 'the logged action made no call' };
  if (operations.includes('CreateCryptoKeyVersion')) {
    return { ok: false, reason: 'a rotation cannot be undone (the new version stays; the earlier ones still decrypt)' };
  }
  if (operations.includes('RestoreCryptoKeyVersion')) {
    return { ok: false, reason: 'a restored version is not scheduled for destruction again (the key was under legal hold); destroy it by hand if that is really wanted' };
  }
  if (operations.every((operation) => operation === 'UpdateCryptoKey')) return rollbackSchedule(action.calls[0]!, observed, verified);
  if (operations.every((operation) => operation === 'UpdateCryptoKeyVersion')) return rollbackVersionStates(action.calls, observed, verified);
  if (operations.every((operation) => operation === 'DestroyCryptoKeyVersion')) return rollbackDestroy(action.calls, observed, verified);
  return { ok: false, reason: `${operations.join(', ')} has no rollback` };
}

function rollbackSchedule(first: PlannedCall, observed: KeyStateView, verified: KeyStateView): FixProposal {
  const name = String(first.params['name']);
  const wasOn = observed.rotationAutomatic === true && typeof observed.rotationPeriodDays === 'number';
  const next = observed.nextRotationAt ?? null;
  const params: PlannedCall['params'] = { name, updateMask: ROTATION_MASK };
  // An omitted field named by the mask is cleared: rotation off is the period left out.
  if (wasOn) params['rotationPeriodSeconds'] = Math.round(observed.rotationPeriodDays! * 86_400);
  if (next !== null) params['nextRotationTime'] = next;
  const after: KeyStateView = { rotationAutomatic: wasOn, rotationPeriodDays: wasOn ? observed.rotationPeriodDays! : null, nextRotationAt: next };
  return {
    ok: true,
    action: {
      kind: 'set',
      summary: wasOn ? `put the rotation schedule back to every ${observed.rotationPeriodDays} days, next at ${next}` : 'turn automatic rotation off again',
      calls: [{ operation: 'UpdateCryptoKey', params }],
      before: { rotationAutomatic: verified.rotationAutomatic ?? null, rotationPeriodDays: verified.rotationPeriodDays ?? null, nextRotationAt: verified.nextRotationAt ?? null },
      after,
      reversible: true,
      destructive: false,
      notes: [],
    },
  };
}

function rollbackVersionStates(calls: readonly PlannedCall[], observed: KeyStateView, verified: KeyStateView): FixProposal {
  const was = parseVersionStates(observed.versionState);
  const names = versionNamesOf(calls);
  const restore = names.map((name) => [name, was.get(versionIdOf(name))] as const);
  const unknown = restore.filter(([, state]) => state !== 'ENABLED' && state !== 'DISABLED');
  if (unknown.length > 0) return { ok: false, reason: `the state of version(s) ${unknown.map(([name]) => versionIdOf(name)).join(', ')} before the change is not in the log` };
  return {
    ok: true,
    action: {
      kind: 'set',
      summary: `put version(s) ${names.map(versionIdOf).join(', ')} back to ${[...new Set(restore.map(([, state]) => state))].join('/')}`,
      calls: restore.map(([name, state]) => ({ operation: 'UpdateCryptoKeyVersion', params: { name, updateMask: 'state', state: state! } })),
      before: { versionState: verified.versionState ?? null },
      after: { versionState: formatVersionStates(restore.map(([name, state]) => [versionIdOf(name), state!])) },
      reversible: true,
      destructive: false,
      notes: [],
    },
  };
}

function rollbackDestroy(calls: readonly PlannedCall[], observed: KeyStateView, verified: KeyStateView): FixProposal {
  const was = parseVersionStates(observed.versionState);
  const names = versionNamesOf(calls);
  // A restored version comes back DISABLED; one that was ENABLED is enabled again after.
  const reenable = names.filter((name) => was.get(versionIdOf(name)) === 'ENABLED');
  const after: KeyStateView = { versionState: formatVersionStates(names.map((name) => [versionIdOf(name), was.get(versionIdOf(name)) === 'ENABLED' ? 'ENABLED' : 'DISABLED'])) };
  if (observed.state !== undefined) after.state = observed.state;
  if (observed.deletionScheduledFor !== undefined) after.deletionScheduledFor = observed.deletionScheduledFor;
  const action: ProposedAction = {
    kind: 'set',
    summary: `restore version(s) ${names.map(versionIdOf).join(', ')} that keydrift scheduled for destruction`,
    calls: [
      ...names.map((name) => ({ operation: 'RestoreCryptoKeyVersion', params: { name } })),
      ...reenable.map((name) => ({ operation: 'UpdateCryptoKeyVersion', params: { name, updateMask: 'state', state: 'ENABLED' } })),
    ],
    before: { versionState: verified.versionState ?? null },
    after,
    reversible: true,
    destructive: false,
    notes: [`possible only before the destroy time${verified.deletionScheduledFor ? ` (${verified.deletionScheduledFor})` : ''}: after it the material is gone`],
  };
  return { ok: true, action };
}
