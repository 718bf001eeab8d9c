import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { policyItem, policyItemJson } from '../../src/engine/input.ts';
import { baseItem, type InventoryItem } from '../../src/inventory/types.ts';
import { mixedItem } from '../../bench/mixed-estate.ts';

// The policy JSON of an item is built from its report JSON (not serialised twice): it must read
// exactly as the policy item itself, whatever the item holds.
function same(item: InventoryItem): void {
  const json = policyItemJson(item, JSON.stringify(item));
  assert.deepEqual(JSON.parse(json), JSON.parse(JSON.stringify(policyItem(item))), item.uid);
}

test("an item's policy JSON, built from its own JSON, reads as the policy item: every kind of the mixed estate", () => {
  for (let i = 0; i < 400; i++) same(mixedItem(i));
});

test('declared and live items of the drift estate, with their drift identities', () => {
  const estate = JSON.parse(readFileSync(new URL('../fixtures/drift-estate.json', import.meta.url), 'utf8')) as { items: InventoryItem[] };
  assert.ok(estate.items.length > 0);
  for (const item of estate.items) same(item);
});

test('an item that already holds _t or _drift, or whose versions field is missing, takes the long way and still reads the same', () => {
  const base = baseItem({ uid: 'k', kind: 'key', provider: 'aws-kms', sourceId: 's', name: 'n', location: 'l', algorithm: 'AES-256' });
  same({ ...base, _t: { createdAt: 1 } } as InventoryItem);
  same({ ...base, _drift: 'planted' } as InventoryItem);
  const { versions: _versions, ...withoutVersions } = base;
  same(withoutVersions as InventoryItem);
  same({ ...base, versions: [] });
  same({ ...base, createdAt: '2026-01-01T00:00:00Z', rotation: { supported: true, automatic: true, periodDays: 365, lastRotatedAt: 'not a date', nextRotationAt: null } });
});
