import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canonicalPublicKey, canonicalSignatureAlgorithm, ecKey } from '../../src/inventory/algorithms.ts';

test('EC curves from OpenSSL, JOSE and SEC spellings map to one canonical name', () => {
  assert.deepEqual(ecKey('prime256v1'), { algorithm: 'EC-P256', keyType: 'ec', keySize: 256, curve: 'P-256' });
  assert.equal(ecKey('P-384').algorithm, 'EC-P384');
  assert.equal(ecKey('secp521r1').keySize, 521);
  assert.equal(ecKey('secp256k1').algorithm, 'EC-secp256k1');
  assert.equal(ecKey('sect163k1').algorithm, 'UNKNOWN:EC-sect163k1');
});

test('public keys as node:crypto describes them', () => {
  assert.equal(canonicalPublicKey('rsa', { modulusLength: 3072 }).algorithm, 'RSA-3072');
  assert.equal(canonicalPublicKey('rsa-pss', { modulusLength: 2048 }).algorithm, 'RSA-2048');
  assert.equal(canonicalPublicKey('ed25519', {}).algorithm, 'Ed25519');
  assert.equal(canonicalPublicKey('ml-dsa-65', {}).algorithm, 'ML-DSA-65');
  assert.equal(canonicalPublicKey('ml-dsa-65', {}).keyType, 'pqc');
  assert.equal(canonicalPublicKey(undefined, undefined).algorithm, 'UNKNOWN:none');
});

test('signature algorithms name their hash, including RSASSA-PSS parameters and its SHA-1 default', () => {
  assert.equal(canonicalSignatureAlgorithm('1.2.840.113549.1.1.5'), 'RSA-SHA1');
  assert.equal(canonicalSignatureAlgorithm('1.2.840.113549.1.1.4'), 'RSA-MD5');
  assert.equal(canonicalSignatureAlgorithm('1.2.840.10045.4.3.2'), 'ECDSA-SHA256');
  assert.equal(canonicalSignatureAlgorithm('1.2.840.113549.1.1.10', '2.16.840.1.101.3.4.2.1'), 'RSA-PSS-SHA256');
  assert.equal(canonicalSignatureAlgorithm('1.2.840.113549.1.1.10', null), 'RSA-PSS-SHA1');
  assert.equal(canonicalSignatureAlgorithm('1.9.9.9'), 'UNKNOWN:1.9.9.9');
});
