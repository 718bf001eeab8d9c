import type { Waiver } from '../config/types.ts';
import { epochSeconds } from '../util/epoch-seconds.ts';
import type { Finding } from './types.ts';

/** A waiver dated YYYY-MM-DD lasts to the end of that day, UTC. */
export function waiverExpiry(expires: string): number | null {
  return epochSeconds(/^\d{4}-\d{2}-\d{2}$/.test(expires) ? `${expires}T23:59:59Z` : expires);
}

/**
 * A glob over uids: `*` matches any run of characters (`/` and `:` too), `?` one character.
 * Matched by the two-pointer method, which backtracks only to the last `*`: at most
 * glob x text steps, where a regular expression of many `.*` backtracks exponentially.
 */
export function globMatches(glob: string, text: string): boolean {
  let g = 0;
  let t = 0;
  let star = -1;
  let resume = 0;
  while (t < text.length) {
    if (g < glob.length && (glob[g] === '?' || (glob[g] !== '*' && glob[g] === text[t]))) {
      g++;
      t++;
    } else if (g < glob.length && glob[g] === '*') {
      star = g++;
      resume = t;
    } else if (star >= 0) {
      g = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (g < glob.length && glob[g] === '*') g++;
  return g === glob.length;
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
