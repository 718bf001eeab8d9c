import { readFileSync } from 'node:fs';
import type { Report } from '../../src/report/types.ts';
import { ACM_SCENARIOS, REGIONS } from '../fixtures/aws/estate.ts';

export const AWS_ENV = { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: 'us-east-1' };

interface Expected {
  cases: Record<string, { kms: Record<string, { ruleId: string; severity: string }[]>; acm: Record<string, { ruleId: string; severity: string }[]> }>;
}

const expected = JSON.parse(readFileSync(new URL('../fixtures/aws/expected.json', import.meta.url), 'utf8')) as Expected;

/** "<scenario> <region> <rule> <severity>" for each finding on a seeded resource (coverage findings aside). */
export function scenarioFindings(report: Report): string[] {
  const byUid = new Map(report.inventory.map((item) => [item.uid, item]));
  return report.findings
    .filter((finding) => finding.ruleId !== 'KD-GOV-003')
    .map((finding) => {
      const item = byUid.get(finding.resource.uid);
      return `${item?.tags['scenario'] ?? finding.resource.uid} ${item?.evidence['region'] ?? '?'} ${finding.ruleId} ${finding.severity}`;
    })
    .sort();
}

/** The same lines from test/fixtures/aws/expected.json. */
export function expectedFindings(clock: string, options: { acm?: boolean; regions?: readonly string[]; skip?: (scenario: string) => boolean } = {}): string[] {
  const lines: string[] = [];
  const wanted = expected.cases[clock]!;
  for (const region of options.regions ?? REGIONS) {
    for (const [scenario, findings] of Object.entries(wanted.kms)) {
      if (options.skip?.(scenario)) continue;
      for (const finding of findings) lines.push(`${scenario} ${region} ${finding.ruleId} ${finding.severity}`);
    }
  }
  if (options.acm !== false) {
    for (const scenario of ACM_SCENARIOS) {
      for (const finding of wanted.acm[scenario.name] ?? []) lines.push(`${scenario.name} ${scenario.region} ${finding.ruleId} ${finding.severity}`);
    }
  }
  return lines.sort();
}
