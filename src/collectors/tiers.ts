import type { TierRule } from '../config/types.ts';
import type { InventoryItem } from '../inventory/types.ts';

/**
 * An item's tier under a config's `tiers` rules: the first rule whose tag (and value, when given)
 * the item carries sets it. `scan` applies this to every collected item and `evaluate --config`
 * to every saved one, so a change to `tiers:` shows in a policy-impact preview exactly as the
 * next scan would judge it.
 *
 * With rules declared (`tiers:` present, even empty) they are the policy: an item no rule matches
 * has no tier, whatever tier it was saved with, because a rule a change removed must stop applying.
 * With no `tiers:` at all there is nothing to apply, and the item keeps the tier it carries (a
 * hand-written or third-party inventory may set tiers itself).
 */
export function assignTier(item: InventoryItem, rules: readonly TierRule[] | undefined): InventoryItem {
  if (rules === undefined) return item;
  const tier = matchingTier(item, rules);
  return tier === item.tier ? item : { ...item, tier };
}

function matchingTier(item: InventoryItem, rules: readonly TierRule[]): string | null {
  for (const rule of rules) {
    const value = item.tags[rule.tag];
    if (value === undefined) continue;
    if (rule.value === undefined || rule.value === value) return rule.tier;
  }
  return null;
}
