import type { FailOn, Severity } from '../model/severity.ts';
import type { Shard } from '../shard/shard.ts';
import type { SourceStatus } from '../model/source.ts';
import type { EffectivePolicy } from '../config/settings.ts';
import type { CustomRuleMeta } from '../rules/custom-rule.ts';
import type { Finding } from '../findings/types.ts';
import type { InventoryDrift } from '../findings/baseline.ts';
import type { InventoryItem } from '../inventory/types.ts';

export type SeverityCounts = Record<Severity, number>;

/** The JSON report (CONTRACT section 5); schemas/report.schema.json describes it. */
export interface Report {
  schemaVersion: '1';
  tool: { name: string; version: string };
  scan: {
    startedAt: string;
    finishedAt: string;
    now: string;
    configDigest: string | null;
    policyDigest: string;
    inventoryDigest: string;
    configName: string;
    failOn: FailOn;
    /** The effective policy the findings were derived with, so `evaluate` can re-derive them. */
    policy: EffectivePolicy;
    /** Catalogue entries of the custom policies' rules, so any renderer can describe them. */
    customRules: Record<string, CustomRuleMeta>;
    /** This report's part of a sharded run (`--shard I/N`); `report --merge` joins the parts. */
    shard?: Shard;
  };
  sources: SourceStatus[];
  summary: {
    items: number;
    findings: SeverityCounts;
    waived: number;
    new: number;
    fixed: number;
    compliant: boolean;
    exitCode: number;
  };
  findings: Finding[];
  inventory: InventoryItem[];
  /** Present with --baseline: how the estate itself changed since the baseline report. */
  drift?: InventoryDrift;
}
