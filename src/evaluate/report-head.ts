import { COVERAGE_RULE, exitCodeFor } from '../findings/outcome.ts';
import type { Finding } from '../findings/types.ts';
import type { Severity } from '../model/severity.ts';
import { SEVERITIES } from '../model/severity.ts';
import type { SourceStatus } from '../model/source.ts';
import { TOOL } from '../model/tool.ts';
import type { EvaluatedEvidence, ReportHead } from '../report/streamed.ts';
import { scanRecord, type ScanFacts } from '../report/scan-record.ts';

/** What the run records about itself; the inventory digest and custom rules come from the evaluation. */
export type HeadFacts = Omit<ScanFacts, 'inventoryDigest' | 'customRules'> & { sources: SourceStatus[] };

/** The report's head for findings held as JSON: summary and exit code as evaluateEvidence gives them. */
export function reportHead(evaluated: EvaluatedEvidence, facts: HeadFacts): ReportHead {
  const { severities, waived, ruleIds } = evaluated.findings;
  const counts = Object.fromEntries(SEVERITIES.map((severity) => [severity, 0])) as Record<Severity, number>;
  let waivedCount = 0;
  // What the exit code reads of each finding; a coverage finding also needs its source, so it is parsed.
  const outcome: Pick<Finding, 'ruleId' | 'severity' | 'waiver' | 'resource'>[] = [];
  const coverage: number[] = [];
  for (let i = 0; i < severities.length; i++) {
    const severity = severities[i] as Severity;
    if (waived[i]) waivedCount++;
    else counts[severity]++;
    if (ruleIds[i] === COVERAGE_RULE) {
      coverage.push(i);
    } else if (!waived[i]) {
      outcome.push({ ruleId: ruleIds[i]!, severity, resource: { uid: '', kind: 'source', provider: '', name: '', location: '', sourceId: '' } });
    }
  }
  for (const json of evaluated.json.read(coverage)) {
    const finding = JSON.parse(json) as Finding;
    outcome.push({ ruleId: finding.ruleId, severity: finding.severity, resource: finding.resource, ...(finding.waiver ? { waiver: finding.waiver } : {}) });
  }
  const exitCode = exitCodeFor(outcome as Finding[], facts.sources, facts.failOn);
  return {
    schemaVersion: '1',
    tool: { ...TOOL },
    scan: scanRecord({ ...facts, inventoryDigest: evaluated.inventoryDigest, customRules: {} }),
    sources: facts.sources,
    summary: { items: evaluated.items, findings: counts, waived: waivedCount, new: 0, fixed: 0, compliant: exitCode === 0, exitCode },
  };
}
