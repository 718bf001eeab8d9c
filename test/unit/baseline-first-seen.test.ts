import assert from 'node:assert/strict';
import { test } from 'node:test';
import { carryFirstSeen, type BaselineReport } from '../../src/findings/baseline.ts';
import { baseItem, type InventoryItem } from '../../src/inventory/types.ts';

// --baseline gives an item the state it was first seen in: KD-RET-001 then dates a disabled key no
// provider can date, and a provider's date outlives the provider's own history.

const key = (uid: string, fields: Partial<InventoryItem> = {}): InventoryItem =>
  baseItem({ uid, kind: 'key', provider: 'aws-kms', sourceId: 'kms', name: uid, location: 'us-east-1', algorithm: 'AES-256', managedBy: 'customer', state: 'disabled', ...fields });

const baseline = (inventory: InventoryItem[], now = '2026-08-01T00:00:00.000Z'): BaselineReport => ({ findings: [], inventory, scan: { now } });

test('a key the baseline already saw disabled has been disabled since at least the baseline scan', () => {
  const [item] = carryFirstSeen([key('k1')], baseline([key('k1')]));
  assert.equal(item!.stateSince, '2026-08-01T00:00:00Z');
  assert.equal(item!.evidence['stateSinceSource'], 'baseline');
});

test('the baseline\'s own stateSince wins over its scan time, so a date is carried from report to report', () => {
  const earlier = key('k1', { stateSince: '2026-05-10T00:00:00Z', evidence: { stateSinceSource: 'cloudtrail' } });
  const [item] = carryFirstSeen([key('k1')], baseline([earlier]));
  assert.equal(item!.stateSince, '2026-05-10T00:00:00Z');
});

test('a date the provider gives now wins; a state that changed, a new item or a missing scan time carries nothing', () => {
  const provider = key('k1', { stateSince: '2026-07-20T00:00:00Z', evidence: { stateSinceSource: 'cloudtrail' } });
  assert.equal(carryFirstSeen([provider], baseline([key('k1', { stateSince: '2026-01-01T00:00:00Z' })]))[0]!.stateSince, '2026-07-20T00:00:00Z');
  assert.equal(carryFirstSeen([key('k1')], baseline([key('k1', { state: 'enabled' })]))[0]!.stateSince, null);
  assert.equal(carryFirstSeen([key('k2')], baseline([key('k1')]))[0]!.stateSince, null);
  assert.equal(carryFirstSeen([key('k1')], { findings: [], inventory: [key('k1')] })[0]!.stateSince, null);
});

test('an upper bound (baseline, earliest kept Vault version) gives way to an earlier sighting', () => {
  const bound = key('k1', { state: 'enabled', stateSince: '2026-09-01T00:00:00Z', evidence: { stateSinceSource: 'vault-earliest-version' } });
  const [item] = carryFirstSeen([bound], baseline([key('k1', { state: 'enabled', stateSince: '2026-03-01T00:00:00Z' })]));
  assert.equal(item!.stateSince, '2026-03-01T00:00:00Z');
  const [later] = carryFirstSeen([bound], baseline([key('k1', { state: 'enabled', stateSince: '2026-10-01T00:00:00Z' })]));
  assert.equal(later!.stateSince, '2026-09-01T00:00:00Z');
});

test('an unusable imported key keeps the expiry the baseline saw when the provider dropped it', () => {
  const before = key('k1', { state: 'enabled', origin: 'imported', expiresAt: '2026-07-31T12:00:00.000Z' });
  const [item] = carryFirstSeen([key('k1', { state: 'unavailable', origin: 'imported' })], baseline([before]));
  assert.equal(item!.expiresAt, '2026-07-31T12:00:00Z');
  assert.equal(item!.evidence['expiresAtSource'], 'baseline');
  // Not for a key whose material KMS generated, nor when the provider still reports an expiry.
  assert.equal(carryFirstSeen([key('k1', { state: 'unavailable', origin: 'generated' })], baseline([{ ...before, origin: 'generated' }]))[0]!.expiresAt, null);
  assert.equal(carryFirstSeen([key('k1', { state: 'unavailable', origin: 'imported', expiresAt: '2027-01-01T00:00:00Z' })], baseline([before]))[0]!.expiresAt, '2027-01-01T00:00:00Z');
});
