import { globMatches } from '../util/glob-matches.ts';
import type { Waiver } from '../config/types.ts';
import { epochSeconds } from '../util/epoch-seconds.ts';
import type { Finding } from './types.ts';

/** A waiver dated YYYY-MM-DD lasts to the end of that day, UTC. */
export function waiverExpiry(expires: string): number | null {
  return epochSeconds(/^\d{4}-\d{2}-\d{2}$/.test(expires) ? `${expires}T23:59:59Z` : expires);
}

export function waiverMatches(waiver: Waiver, finding: Finding): boolean {
  return globMatches(waiver.rule, finding.ruleId) && globMatches(waiver.resource, finding.resource.uid);
}

/**
 * Marks findings covered by a waiver that has not expired at `now`. Waived findings stay in every
 * report; an expired waiver suppresses nothing (the policies raise KD-GOV-002 for it).
 */
export function applyWaivers(findings: readonly Finding[], waivers: readonly Waiver[], now: Date): Finding[] {
  const nowSeconds = Math.floor(now.getTime() / 1000);
  const active = waivers.filter((waiver) => {
    const expires = waiverExpiry(waiver.expires);
    return expires !== null && nowSeconds <= expires;
  });
  return findings.map((finding) => {
    // A KD-GOV-002 finding is about the waiver itself: only another waiver can silence it.
    const waiver = active.find((candidate) => waiverMatches(candidate, finding));
    if (!waiver) return finding;
    const { rule, resource, reason, owner, expires } = waiver;
    return { ...finding, waiver: { rule, resource, reason, owner, expires } };
  });
}
