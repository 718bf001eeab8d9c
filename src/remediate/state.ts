import type { KeyStateView } from './types.ts';

/**
 * The fields of `expected` that `actual` does not have, as "<field>: expected X, found Y".
 * Timestamps compare as instants, so two spellings of the same time are equal.
 */
export function compareState(expected: KeyStateView, actual: KeyStateView): string[] {
  const differences: string[] = [];
  for (const [field, want] of Object.entries(expected) as [keyof KeyStateView, unknown][]) {
    if (want === undefined) continue;
    const found = actual[field] ?? null;
    if (!sameValue(want, found)) differences.push(`${field}: expected ${JSON.stringify(want)}, found ${JSON.stringify(found)}`);
  }
  return differences;
}

function sameValue(a: unknown, b: unknown): boolean {
  if (typeof a === 'string' && typeof b === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(a) && /^\d{4}-\d{2}-\d{2}T/.test(b)) {
    return Date.parse(a) === Date.parse(b);
  }
  return a === b;
}
