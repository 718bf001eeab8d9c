import { SEVERITIES, type FailOn, type Severity } from '../model/severity.ts';
import type { SourceStatus } from '../model/source.ts';
import type { Finding } from './types.ts';

export const EXIT = { compliant: 0, findings: 1, usage: 2, incomplete: 3 } as const;

const RANK: Record<Severity, number> = { critical: 4, high: 3, medium: 2, low: 1, info: 0 };

export function severityRank(severity: Severity): number {
  return RANK[severity];
}

/** `info` never fails a run, whatever the threshold. */
export function reachesThreshold(severity: Severity, failOn: FailOn): boolean {
  if (failOn === 'none' || severity === 'info') return false;
  return RANK[severity] >= RANK[failOn];
}

export const COVERAGE_RULE = 'KD-GOV-003';

/**
 * 1 when a finding at or above the threshold stands (waived ones do not count), else 3 when a
 * source was not fully collected, else 0. Coverage gaps are KD-GOV-003 findings, and they are what
 * exit code 3 reports: they do not also make a run exit 1, so "incomplete" stays distinguishable.
 */
export function exitCodeFor(findings: readonly Finding[], sources: readonly SourceStatus[], failOn: FailOn, newOnly = false): number {
  const standing = findings.filter((finding) => !finding.waiver && finding.baselineState !== 'absent' && (!newOnly || finding.baselineState === 'new'));
  if (standing.some((finding) => finding.ruleId !== COVERAGE_RULE && reachesThreshold(finding.severity, failOn))) {
    return EXIT.findings;
  }
  const waivedCoverage = new Set(findings.filter((f) => f.waiver && f.ruleId === COVERAGE_RULE).map((f) => f.resource.sourceId));
  if (sources.some((source) => source.status !== 'ok' && !waivedCoverage.has(source.id))) return EXIT.incomplete;
  return EXIT.compliant;
}

export function countBySeverity(findings: readonly Finding[]): Record<Severity, number> {
  const counts = Object.fromEntries(SEVERITIES.map((severity) => [severity, 0])) as Record<Severity, number>;
  for (const finding of findings) if (!finding.waiver && finding.baselineState !== 'absent') counts[finding.severity]++;
  return counts;
}

/** Most severe first, then by rule and resource, for "top findings" lists. */
export function bySeverity(a: Finding, b: Finding): number {
  return (
    RANK[b.severity] - RANK[a.severity] ||
    (a.ruleId < b.ruleId ? -1 : a.ruleId > b.ruleId ? 1 : 0) ||
    (a.resource.uid < b.resource.uid ? -1 : a.resource.uid > b.resource.uid ? 1 : 0)
  );
}
