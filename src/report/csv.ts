import type { Report } from './types.ts';

const COLUMNS = ['fingerprint', 'ruleId', 'severity', 'title', 'resourceUid', 'resourceName', 'provider', 'location', 'sourceId', 'message', 'waived'] as const;

/** One finding per row (RFC 4180), for spreadsheets and ticket imports. */
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
  ]);
  return [COLUMNS as readonly string[], ...rows].map((row) => row.map(field).join(',')).join('\r\n') + '\r\n';
}

function field(value: string): string {
  // A leading = + - @ would run as a formula in a spreadsheet; a quote-prefixed cell is inert text.
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}
