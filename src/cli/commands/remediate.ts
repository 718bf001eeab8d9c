import { collectAll } from '../../collectors/run.ts';
import { effectivePolicy } from '../../config/settings.ts';
import type { Config } from '../../config/types.ts';
import { evaluateEvidence, loadPolicies } from '../../pipeline.ts';
import { applyExitCode, applyPlan, DEFAULT_APPLY_CONCURRENCY } from '../../remediate/apply.ts';
import { AuditLogError, openAuditLog, readLogEntries, signHead, type AuditEntry } from '../../remediate/audit-log.ts';
import { AuditKeyError, privateKeyFrom } from '../../remediate/audit-signature.ts';
import {
  buildPlan,
  buildRollbackPlan,
  buildRotationPlan,
  formatPlan,
  PlanFileError,
  PlanTamperedError,
  planText,
  readPlanFile,
  readReportFile,
  reportSourceOf,
  type ReportSource,
} from '../../remediate/plan.ts';
import type { ActionResult, KeyStateView, LoggedChange, Plan, PlannedAction } from '../../remediate/types.ts';
import { writeFileAtomic } from '../../util/atomic-write.ts';
import { displayPath } from '../../util/paths.ts';
import { readRegularFile } from '../../util/read-regular-file.ts';
import { redact } from '../../util/redact.ts';
import { terminalLine } from '../../util/terminal.ts';
import { COLLECT_HELP, loggerFor, parse, parseNow, parseTimeout, UsageError, type Values } from '../options.ts';
import { bundleTimeout, help } from './scan.ts';
import { configDigest, configFrom } from './shared.ts';

export const DEFAULT_AUDIT_LOG = 'keydrift-audit.jsonl';

export const REMEDIATE_HELP = `Usage: keydrift remediate plan --config FILE [--from REPORT.json] --plan PLAN.json [--allow-destructive]
       keydrift remediate apply PLAN.json --config FILE --audit-log LOG.jsonl [--actor NAME]
       keydrift remediate rotate-now --config FILE --resource GLOB --reason TEXT [--yes]
       keydrift remediate rollback LOG.jsonl --config FILE [--entry ID]

Fix the findings the config's remediation.allow list permits, on AWS KMS, Google Cloud KMS and
Vault transit (PKCS#11 tokens and certificates stay read-only).

  plan                   scan (or read --from REPORT.json), write the plan to --plan and print it:
                         one line per action, then every finding left alone and why
  apply                  re-read each key; skip it if already right or changed since planning,
                         else make the planned calls and read the key back to verify; one audit
                         log entry per action
  rotate-now             rotate every key whose uid or name matches --resource now (incident
                         rotation); prints the plan and changes nothing without --yes
  rollback               put back what the log's reversible changes changed (rotation settings,
                         disabled versions, scheduled deletions) and list the irreversible ones
  --config FILE          configuration file (default: keydrift.yaml)
  --from REPORT.json     plan: from a saved JSON report instead of a fresh scan
  --plan FILE            plan: where to write the plan (rotate-now: also write it there)
  --allow-destructive    plan: also plan destructive fixes the config allows (disable an old
                         version, raise min_decryption_version, schedule a deletion)
  --now RFC3339          evaluation clock of the fresh scan (default: the real clock)
${COLLECT_HELP}
  --resource GLOB        rotate-now: key uid or name (* and ? wildcards)
  --reason TEXT          rotate-now: why (recorded in every audit log entry)
  --yes                  rotate-now: apply the rotation plan
  --entry ID             rollback: only this audit entry's change
  --concurrency N        actions in flight at once (default: ${DEFAULT_APPLY_CONCURRENCY})
  --audit-log FILE       the hash-chained JSON Lines log every change is appended to
                         (default: ${DEFAULT_AUDIT_LOG})
  --actor NAME           who applies, for the audit log (default: GITHUB_ACTOR or the OS user)
  --sign-key FILE        Ed25519 private key (PEM): re-sign the log's head after appending
  --quiet, --verbose     less or more progress on stderr
  --no-color             no ANSI colours
  -h, --help             this help

Exit codes (apply, rotate-now --yes, rollback): 0 every action applied or already right, 1 any
failed, 2 usage error or a plan whose content no longer matches its digest, 3 any skipped because
the key changed since planning (or a source could not be read).`;

const OPTIONS = {
  config: { type: 'string' },
  from: { type: 'string' },
  plan: { type: 'string' },
  'allow-destructive': { type: 'boolean' },
  now: { type: 'string' },
  timeout: { type: 'string' },
  resource: { type: 'string' },
  reason: { type: 'string' },
  yes: { type: 'boolean', short: 'y' },
  entry: { type: 'string' },
  concurrency: { type: 'string' },
  actor: { type: 'string' },
  'audit-log': { type: 'string' },
  'sign-key': { type: 'string' },
  quiet: { type: 'boolean', short: 'q' },
  verbose: { type: 'boolean', short: 'v' },
  'no-color': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

const SUBCOMMANDS = ['plan', 'apply', 'rotate-now', 'rollback'];

export async function remediate(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, OPTIONS);
  if (values['help']) return help(REMEDIATE_HELP);
  const [action, ...rest] = positionals;
  if (action === undefined || !SUBCOMMANDS.includes(action)) {
    throw new UsageError(action === undefined ? `remediate needs a subcommand: ${SUBCOMMANDS.join(', ')}` : `remediate: unknown subcommand "${action}"; expected ${SUBCOMMANDS.join(', ')}`);
  }
  const positional = (usage: string): string => {
    if (rest.length !== 1) throw new UsageError(`remediate ${action} needs exactly one ${usage}`);
    return rest[0]!;
  };
  const none = () => {
    if (rest.length > 0) throw new UsageError(`remediate ${action}: unexpected argument "${rest[0]}"`);
  };
  try {
    switch (action) {
      case 'plan':
        none();
        return await plan(values);
      case 'apply':
        return await apply(positional('plan file (keydrift remediate apply PLAN.json --config FILE --audit-log LOG.jsonl)'), values);
      case 'rotate-now':
        none();
        return await rotateNow(values);
      default:
        return await rollback(positional('audit log (keydrift remediate rollback LOG.jsonl --config FILE)'), values);
    }
  } catch (error) {
    // A refused or unreadable plan, report or log is a usage problem: exit 2, one line naming the file.
    if (error instanceof PlanFileError || error instanceof AuditLogError) throw new UsageError(error.message);
    throw error;
  }
}

async function plan(values: Values): Promise<number> {
  const planFile = values['plan'] as string | undefined;
  if (!planFile) throw new UsageError('remediate plan needs --plan FILE (where to write the plan)');
  const config = await configFrom(values);
  const from = values['from'] as string | undefined;
  const source = from ? await readReportFile(from) : await freshScan(values, config);
  const built = buildPlan(source, config.remediation?.allow ?? [], new Date(), { allowDestructive: Boolean(values['allow-destructive']) });
  await writeFileAtomic(planFile, planText(built));
  const extra = [`plan written to ${displayPath(planFile)}`];
  if (!config.remediation?.allow?.length) extra.push('remediation.allow is empty or absent in the config: nothing is allowed');
  print(values, [...formatPlan(built), ...extra]);
  return 0;
}

/** The scan pipeline, without writing reports: the plan records the report's digest instead. */
async function freshScan(values: Values, config: Config): Promise<ReportSource> {
  const startedAt = new Date();
  const logger = loggerFor(values);
  const now = parseNow(values['now'] as string | undefined) ?? new Date();
  const timeoutMs = parseTimeout(values['timeout'] as string | undefined);
  const policy = effectivePolicy(config);
  const policies = await loadPolicies(policy.bundles, bundleTimeout(config));
  const { items, sources } = await collectAll(config, { logger, now, ...(timeoutMs !== undefined ? { timeoutMs } : {}) });
  const report = await evaluateEvidence({
    items,
    sources,
    now,
    policy,
    policies,
    failOn: config.report?.failOn ?? 'high',
    configName: config.name,
    configDigest: configDigest(config),
    startedAt,
    fallbackFile: displayPath(config.file),
  });
  return reportSourceOf(report);
}

async function apply(planFile: string, values: Values): Promise<number> {
  const concurrency = parseConcurrency(values['concurrency'] as string | undefined);
  const config = await configFrom(values);
  let loaded: Plan;
  try {
    loaded = await readPlanFile(planFile);
  } catch (error) {
    if (error instanceof PlanTamperedError) {
      process.stderr.write(terminalLine(`keydrift: ${redact(error.message)}`) + '\n');
      return 2;
    }
    throw error;
  }
  return runPlan(loaded, config, values, concurrency);
}

async function rotateNow(values: Values): Promise<number> {
  const glob = values['resource'] as string | undefined;
  const reason = (values['reason'] as string | undefined)?.trim();
  if (!glob) throw new UsageError('remediate rotate-now needs --resource GLOB (the key uid or name to rotate; * and ? match)');
  if (!reason) throw new UsageError('remediate rotate-now needs --reason TEXT (why: it is recorded in the audit log)');
  const concurrency = parseConcurrency(values['concurrency'] as string | undefined);
  const config = await configFrom(values);
  const timeoutMs = parseTimeout(values['timeout'] as string | undefined);
  const { items, sources } = await collectAll(config, { logger: loggerFor(values), now: new Date(), ...(timeoutMs !== undefined ? { timeoutMs } : {}) });
  const built = buildRotationPlan(items, glob, reason, new Date());
  const unread = sources.filter((source) => source.status !== 'ok');
  const lines = formatPlan(built);
  for (const source of unread) lines.push(`source "${source.id}" could not be fully read (${source.status}): keys there may be missing from this plan`);
  if (built.actions.length === 0 && built.notPlanned.length === 0) lines.push(`no key matches ${glob}`);
  const planFile = values['plan'] as string | undefined;
  if (planFile) {
    await writeFileAtomic(planFile, planText(built));
    lines.push(`plan written to ${displayPath(planFile)}`);
  }
  if (!values['yes']) {
    print(values, [...lines, 'nothing changed: rerun with --yes to rotate these keys']);
    return unread.length > 0 ? 3 : 0;
  }
  print(values, lines);
  const code = await runPlan(built, config, values, concurrency);
  return code === 0 && unread.length > 0 ? 3 : code;
}

async function rollback(logFile: string, values: Values): Promise<number> {
  const concurrency = parseConcurrency(values['concurrency'] as string | undefined);
  const config = await configFrom(values);
  const entries = await readLogEntries(logFile);
  const wanted = values['entry'] as string | undefined;
  const changes = changesToRollBack(entries, wanted, logFile);
  const head = entries.at(-1)?.hash ?? '';
  const built = buildRollbackPlan({ file: displayPath(logFile), head }, changes, new Date());
  print(values, formatPlan(built));
  if (built.actions.length === 0) {
    print(values, ['nothing to roll back']);
    return 0;
  }
  return runPlan(built, config, { ...values, 'audit-log': logFile }, concurrency);
}

/**
 * The applied changes of the log not rolled back yet, newest first (undone in reverse order);
 * with --entry, only that one.
 */
function changesToRollBack(entries: readonly AuditEntry[], wanted: string | undefined, logFile: string): LoggedChange[] {
  const undone = new Set(
    entries.filter((entry) => entry.result.status === 'rolled-back').map((entry) => (entry.change?.action as PlannedAction | undefined)?.rollbackOf),
  );
  const applied = entries.filter((entry) => entry.result.status === 'applied' && entry.change && isAction(entry.change.action));
  if (wanted !== undefined) {
    const entry = entries.find((candidate) => candidate.id === wanted);
    if (!entry) throw new UsageError(`${displayPath(logFile)}: no entry with id "${wanted}"`);
    if (!applied.includes(entry)) throw new UsageError(`${displayPath(logFile)}: entry "${wanted}" (seq ${entry.seq}) is not an applied change (${entry.result.status})`);
    if (undone.has(entry.id)) throw new UsageError(`${displayPath(logFile)}: entry "${wanted}" (seq ${entry.seq}) was already rolled back`);
    return [changeOf(entry)];
  }
  return applied
    .filter((entry) => !undone.has(entry.id) && (entry.change!.action as PlannedAction).rollbackOf === undefined)
    .reverse()
    .map(changeOf);
}

function changeOf(entry: AuditEntry): LoggedChange {
  return { entryId: entry.id, action: entry.change!.action as PlannedAction, observed: (entry.before ?? {}) as KeyStateView, verified: (entry.after ?? {}) as KeyStateView };
}

function isAction(value: unknown): value is PlannedAction {
  const action = value as Partial<PlannedAction> | null;
  return !!action && typeof action.provider === 'string' && Array.isArray(action.calls) && typeof action.resource?.uid === 'string';
}

/** Applies a plan, one audit entry per action as it finishes, then re-signs the log if asked. */
async function runPlan(loaded: Plan, config: Config, values: Values, concurrency: number): Promise<number> {
  const logFile = (values['audit-log'] as string | undefined) ?? DEFAULT_AUDIT_LOG;
  const signKey = values['sign-key'] as string | undefined;
  const signPem = signKey === undefined ? undefined : await readSignKey(signKey);
  const log = await openAuditLog(logFile, { ...(values['actor'] !== undefined ? { actor: values['actor'] as string } : {}) });
  let results: ActionResult[];
  try {
    ({ results } = await applyPlan(loaded, {
      sources: config.sources,
      baseDir: config.baseDir,
      concurrency,
      onResult: async (result, action) => {
        process.stdout.write(terminalLine(redact(resultLine(result, action))) + '\n');
        await log.append(auditRecord(result, action, loaded));
      },
    }));
  } catch (error) {
    if (!(error instanceof AuditLogError)) throw error;
    // Changes may have been made: not a usage error. Nothing new started once the log failed.
    process.stderr.write(terminalLine(`keydrift: ${redact(error.message)}; stopped: no further action was started`) + '\n');
    return 1;
  } finally {
    await log.close().catch(() => undefined);
  }
  if (signPem !== undefined) {
    try {
      await signHead(logFile, signPem);
    } catch (error) {
      if (error instanceof AuditKeyError) throw new UsageError(`${displayPath(signKey!)}: ${error.message}`);
      throw error;
    }
  }
  const count = (status: ActionResult['status']) => results.filter((result) => result.status === status).length;
  const code = applyExitCode(results);
  const verb = loaded.purpose === 'rollback' ? 'rolled back' : 'applied';
  process.stdout.write(
    terminalLine(
      `keydrift: ${results.length} action(s): ${count('applied')} ${verb}, ${count('already-right')} already right, ${count('stale')} changed since planning, ${count('failed')} failed (exit ${code}); audit log ${displayPath(logFile)}`,
    ) + '\n',
  );
  return code;
}

function resultLine(result: ActionResult, action: PlannedAction): string {
  const head = `${result.id} ${result.rule} ${result.resource}`;
  switch (result.status) {
    case 'applied':
      return action.kind === 'rotate'
        ? `applied  ${head}: rotated, primary version ${action.before.primaryVersion ?? 'unknown'} → ${result.verified?.primaryVersion ?? 'unknown'}`
        : `applied  ${head}: ${action.summary}`;
    case 'already-right':
      return `skipped  ${head}: ${result.reason}`;
    case 'stale':
      return `skipped  ${head}: ${result.reason}`;
    case 'failed':
      return `failed   ${head}: ${result.reason}`;
  }
}

function auditRecord(result: ActionResult, action: PlannedAction, plan: Plan) {
  const applied = plan.purpose === 'rollback' ? 'rolled-back' : 'applied';
  return {
    reason: { rule: action.rule, ...(action.fingerprint ? { fingerprint: action.fingerprint } : {}), text: plan.reason ?? (plan.purpose === 'rollback' ? `rollback of entry ${action.rollbackOf}` : `plan ${plan.digest}`) },
    resource: action.resource.uid,
    action: action.calls.map((call) => call.operation).join(', '),
    before: result.observed,
    after: result.verified,
    result: {
      status: result.status === 'applied' ? applied : result.status === 'failed' ? ('failed' as const) : ('skipped' as const),
      ...(result.status === 'applied' ? {} : { detail: result.reason }),
    },
    change: { plan: plan.digest, purpose: plan.purpose, action },
  } as const;
}

/** Read and checked before anything changes: a bad key must not surface after the apply. */
async function readSignKey(file: string): Promise<string> {
  let pem: string;
  try {
    pem = (await readRegularFile(file, 64 * 1024)).toString('utf8');
  } catch (error) {
    throw new UsageError(`${displayPath(file)}: ${(error as Error).message.replace(/, skipped$/, '')}`);
  }
  try {
    privateKeyFrom(pem);
  } catch (error) {
    if (error instanceof AuditKeyError) throw new UsageError(`${displayPath(file)}: ${error.message}`);
    throw error;
  }
  return pem;
}

function print(values: Values, lines: string[]): void {
  if (values['quiet']) return;
  process.stdout.write(lines.map((line) => terminalLine(redact(line))).join('\n') + '\n');
}

function parseConcurrency(text: string | undefined): number {
  if (text === undefined) return DEFAULT_APPLY_CONCURRENCY;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > 256) throw new UsageError(`--concurrency: "${text}" is not a whole number from 1 to 256`);
  return value;
}
