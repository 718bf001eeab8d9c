import type { EffectivePolicy } from './config/settings.ts';
import type { FailOn } from './model/severity.ts';
import { BUILTIN_BUNDLE, ENTRYPOINT } from './engine/bundle.ts';
import { loadCustomPolicies } from './engine/custom.ts';
import { loadModule, PolicyEngine, PolicyError } from './engine/engine.ts';
import { catalogue, type RuleEntry } from './rules/catalogue.ts';
import { customRuleEntry, type CustomRuleMeta } from './rules/custom-rule.ts';
import { assembleFindings } from './findings/assemble.ts';
import { applyWaivers } from './findings/waivers.ts';
import { inventoryDigest } from './findings/fingerprint.ts';
import { countBySeverity, exitCodeFor } from './findings/outcome.ts';
import type { SourceStatus } from './model/source.ts';
import { TOOL } from './model/tool.ts';
import type { InventoryItem } from './inventory/types.ts';
import type { Report } from './report/types.ts';
import { scanRecord } from './report/scan-record.ts';

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
  /** Deadline of each custom bundle's evaluation when the policies are loaded here. */
  bundleTimeoutMs?: number;
  /** Policies loaded beforehand (a scan loads them before collecting, so a policy error costs nothing). */
  policies?: LoadedPolicies;
}

export interface LoadedPolicies {
  engine: PolicyEngine;
  rules: Map<string, RuleEntry>;
  customRules: Record<string, CustomRuleMeta>;
  /** Deadline of each custom bundle's evaluation (config `policy.bundleTimeoutMs`). */
  timeoutMs?: number;
}

/** The built-in bundle plus the config's custom bundles, and the catalogue covering all their rules. */
export async function loadPolicies(bundles: readonly string[], options: { timeoutMs?: number } = {}): Promise<LoadedPolicies> {
  const builtin = await loadModule(BUILTIN_BUNDLE, ENTRYPOINT, 'built-in policies');
  const custom = await loadCustomPolicies(bundles, process.cwd(), options.timeoutMs);
  const rules = new Map(catalogue());
  const customRules: Record<string, CustomRuleMeta> = {};
  for (const policy of custom) {
    for (const [id, meta] of Object.entries(policy.rules)) {
      if (rules.has(id)) throw new PolicyError(`${policy.module.name}: rule ${id} is already defined by another policy bundle`);
      rules.set(id, customRuleEntry(id, meta));
      customRules[id] = meta;
    }
  }
  return { engine: new PolicyEngine([builtin, ...custom.map((policy) => policy.module)]), rules, customRules, ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}) };
}

/** Inventory + clock + policy -> report. The same inputs always give the same findings. */
export async function evaluateEvidence(run: EvidenceRun): Promise<Report> {
  const loaded = run.policies ?? (run.engine ? { engine: run.engine, rules: catalogue(), customRules: {} } : await loadPolicies(run.policy.bundles, run.bundleTimeoutMs !== undefined ? { timeoutMs: run.bundleTimeoutMs } : {}));
  const raw = await loaded.engine.evaluateAll({ items: run.items, sources: run.sources, now: run.now, policy: run.policy }, loaded.timeoutMs);
  const assembled = assembleFindings(raw, run.items, run.sources, run.fallbackFile, run.policy.waivers, loaded.rules);
  const findings = applyWaivers(assembled, run.policy.waivers, run.now);
  const engine = loaded.engine;
  const exitCode = exitCodeFor(findings, run.sources, run.failOn);
  return {
    schemaVersion: '1',
    tool: { ...TOOL },
    scan: scanRecord({
      startedAt: run.startedAt,
      now: run.now,
      configDigest: run.configDigest,
      policyDigest: engine.digest,
      inventoryDigest: inventoryDigest(run.items),
      configName: run.configName,
      failOn: run.failOn,
      policy: run.policy,
      customRules: loaded.customRules,
    }),
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
