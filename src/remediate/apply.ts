import type { SourceConfig } from '../model/source.ts';
import { redact } from '../util/redact.ts';
import { remediationFor } from './registry.ts';
import { compareState } from './state.ts';
import type { ActionResult, KeyStateView, Plan, PlannedAction, ProviderSession } from './types.ts';

export const DEFAULT_APPLY_CONCURRENCY = 8;

export interface ApplyOptions {
  sources: readonly SourceConfig[];
  /** The config's folder: relative paths in a source (a caFile) resolve against it, as in a scan. */
  baseDir: string;
  concurrency?: number;
  /** Called as each action finishes, in plan order; awaited, so a log append lands before the next. */
  onResult?: (result: ActionResult, action: PlannedAction) => void | Promise<void>;
}

export interface ApplyOutcome {
  results: ActionResult[];
  apiCalls: Record<string, number>;
}

/**
 * Runs every action of the plan: read, compare, write, read back. A resource is written only
 * when it is still as the plan saw it; one failure never stops the others.
 */
export async function applyPlan(plan: Plan, options: ApplyOptions): Promise<ApplyOutcome> {
  const apiCalls: Record<string, number> = {};
  const sessions = new Map<string, Promise<ProviderSession>>();
  const sessionFor = (action: PlannedAction, source: SourceConfig): Promise<ProviderSession> => {
    const key = `${action.provider}\u0000${source.id}`;
    let session = sessions.get(key);
    if (!session) {
      session = remediationFor(action.provider)!.load().then((executor) => executor.open({ source, apiCalls, baseDir: options.baseDir }));
      sessions.set(key, session);
    }
    return session;
  };
  const run = async (action: PlannedAction): Promise<ActionResult> => {
    const declaration = remediationFor(action.provider);
    if (!declaration) return outcome(action, 'failed', `no remediation for provider "${action.provider}"`, null);
    const unknown = action.calls.find((call) => !declaration.operations.some((operation) => operation.name === call.operation));
    if (unknown) return outcome(action, 'failed', `${unknown.operation} is not an operation ${action.provider} remediation declares`, null);
    const source = options.sources.find((candidate) => candidate.id === action.sourceId);
    if (!source) return outcome(action, 'failed', `source "${action.sourceId}" is not in the config`, null);
    let session: ProviderSession;
    try {
      session = await sessionFor(action, source);
    } catch (error) {
      return outcome(action, 'failed', `source "${source.id}": cannot connect: ${message(error)}`, null);
    }
    return executeAction(action, session, source.id);
  };
  const actions = plan.actions;
  const results: (ActionResult | undefined)[] = new Array(actions.length);
  // Results are reported (and logged) in plan order, each as soon as every action before it has
  // finished; a slow action never holds back the start of the ones after it.
  let reported = 0;
  let reporting: Promise<void> = Promise.resolve();
  const report = () => {
    reporting = reporting.then(async () => {
      while (reported < actions.length && results[reported] !== undefined) {
        const index = reported++;
        await options.onResult?.(results[index]!, actions[index]!);
      }
    });
    return reporting;
  };
  // A result that cannot be reported (the audit log cannot be written) stops the apply: no new
  // change starts without a record. Actions already in flight finish and are reported if possible.
  let failure: { error: unknown } | null = null;
  let next = 0;
  const worker = async () => {
    while (next < actions.length && failure === null) {
      const index = next++;
      results[index] = await run(actions[index]!);
      await report().catch((error: unknown) => {
        failure ??= { error };
      });
    }
  };
  const limit = Math.max(1, Math.min(actions.length, Math.floor(options.concurrency ?? DEFAULT_APPLY_CONCURRENCY)));
  try {
    await Promise.all(Array.from({ length: limit }, worker));
    if (failure !== null) throw (failure as { error: unknown }).error;
  } finally {
    for (const session of sessions.values()) await session.then((open) => open.close()).catch(() => undefined);
  }
  return { results: results as ActionResult[], apiCalls };
}

async function executeAction(action: PlannedAction, session: ProviderSession, sourceId: string): Promise<ActionResult> {
  const where = `source "${sourceId}", ${action.resource.uid}`;
  let observed: KeyStateView;
  try {
    observed = await session.read(action);
  } catch (error) {
    return outcome(action, 'failed', `${where}: reading the current state failed: ${message(error)}`, null);
  }
  const done = isDone(action, observed);
  if (done !== null) return outcome(action, 'already-right', done, observed);
  const changed = compareState(action.before, observed);
  if (changed.length > 0) return outcome(action, 'stale', `changed since planning (${changed.join('; ')}): not applied`, observed);
  const earlier: unknown[] = [];
  for (const call of action.calls) {
    try {
      earlier.push(await session.write(call, action, earlier));
    } catch (error) {
      return outcome(action, 'failed', `${where}: ${call.operation} failed: ${message(error)}`, observed);
    }
  }
  let verified: KeyStateView;
  try {
    verified = await session.read(action);
  } catch (error) {
    return outcome(action, 'failed', `${where}: written, but reading it back failed: ${message(error)}`, observed);
  }
  if (isDone(action, verified) === null) {
    const mismatch = action.kind === 'rotate' ? [`primaryVersion: still ${JSON.stringify(verified.primaryVersion ?? null)}`] : compareState(action.after, verified);
    return outcome(action, 'failed', `${where}: verification failed after ${action.calls.map((call) => call.operation).join(', ')}: ${mismatch.join('; ')}`, observed, verified);
  }
  return outcome(action, 'applied', '', observed, verified);
}

/** Why the action has nothing left to do, or null. A rotation is done once the primary version moved on. */
function isDone(action: PlannedAction, observed: KeyStateView): string | null {
  if (action.kind === 'rotate') {
    const planned = action.before.primaryVersion ?? null;
    const now = observed.primaryVersion ?? null;
    return now !== null && now !== planned ? `already rotated since planning (primary version ${planned ?? 'unknown'} → ${now})` : null;
  }
  return compareState(action.after, observed).length === 0 ? 'already right' : null;
}

function outcome(action: PlannedAction, status: ActionResult['status'], reason: string, observed: KeyStateView | null, verified: KeyStateView | null = null): ActionResult {
  return { id: action.id, resource: action.resource.uid, rule: action.rule, status, reason: redact(reason), observed, verified };
}

function message(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return error.name && error.name !== 'Error' && !error.message.startsWith(error.name) ? `${error.name}: ${error.message}` : error.message;
}

/** 0: every action applied or already right; 1: any failed; 3: any skipped as stale (and none failed). */
export function applyExitCode(results: readonly ActionResult[]): number {
  if (results.some((result) => result.status === 'failed')) return 1;
  if (results.some((result) => result.status === 'stale')) return 3;
  return 0;
}
