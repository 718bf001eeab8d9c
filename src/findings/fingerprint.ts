import { createHash } from 'node:crypto';

/** Stable across runs: the same rule on the same resource is the same finding (CONTRACT section 5). */
export function fingerprint(ruleId: string, uid: string): string {
  return createHash('sha256').update(`${ruleId}\n${uid}`).digest('hex').slice(0, 32);
}

/** A digest of canonical JSON (sorted keys), for config, policy and inventory provenance. */
export function digestOf(value: unknown): string {
  return 'sha256:' + createHash('sha256').update(canonicalJson(value)).digest('hex');
}

export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
