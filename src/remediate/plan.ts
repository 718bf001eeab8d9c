import { createHash } from 'node:crypto';
import type { RemediationAllow } from '../config/types.ts';
import { canonicalJson, digestOf } from '../findings/fingerprint.ts';
import type { Finding } from '../findings/types.ts';
import { globMatches } from '../util/glob-matches.ts';
import type { InventoryItem } from '../inventory/types.ts';
import { TOOL } from '../model/tool.ts';
import type { Report } from '../report/types.ts';
import { displayPath } from '../util/paths.ts';
import { FileReadError, MIB, readRegularFile } from '../util/read-regular-file.ts';
import { describeError, mostSpecificError, validator } from '../util/schemas.ts';
import { remediationFor } from './registry.ts';
import type { LoggedChange, Plan, PlannedAction, ProposedAction, UnplannedFinding } from './types.ts';

/** The same bound as any evidence file: a report larger than this could not be parsed anyway. */
export const MAX_REPORT_BYTES = 512 * MIB;
/** A plan is a list of actions; thousands of keys stay far below this. */
export const MAX_PLAN_BYTES = 64 * MIB;

/** A report or plan that cannot be used: the message names the file and the problem. */
export class PlanFileError extends Error {}

/** A plan whose content no longer matches its digest: refused, never applied. */
export class PlanTamperedError extends PlanFileError {}

export interface ReportSource {
  report: Report;
  /** Where it came from: a file's display path, or "scan". */
  from: string;
  /** "sha256:<hex>" of the report file's bytes (of its JSON text for a fresh scan). */
  digest: string;
}

/** Reads a JSON report (bounded) and validates it with the report schema. */
export async function readReportFile(file: string): Promise<ReportSource> {
  const shown = displayPath(file);
  const bytes = await readBounded(file, shown, MAX_REPORT_BYTES);
  const parsed = parseJson(bytes, shown);
  const validate = validator('report');
  if (!validate(parsed)) {
    const error = mostSpecificError(validate.errors ?? []);
    throw new PlanFileError(`${shown}: not a keydrift JSON report: ${error.instancePath || '/'}: ${describeError(error)}`);
  }
  return { report: parsed as Report, from: shown, digest: sha256(bytes) };
}

export function reportSourceOf(report: Report): ReportSource {
  return { report, from: 'scan', digest: sha256(Buffer.from(JSON.stringify(report, null, 2))) };
}

/**
 * One action per finding that has a fix and that `allow` permits; every other finding is listed
 * with the reason it is not planned. Waived findings are accepted risk and are not changed.
 */
export function buildPlan(source: ReportSource, allow: readonly RemediationAllow[], createdAt: Date, options: { allowDestructive?: boolean } = {}): Plan {
  const allowDestructive = options.allowDestructive === true;
  const { report } = source;
  const items = new Map<string, InventoryItem>(report.inventory.map((item) => [item.uid, item]));
  const actions: PlannedAction[] = [];
  const notPlanned: UnplannedFinding[] = [];
  for (const finding of report.findings) {
    const item = items.get(finding.resource.uid);
    const skip = (reason: string) =>
      notPlanned.push({ rule: finding.ruleId, fingerprint: finding.fingerprint, resource: finding.resource.uid, provider: String(finding.resource.provider), reason });
    if (finding.baselineState === 'absent') continue; // fixed already: the baseline's, not a standing finding
    const declaration = remediationFor(String(finding.resource.provider));
    if (!item || !declaration || !declaration.rules.includes(finding.ruleId)) {
      skip('no automatic fix');
      continue;
    }
    if (finding.waiver) {
      skip(`waived until ${finding.waiver.expires}`);
      continue;
    }
    if (!allowed(allow, finding, item)) {
      skip('not allowed by remediation.allow');
      continue;
    }
    if (declaration.destructiveRules.includes(finding.ruleId) && !allowDestructive) {
      skip('destructive (data may stop being decryptable): planned only with --allow-destructive as well as remediation.allow');
      continue;
    }
    const proposal = declaration.plan({ finding, item, policy: report.scan.policy });
    if (!proposal.ok) {
      skip(`no automatic fix: ${proposal.reason}`);
      continue;
    }
    if (proposal.action.destructive && !allowDestructive) {
      skip('destructive (data may stop being decryptable): planned only with --allow-destructive as well as remediation.allow');
      continue;
    }
    const action = actionFor(item, finding.ruleId, finding.fingerprint, declaration.provider, proposal.action);
    // Two findings asking for the same change of the same key (KD-ROT-003 and KD-ROT-004 both
    // rotate) are one action: a key is never rotated twice by one plan.
    if (actions.some((planned) => sameChange(planned, action))) {
      skip('the same change is already planned for this key by another finding');
      continue;
    }
    actions.push(action);
  }
  return seal({
    ...header('findings', createdAt, allowDestructive),
    report: { from: source.from, digest: source.digest, now: report.scan.now, policyDigest: report.scan.policyDigest, configName: report.scan.configName },
    actions,
    notPlanned,
  });
}

/**
 * rotate-now: a rotation of every key whose uid (or name) matches `glob`, on every provider that
 * can rotate; keys that cannot be rotated are listed with the reason.
 */
export function buildRotationPlan(items: readonly InventoryItem[], glob: string, reason: string, createdAt: Date): Plan {
  const actions: PlannedAction[] = [];
  const notPlanned: UnplannedFinding[] = [];
  for (const item of items) {
    if (item.kind !== 'key' || !(globMatches(glob, item.uid) || globMatches(glob, item.name))) continue;
    const skip = (why: string) => notPlanned.push({ rule: 'rotate-now', fingerprint: '', resource: item.uid, provider: item.provider, reason: why });
    const declaration = remediationFor(item.provider);
    if (!declaration) {
      skip(`${item.provider} keys are read-only to keydrift`);
      continue;
    }
    const proposal = declaration.planRotation(item);
    if (!proposal.ok) {
      skip(proposal.reason);
      continue;
    }
    actions.push(actionFor(item, 'rotate-now', '', declaration.provider, proposal.action, reason));
  }
  return seal({ ...header('rotate-now', createdAt, false), reason, actions, notPlanned });
}

/** A rollback: the reversing action of each change, or why a change cannot be undone. */
export function buildRollbackPlan(log: { file: string; head: string }, changes: readonly LoggedChange[], createdAt: Date): Plan {
  const actions: PlannedAction[] = [];
  const notPlanned: UnplannedFinding[] = [];
  for (const change of changes) {
    const original = change.action;
    const skip = (why: string) => notPlanned.push({ rule: original.rule, fingerprint: original.fingerprint, resource: original.resource.uid, provider: original.provider, reason: `entry ${change.entryId}: ${why}` });
    const declaration = remediationFor(original.provider);
    const proposal = declaration ? declaration.planRollback(change) : { ok: false as const, reason: `no remediation for provider "${original.provider}"` };
    if (!proposal.ok) {
      skip(proposal.reason);
      continue;
    }
    actions.push({
      ...proposal.action,
      id: createHash('sha256').update(`rollback\n${change.entryId}`).digest('hex').slice(0, 16),
      provider: original.provider,
      sourceId: original.sourceId,
      resource: original.resource,
      rule: original.rule,
      fingerprint: original.fingerprint,
      rollbackOf: change.entryId,
    });
  }
  return seal({ ...header('rollback', createdAt, false), rollbackOf: { log: log.file, head: log.head }, actions, notPlanned });
}

function header(purpose: Plan['purpose'], createdAt: Date, allowDestructive: boolean) {
  return {
    schemaVersion: '1' as const,
    kind: 'remediation-plan' as const,
    tool: { name: TOOL.name, version: TOOL.version },
    createdAt: createdAt.toISOString(),
    purpose,
    allowDestructive,
  };
}

function actionFor(item: InventoryItem, rule: string, fingerprint: string, provider: string, proposed: ProposedAction, salt = ''): PlannedAction {
  const operations = proposed.calls.map((call) => call.operation).join(',');
  return {
    id: createHash('sha256').update(`${item.uid}\n${rule}\n${fingerprint}\n${operations}\n${salt}`).digest('hex').slice(0, 16),
    provider,
    sourceId: item.sourceId,
    resource: { uid: item.uid, name: item.name, location: item.location },
    rule,
    fingerprint,
    ...proposed,
  };
}

function sameChange(a: PlannedAction, b: PlannedAction): boolean {
  return a.resource.uid === b.resource.uid && a.sourceId === b.sourceId && canonicalJson(a.calls) === canonicalJson(b.calls);
}

function allowed(allow: readonly RemediationAllow[], finding: Finding, item: InventoryItem): boolean {
  return allow.some(
    (entry) =>
      globMatches(entry.rule, finding.ruleId) &&
      (entry.source === undefined || globMatches(entry.source, finding.resource.sourceId)) &&
      (entry.tier === undefined || (item.tier !== null && globMatches(entry.tier, item.tier))),
  );
}

export function planDigest(plan: Omit<Plan, 'digest'> & { digest?: unknown }): string {
  const { digest: _digest, ...content } = plan;
  return digestOf(content);
}

function seal(plan: Omit<Plan, 'digest'>): Plan {
  return { ...plan, digest: planDigest(plan) };
}

export function planText(plan: Plan): string {
  return JSON.stringify(plan, null, 2) + '\n';
}

/**
 * Reads a plan and refuses it unless its content still matches its digest: an edited action
 * (another key, another period) must never be applied as if it had been reviewed.
 */
export async function readPlanFile(file: string): Promise<Plan> {
  const shown = displayPath(file);
  const parsed = parseJson(await readBounded(file, shown, MAX_PLAN_BYTES), shown);
  if (!isObject(parsed) || parsed['kind'] !== 'remediation-plan' || parsed['schemaVersion'] !== '1') {
    throw new PlanFileError(`${shown}: not a keydrift remediation plan (kind "remediation-plan", schemaVersion "1")`);
  }
  if (typeof parsed['digest'] !== 'string') throw new PlanFileError(`${shown}: the plan has no digest`);
  const expected = planDigest(parsed as unknown as Plan);
  if (expected !== parsed['digest']) {
    throw new PlanTamperedError(`${shown}: the plan's content does not match its digest (recorded ${parsed['digest']}, content ${expected}): it was changed after planning; make a new plan`);
  }
  const problem = planShapeProblem(parsed);
  if (problem) throw new PlanFileError(`${shown}: not a usable plan: ${problem}`);
  return parsed as unknown as Plan;
}

/** The plan as a person reviews it: one line per action, then every finding left alone and why. */
export function formatPlan(plan: Plan): string[] {
  const origin =
    plan.purpose === 'findings' && plan.report
      ? `from ${plan.report.from} (${plan.report.digest}, clock ${plan.report.now})`
      : plan.purpose === 'rollback' && plan.rollbackOf
        ? `rolling back ${plan.rollbackOf.log}`
        : `incident rotation: ${plan.reason ?? ''}`;
  const lines = [`plan ${plan.digest} ${origin}`, `${plan.actions.length} action(s):`];
  for (const action of plan.actions) {
    const flags = [action.reversible ? 'reversible' : 'irreversible', ...(action.destructive ? ['DESTRUCTIVE'] : [])].join(', ');
    lines.push(`  ${action.id} ${action.rule} ${action.resource.uid}: ${action.summary} [${action.calls.map((call) => call.operation).join(', ')}] ${flags}`);
    if (action.dataImpact) lines.push(`      data impact: ${action.dataImpact}`);
    for (const note of action.notes) lines.push(`      note: ${note}`);
  }
  lines.push(`${plan.notPlanned.length} ${plan.purpose === 'findings' ? 'finding(s)' : 'item(s)'} not planned:`);
  for (const left of plan.notPlanned) lines.push(`  ${left.rule} ${left.resource}: ${left.reason}`);
  return lines;
}

const KINDS = new Set(['set', 'rotate']);
const PURPOSES = new Set(['findings', 'rotate-now', 'rollback']);

/** Why a parsed plan cannot be applied (its shape), or null. The digest only says it was not edited. */
function planShapeProblem(plan: Record<string, unknown>): string | null {
  if (!PURPOSES.has(plan['purpose'] as string)) return 'purpose: not one of findings, rotate-now, rollback';
  if (typeof plan['allowDestructive'] !== 'boolean') return 'allowDestructive: not a boolean';
  if (!Array.isArray(plan['actions']) || !Array.isArray(plan['notPlanned'])) return '"actions" and "notPlanned" must be arrays';
  for (const [index, value] of (plan['actions'] as unknown[]).entries()) {
    const at = `actions[${index}]`;
    if (!isObject(value)) return `${at}: not an object`;
    for (const field of ['id', 'provider', 'sourceId', 'rule', 'summary'] as const) if (typeof value[field] !== 'string') return `${at}.${field}: missing or not a string`;
    if (!KINDS.has(value['kind'] as string)) return `${at}.kind: not "set" or "rotate"`;
    if (!isObject(value['resource']) || typeof value['resource']['uid'] !== 'string') return `${at}.resource.uid: missing`;
    if (!isObject(value['before']) || !isObject(value['after'])) return `${at}: before and after must be objects`;
    if (typeof value['destructive'] !== 'boolean' || typeof value['reversible'] !== 'boolean') return `${at}: destructive and reversible must be booleans`;
    if (value['destructive'] === true && plan['allowDestructive'] !== true) return `${at}: a destructive action in a plan made without --allow-destructive`;
    if (!Array.isArray(value['calls']) || value['calls'].length === 0) return `${at}.calls: must be a non-empty array`;
    for (const [callIndex, call] of (value['calls'] as unknown[]).entries()) {
      if (!isObject(call) || typeof call['operation'] !== 'string' || !isObject(call['params'])) return `${at}.calls[${callIndex}]: needs operation and params`;
    }
  }
  return null;
}

async function readBounded(file: string, shown: string, maxBytes: number): Promise<Buffer> {
  try {
    return await readRegularFile(file, maxBytes);
  } catch (error) {
    if (error instanceof FileReadError) throw new PlanFileError(`${shown}: ${error.message}`);
    throw error;
  }
}

function parseJson(bytes: Buffer, shown: string): unknown {
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown;
  } catch (error) {
    throw new PlanFileError(`${shown}: not valid JSON: ${(error as Error).message}`);
  }
}

function sha256(bytes: Buffer): string {
  return 'sha256:' + createHash('sha256').update(bytes).digest('hex');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
