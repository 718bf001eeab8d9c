import type { EffectivePolicy } from '../config/settings.ts';
import type { InventoryItem } from '../inventory/types.ts';

/**
 * The longest rotation period the policy allows this key, in days: the finding's own `maxDays`
 * when it carries one (the rule already resolved tier and purpose), else the key's tier setting
 * read the way the policy reads it.
 */
export function allowedRotationDays(evidenceMax: unknown, item: InventoryItem, policy: EffectivePolicy): number {
  if (typeof evidenceMax === 'number' && Number.isFinite(evidenceMax) && evidenceMax > 0) return evidenceMax;
  const settings = (item.tier !== null ? policy.tierSettings[item.tier] : undefined) ?? policy.settings;
  return settings.rotation.purposeMaxDays[item.purpose] ?? settings.rotation.maxDays;
}
