import { readFile } from 'node:fs/promises';
import { validator, describeError, fieldPath } from '../../util/schemas.ts';
import type { Report } from '../../report/types.ts';
import { writeReports } from '../../report/write.ts';
import { displayPath } from '../../util/paths.ts';
import { COMMON_HELP, COMMON_OPTIONS, parse, parseFormats, UsageError } from '../options.ts';
import { help } from './scan.ts';

export const REPORT_HELP = `Usage: keydrift report --from REPORT.json --format LIST [--out DIR]

Re-render a saved JSON report in other formats (sarif, md, html, csv, json). No collection and no
evaluation: the findings and their verdict are the report's own. Exit 0 once written, 2 on bad input.

${COMMON_HELP}
  --from FILE            the saved JSON report (required)`;

export async function report(argv: string[]): Promise<number> {
  const { values } = parse(argv, { ...COMMON_OPTIONS, from: { type: 'string' } });
  if (values['help']) return help(REPORT_HELP);
  const from = values['from'] as string | undefined;
  if (!from) throw new UsageError('report needs --from REPORT.json');
  const formats = parseFormats(values['format'] as string | undefined);
  if (!formats) throw new UsageError('report needs --format (e.g. --format sarif,md)');
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(from, 'utf8'));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(`${displayPath(from)}: ${code ? `cannot read file (${code})` : 'not valid JSON'}`);
  }
  const validate = validator('report');
  if (!validate(parsed)) {
    const error = validate.errors![0]!;
    throw new UsageError(`${displayPath(from)}: not a keydrift JSON report: ${fieldPath(error.instancePath)}: ${describeError(error)}`);
  }
  const saved = parsed as Report;
  const files = await writeReports(saved, formats, (values['out'] as string | undefined) ?? 'reports');
  if (!values['quiet']) process.stdout.write(`keydrift: ${files.map((file) => displayPath(file)).join(', ')}\n`);
  return 0;
}
