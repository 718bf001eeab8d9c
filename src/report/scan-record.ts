import type { Report } from './types.ts';

/** What a run records about itself in the report's `scan`, whichever way it was evaluated: the record's fields, its instants as dates. */
export type ScanFacts = Omit<Report['scan'], 'startedAt' | 'finishedAt' | 'now'> & { startedAt: Date; now: Date };

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
