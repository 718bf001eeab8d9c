import { collectAll } from '../../collectors/run.ts';
import type { Config } from '../../config/types.ts';
import { effectivePolicy } from '../../config/settings.ts';
import { displayPath } from '../../util/paths.ts';
import { evaluateEvidence, loadPolicies } from '../../pipeline.ts';
import { COLLECT_HELP, COLLECT_OPTIONS, COMMON_HELP, COMMON_OPTIONS, loggerFor, parse, parseNow, parseShardOption, parseTimeout, type Values } from '../options.ts';
import { applyBaseline, baselineOption, configDigest, configFrom, historyOption, outputChoice, withFirstSeen, writeAndSummarise } from './shared.ts';

export const SCAN_HELP = `Usage: keydrift scan [options]

Collect from every source in the config, evaluate the policies, write reports.
Exit: 0 compliant, 1 findings at or above --fail-on, 2 usage/config/policy error, 3 incomplete.

${COMMON_HELP}
${COLLECT_HELP}`;

export async function scan(argv: string[]): Promise<number> {
  const { values } = parse(argv, { ...COMMON_OPTIONS, ...COLLECT_OPTIONS });
  if (values['help']) return help(SCAN_HELP);
  return runScan(values);
}

async function runScan(values: Values): Promise<number> {
  const startedAt = new Date();
  const logger = loggerFor(values);
  const now = parseNow(values['now'] as string | undefined) ?? new Date();
  const timeoutMs = parseTimeout(values['timeout'] as string | undefined);
  const config = await configFrom(values);
  const history = await historyOption(values);
  const choice = { ...outputChoice(values, config), ...(history ? { history } : {}) };
  const policy = effectivePolicy(config);
  const policies = await loadPolicies(policy.bundles, bundleTimeout(config));
  const baseline = await baselineOption(values);
  const shard = parseShardOption(values['shard'] as string | undefined);
  const collected = await collectAll(config, { logger, now, ...(timeoutMs !== undefined ? { timeoutMs } : {}), ...(shard ? { shard } : {}) });
  const items = withFirstSeen(collected.items, baseline);
  const sources = collected.sources;
  logger.info(`evaluating ${items.length} items`);
  const report = await applyBaseline(
    await evaluateEvidence({
      items,
      sources,
      now,
      policy,
      policies,
      failOn: choice.failOn,
      configName: config.name,
      configDigest: configDigest(config),
      startedAt,
      fallbackFile: displayPath(config.file),
    }),
    values,
    baseline,
  );
  return writeAndSummarise(shard ? { ...report, scan: { ...report.scan, shard } } : report, choice, logger, Boolean(values['quiet']), values['pretty'] ? { pretty: true } : {});
}

/** `policy.bundleTimeoutMs`: the deadline of each custom bundle's evaluation. */
export function bundleTimeout(config: Config | null): { timeoutMs?: number } {
  const timeoutMs = config?.policy?.bundleTimeoutMs;
  return timeoutMs !== undefined ? { timeoutMs } : {};
}

export function help(text: string): number {
  process.stdout.write(text + '\n');
  return 0;
}
