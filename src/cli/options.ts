import { parseArgs, type ParseArgsConfig } from 'node:util';
import { FORMATS, type Format } from '../model/format.ts';
import type { Logger } from '../model/logger.ts';
import type { FailOn } from '../model/severity.ts';
import { didYouMean } from '../util/did-you-mean.ts';
import { parseShard, type Shard } from '../shard/shard.ts';
import { createLogger, wantsColor } from './logger.ts';

/** A mistake on the command line: exit code 2, with the command's usage hint. */
export class UsageError extends Error {}

/**
 * Every option a command may share, with its help line: one table, so a command's options and its
 * help are picked together and a flag a command would ignore is rejected as unknown.
 */
const SHARED = {
  config: { option: { type: 'string' }, help: '  --config FILE          configuration file (default: keydrift.yaml)' },
  format: { option: { type: 'string' }, help: '  --format LIST          report formats, comma-separated: json,sarif,md,html,csv,ocsf,prom' },
  out: { option: { type: 'string' }, help: '  --out DIR              report folder (default: reports/)' },
  'fail-on': { option: { type: 'string' }, help: '  --fail-on LEVEL        critical|high|medium|low|none (default: high)' },
  baseline: {
    option: { type: 'string' },
    help: '  --baseline REPORT      a previous JSON report: findings are marked new/unchanged/updated/absent\n                         and the report gains an inventory drift section',
  },
  'fail-on-new-only': { option: { type: 'boolean' }, help: '  --fail-on-new-only     with --baseline: exit 1 only for new findings at or above --fail-on' },
  now: { option: { type: 'string' }, help: '  --now RFC3339          evaluation clock (default: the real clock)' },
  profile: { option: { type: 'string' }, help: '  --profile NAME         override policy.profile (default | cis-aws | cis-gcp | nist-800-57 | pci-dss | public-tls)' },
  history: { option: { type: 'string' }, help: '  --history FILE         a history.jsonl ("keydrift history append"): trends in the HTML and Markdown reports' },
  shard: {
    option: { type: 'string' },
    help: '  --shard I/N            judge only part I of N of the estate (AWS accounts, Google Cloud projects, other\n                         sources whole, by a stable hash); "keydrift report --merge" joins the parts',
  },
  pretty: { option: { type: 'boolean' }, help: '  --pretty               indent the JSON and SARIF reports (by default only small ones are)' },
  quiet: { option: { type: 'boolean', short: 'q' }, help: '  --quiet, --verbose     less or more progress on stderr' },
  verbose: { option: { type: 'boolean', short: 'v' }, help: '' },
  'no-color': { option: { type: 'boolean' }, help: '  --no-color             no ANSI colours (NO_COLOR is honoured too)' },
  help: { option: { type: 'boolean', short: 'h' }, help: '  -h, --help             this help' },
} as const;

type SharedName = keyof typeof SHARED;

/** The options of `names`, for parse(). */
export function sharedOptions<const N extends SharedName>(...names: N[]): { [K in N]: (typeof SHARED)[K]['option'] } {
  return Object.fromEntries(names.map((name) => [name, SHARED[name].option])) as { [K in N]: (typeof SHARED)[K]['option'] };
}

/** The help lines of `names`, in the table's order. */
export function sharedHelp(...names: SharedName[]): string {
  return (Object.keys(SHARED) as SharedName[])
    .filter((name) => names.includes(name) && SHARED[name].help !== '')
    .map((name) => SHARED[name].help)
    .join('\n');
}

const LOGGING: SharedName[] = ['quiet', 'verbose', 'no-color', 'help'];
const JUDGING: SharedName[] = ['config', 'format', 'out', 'fail-on', 'baseline', 'fail-on-new-only', 'now', 'profile', 'history', 'shard', 'pretty'];

/** What the commands that judge evidence (scan, evaluate) share. */
export const COMMON_OPTIONS = sharedOptions(...JUDGING, ...LOGGING);

export const COMMON_HELP = `Common options:\n${sharedHelp(...JUDGING, ...LOGGING)}`;

/** Progress and help only: what every command takes. */
export const LOGGING_OPTIONS = sharedOptions(...LOGGING);
export const LOGGING_HELP = sharedHelp(...LOGGING);

export type Values = Record<string, string | boolean | undefined>;

export function parse(argv: string[], options: ParseArgsConfig['options']): { values: Values; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    return { values: values as Values, positionals };
  } catch (error) {
    const message = (error as Error).message.replace(/^.*?: /, '').split('\n')[0] ?? 'invalid arguments';
    const unknown = /^Unknown option '(--?[^']+)'/.exec(message)?.[1];
    if (unknown === undefined) throw new UsageError(message);
    const names = Object.keys(options ?? {}).map((name) => `--${name}`);
    // A flag another command takes would be silently ignored here: refused, and said so.
    if ((Object.keys(SHARED) as string[]).includes(unknown.replace(/^--/, ''))) throw new UsageError(`${unknown} is not an option of this command (it would be ignored)`);
    throw new UsageError(`unknown option ${unknown}${didYouMean(unknown, names)}`);
  }
}

/** --shard I/N, or undefined without it. */
export function parseShardOption(text: string | undefined): Shard | undefined {
  if (text === undefined) return undefined;
  try {
    return parseShard(text);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

export function loggerFor(values: Values): Logger {
  const level = values['verbose'] ? 'verbose' : values['quiet'] ? 'quiet' : 'normal';
  return createLogger(level, wantsColor(Boolean(values['no-color'])));
}

export function parseFormats(text: string | undefined): Format[] | undefined {
  if (text === undefined) return undefined;
  const formats = text.split(',').map((part) => part.trim()).filter(Boolean);
  for (const format of formats) {
    if (!(FORMATS as readonly string[]).includes(format)) {
      throw new UsageError(`--format: unknown format "${format}"${didYouMean(format, FORMATS)}; expected ${FORMATS.join(', ')}`);
    }
  }
  if (formats.length === 0) throw new UsageError('--format: give at least one format');
  return [...new Set(formats)] as Format[];
}

export function parseFailOn(text: string | undefined): FailOn | undefined {
  if (text === undefined) return undefined;
  if (!['critical', 'high', 'medium', 'low', 'none'].includes(text)) {
    throw new UsageError(`--fail-on: "${text}" is not one of critical, high, medium, low, none`);
  }
  return text as FailOn;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;

export function parseNow(text: string | undefined): Date | undefined {
  if (text === undefined) return undefined;
  const date = new Date(text);
  if (!RFC3339.test(text) || Number.isNaN(date.getTime())) {
    throw new UsageError(`--now: "${text}" is not an RFC 3339 timestamp (e.g. 2026-11-01T00:00:00Z)`);
  }
  return date;
}

/** Options of the commands that collect (scan, inventory). */
export const COLLECT_OPTIONS = {
  timeout: { type: 'string' },
} as const satisfies ParseArgsConfig['options'];

export const COLLECT_HELP = `  --timeout DURATION     deadline for the whole collection (e.g. 90s, 15m, 1h; a bare number is seconds):
                         sources still running then are reported incomplete (KD-GOV-003) and the
                         reports are still written`;

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `--timeout`: a positive duration in milliseconds. */
export function parseTimeout(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const match = DURATION.exec(text.trim());
  const ms = match ? Number(match[1]) * UNIT_MS[match[2] ?? 's']! : NaN;
  if (!Number.isFinite(ms) || ms <= 0 || ms > 7 * 24 * 3_600_000) {
    throw new UsageError(`--timeout: "${text}" is not a duration such as 90s, 15m or 1h`);
  }
  return Math.round(ms);
}
