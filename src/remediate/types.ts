import type { RemediationAllow } from '../config/types.ts';
import type { EffectivePolicy } from '../config/settings.ts';
import type { Finding } from '../findings/types.ts';
import type { InventoryItem } from '../inventory/types.ts';
import type { SourceConfig } from '../model/source.ts';

/**
 * The part of a resource's state an action reads and changes. Only the fields an action names are
 * compared: a key's tags changing since planning is no reason to skip turning its rotation on.
 */
export interface KeyStateView {
  state?: string;
  rotationAutomatic?: boolean | null;
  rotationPeriodDays?: number | null;
  /** Google Cloud: when the next automatic rotation is due. */
  nextRotationAt?: string | null;
  deletionScheduledFor?: string | null;
  /** The version new data is encrypted under (AWS: the latest rotation; Vault: latest_version). */
  primaryVersion?: string | null;
  /** Vault transit: versions below this cannot decrypt. */
  minDecryptionVersion?: number | null;
  /** Google Cloud: the state of the one version an action is about. */
  versionState?: string | null;
}

/** One provider call an action makes, with its parameters (never a credential). */
export interface PlannedCall {
  operation: string;
  params: Record<string, string | number | boolean>;
}

/**
 * `set`: the calls leave the resource in the `after` state. `rotate`: the calls make a new primary
 * version, so the action is done once the primary version is no longer `before.primaryVersion`.
 */
export type ActionKind = 'set' | 'rotate';

export interface PlannedAction {
  /** Stable for the same fix of the same finding, so a rerun and an audit trail line up. */
  id: string;
  provider: string;
  sourceId: string;
  resource: { uid: string; name: string; location: string };
  rule: string;
  fingerprint: string;
  kind: ActionKind;
  /** What the action does, in words an operator reviews. */
  summary: string;
  calls: PlannedCall[];
  /** The state read at planning time: apply skips the action when the resource no longer has it. */
  before: KeyStateView;
  /** The state the calls leave: apply skips when already there, and verifies it after writing. */
  after: KeyStateView;
  reversible: boolean;
  /** True for a change that can make data undecryptable; planned only with both opt-ins. */
  destructive: boolean;
  /** For a destructive action: what stops being decryptable, in words. */
  dataImpact?: string;
  /** For a rollback action: the audit entry whose change it undoes. */
  rollbackOf?: string;
  notes: string[];
}

/** A finding the plan does not fix, and why: listed, never silently dropped. */
export interface UnplannedFinding {
  rule: string;
  fingerprint: string;
  resource: string;
  provider: string;
  reason: string;
}

export interface Plan {
  schemaVersion: '1';
  kind: 'remediation-plan';
  tool: { name: string; version: string };
  createdAt: string;
  /** Why the plan exists: findings of a report, an incident rotation, or a rollback of a log. */
  purpose: 'findings' | 'rotate-now' | 'rollback';
  /** The operator's words (rotate-now --reason), recorded in every audit entry. */
  reason?: string;
  /** The report the plan answers: its digest, clock and policy (absent for rotate-now and rollback). */
  report?: { from: string; digest: string; now: string; policyDigest: string; configName: string };
  /** For a rollback: the log and entries it undoes. */
  rollbackOf?: { log: string; head: string };
  allowDestructive: boolean;
  actions: PlannedAction[];
  notPlanned: UnplannedFinding[];
  /** sha-256 over the canonical JSON of every other field. */
  digest: string;
}

/** What a provider's planner is given for one finding. */
export interface FixRequest {
  finding: Finding;
  item: InventoryItem;
  policy: EffectivePolicy;
}

/** The fields plan.ts fills in from the finding or item; a planner proposes the rest. */
export type ProposedAction = Omit<PlannedAction, 'id' | 'rule' | 'fingerprint' | 'provider' | 'sourceId' | 'resource'>;

/** A planner's answer: an action, or why there is none. */
export type FixProposal = { ok: true; action: ProposedAction } | { ok: false; reason: string };

export type ApplyStatus = 'applied' | 'already-right' | 'stale' | 'failed';

export interface ActionResult {
  id: string;
  resource: string;
  rule: string;
  status: ApplyStatus;
  /** Why it was skipped or failed, naming the source, call and key; empty when applied. */
  reason: string;
  /** The state read before writing (null when it could not be read). */
  observed: KeyStateView | null;
  /** The state read back after writing (null when nothing was written). */
  verified: KeyStateView | null;
}

/** A change as the audit log recorded it, which a rollback reverses. */
export interface LoggedChange {
  entryId: string;
  action: PlannedAction;
  /** The state read before writing, and read back after. */
  observed: KeyStateView;
  verified: KeyStateView;
}

/** One provider operation, in the provider's own vocabulary (an IAM action, a permission, a Vault path). */
export interface RemediationOperation {
  name: string;
  access: 'read' | 'write';
  /** Google Cloud: the IAM permission the call needs. Vault: the path and capability. */
  permission: string;
}

/** What a provider that can change resources declares, the way a collector declares its reads. */
export interface RemediationDeclaration {
  provider: string;
  /** Every call its executor may make, writes and the reads around them: the write policy is this list. */
  operations: readonly RemediationOperation[];
  /** The rules it has a fix for, and which of them are destructive. */
  rules: readonly string[];
  destructiveRules: readonly string[];
  plan(request: FixRequest): FixProposal;
  /** An incident rotation of this key now. */
  planRotation(item: InventoryItem): FixProposal;
  /** The action that puts back what `change` changed, or why it cannot be undone. */
  planRollback(change: LoggedChange): FixProposal;
  /** Loads the executor (and its SDK) on first use. */
  load(): Promise<RemediationExecutor>;
}

export interface ExecuteContext {
  source: SourceConfig;
  apiCalls: Record<string, number>;
  /** The config's folder, which relative paths in a source (a Vault caFile) are read from, as a scan does; default the working directory. */
  baseDir?: string;
}

/** A provider's connection to one source: reads the state an action names, and makes one call. */
export interface ProviderSession {
  read(action: PlannedAction): Promise<KeyStateView>;
  /**
   * Makes one call. `earlier` holds what the action's earlier calls returned, for a call that
   * needs it (Google Cloud makes the version it just created primary).
   */
  write(call: PlannedCall, action: PlannedAction, earlier: readonly unknown[]): Promise<unknown>;
  close(): Promise<void> | void;
}

export interface RemediationExecutor {
  open(ctx: ExecuteContext): ProviderSession;
}

export type { RemediationAllow };
