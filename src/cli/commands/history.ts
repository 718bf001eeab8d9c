import { DEFAULT_MAX_EVIDENCE_FILE_BYTES } from '../../inventory/file.ts';
import { anomalies, anomaliesMarkdown, appendToHistory, HistoryError, MAX_HISTORY_BYTES, readHistory } from '../../report/history.ts';
import type { Report } from '../../report/types.ts';
import { displayPath } from '../../util/paths.ts';
import { readRegularFile } from '../../util/read-regular-file.ts';
import { describeError, fieldPath, validator } from '../../util/schemas.ts';
import { terminalLine, terminalLines } from '../../util/terminal.ts';
import { parse, UsageError } from '../options.ts';
import { help } from './scan.ts';

export const HISTORY_HELP = `Usage: keydrift history append REPORT.json --to HISTORY.jsonl
       keydrift history anomalies --from HISTORY.jsonl [--format md|json]

Keep one compact line per nightly run, and say what changed in the last one (docs/history.md).

  append                 add the JSON report's line to HISTORY.jsonl (created when absent). Earlier
                         lines are never rewritten. Refused: a history whose lines do not all
                         validate (a last line cut short included), a report already in it (same
                         report digest or scan.now), a report older than its last run
  anomalies              judge the last run against the runs before it: a key whose rotation
                         stopped, findings at or above medium rising sharply, a source that went
                         partial or failed, a source that disappeared
  --to FILE              the history to append to
  --from FILE            the history to judge
  --format md|json       how anomalies are printed on stdout (default: md)
  -q, --quiet            append prints nothing
  -h, --help             this help

Exit codes: append 0 appended; anomalies 0 none, 1 anomalies found; both 2 on bad input (a
report or history that does not validate, a refused append).`;

/** Anomalies are a finding about the estate, not a usage error. */
const ANOMALIES_FOUND = 1;

export async function history(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    to: { type: 'string' },
    from: { type: 'string' },
    format: { type: 'string' },
    quiet: { type: 'boolean', short: 'q' },
    verbose: { type: 'boolean', short: 'v' },
    'no-color': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values['help']) return help(HISTORY_HELP);
  const [action, ...rest] = positionals;
  // An option of the other subcommand would be silently ignored: say so instead.
  const misplaced = action === 'append' ? ['from', 'format'].find((name) => values[name] !== undefined) : action === 'anomalies' && values['to'] !== undefined ? 'to' : undefined;
  if (misplaced) throw new UsageError(`history ${action}: --${misplaced} belongs to the other subcommand`);
  try {
    if (action === 'append') return await append(rest, values['to'] as string | undefined, Boolean(values['quiet']));
    if (action === 'anomalies') return await judge(rest, values['from'] as string | undefined, values['format'] as string | undefined);
  } catch (error) {
    if (error instanceof HistoryError) throw new UsageError(error.message);
    throw error;
  }
  throw new UsageError(action === undefined ? 'history needs a subcommand: append or anomalies' : `history: unknown subcommand "${action}"; expected append or anomalies`);
}

async function append(positionals: string[], to: string | undefined, quiet: boolean): Promise<number> {
  const [reportFile, ...extra] = positionals;
  if (!reportFile) throw new UsageError('history append needs the JSON report (keydrift history append REPORT.json --to HISTORY.jsonl)');
  if (extra.length > 0) throw new UsageError(`history append: unexpected argument "${extra[0]}"`);
  if (!to) throw new UsageError('history append needs --to HISTORY.jsonl');
  const report = await readReport(reportFile);
  const { line, number } = await appendToHistory(to, report);
  if (!quiet) process.stdout.write(terminalLine(`keydrift: ${displayPath(to)}: appended the run at ${line.at} (run ${number})`) + '\n');
  return 0;
}

async function judge(positionals: string[], from: string | undefined, format: string | undefined): Promise<number> {
  if (positionals.length > 0) throw new UsageError(`history anomalies: unexpected argument "${positionals[0]}"`);
  if (!from) throw new UsageError('history anomalies needs --from HISTORY.jsonl');
  if (format !== undefined && format !== 'md' && format !== 'json') throw new UsageError(`--format: "${format}" is not md or json`);
  let text: string;
  try {
    text = (await readRegularFile(from, MAX_HISTORY_BYTES)).toString('utf8');
  } catch (error) {
    throw new UsageError(`${displayPath(from)}: ${(error as Error).message.replace(/, skipped$/, '')}`);
  }
  let lines;
  try {
    lines = readHistory(text);
  } catch (error) {
    if (error instanceof HistoryError) throw new UsageError(`${displayPath(from)}: ${error.message}`);
    throw error;
  }
  const found = anomalies(lines);
  if (format === 'json') {
    const document = { runs: lines.length, lastRunAt: lines.at(-1)?.at ?? null, anomalies: found };
    process.stdout.write(inertJson(JSON.stringify(document, null, 2)) + '\n');
  } else {
    process.stdout.write(terminalLines(anomaliesMarkdown(lines, found)));
  }
  return found.length > 0 ? ANOMALIES_FOUND : 0;
}

/**
 * JSON escapes control characters but leaves line separators, bidirectional marks and invisible
 * characters as they are; on a terminal or CI log they would act. Escaped, the JSON means the same.
 */
function inertJson(text: string): string {
  return text.replace(/[\u007f-\u009f\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g, (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A keydrift JSON report, bounded like any evidence file and validated against the report schema. */
async function readReport(file: string): Promise<Report> {
  let text: string;
  try {
    text = (await readRegularFile(file, DEFAULT_MAX_EVIDENCE_FILE_BYTES)).toString('utf8');
  } catch (error) {
    throw new UsageError(`${displayPath(file)}: ${(error as Error).message.replace(/, skipped$/, '')}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UsageError(`${displayPath(file)}: not valid JSON`);
  }
  const validate = validator('report');
  if (!validate(parsed)) {
    const error = validate.errors![0]!;
    throw new UsageError(`${displayPath(file)}: not a keydrift JSON report: ${fieldPath(error.instancePath)}: ${describeError(error)}`);
  }
  return parsed as Report;
}
