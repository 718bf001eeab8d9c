import { assignTier } from '../../collectors/tiers.ts';
import { effectivePolicy, type EffectivePolicy } from '../../config/settings.ts';
import type { FailOn } from '../../model/severity.ts';
import { loadEvidence, InventoryFileError } from '../../inventory/file.ts';
import { evaluateEvidence } from '../../pipeline.ts';
import { digestOf } from '../../findings/fingerprint.ts';
import { displayPath } from '../../util/paths.ts';
import { COMMON_HELP, COMMON_OPTIONS, loggerFor, parse, parseFailOn, parseNow, UsageError } from '../options.ts';
import { applyBaseline, baselineOption, configDigest, historyOption, optionalConfig, outputChoice, withFirstSeen, writeAndSummarise } from './shared.ts';
import { help } from './scan.ts';
import type { Logger } from '../../model/logger.ts';

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
                         included): use --config, ./keydrift.yaml or the defaults instead`;

export async function evaluate(argv: string[]): Promise<number> {
  const { values } = parse(argv, { ...COMMON_OPTIONS, inventory: { type: 'string', short: 'i' }, 'no-recorded-policy': { type: 'boolean' } });
  if (values['help']) return help(EVALUATE_HELP);
  const file = values['inventory'] as string | undefined;
  if (!file) throw new UsageError('evaluate needs --inventory FILE');
  const startedAt = new Date();
  const logger = loggerFor(values);
  const given = parseNow(values['now'] as string | undefined);
  let evidence;
  try {
    // An auditor re-deriving findings must never silently get a subset: one invalid item refuses the file.
    evidence = await loadEvidence(file, { invalidItems: 'reject' });
  } catch (error) {
    if (error instanceof InventoryFileError) throw new UsageError(error.message);
    throw error;
  }
  const scanned = evidence.report?.['scan'] as { policy?: EffectivePolicy; configName?: string; failOn?: FailOn; configDigest?: string; inventoryDigest?: string } | undefined;
  const now = given ?? clockFor(evidence.report !== null, evidence.collectedAt, file, logger);
  if (scanned?.inventoryDigest && digestOf(evidence.items) !== scanned.inventoryDigest) {
    logger.warn(`the inventory in ${displayPath(file)} does not match the digest its report recorded (${scanned.inventoryDigest}): it was changed after the scan, so these findings are not the report's`);
  }
  const recorded = values['no-recorded-policy'] ? undefined : scanned;
  // --profile asks for a policy of its own, as --config does: the recorded one is not silently kept.
  const config = values['config'] || values['profile'] || !recorded?.policy ? await optionalConfig(values) : null;
  if (!config && recorded?.policy) announceRecordedPolicy(recorded.policy, file, logger);
  const history = await historyOption(values);
  const choice = { ...outputChoice(values, config), ...(history ? { history } : {}) };
  const failOn = parseFailOn(values['fail-on'] as string | undefined) ?? config?.report?.failOn ?? recorded?.failOn ?? 'high';
  logger.info(`evaluating ${evidence.items.length} items from ${displayPath(file)}`);
  // The config under test decides tiers the way scan does; the recorded policy keeps the scan's own.
  const items = config ? evidence.items.map((item) => assignTier(item, config.tiers)) : evidence.items;
  // As scan does: with --baseline, the first-seen state (stateSince) comes from it.
  const baseline = await baselineOption(values);
  const report = await applyBaseline(
    await evaluateEvidence({
      items: withFirstSeen(items, baseline),
      sources: evidence.sources,
      now,
      policy: config ? effectivePolicy(config) : recorded?.policy ? { ...recorded.policy, waivers: recorded.policy.waivers ?? [], bundles: recorded.policy.bundles ?? [] } : effectivePolicy(undefined),
      failOn,
      configName: config?.name ?? recorded?.configName ?? 'keydrift',
      configDigest: config ? configDigest(config) : (recorded?.configDigest ?? null),
      startedAt,
      fallbackFile: config ? displayPath(config.file) : displayPath(file),
      ...(config?.policy?.bundleTimeoutMs !== undefined ? { bundleTimeoutMs: config.policy.bundleTimeoutMs } : {}),
    }),
    values,
    baseline,
  );
  return writeAndSummarise(report, { ...choice, failOn }, logger, Boolean(values['quiet']));
}

/**
 * Without --now: a report is re-judged at the clock it recorded (the real clock would silently give
 * other findings); an inventory at the real clock, with a warning when it was collected days ago.
 */
function clockFor(isReport: boolean, recorded: string | null, file: string, logger: Logger): Date {
  const real = new Date();
  if (recorded === null) return real;
  if (isReport) {
    logger.warn(`evaluating at the clock ${displayPath(file)} recorded (${recorded}); --now to evaluate at another time`);
    return new Date(recorded);
  }
  const days = Math.floor((real.getTime() - Date.parse(recorded)) / 86_400_000);
  if (days >= 1) logger.warn(`${displayPath(file)} was collected at ${recorded}, ${days} day${days === 1 ? '' : 's'} ago: findings are judged at the real clock; --now ${recorded} judges it as collected`);
  return real;
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
