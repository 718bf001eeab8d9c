import type { Waiver } from '../config/types.ts';
import { waiverExpiry } from '../engine/input.ts';
import type { Finding } from './types.ts';

/** A glob over uids: `*` matches any run of characters (`/` and `:` too), `?` one character. */
export function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*').replaceAll('?', '.');
  return new RegExp(`^${body}$`, 's');
}

export function waiverMatches(waiver: Waiver, finding: Finding): boolean {
  return globToRegExp(waiver.rule).test(finding.ruleId) && globToRegExp(waiver.resource).test(finding.resource.uid);
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
