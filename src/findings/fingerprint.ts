import { createHash, hash } from 'node:crypto';

/** Stable across runs: the same rule on the same resource is the same finding (CONTRACT section 5). */
// One-shot hash(): a hash object per call cost four times as much (every finding and item has one).
export function fingerprint(ruleId: string, uid: string): string {
  return hash('sha256', `${ruleId}\n${uid}`).slice(0, 32);
}

/** A digest of canonical JSON (sorted keys), for config, policy and report provenance. */
export function digestOf(value: unknown): string {
  return 'sha256:' + createHash('sha256').update(canonicalJson(value)).digest('hex');
}

/**
 * One item's digest: the SHA-256 of its JSON as the report writes it (compact, its own key order),
 * hex. Canonical JSON would sort every object's keys, which cost more than the rest of loading an item.
 */
export function itemDigest(item: unknown): string {
  return digestOfText(JSON.stringify(item));
}

export function digestOfText(text: string): string {
  return hash('sha256', text);
}

/**
 * The inventory's digest: SHA-256 over its items' digests, sorted. The same items give the same
 * digest in any order, so an inventory read in batches, or collected by shards and merged, has the
 * digest of one run over the same estate (docs/scale.md).
 */
export function inventoryDigest(items: readonly unknown[]): string {
  return inventoryDigestOf(items.map(itemDigest));
}

export function inventoryDigestOf(itemDigests: string[]): string {
  const hash = createHash('sha256');
  for (const digest of itemDigests.sort()) hash.update(digest).update('\n');
  return 'sha256:' + hash.digest('hex');
}

// Written out rather than with Object.entries/sort/map/join: it runs over every item of every run.
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      const element: unknown = value[i];
      // As Array.prototype.join renders it: an undefined element leaves an empty slot.
      if (element !== undefined) out += canonicalJson(element);
    }
    return out + ']';
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).sort();
  let out = '{';
  let first = true;
  for (const key of keys) {
    const field = record[key];
    if (field === undefined) continue;
    out += (first ? '' : ',') + JSON.stringify(key) + ':' + canonicalJson(field);
    first = false;
  }
  return out + '}';
}
