import { effectivePolicy, type EffectivePolicy } from '../../config/settings.ts';
import type { FailOn } from '../../config/types.ts';
import { loadEvidence, InventoryFileError } from '../../inventory/file.ts';
import { evaluateEvidence } from '../../pipeline.ts';
import { displayPath } from '../../util/paths.ts';
import { COMMON_HELP, COMMON_OPTIONS, loggerFor, parse, parseFailOn, parseNow, UsageError } from '../options.ts';
import { applyBaseline, configDigest, optionalConfig, outputChoice, writeAndSummarise } from './shared.ts';
import { help } from './scan.ts';

export const EVALUATE_HELP = `Usage: keydrift evaluate --inventory FILE [options]

Evaluate a saved inventory (from "keydrift inventory") or a JSON report's inventory, with no network.
With a JSON report and no --config, the policy recorded in the report is used, so
"keydrift evaluate --inventory reports/keydrift.json --now <its scan.now>" re-derives its findings.

${COMMON_HELP}
  --inventory FILE       the saved inventory or JSON report (required)`;

export async function evaluate(argv: string[]): Promise<number> {
  const { values } = parse(argv, { ...COMMON_OPTIONS, inventory: { type: 'string', short: 'i' } });
  if (values['help']) return help(EVALUATE_HELP);
  const file = values['inventory'] as string | undefined;
  if (!file) throw new UsageError('evaluate needs --inventory FILE');
  const startedAt = new Date();
  const logger = loggerFor(values);
  const now = parseNow(values['now'] as string | undefined) ?? new Date();
  let evidence;
  try {
    evidence = await loadEvidence(file);
  } catch (error) {
    if (error instanceof InventoryFileError) throw new UsageError(error.message);
    throw error;
  }
  const recorded = evidence.report?.['scan'] as { policy?: EffectivePolicy; configName?: string; failOn?: FailOn; configDigest?: string } | undefined;
  const config = values['config'] || !recorded?.policy ? await optionalConfig(values) : null;
  const choice = outputChoice(values, config);
  const failOn = parseFailOn(values['fail-on'] as string | undefined) ?? config?.report?.failOn ?? recorded?.failOn ?? 'high';
  logger.info(`evaluating ${evidence.items.length} items from ${displayPath(file)}`);
  const report = await applyBaseline(
    await evaluateEvidence({
      items: evidence.items,
      sources: evidence.sources,
      now,
      policy: config ? effectivePolicy(config) : recorded?.policy ? { ...recorded.policy, waivers: recorded.policy.waivers ?? [], bundles: recorded.policy.bundles ?? [] } : effectivePolicy(undefined),
      failOn,
      configName: config?.name ?? recorded?.configName ?? 'keydrift',
      configDigest: config ? configDigest(config) : (recorded?.configDigest ?? null),
      startedAt,
      fallbackFile: config ? displayPath(config.file) : displayPath(file),
    }),
    values,
  );
  return writeAndSummarise(report, { ...choice, failOn }, logger, Boolean(values['quiet']));
}
