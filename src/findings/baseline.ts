import { readFile } from 'node:fs/promises';
import { canonicalJson } from './fingerprint.ts';
import type { Finding } from './types.ts';

export interface BaselineComparison {
  findings: Finding[];
  new: number;
  fixed: number;
}

/** Reads a previous JSON report's findings; a missing or foreign file is a usage error for the caller. */
export async function loadBaseline(file: string): Promise<Finding[]> {
  const parsed = JSON.parse(await readFile(file, 'utf8')) as { findings?: unknown };
  if (!parsed || !Array.isArray(parsed.findings)) throw new Error(`${file}: not a keydrift JSON report (no "findings")`);
  return parsed.findings as Finding[];
}

/** By fingerprint: new, unchanged (same severity and evidence), updated; baseline-only ones are fixed. */
export function compareWithBaseline(current: readonly Finding[], baseline: readonly Finding[]): BaselineComparison {
  const before = new Map(baseline.map((finding) => [finding.fingerprint, finding]));
  let added = 0;
  const findings = current.map((finding) => {
    const previous = before.get(finding.fingerprint);
    if (!previous) {
      added++;
      return { ...finding, baselineState: 'new' as const };
    }
    const same = previous.severity === finding.severity && canonicalJson(previous.evidence) === canonicalJson(finding.evidence);
    return { ...finding, baselineState: same ? ('unchanged' as const) : ('updated' as const) };
  });
  const now = new Set(current.map((finding) => finding.fingerprint));
  const fixed = baseline.filter((finding) => !now.has(finding.fingerprint)).length;
  return { findings, new: added, fixed };
}
