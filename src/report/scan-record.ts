import type { EffectivePolicy } from '../config/settings.ts';
import type { FailOn } from '../model/severity.ts';
import type { Shard } from '../shard/shard.ts';
import type { CustomRuleMeta } from '../rules/custom-rule.ts';
import type { Report } from './types.ts';

/** What a run records about itself in the report's `scan`, whichever way it was evaluated. */
export interface ScanFacts {
  startedAt: Date;
  now: Date;
  configDigest: string | null;
  policyDigest: string;
  inventoryDigest: string;
  configName: string;
  failOn: FailOn;
  policy: EffectivePolicy;
  customRules: Record<string, CustomRuleMeta>;
  shard?: Shard;
}

/** The report's `scan`, finished now. */
export function scanRecord(facts: ScanFacts): Report['scan'] {
  return {
    startedAt: facts.startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    now: facts.now.toISOString(),
    configDigest: facts.configDigest,
    policyDigest: facts.policyDigest,
    inventoryDigest: facts.inventoryDigest,
    configName: facts.configName,
    failOn: facts.failOn,
    policy: facts.policy,
    customRules: facts.customRules,
    ...(facts.shard ? { shard: facts.shard } : {}),
  };
}
