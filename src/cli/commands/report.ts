import { readFile } from 'node:fs/promises';
import { validator, describeError, fieldPath } from '../../util/schemas.ts';
import type { Report } from '../../report/types.ts';
import { writeReports } from '../../report/write.ts';
import { mergeReports, MergeError } from '../../report/merge.ts';
import { displayPath } from '../../util/paths.ts';
import { COMMON_HELP, COMMON_OPTIONS, parse, parseFormats, UsageError } from '../options.ts';
import { help } from './scan.ts';
import { terminalLine } from '../../util/terminal.ts';

export const REPORT_HELP = `Usage: keydrift report --from REPORT.json --format LIST [--out DIR]
       keydrift report --merge SHARD.json SHARD.json... --format LIST [--out DIR] [--name NAME]

Re-render a saved JSON report in other formats (sarif, md, html, csv, json). No collection and no
evaluation: the findings and their verdict are the report's own. Exit 0 once written, 2 on bad input.

${COMMON_HELP}
  --from FILE            the saved JSON report (required)`;

export async function report(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { ...COMMON_OPTIONS, from: { type: 'string' }, merge: { type: 'boolean' }, name: { type: 'string' } });
  if (values['help']) return help(REPORT_HELP);
  const formats = parseFormats(values['format'] as string | undefined);
  if (!formats) throw new UsageError('report needs --format (e.g. --format sarif,md)');
  if (values['merge']) {
    if (positionals.length === 0) throw new UsageError('report --merge needs the shard reports (keydrift report --merge a.json b.json ...)');
    const shards = await Promise.all(positionals.map((file) => readReport(file)));
    let merged: Report;
    try {
      merged = mergeReports(shards, values['name'] as string | undefined);
    } catch (error) {
      if (error instanceof MergeError) throw new UsageError(`report --merge: ${error.message}`);
      throw error;
    }
    const files = await writeReports(merged, formats, (values['out'] as string | undefined) ?? 'reports');
    if (!values['quiet']) process.stdout.write(`${terminalLine(`keydrift: merged ${shards.length} shards (${merged.summary.items} items, exit ${merged.summary.exitCode}) -> ${files.map((file) => displayPath(file)).join(', ')}`)}\n`);
    return merged.summary.exitCode;
  }
  const from = values['from'] as string | undefined;
  if (!from) throw new UsageError('report needs --from REPORT.json (or --merge SHARD.json...)');
  const saved = await readReport(from);
  const files = await writeReports(saved, formats, (values['out'] as string | undefined) ?? 'reports');
  if (!values['quiet']) process.stdout.write(`${terminalLine(`keydrift: ${files.map((file) => displayPath(file)).join(', ')}`)}\n`);
  return 0;
}

async function readReport(file: string): Promise<Report> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(`${displayPath(file)}: ${code ? `cannot read file (${code})` : 'not valid JSON'}`);
  }
  const validate = validator('report');
  if (!validate(parsed)) {
    const error = validate.errors![0]!;
    throw new UsageError(`${displayPath(file)}: not a keydrift JSON report: ${fieldPath(error.instancePath)}: ${describeError(error)}`);
  }
  return parsed as Report;
}
