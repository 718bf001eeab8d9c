import type { Report } from './types.ts';

// `state` is last so the columns before it keep their places for existing imports.
const COLUMNS = ['fingerprint', 'ruleId', 'severity', 'title', 'resourceUid', 'resourceName', 'provider', 'location', 'sourceId', 'message', 'waived', 'state'] as const;

/** The baseline state as readers say it: a baseline finding that no longer fires is fixed. */
const STATES: Record<string, string> = { new: 'new', unchanged: 'unchanged', updated: 'updated', absent: 'fixed' };

/**
 * One finding per row (RFC 4180), for spreadsheets and ticket imports. Fixed findings stay in,
 * marked `fixed`, so a tracker can close their tickets; `state` is empty without a baseline.
 */
export function toCsv(report: Report): string {
  const rows = report.findings.map((finding) => [
    finding.fingerprint,
    finding.ruleId,
    finding.severity,
    finding.title,
    finding.resource.uid,
    finding.resource.name,
    finding.resource.provider,
    finding.resource.location,
    finding.resource.sourceId,
    finding.message,
    finding.waiver ? 'yes' : 'no',
    typeof finding.baselineState === 'string' && Object.hasOwn(STATES, finding.baselineState) ? STATES[finding.baselineState] : '',
  ]);
  return [COLUMNS as readonly string[], ...rows].map((row) => row.map(field).join(',')).join('\r\n') + '\r\n';
}

/**
 * A cell a spreadsheet would run as a formula: one that starts with = + - @ (or their fullwidth
 * forms, which some spreadsheets fold to ASCII), after any whitespace, or in which any segment
 * does: a spreadsheet that splits on ; , tab or line breaks (locale settings, careless imports)
 * would turn the segment into a cell of its own.
 */
const FORMULA = /(?:^|[;,\t\r\n])\s*[=+\-@\uFF1D\uFF0B\uFF0D\uFF20]/u;

function field(value: unknown): string {
  // Fields are typed, but a crafted report can hold anything.
  const text = String(value);
  // A quote-prefixed cell is inert text; a leading tab or CR alone is how some injections start.
  const safe = FORMULA.test(text) || /^[\t\r\n]/.test(text) ? `'${text}` : text;
  // Quoting a ; keeps the cell whole for a spreadsheet whose locale splits on it.
  return /[",;\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}
