import type { TierRule } from '../config/types.ts';
import type { InventoryItem } from '../inventory/types.ts';

/** The first config `tiers` rule whose tag (and value, when given) the item carries sets its tier. */
export function assignTier(item: InventoryItem, rules: readonly TierRule[]): InventoryItem {
  for (const rule of rules) {
    const value = item.tags[rule.tag];
    if (value === undefined) continue;
    if (rule.value === undefined || rule.value === value) return { ...item, tier: rule.tier };
  }
  return item;
}
