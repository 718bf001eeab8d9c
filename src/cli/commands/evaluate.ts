import { mkdir } from 'node:fs/promises';
import { assignTier } from '../../collectors/tiers.ts';
import { effectivePolicy, type EffectivePolicy } from '../../config/settings.ts';
import type { FailOn } from '../../model/severity.ts';
import { loadEvidence, InventoryFileError } from '../../inventory/file.ts';
import { evaluateEvidence } from '../../pipeline.ts';
import { inventoryDigest } from '../../findings/fingerprint.ts';
import { displayPath } from '../../util/paths.ts';
import { COMMON_HELP, COMMON_OPTIONS, loggerFor, parse, parseFailOn, parseNow, parseShardOption, UsageError, type Values } from '../options.ts';
import { applyBaseline, baselineOption, configDigest, count, historyOption, optionalConfig, outputChoice, summaryText, TERMINAL_TOP, withFirstSeen, writeAndSummarise, type OutputChoice } from './shared.ts';
import { BUILTIN_BUNDLE, ENTRYPOINT } from '../../engine/bundle.ts';
import { loadModule } from '../../engine/engine.ts';
import { evaluateStream, type RunPlan } from '../../evaluate/run.ts';
import type { EvaluateSetup } from '../../evaluate/batch.ts';
import type { EvidenceHeader } from '../../inventory/file.ts';
import { reportHead } from '../../evaluate/report-head.ts';
import { materialize, STREAMED_FORMATS, standingView, writeStreamedReports } from '../../report/streamed.ts';
import { PRETTY_LIMIT } from '../../report/write.ts';
import type { Config } from '../../config/types.ts';
import type { BaselineReport } from '../../findings/baseline.ts';
import { inShard, itemShardKey, type Shard } from '../../shard/shard.ts';
import { help } from './scan.ts';
import type { Logger } from '../../model/logger.ts';
import { catalogue } from '../../rules/catalogue.ts';

export const EVALUATE_HELP = `Usage: keydrift evaluate --inventory FILE [options]

Evaluate a saved inventory (from "keydrift inventory") or a JSON report's inventory, with no network.
With a JSON report and no --config, the policy recorded in the report is used, and without --now
the clock it recorded, so "keydrift evaluate --inventory reports/keydrift.json" re-derives its
findings (a warning says so, and another when the inventory no longer matches its recorded digest).
An inventory is judged at the real clock unless --now is given (a warning names its collection
time when that is a day or more ago).
With a config, its "tiers" re-assign every item's tier as "keydrift scan" would (an item no rule
matches then has none); a config without "tiers" keeps the tiers the items were saved with.

${COMMON_HELP}
  --inventory FILE       the saved inventory or JSON report (required)
  --no-recorded-policy   ignore the policy a JSON report recorded (its waivers and custom bundle paths
                         included): use --config, ./keydrift.yaml or the defaults instead
  --threads N            evaluation threads (default: one per core, up to 8; 1 for a small file;
                         KEYDRIFT_THREADS): the same findings in the same order with any number

Inventory files may be JSON (an inventory, a report or an array of items) or JSON Lines (one item
per line, the first line optionally the inventory's header); they are read as a stream.`;

export async function evaluate(argv: string[]): Promise<number> {
  const { values } = parse(argv, { ...COMMON_OPTIONS, inventory: { type: 'string', short: 'i' }, 'no-recorded-policy': { type: 'boolean' }, threads: { type: 'string' } });
  if (values['help']) return help(EVALUATE_HELP);
  const file = values['inventory'] as string | undefined;
  if (!file) throw new UsageError('evaluate needs --inventory FILE');
  const startedAt = new Date();
  const logger = loggerFor(values);
  const given = parseNow(values['now'] as string | undefined);
  const shard = parseShardOption(values['shard'] as string | undefined);
  const threads = threadsOption(values['threads'] as string | undefined);
  const baseline = await baselineOption(values);
  const builtin = await loadModule(BUILTIN_BUNDLE, ENTRYPOINT, 'built-in policies');
  const shown = displayPath(file);
  let decided: Decision | null = null;
  const plan = async (header: EvidenceHeader): Promise<RunPlan | null> => {
    const decision = await decide(header, values, given);
    decided = decision;
    // Custom bundles run in their sandbox and a baseline compares whole reports: both take the in-memory path.
    if (decision.policy.bundles.length > 0 || baseline) return null;
    await mkdir(decision.choice.outDir, { recursive: true });
    return { setup: decision.setup, dir: decision.choice.outDir };
  };
  let outcome;
  try {
    // An auditor re-deriving findings must never silently get a subset: one invalid item refuses the file.
    outcome = await evaluateStream({ file, shown, lane: { wasm: builtin.wasm, entrypoint: ENTRYPOINT }, plan, ...(shard ? { shard } : {}), ...(threads !== undefined ? { threads } : {}) });
  } catch (error) {
    if (error instanceof InventoryFileError) throw new UsageError(error.message);
    throw error;
  }
  if (outcome === null) return await evaluateInMemory({ file, values, given, startedAt, baseline, logger, shard });
  try {
    const decision = decided!;
    const { header, evaluated } = outcome;
    announce(decision, header, file, logger, given !== undefined);
    logger.info(
      `evaluated ${count(evaluated.items, 'item')} from ${shown}${shard ? ` (shard ${shard.index}/${shard.count} of ${outcome.read})` : ''} on ${count(outcome.threads, 'thread')}` +
        (outcome.again > 0 ? ` (${outcome.again} of ${outcome.batches} batch${outcome.batches === 1 ? '' : 'es'} evaluated again with the whole inventory's index)` : ''),
    );
    const scanned = header.report?.['scan'] as { inventoryDigest?: string } | undefined;
    if (scanned?.inventoryDigest && !shard && evaluated.inventoryDigest !== scanned.inventoryDigest) warnChangedInventory(file, scanned.inventoryDigest, logger);
    const { choice, failOn } = decision;
    const streamed = {
      head: reportHead(evaluated, { startedAt, now: decision.now, policy: decision.policy, failOn, sources: header.sources, policyDigest: builtin.digest, ...decision.head, ...(shard ? { shard } : {}) }),
      evaluated,
    };
    const writeWhole = choice.formats.some((format) => !STREAMED_FORMATS.includes(format)) || choice.history !== undefined || Boolean(values['pretty']) || evaluated.items + evaluated.order.length <= PRETTY_LIMIT;
    if (writeWhole) {
      const report = await materialize(streamed);
      return await writeAndSummarise(report, { ...choice, failOn }, logger, Boolean(values['quiet']), values['pretty'] ? { pretty: true } : {});
    }
    const files = await writeStreamedReports(streamed, choice.formats, choice.outDir);
    if (!values['quiet']) process.stdout.write(summaryText({ ...streamed.head, findings: [], inventory: [] }, files, standingView(streamed, TERMINAL_TOP)));
    else logger.debug(files.join(', '));
    return streamed.head.summary.exitCode;
  } finally {
    outcome.evaluated.json.close();
  }
}

/** What the evidence file and the options decide: the policy, clock, config and outputs. */
interface Decision {
  config: Config | null;
  policy: EffectivePolicy;
  now: Date;
  failOn: FailOn;
  choice: OutputChoice;
  recorded: RecordedScan | undefined;
  head: { configName: string; configDigest: string | null };
  setup: EvaluateSetup;
}

type RecordedScan = { policy?: EffectivePolicy; configName?: string; failOn?: FailOn; configDigest?: string; inventoryDigest?: string };

/** Decided without a word on stderr: it may be asked twice (before the items, and with the whole file). */
async function decide(header: Pick<EvidenceHeader, 'report' | 'collectedAt' | 'sources'>, values: Values, given: Date | undefined): Promise<Decision> {
  const scanned = header.report?.['scan'] as RecordedScan | undefined;
  // Without --now: a report at the clock it recorded, an inventory at the real clock (announce says so).
  const now = given ?? (header.report !== null && header.collectedAt !== null ? new Date(header.collectedAt) : startOfRun);
  const recorded = values['no-recorded-policy'] ? undefined : scanned;
  // --profile asks for a policy of its own, as --config does: the recorded one is not silently kept.
  const config = values['config'] || values['profile'] || !recorded?.policy ? await optionalConfig(values) : null;
  const history = await historyOption(values);
  const choice = { ...outputChoice(values, config), ...(history ? { history } : {}) };
  const failOn = parseFailOn(values['fail-on'] as string | undefined) ?? config?.report?.failOn ?? recorded?.failOn ?? 'high';
  const policy = config ? effectivePolicy(config) : recorded?.policy ? { ...recorded.policy, waivers: recorded.policy.waivers ?? [], bundles: recorded.policy.bundles ?? [] } : effectivePolicy(undefined);
  const fallbackFile = config ? displayPath(config.file) : displayPath(String(values['inventory']));
  const head = { configName: config?.name ?? recorded?.configName ?? 'keydrift', configDigest: config ? configDigest(config) : (recorded?.configDigest ?? null) };
  const setup: EvaluateSetup = { ...(config?.tiers ? { tiers: config.tiers } : {}), now: now.toISOString(), policy, sources: header.sources, fallbackFile, rules: [...catalogue()] };
  return { config, policy, now, failOn, choice, recorded, head, setup };
}

/** The real clock of this run: one value, so the two decisions of one run agree. */
const startOfRun = new Date();

/** What the decision took from the file rather than from the user, said once. */
function announce(decision: Decision, header: Pick<EvidenceHeader, 'report' | 'collectedAt'>, file: string, logger: Logger, givenClock: boolean): void {
  if (!givenClock) clockFor(header.report !== null, header.collectedAt, file, logger, decision.now);
  if (!decision.config && decision.recorded?.policy) announceRecordedPolicy(decision.recorded.policy, file, logger);
}

/** --threads N: evaluation threads (1: this one); KEYDRIFT_THREADS when not given; undefined: one per core. */
function threadsOption(text: string | undefined): number | undefined {
  const value = text ?? process.env['KEYDRIFT_THREADS'];
  if (value === undefined || value === '') return undefined;
  if (!/^\d{1,2}$/.test(value) || Number(value) < 1 || Number(value) > 64) throw new UsageError(`--threads must be a number from 1 to 64 (got "${value}")`);
  return Number(value);
}

function warnChangedInventory(file: string, recorded: string, logger: Logger): void {
  logger.warn(`the inventory in ${displayPath(file)} does not match the digest its report recorded (${recorded}): it was changed after the scan, so these findings are not the report's`);
}

interface InMemoryRun {
  file: string;
  values: Values;
  given: Date | undefined;
  startedAt: Date;
  baseline: BaselineReport | null;
  logger: Logger;
  shard: Shard | undefined;
}

/** The whole evidence as objects: with custom bundles (sandboxed) or a baseline (compared whole). */
async function evaluateInMemory(run: InMemoryRun): Promise<number> {
  let evidence;
  try {
    evidence = await loadEvidence(run.file, { invalidItems: 'reject' });
  } catch (error) {
    if (error instanceof InventoryFileError) throw new UsageError(error.message);
    throw error;
  }
  const decision = await decide(evidence, run.values, run.given);
  announce(decision, evidence, run.file, run.logger, run.given !== undefined);
  const scanned = evidence.report?.['scan'] as RecordedScan | undefined;
  if (scanned?.inventoryDigest && !run.shard && inventoryDigest(evidence.items) !== scanned.inventoryDigest) warnChangedInventory(run.file, scanned.inventoryDigest, run.logger);
  const shard = run.shard;
  const inShardItems = shard ? evidence.items.filter((item) => inShard(itemShardKey(item), shard)) : evidence.items;
  const items = decision.config ? inShardItems.map((item) => assignTier(item, decision.config!.tiers)) : inShardItems;
  run.logger.info(`evaluating ${count(items.length, 'item')} from ${displayPath(run.file)} in memory`);
  const evaluated = await applyBaseline(
    await evaluateEvidence({
      // As scan does: with --baseline, the first-seen state (stateSince) comes from it.
      items: withFirstSeen(items, run.baseline),
      sources: evidence.sources,
      now: decision.now,
      policy: decision.policy,
      failOn: decision.failOn,
      configName: decision.head.configName,
      configDigest: decision.head.configDigest,
      startedAt: run.startedAt,
      fallbackFile: decision.setup.fallbackFile,
      ...(decision.config?.policy?.bundleTimeoutMs !== undefined ? { bundleTimeoutMs: decision.config.policy.bundleTimeoutMs } : {}),
    }),
    run.values,
    run.baseline,
  );
  const report = shard ? { ...evaluated, scan: { ...evaluated.scan, shard } } : evaluated;
  return writeAndSummarise(report, { ...decision.choice, failOn: decision.failOn }, run.logger, Boolean(run.values['quiet']), run.values['pretty'] ? { pretty: true } : {});
}

/**
 * Without --now: a report is re-judged at the clock it recorded (the real clock would silently give
 * other findings); an inventory at the real clock, with a warning when it was collected days ago.
 */
function clockFor(isReport: boolean, recorded: string | null, file: string, logger: Logger, now: Date): void {
  if (recorded === null) return;
  if (isReport) {
    logger.warn(`evaluating at the clock ${displayPath(file)} recorded (${recorded}); --now to evaluate at another time`);
    return;
  }
  const days = Math.floor((now.getTime() - Date.parse(recorded)) / 86_400_000);
  if (days >= 1) logger.warn(`${displayPath(file)} was collected at ${recorded}, ${days} day${days === 1 ? '' : 's'} ago: findings are judged at the real clock; --now ${recorded} judges it as collected`);
}

/**
 * The recorded policy is the report's, not the reader's: its waivers silence findings and its
 * custom bundle paths load code from this machine. Say so, so nothing is re-used without a word.
 */
function announceRecordedPolicy(policy: EffectivePolicy, file: string, logger: Logger): void {
  const waivers = policy.waivers ?? [];
  const bundles = policy.bundles ?? [];
  logger.warn(
    `using the policy recorded in ${displayPath(file)} (profile ${policy.profile}, ${waivers.length} waiver${waivers.length === 1 ? '' : 's'}` +
      `${bundles.length > 0 ? `, custom bundles loaded from ${bundles.join(', ')}` : ''}); --config or --no-recorded-policy to use another`,
  );
}
