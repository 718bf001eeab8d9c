import assert from 'node:assert/strict';
import { test } from 'node:test';
import { usagesOf } from '../../src/collectors/pkcs11/map.ts';
import { transitItem } from '../../src/collectors/vault/map.ts';
import { validator } from '../../src/util/schemas.ts';

// attributes.usages, what KD-ACC-005 reads: the PKCS#11 usage attributes read as true, and the
// supports_* flags of a Vault transit key read (as Vault 1.14 returns them).

const NONE = { encrypt: null, decrypt: null, wrap: null, unwrap: null, sign: null, verify: null, derive: null };

test('PKCS#11: the flags read as true, a lower bound when some could not be read, null when none could', () => {
  assert.deepEqual(usagesOf({ ...NONE, decrypt: true, unwrap: true, sign: true, derive: false }), ['decrypt', 'unwrap', 'sign']);
  assert.deepEqual(usagesOf({ ...NONE, encrypt: false }), []);
  assert.equal(usagesOf(NONE), null);
});

const LOCATION = { address: 'https://vault.example.internal:8200', namespace: null, mount: 'transit', sourceId: 'vault' };
const keys = { '1': { creation_time: '2026-10-01T00:00:00Z' } };

test('Vault transit: usages from supports_*, fixed by the key type; HMAC is not a usage here', () => {
  const rsa = transitItem(LOCATION, 'tokens', { type: 'rsa-4096', keys, latest_version: 1, supports_encryption: true, supports_decryption: true, supports_signing: true });
  assert.deepEqual(rsa.attributes, { extractable: null, sensitive: null, exportable: null, plaintextBackup: null, usages: ['encrypt', 'decrypt', 'sign', 'verify'], usagesFromKeyType: true });
  assert.ok(validator('inventory-item')(rsa));
  const hmac = transitItem(LOCATION, 'mac', { type: 'hmac', keys, latest_version: 1, supports_encryption: false, supports_decryption: false, supports_signing: false });
  assert.deepEqual(hmac.attributes?.usages, []);
  const old = transitItem(LOCATION, 'legacy', { type: 'aes256-gcm96', keys, latest_version: 1 });
  assert.equal(old.attributes?.usages, undefined, 'a Vault that does not say: unknown');
  assert.equal(old.attributes?.usagesFromKeyType, undefined);
});
