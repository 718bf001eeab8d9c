import type { EffectivePolicy } from './config/settings.ts';
import type { FailOn } from './config/types.ts';
import { PolicyEngine } from './engine/engine.ts';
import { assembleFindings } from './findings/assemble.ts';
import { applyWaivers } from './findings/waivers.ts';
import { digestOf } from './findings/fingerprint.ts';
import { countBySeverity, exitCodeFor } from './findings/outcome.ts';
import type { SourceStatus } from './findings/types.ts';
import { TOOL } from './inventory/file.ts';
import type { InventoryItem } from './inventory/types.ts';
import type { Report } from './report/types.ts';

export interface EvidenceRun {
  items: InventoryItem[];
  sources: SourceStatus[];
  now: Date;
  policy: EffectivePolicy;
  failOn: FailOn;
  configName: string;
  configDigest: string | null;
  startedAt: Date;
  /** Repo-relative file SARIF results point at when nothing more precise is known. */
  fallbackFile: string;
  engine?: PolicyEngine;
}

/** Inventory + clock + policy -> report. The same inputs always give the same findings. */
export async function evaluateEvidence(run: EvidenceRun): Promise<Report> {
  const engine = run.engine ?? (await PolicyEngine.load());
  const raw = engine.evaluate({ items: run.items, sources: run.sources, now: run.now, policy: run.policy });
  const findings = applyWaivers(assembleFindings(raw, run.items, run.sources, run.fallbackFile, run.policy.waivers), run.policy.waivers, run.now);
  const exitCode = exitCodeFor(findings, run.sources, run.failOn);
  return {
    schemaVersion: '1',
    tool: { ...TOOL },
    scan: {
      startedAt: run.startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      now: run.now.toISOString(),
      configDigest: run.configDigest,
      policyDigest: engine.digest,
      inventoryDigest: digestOf(run.items),
      configName: run.configName,
      failOn: run.failOn,
      policy: run.policy,
    },
    sources: run.sources,
    summary: {
      items: run.items.length,
      findings: countBySeverity(findings),
      waived: findings.filter((finding) => finding.waiver).length,
      new: 0,
      fixed: 0,
      compliant: exitCode === 0,
      exitCode,
    },
    findings,
    inventory: run.items,
  };
}
