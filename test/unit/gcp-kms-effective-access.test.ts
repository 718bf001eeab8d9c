import assert from 'node:assert/strict';
import { test } from 'node:test';
import { effectiveGcpAccess } from '../../src/collectors/gcp-kms/access.ts';

// A Cloud KMS key's effective policy is its own bindings plus its key ring's; a level whose
// GetIamPolicy failed is unknown (null), which only a known grant can outweigh.

const ADMIN = { role: 'roles/cloudkms.admin', members: ['user:ops@acme.example'] };
const USE = { role: 'roles/cloudkms.cryptoKeyEncrypterDecrypter', members: ['user:ops@acme.example'] };
const PUBLIC = { role: 'roles/cloudkms.cryptoKeyDecrypter', members: ['allAuthenticatedUsers'] };

test('both levels known: the union decides, and the grant source names the level that is public', () => {
  assert.deepEqual(effectiveGcpAccess([USE], [ADMIN]).access, { public: false, adminAndUse: ['user:ops@acme.example'] });
  const ring = effectiveGcpAccess([], [PUBLIC]);
  assert.deepEqual(ring.access, { public: true, adminAndUse: [] });
  assert.equal(ring.publicGrantSource, 'IAM policy on the key ring');
  assert.deepEqual(ring.publicMembers, ['allAuthenticatedUsers']);
  assert.equal(effectiveGcpAccess([PUBLIC], [PUBLIC]).publicGrantSource, 'IAM policy on the key and IAM policy on the key ring');
});

test('the ring not read at all (a caller with the key alone): the key\'s own policy, as before', () => {
  assert.deepEqual(effectiveGcpAccess([], undefined).access, { public: false, adminAndUse: [] });
});

test('one level unknown: a known public grant or admin-and-use member is reported, nothing else is unknown', () => {
  assert.deepEqual(effectiveGcpAccess(null, [PUBLIC]).access, { public: true, adminAndUse: [] });
  assert.deepEqual(effectiveGcpAccess([ADMIN, USE], null).access, { public: null, adminAndUse: ['user:ops@acme.example'] });
  assert.equal(effectiveGcpAccess([USE], null).access, null);
  assert.equal(effectiveGcpAccess(null, []).access, null);
  assert.equal(effectiveGcpAccess(null, null).access, null);
});
