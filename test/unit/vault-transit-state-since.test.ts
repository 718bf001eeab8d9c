import assert from 'node:assert/strict';
import { test } from 'node:test';
import { transitItem } from '../../src/collectors/vault/map.ts';

// Vault transit has no disabled state and deletes at once: a key is enabled from its creation,
// which the API gives only as each kept version's creation_time (trimmed versions are gone).

const location = { address: 'https://vault.example.internal:8200', namespace: null, mount: 'transit', sourceId: 'vault' };

test('a transit key is enabled since its earliest kept version, an upper bound the baseline may lower', () => {
  const item = transitItem(location, 'orders', {
    type: 'aes256-gcm96',
    latest_version: 3,
    min_decryption_version: 2,
    keys: { '2': { creation_time: '2026-03-01T10:00:00.5Z' }, '3': { creation_time: '2026-06-01T10:00:00Z' } },
  });
  assert.equal(item.state, 'enabled');
  assert.equal(item.stateSince, '2026-03-01T10:00:00.500Z');
  assert.equal(item.evidence['stateSinceSource'], 'vault-earliest-version');
});

test('without versions the date is unknown', () => {
  const item = transitItem(location, 'empty', { type: 'aes256-gcm96', latest_version: 0, keys: {} });
  assert.equal(item.stateSince, null);
  assert.equal(item.evidence['stateSinceSource'], undefined);
});
