import type { InventoryItem } from '../../inventory/types.ts';
import { allowedRotationDays } from '../allowed-period.ts';
import type { FixProposal, FixRequest, KeyStateView, LoggedChange, PlannedCall, RemediationDeclaration } from '../types.ts';

/** Vault refuses an auto_rotate_period below one hour ("0 to disable or at least an hour"). */
export const VAULT_MIN_ROTATE_HOURS = 1;

export const READ_KEY = 'read <transit>/keys/:name';
export const UPDATE_CONFIG = 'update <transit>/keys/:name/config';
export const ROTATE = 'update <transit>/keys/:name/rotate';

/**
 * Vault transit keys. Every call the executor may make: one read (GET <mount>/keys/:name, which
 * answers every field an action names), and two writes (POST .../config and .../rotate).
 *
 * `permission` is "<capability> <Vault policy path>", the form the collector's read operations
 * use, with `<transit>` standing for each transit mount and `+` for one path segment (the key
 * name): write-policies.ts turns it into `path "<path>" { capabilities = ["<capability>"] }` per mount.
 */
export const vaultTransitRemediation: RemediationDeclaration = {
  provider: 'vault-transit',
  operations: [
    { name: READ_KEY, access: 'read', permission: 'read <transit>/keys/+' },
    { name: UPDATE_CONFIG, access: 'write', permission: 'update <transit>/keys/+/config' },
    { name: ROTATE, access: 'write', permission: 'update <transit>/keys/+/rotate' },
  ],
  rules: ['KD-ROT-001', 'KD-ROT-002', 'KD-ROT-003', 'KD-ROT-004', 'KD-RET-003'],
  destructiveRules: ['KD-RET-003'],
  plan: planVaultTransitFix,
  planRotation: planVaultTransitRotation,
  planRollback: planVaultTransitRollback,
  load: async () => (await import('./executor.ts')).vaultTransitExecutor,
};

/** Where a key lives: the mount (and namespace) the collector recorded, and the key's name. */
interface Target {
  mount: string;
  name: string;
  namespace?: string;
}

function targetOf(item: InventoryItem): Target | string {
  const mount = item.evidence['mount'];
  if (typeof mount !== 'string' || mount === '') return `the key's transit mount is unknown (evidence.mount is missing from ${item.uid})`;
  const namespace = item.evidence['namespace'];
  return { mount, name: item.name, ...(typeof namespace === 'string' && namespace !== '' ? { namespace } : {}) };
}

function call(operation: string, target: Target, extra: Record<string, string | number | boolean> = {}): PlannedCall {
  return { operation, params: { ...target, ...extra } };
}

/**
 * The period a read reports, in days, for an auto_rotate_period in seconds: the collector's
 * rounding (map.ts transitItem: days to two decimals), so a plan's `after` matches a rescan.
 */
export function periodDaysOf(seconds: number): number | null {
  return seconds > 0 ? Math.round((seconds / 86400) * 100) / 100 : null;
}

/** Whole hours, at least Vault's minimum: what is sent as auto_rotate_period ("<n>h"). */
function periodHours(days: number): number {
  return Math.max(VAULT_MIN_ROTATE_HOURS, Math.round(days * 24));
}

function isManagedKey(item: InventoryItem): boolean {
  return item.evidence['type'] === 'managed_key' || item.rotation?.supported === false;
}

function latestVersion(item: InventoryItem): number | null {
  const latest = item.evidence['latest_version'];
  return typeof latest === 'number' && Number.isInteger(latest) && latest > 0 ? latest : null;
}

export function planVaultTransitFix({ finding, item, policy }: FixRequest): FixProposal {
  const target = targetOf(item);
  if (typeof target === 'string') return { ok: false, reason: target };
  switch (finding.ruleId) {
    case 'KD-ROT-001':
    case 'KD-ROT-002': {
      if (isManagedKey(item)) return { ok: false, reason: 'a managed_key transit key lives in an external HSM or KMS: Vault cannot rotate it' };
      const allowed = allowedRotationDays(finding.evidence['maxDays'], item, policy);
      const hours = periodHours(allowed);
      const days = periodDaysOf(hours * 3600)!;
      const current = item.rotation?.periodDays ?? null;
      if (finding.ruleId === 'KD-ROT-002' && current !== null && days >= current) {
        return { ok: false, reason: `the rotation period is already ${current} days, not longer than the ${allowed} days allowed` };
      }
      const notes = days !== allowed ? [`the policy allows ${allowed} days; Vault takes whole hours, so the period is ${hours}h (${days} days)`] : [];
      if (item.origin === 'imported') notes.push('Vault rotates an imported key only if it was imported with allow_rotation');
      return {
        ok: true,
        action: {
          kind: 'set',
          summary: finding.ruleId === 'KD-ROT-001' ? `turn automatic rotation on, every ${days} days (auto_rotate_period ${hours}h)` : `shorten the rotation period from ${current} to ${days} days (auto_rotate_period ${hours}h)`,
          calls: [call(UPDATE_CONFIG, target, { auto_rotate_period: `${hours}h` })],
          before: { rotationAutomatic: item.rotation?.automatic ?? null, rotationPeriodDays: current },
          after: { rotationAutomatic: true, rotationPeriodDays: days },
          // auto_rotate_period can be set back (or to 0, off); versions it made stay.
          reversible: true,
          destructive: false,
          notes,
        },
      };
    }
    case 'KD-ROT-003':
    case 'KD-ROT-004':
      return planVaultTransitRotation(item);
    case 'KD-RET-001':
      return { ok: false, reason: 'a transit key has no disabled state to retire: Vault keys are enabled until deleted' };
    case 'KD-RET-002':
      return { ok: false, reason: 'a transit key has no deletion schedule to cancel: Vault deletes a key at once, and only when deletion_allowed is set' };
    case 'KD-RET-003':
      return planMinDecryption(finding.evidence, item, target);
    default:
      return { ok: false, reason: 'no automatic fix for this rule on vault-transit' };
  }
}

/** KD-RET-003: raise min_decryption_version past every version the finding names. Destructive. */
function planMinDecryption(evidence: Record<string, unknown>, item: InventoryItem, target: Target): FixProposal {
  const latest = latestVersion(item);
  if (latest === null) return { ok: false, reason: 'the key\'s latest_version is unknown' };
  const named = [...(Array.isArray(evidence['decryptableVersions']) ? (evidence['decryptableVersions'] as unknown[]) : []), evidence['versionId']]
    .map((version) => Number(version))
    .filter((version) => Number.isInteger(version) && version > 0);
  if (named.length === 0) return { ok: false, reason: 'the finding names no version (evidence.decryptableVersions)' };
  const raiseTo = Math.min(latest, Math.max(...named) + 1);
  const currentRaw = item.evidence['min_decryption_version'];
  const current = typeof currentRaw === 'number' ? currentRaw : 1;
  if (raiseTo <= current) return { ok: false, reason: `min_decryption_version is already ${current}` };
  const minEncryption = item.evidence['min_encryption_version'];
  // Vault refuses a min_decryption_version above a non-zero min_encryption_version.
  if (typeof minEncryption === 'number' && minEncryption > 0 && minEncryption < raiseTo) {
    return { ok: false, reason: `min_encryption_version is ${minEncryption}; Vault refuses a min_decryption_version above it (${raiseTo})` };
  }
  const lost = raiseTo - 1 === current ? `version ${current}` : `versions ${current} to ${raiseTo - 1}`;
  return {
    ok: true,
    action: {
      kind: 'set',
      summary: `raise min_decryption_version from ${current} to ${raiseTo}`,
      calls: [call(UPDATE_CONFIG, target, { min_decryption_version: raiseTo })],
      before: { minDecryptionVersion: current },
      after: { minDecryptionVersion: raiseTo },
      // Lowering it again restores decryption: Vault keeps the archived versions unless trimmed.
      reversible: true,
      destructive: true,
      dataImpact: `ciphertexts made with ${lost} of ${target.mount}/keys/${target.name} (vault:v${current}: to vault:v${raiseTo - 1}:) stop being decryptable; rewrap them first (POST ${target.mount}/rewrap/${target.name}) to keep them readable`,
      notes: [`reversible with keydrift remediate rollback (lowers min_decryption_version to ${current} again) as long as nobody trims the key`],
    },
  };
}

export function planVaultTransitRotation(item: InventoryItem): FixProposal {
  const target = targetOf(item);
  if (typeof target === 'string') return { ok: false, reason: target };
  if (item.kind !== 'key') return { ok: false, reason: 'only transit keys can be rotated' };
  if (isManagedKey(item)) return { ok: false, reason: 'a managed_key transit key lives in an external HSM or KMS: Vault cannot rotate it' };
  const latest = latestVersion(item);
  if (latest === null) return { ok: false, reason: 'the key\'s latest_version is unknown, so a rotation could not be verified' };
  const notes = ['a rotation cannot be undone; earlier versions keep decrypting what they encrypted (down to min_decryption_version)'];
  if (item.origin === 'imported') notes.push('Vault rotates an imported key only if it was imported with allow_rotation');
  return {
    ok: true,
    action: {
      kind: 'rotate',
      summary: `rotate the key now (version ${latest + 1} becomes the latest; older versions still decrypt)`,
      calls: [call(ROTATE, target)],
      before: { primaryVersion: String(latest) },
      after: {},
      reversible: false,
      destructive: false,
      notes,
    },
  };
}

/** Puts back the auto_rotate_period or min_decryption_version a config call changed. */
export function planVaultTransitRollback({ action, observed, verified }: LoggedChange): FixProposal {
  const first = action.calls[0];
  if (!first) return { ok: false, reason: 'the logged action made no call' };
  const { mount, name, namespace } = first.params;
  if (typeof mount !== 'string' || typeof name !== 'string') return { ok: false, reason: 'the logged call names no mount and key' };
  const target: Target = { mount, name, ...(typeof namespace === 'string' ? { namespace } : {}) };
  if (first.operation === ROTATE) return { ok: false, reason: 'a rotation cannot be undone (the new version stays the latest; older ones still decrypt)' };
  if (first.operation !== UPDATE_CONFIG) return { ok: false, reason: `${first.operation} has no rollback` };
  if ('min_decryption_version' in first.params) {
    const was = observed.minDecryptionVersion;
    if (typeof was !== 'number') return { ok: false, reason: 'the log does not record the min_decryption_version before the change' };
    return {
      ok: true,
      action: {
        kind: 'set',
        summary: `lower min_decryption_version back to ${was}`,
        calls: [call(UPDATE_CONFIG, target, { min_decryption_version: was })],
        before: { minDecryptionVersion: verified.minDecryptionVersion ?? null },
        after: { minDecryptionVersion: was },
        reversible: true,
        destructive: false,
        notes: [],
      },
    };
  }
  if ('auto_rotate_period' in first.params) {
    if (typeof observed.rotationAutomatic !== 'boolean') return { ok: false, reason: 'the log does not record whether automatic rotation was on before the change' };
    const before: KeyStateView = { rotationAutomatic: verified.rotationAutomatic ?? null, rotationPeriodDays: verified.rotationPeriodDays ?? null };
    if (!observed.rotationAutomatic) {
      return {
        ok: true,
        action: {
          kind: 'set',
          summary: 'turn automatic rotation off again (auto_rotate_period 0)',
          calls: [call(UPDATE_CONFIG, target, { auto_rotate_period: 0 })],
          before,
          after: { rotationAutomatic: false, rotationPeriodDays: null },
          reversible: true,
          destructive: false,
          notes: [],
        },
      };
    }
    const days = observed.rotationPeriodDays;
    if (typeof days !== 'number' || days <= 0) return { ok: false, reason: 'the log does not record the rotation period before the change' };
    // The log keeps days to two decimals (a rescan's rounding): to the nearest hour that is the
    // period Vault had whenever it was a whole number of hours, as Vault periods are in practice.
    const hours = periodHours(days);
    return {
      ok: true,
      action: {
        kind: 'set',
        summary: `put the rotation period back to ${days} days (auto_rotate_period ${hours}h)`,
        calls: [call(UPDATE_CONFIG, target, { auto_rotate_period: `${hours}h` })],
        before,
        after: { rotationAutomatic: true, rotationPeriodDays: periodDaysOf(hours * 3600) },
        reversible: true,
        destructive: false,
        notes: [],
      },
    };
  }
  return { ok: false, reason: `the logged ${first.operation} call changed nothing keydrift can put back` };
}
