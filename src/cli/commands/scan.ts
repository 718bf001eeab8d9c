import { collectAll } from '../../collectors/run.ts';
import { effectivePolicy } from '../../config/settings.ts';
import { displayPath } from '../../util/paths.ts';
import { evaluateEvidence, loadPolicies } from '../../pipeline.ts';
import { COMMON_HELP, COMMON_OPTIONS, loggerFor, parse, parseNow, type Values } from '../options.ts';
import { applyBaseline, configDigest, configFrom, outputChoice, writeAndSummarise } from './shared.ts';

export const SCAN_HELP = `Usage: keydrift scan [options]

Collect from every source in the config, evaluate the policies, write reports.
Exit: 0 compliant, 1 findings at or above --fail-on, 2 usage/config/policy error, 3 incomplete.

${COMMON_HELP}`;

export async function scan(argv: string[]): Promise<number> {
  const { values } = parse(argv, COMMON_OPTIONS);
  if (values['help']) return help(SCAN_HELP);
  return runScan(values);
}

async function runScan(values: Values): Promise<number> {
  const startedAt = new Date();
  const logger = loggerFor(values);
  const now = parseNow(values['now'] as string | undefined) ?? new Date();
  const config = await configFrom(values);
  const choice = outputChoice(values, config);
  const policy = effectivePolicy(config);
  const policies = await loadPolicies(policy.bundles);
  const { items, sources } = await collectAll(config, { logger, now });
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
  );
  return writeAndSummarise(report, choice, logger, Boolean(values['quiet']));
}

export function help(text: string): number {
  process.stdout.write(text + '\n');
  return 0;
}
