import { SEVERITIES } from '../model/severity.ts';
import { bySeverity } from '../findings/outcome.ts';
import { markdownCode, markdownText, markdownToken } from '../util/escape-markdown.ts';
import type { TrendPoint } from './history.ts';
import type { Report } from './types.ts';

const TOP = 20;

/**
 * A PR-comment-sized summary, read top down: verdict, coverage gaps, what is new since the
 * baseline (with the fix), top findings with their fix, counts by severity and rule, drift, sources.
 * Every value from the report is escaped (a report can be crafted, a file name can be anything):
 * identifiers as code spans, free text with its Markdown characters made inert.
 */
export function toMarkdown(report: Report, options: { history?: readonly TrendPoint[] } = {}): string {
  const lines: string[] = [];
  const standing = report.findings.filter((finding) => !finding.waiver && finding.baselineState !== 'absent');
  const verdict = report.summary.compliant
    ? standing.length === 0
      ? 'Compliant'
      : `Passed: no finding at or above the threshold (fail-on: ${token(report.scan.failOn, 'text')})`
    : report.summary.exitCode === 3
      ? 'Incomplete: some sources were not fully collected'
      : `Not compliant (fail-on: ${token(report.scan.failOn, 'text')})`;
  // The title reads better as text than as code; escaped, it is just as inert.
  lines.push(`# keydrift report: ${text(report.scan.configName)}`, '');
  lines.push(`**${verdict}.** ${text(report.summary.items)} items from ${report.sources.length} sources, ${standing.length} findings` +
    (report.summary.waived ? `, ${text(report.summary.waived)} waived` : '') + `.`, '');
  lines.push(`Evaluated at ${text(report.scan.now)} with profile ${code(report.scan.policy.profile, 'text')}.`, '');

  // What a reader must not miss comes first: what was not seen, then what is new.
  const gaps = report.sources.filter((source) => source.status !== 'ok');
  if (gaps.length > 0) {
    lines.push(`## Coverage gaps: ${gaps.length} of ${report.sources.length} sources not fully read, so findings may be missing`, '');
    lines.push('| source | status | first problem |', '|---|---|---|');
    for (const source of gaps) lines.push(`| ${code(source.id)} | ${token(source.status)} | ${source.errors[0] ? text(source.errors[0].message) : ''}${source.errors.length > 1 ? ` (+${source.errors.length - 1} more)` : ''} |`);
    lines.push('');
  }
  if (report.drift) {
    const fresh = standing.filter((finding) => finding.baselineState === 'new').sort(bySeverity);
    lines.push(`## New since the baseline: ${fresh.length}`, '');
    if (fresh.length > 0) {
      lines.push('| severity | rule | resource | fix |', '|---|---|---|---|');
      for (const finding of fresh.slice(0, TOP)) lines.push(`| ${token(finding.severity)} | ${ruleLink(finding.ruleId)} | ${code(finding.resource.name)} | ${text(finding.remediation.text)} |`);
      if (fresh.length > TOP) lines.push(`| | | … ${fresh.length - TOP} more | |`);
      lines.push('');
    }
  }

  const byRule = new Map<string, { title: string; count: number; severity: string }>();
  for (const finding of standing) {
    const entry = byRule.get(finding.ruleId) ?? { title: finding.title, count: 0, severity: finding.severity };
    entry.count++;
    byRule.set(finding.ruleId, entry);
  }
  if (byRule.size > 0) {
    const top = [...standing].sort(bySeverity).slice(0, TOP);
    lines.push(`## Top findings${standing.length > TOP ? ` (${TOP} of ${standing.length})` : ''}`, '');
    lines.push('| severity | rule | resource | message | fix |', '|---|---|---|---|---|');
    for (const finding of top) {
      lines.push(`| ${token(finding.severity)} | ${ruleLink(finding.ruleId)} | ${code(finding.resource.name)} | ${text(finding.message)} | ${text(finding.remediation.text)} |`);
    }
    lines.push('');
  }

  lines.push('## Findings by severity', '', '| severity | findings |', '|---|---:|');
  for (const severity of SEVERITIES) lines.push(`| ${severity} | ${text(report.summary.findings[severity])} |`);
  lines.push('');
  if (byRule.size > 0) {
    lines.push('## Findings by rule', '', '| rule | title | findings |', '|---|---|---:|');
    for (const [rule, entry] of [...byRule.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
      lines.push(`| ${token(rule)} | ${text(entry.title)} | ${entry.count} |`);
    }
    lines.push('');
  }

  if (options.history && options.history.length > 0) lines.push(...trendSection(options.history, report));
  if (report.drift) lines.push(...driftSection(report));

  lines.push('## Sources', '', '| source | type | status | items | errors |', '|---|---|---|---:|---|');
  for (const source of report.sources) {
    const errors = source.errors.length === 0 ? '' : source.errors.slice(0, 3).map((error) => text(error.message)).join('<br>') +
      (source.errors.length > 3 ? `<br>… ${source.errors.length - 3} more` : '');
    // A snapshot's items were observed earlier: say when, so an old snapshot never passes for current.
    const observed = source.observedAt ? ` (observed ${text(source.observedAt)})` : '';
    lines.push(`| ${code(source.id)} | ${code(source.type)} | ${token(source.status)}${observed} | ${text(source.items)} | ${errors} |`);
  }
  lines.push('');
  return lines.join('\n');
}

// Fields are typed, but a crafted report can hold anything: everything is a string before escaping.
const text = (value: unknown) => markdownText(String(value));
const code = (value: unknown, where: 'table' | 'text' = 'table') => markdownCode(String(value), where);
/** A built-in rule id links to its catalogue entry; any other id (a custom rule) stays plain. */
const ruleLink = (id: string) => (/^KD-[A-Z]{3}-\d{3}$/.test(id) ? `[${id}](${RULE_DOCS}/${id}.yaml)` : token(id));
const RULE_DOCS = 'https://github.com/keydrift/keydrift/blob/main/rules';
const token = (value: unknown, where: 'table' | 'text' = 'table') => markdownToken(String(value), where);

function driftSection(report: Report): string[] {
  const drift = report.drift!;
  const lines = [`## Since the baseline${drift.baselineNow ? ` (${text(drift.baselineNow)})` : ''}`, ''];
  lines.push(`${text(report.summary.new)} new findings, ${text(report.summary.fixed)} fixed; ${drift.added.length} items added, ${drift.removed.length} removed, ${drift.changed.length} changed.`, '');
  const fixed = report.findings.filter((finding) => finding.baselineState === 'absent').sort(bySeverity);
  if (fixed.length > 0) {
    lines.push('### Fixed findings', '', '| severity | rule | resource |', '|---|---|---|');
    for (const finding of fixed.slice(0, TOP)) lines.push(`| ${token(finding.severity)} | ${token(finding.ruleId)} | ${code(finding.resource.name)} |`);
    if (fixed.length > TOP) lines.push(`| | … ${fixed.length - TOP} more | |`);
    lines.push('');
  }
  if (drift.added.length + drift.removed.length + drift.changed.length > 0) {
    lines.push('### Inventory drift', '');
    for (const item of drift.added.slice(0, TOP)) lines.push(`- added: ${code(item.name, 'text')} (${code(item.uid, 'text')})`);
    for (const item of drift.removed.slice(0, TOP)) lines.push(`- removed: ${code(item.name, 'text')} (${code(item.uid, 'text')})`);
    for (const item of drift.changed.slice(0, TOP)) {
      const changes = Object.entries(item.changes).map(([field, change]) => `${field} ${JSON.stringify(change.before)} → ${JSON.stringify(change.after)}`);
      lines.push(`- changed: ${code(item.name, 'text')}: ${text(changes.join('; '))}`);
    }
    lines.push('');
  }
  return lines;
}

/** The last runs of the history, then this one: open findings by severity and sources not fully read. */
function trendSection(history: readonly TrendPoint[], report: Report): string[] {
  const recent = history.filter((point) => point.at !== report.scan.now).slice(-6);
  const now: TrendPoint = {
    at: report.scan.now,
    bySeverity: report.summary.findings,
    items: report.summary.items,
    sourcesNotOk: report.sources.filter((source) => source.status !== 'ok').map((source) => source.id),
  };
  const lines = [`## Trend (last ${recent.length + 1} runs)`, '', '| run | critical | high | medium | low | info | items | sources not ok |', '|---|---:|---:|---:|---:|---:|---:|---|'];
  for (const point of [...recent, now]) {
    const s = point.bySeverity;
    lines.push(`| ${text(point.at)} | ${s.critical} | ${s.high} | ${s.medium} | ${s.low} | ${s.info} | ${point.items} | ${point.sourcesNotOk.map((id) => code(id)).join(', ')} |`);
  }
  lines.push('');
  return lines;
}
