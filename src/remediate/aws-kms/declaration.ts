import type { InventoryItem } from '../../inventory/types.ts';
import { allowedRotationDays } from '../allowed-period.ts';
import type { FixProposal, FixRequest, KeyStateView, LoggedChange, PlannedCall, RemediationDeclaration } from '../types.ts';

/** AWS accepts RotationPeriodInDays from 90 to 2560 days. */
export const AWS_MIN_ROTATION_DAYS = 90;
export const AWS_MAX_ROTATION_DAYS = 2560;
/** The longest waiting period AWS allows: the most time to notice and cancel. */
export const AWS_DELETION_WINDOW_DAYS = 30;

/**
 * AWS KMS keys. Every call the executor may make (the IAM actions of the write policy). Each
 * action reads with one call, writes with one, and reads back with one.
 */
export const awsKmsRemediation: RemediationDeclaration = {
  provider: 'aws-kms',
  operations: [
    { name: 'kms:DescribeKey', access: 'read', permission: 'kms:DescribeKey' },
    { name: 'kms:GetKeyRotationStatus', access: 'read', permission: 'kms:GetKeyRotationStatus' },
    { name: 'kms:ListKeyRotations', access: 'read', permission: 'kms:ListKeyRotations' },
    { name: 'kms:EnableKeyRotation', access: 'write', permission: 'kms:EnableKeyRotation' },
    { name: 'kms:DisableKeyRotation', access: 'write', permission: 'kms:DisableKeyRotation' },
    { name: 'kms:RotateKeyOnDemand', access: 'write', permission: 'kms:RotateKeyOnDemand' },
    { name: 'kms:CancelKeyDeletion', access: 'write', permission: 'kms:CancelKeyDeletion' },
    { name: 'kms:ScheduleKeyDeletion', access: 'write', permission: 'kms:ScheduleKeyDeletion' },
  ],
  rules: ['KD-ROT-001', 'KD-ROT-002', 'KD-ROT-003', 'KD-ROT-004', 'KD-RET-001', 'KD-RET-002'],
  destructiveRules: ['KD-RET-001'],
  plan: planAwsKmsFix,
  planRotation: planAwsKmsRotation,
  planRollback: planAwsKmsRollback,
  load: async () => (await import('./executor.ts')).awsKmsExecutor,
};

interface Target {
  region: string;
  keyId: string;
}

function targetOf(item: InventoryItem): Target | string {
  // The key id the collector read (ListKeys); the ARN only when it is missing. Both name the key
  // in the region the client is for, and some emulators accept only the id.
  const recordedId = item.evidence['KeyId'];
  const keyId = typeof recordedId === 'string' && recordedId ? recordedId : item.uid;
  const fromArn = /^arn:aws[a-z-]*:kms:([a-z0-9-]+):/.exec(item.uid)?.[1];
  const recorded = item.evidence['region'];
  const region = fromArn ?? (typeof recorded === 'string' && recorded ? recorded : null);
  if (region === null) return `the key's region is unknown (uid ${item.uid} is not a KMS key ARN)`;
  return { region, keyId };
}

function call(operation: string, target: Target, extra: Record<string, string | number | boolean> = {}): PlannedCall {
  return { operation, params: { region: target.region, KeyId: target.keyId, ...extra } };
}

export function planAwsKmsFix({ finding, item, policy }: FixRequest): FixProposal {
  const target = targetOf(item);
  if (typeof target === 'string') return { ok: false, reason: target };
  switch (finding.ruleId) {
    case 'KD-ROT-001':
    case 'KD-ROT-002': {
      if (item.state !== 'enabled') return { ok: false, reason: `AWS changes rotation only on an enabled key (this one is ${item.state})` };
      const allowed = allowedRotationDays(finding.evidence['maxDays'], item, policy);
      const period = Math.min(AWS_MAX_ROTATION_DAYS, Math.max(AWS_MIN_ROTATION_DAYS, allowed));
      const current = item.rotation?.periodDays ?? null;
      if (finding.ruleId === 'KD-ROT-002' && current !== null && period >= current) {
        return { ok: false, reason: `the policy allows ${allowed} days but AWS cannot rotate more often than every ${AWS_MIN_ROTATION_DAYS} days` };
      }
      const notes = period !== allowed ? [`the policy allows ${allowed} days; AWS accepts ${AWS_MIN_ROTATION_DAYS}..${AWS_MAX_ROTATION_DAYS}, so the period is ${period} days`] : [];
      const automatic = item.rotation?.automatic ?? null;
      return {
        ok: true,
        action: {
          kind: 'set',
          summary: finding.ruleId === 'KD-ROT-001' ? `turn automatic rotation on, every ${period} days` : `shorten the rotation period from ${current} to ${period} days`,
          calls: [call('kms:EnableKeyRotation', target, { RotationPeriodInDays: period })],
          // GetKeyRotationStatus reads both fields in one call; the period only matters when rotation is on.
          before: finding.ruleId === 'KD-ROT-001' ? { rotationAutomatic: automatic } : { rotationAutomatic: automatic, rotationPeriodDays: current },
          after: { rotationAutomatic: true, rotationPeriodDays: period },
          // Rotation can be switched off or the period changed back; versions it made stay.
          reversible: true,
          destructive: false,
          notes,
        },
      };
    }
    case 'KD-ROT-003':
    case 'KD-ROT-004':
      return planAwsKmsRotation(item);
    case 'KD-RET-002':
      return {
        ok: true,
        action: {
          kind: 'set',
          summary: 'cancel the scheduled deletion (key under legal hold)',
          calls: [call('kms:CancelKeyDeletion', target)],
          before: { state: item.state, deletionScheduledFor: item.deletion?.scheduledFor ?? null },
          after: { state: 'disabled', deletionScheduledFor: null },
          reversible: false,
          destructive: false,
          notes: [
            'AWS leaves a key Disabled after its deletion is cancelled: enable it (kms:EnableKey) if it is still in use',
            'a rollback does not schedule the deletion again: the key is under legal hold',
          ],
        },
      };
    case 'KD-RET-001':
      return {
        ok: true,
        action: {
          kind: 'set',
          summary: `schedule the deletion of this disabled key in ${AWS_DELETION_WINDOW_DAYS} days`,
          calls: [call('kms:ScheduleKeyDeletion', target, { PendingWindowInDays: AWS_DELETION_WINDOW_DAYS })],
          before: { state: item.state, deletionScheduledFor: null },
          after: { state: 'pending-deletion' },
          reversible: true,
          destructive: true,
          dataImpact: `after ${AWS_DELETION_WINDOW_DAYS} days AWS deletes the key material: everything ever encrypted under ${item.uid} (and data keys it wrapped) can no longer be decrypted`,
          notes: [`reversible until the deletion date with kms:CancelKeyDeletion (keydrift remediate rollback)`],
        },
      };
    case 'KD-RET-003':
      return { ok: false, reason: 'AWS KMS cannot disable one key version: old material stays decryptable for the life of the key' };
    default:
      return { ok: false, reason: 'no automatic fix for this rule on aws-kms' };
  }
}

export function planAwsKmsRotation(item: InventoryItem): FixProposal {
  const target = targetOf(item);
  if (typeof target === 'string') return { ok: false, reason: target };
  if (item.kind !== 'key' || item.managedBy !== 'customer') return { ok: false, reason: 'only customer managed keys can be rotated on demand' };
  if (item.state !== 'enabled') return { ok: false, reason: `AWS rotates only an enabled key (this one is ${item.state})` };
  if (item.rotation?.supported === false) return { ok: false, reason: `AWS cannot rotate this key type (${item.algorithm}) on demand` };
  const count = item.evidence['rotationCount'];
  return {
    ok: true,
    action: {
      kind: 'rotate',
      summary: 'rotate the key material now (new material becomes primary; old material still decrypts)',
      calls: [call('kms:RotateKeyOnDemand', target)],
      before: { primaryVersion: typeof count === 'number' ? String(count) : null },
      after: {},
      reversible: false,
      destructive: false,
      notes: ['a rotation cannot be undone; the previous material keeps decrypting what it encrypted'],
    },
  };
}

/** Puts back the rotation settings an EnableKeyRotation changed; cancels a deletion keydrift scheduled. */
export function planAwsKmsRollback({ action, observed, verified }: LoggedChange): FixProposal {
  const first = action.calls[0];
  if (!first) return { ok: false, reason: 'the logged action made no call' };
  const target: Target = { region: String(first.params['region']), keyId: String(first.params['KeyId']) };
  switch (first.operation) {
    case 'kms:EnableKeyRotation': {
      const was: KeyStateView = observed.rotationAutomatic === true ? { rotationAutomatic: true, rotationPeriodDays: observed.rotationPeriodDays ?? null } : { rotationAutomatic: false };
      const restore =
        was.rotationAutomatic === true
          ? call('kms:EnableKeyRotation', target, { RotationPeriodInDays: was.rotationPeriodDays ?? 365 })
          : call('kms:DisableKeyRotation', target);
      return {
        ok: true,
        action: {
          kind: 'set',
          summary: was.rotationAutomatic ? `put the rotation period back to ${was.rotationPeriodDays ?? 365} days` : 'turn automatic rotation off again',
          calls: [restore],
          before: { rotationAutomatic: verified.rotationAutomatic ?? null, rotationPeriodDays: verified.rotationPeriodDays ?? null },
          after: was.rotationAutomatic ? was : { rotationAutomatic: false },
          reversible: true,
          destructive: false,
          notes: [],
        },
      };
    }
    case 'kms:ScheduleKeyDeletion':
      return {
        ok: true,
        action: {
          kind: 'set',
          summary: 'cancel the deletion keydrift scheduled',
          calls: [call('kms:CancelKeyDeletion', target)],
          before: { state: 'pending-deletion' },
          after: { state: 'disabled', deletionScheduledFor: null },
          reversible: false,
          destructive: false,
          notes: [],
        },
      };
    case 'kms:CancelKeyDeletion':
      return { ok: false, reason: 'a cancelled deletion is not scheduled again (the key was under legal hold); schedule it by hand if that is really wanted' };
    case 'kms:RotateKeyOnDemand':
      return { ok: false, reason: 'a rotation cannot be undone (the new material stays primary; the old one still decrypts)' };
    default:
      return { ok: false, reason: `${first.operation} has no rollback` };
  }
}
