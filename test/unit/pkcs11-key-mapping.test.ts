import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { keyAttributes, keyItem, linkCertificates, objectIdentity, type KeyObject } from '../../src/collectors/pkcs11/map.ts';
import { EC_PARAMS, ckDate, pkcs11js as ck } from '../support/softhsm.ts';

// The mapping from attribute values to items, with pkcs11js's own constants and no token: what
// C_GetAttributeValue would return is written here as the bytes a token sends.

const TOKEN = { id: '7', label: 'kd-main', serial: '0123456789abcdef' };
const ulong = (n: number) => {
  const value = Buffer.alloc(8);
  value.writeBigUInt64LE(BigInt(n));
  return value;
};
const TRUE = Buffer.from([1]);
const FALSE = Buffer.from([0]);

function key(cls: number, label: string, values: [number, Buffer | null][], extra: Partial<KeyObject> = {}): KeyObject {
  const identity = objectIdentity({ handle: Buffer.alloc(8), cls, id: Buffer.from('0a', 'hex'), label }, TOKEN, new Set(), ck)!;
  const read = new Map(values);
  for (const type of keyAttributes(cls, ck)) if (!read.has(type)) read.set(type, null);
  return { identity, cls, name: label, sourceId: 'hsm', values: read, unreadable: [], publicDates: null, ...extra };
}

describe('PKCS#11 attributes to inventory items', () => {
  test('an AES secret key: size from CKA_VALUE_LEN, flags, dates and protection attributes', () => {
    const item = keyItem(
      key(ck.CKO_SECRET_KEY, 'aes', [
        [ck.CKA_KEY_TYPE, ulong(ck.CKK_AES)],
        [ck.CKA_VALUE_LEN, ulong(32)],
        [ck.CKA_ENCRYPT, TRUE],
        [ck.CKA_DECRYPT, TRUE],
        [ck.CKA_EXTRACTABLE, FALSE],
        [ck.CKA_SENSITIVE, TRUE],
        [ck.CKA_LOCAL, TRUE],
        [ck.CKA_START_DATE, ckDate('20260601')],
      ]),
      ck,
    );
    assert.equal(item.uid, 'pkcs11:token=kd-main;serial=0123456789abcdef;object=aes;id=0a;type=secret-key');
    assert.equal(item.algorithm, 'AES-256');
    assert.equal(item.purpose, 'encrypt');
    assert.equal(item.origin, 'generated');
    assert.equal(item.createdAt, '2026-06-01T00:00:00Z');
    assert.equal(item.expiresAt, null);
    assert.deepEqual(item.attributes, {
      extractable: false,
      sensitive: true,
      exportable: null,
      plaintextBackup: null,
      usages: ['encrypt', 'decrypt'],
      appliesProtection: true,
      wrapWithTrusted: null,
    });
    assert.deepEqual(item.evidence['usage'], ['encrypt', 'decrypt']);
  });

  test('a key that may only decrypt is legacy use, and CKA_WRAP_WITH_TRUSTED is read', () => {
    const decryptOnly = keyItem(
      key(ck.CKO_SECRET_KEY, 'des3', [
        [ck.CKA_KEY_TYPE, ulong(ck.CKK_DES3)],
        [ck.CKA_ENCRYPT, FALSE],
        [ck.CKA_DECRYPT, TRUE],
        [ck.CKA_WRAP, FALSE],
        [ck.CKA_UNWRAP, FALSE],
        [ck.CKA_SIGN, FALSE],
        [ck.CKA_VERIFY, FALSE],
        [ck.CKA_DERIVE, FALSE],
        [ck.CKA_EXTRACTABLE, TRUE],
        [ck.CKA_SENSITIVE, TRUE],
        [ck.CKA_WRAP_WITH_TRUSTED, TRUE],
      ]),
      ck,
    );
    assert.equal(decryptOnly.attributes?.appliesProtection, false);
    assert.equal(decryptOnly.attributes?.wrapWithTrusted, true);
    assert.ok(keyAttributes(ck.CKO_SECRET_KEY, ck).includes(ck.CKA_WRAP_WITH_TRUSTED));
    assert.ok(!keyAttributes(ck.CKO_PUBLIC_KEY, ck).includes(ck.CKA_WRAP_WITH_TRUSTED), 'a public key has no CKA_WRAP_WITH_TRUSTED');
    // A flag the token did not return may be true: not known to be decrypt-only.
    const unread = keyItem(key(ck.CKO_SECRET_KEY, 'des3-unread', [[ck.CKA_KEY_TYPE, ulong(ck.CKK_DES3)], [ck.CKA_DECRYPT, TRUE], [ck.CKA_SIGN, FALSE]]), ck);
    assert.equal(unread.attributes?.appliesProtection, null);
    assert.equal(unread.attributes?.wrapWithTrusted, null);
  });

  test('a private key whose dates the token cannot read takes them from its public half, and says so', () => {
    const item = keyItem(
      key(ck.CKO_PRIVATE_KEY, 'ec', [[ck.CKA_KEY_TYPE, ulong(ck.CKK_EC)], [ck.CKA_EC_PARAMS, EC_PARAMS['P-384']], [ck.CKA_SIGN, TRUE]], {
        unreadable: ['CKA_START_DATE: CKR_GENERAL_ERROR'],
        publicDates: { start: ckDate('20260101'), end: ckDate('20280101') },
      }),
      ck,
    );
    assert.equal(item.algorithm, 'EC-P384');
    assert.equal(item.createdAt, '2026-01-01T00:00:00Z');
    assert.equal(item.expiresAt, '2028-01-01T00:00:00Z');
    assert.equal(item.evidence['datesFrom'], 'public key with the same CKA_ID');
    assert.deepEqual(item.evidence['unreadable'], ['CKA_START_DATE: CKR_GENERAL_ERROR']);
  });

  test('a PKCS#11 v3.0 key type that pkcs11js does not define (CKK_EC_EDWARDS) is still named', () => {
    const item = keyItem(key(ck.CKO_PRIVATE_KEY, 'ed', [[ck.CKA_KEY_TYPE, ulong(0x40)]]), ck);
    assert.equal(item.algorithm, 'Ed25519');
    assert.equal(item.evidence['rawAlgorithm'], 'CKK 0x40');
  });

  test('a public key whose private half is on the token, and a data object, are not items', () => {
    const object = { handle: Buffer.alloc(8), cls: ck.CKO_PUBLIC_KEY, id: Buffer.from('0a', 'hex'), label: 'pub' };
    assert.equal(objectIdentity(object, TOKEN, new Set(['0a']), ck), null);
    assert.notEqual(objectIdentity(object, TOKEN, new Set(), ck), null);
    assert.equal(objectIdentity({ ...object, cls: ck.CKO_DATA }, TOKEN, new Set(), ck), null);
  });

  test('a key and a certificate with the same CKA_ID are linked', () => {
    const rsa = keyItem(key(ck.CKO_PRIVATE_KEY, 'rsa', [[ck.CKA_KEY_TYPE, ulong(ck.CKK_RSA)]]), ck);
    const certificate = { ...rsa, uid: 'pkcs11:...;type=cert', kind: 'certificate' as const };
    const [linked] = linkCertificates([rsa, certificate]);
    assert.equal(linked!.evidence['certificateUid'], 'pkcs11:...;type=cert');
  });
});
