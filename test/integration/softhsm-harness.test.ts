import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { Handle } from 'pkcs11js';
import { makeCert, removeDir, tempDir } from '../support/certs.ts';
import {
  EC_PARAMS,
  ckBool,
  ckUlong,
  createSoftHsm,
  findObjects,
  generateAes,
  generateDes3,
  generateEc,
  generateRsa,
  importCertificate,
  openModule,
  openUserSession,
  pkcs11js,
  readAttribute,
  readAttributes,
  type AttributeRead,
  type OpenModule,
  type SoftHsm,
  type SoftHsmToken,
  type UserSession,
} from '../support/softhsm.ts';

// The PKCS#11 test backend itself: SoftHSM2 tokens in a private directory, objects put on them with
// pkcs11js (Node 24 build from scripts/provision.sh), found again with C_FindObjects, and the quirks
// of SoftHSM 2.6.1 / pkcs11js 2.1.7 that a PKCS#11 collector has to live with.

const SO_PIN = '12345678';
const USER_PIN = '87654321';
const {
  CKA_CLASS, CKA_LABEL, CKA_ID, CKA_KEY_TYPE, CKA_VALUE, CKA_VALUE_LEN, CKA_MODULUS, CKA_MODULUS_BITS, CKA_EC_PARAMS,
  CKA_START_DATE, CKA_END_DATE, CKA_SENSITIVE, CKA_EXTRACTABLE, CKA_PRIVATE, CKA_SUBJECT, CKA_CERTIFICATE_TYPE,
  CKO_SECRET_KEY, CKO_PUBLIC_KEY, CKO_PRIVATE_KEY, CKO_CERTIFICATE, CKK_AES, CKK_DES3, CKK_RSA, CKK_EC, CKC_X_509,
} = pkcs11js;

const failed = (code: string): Partial<AttributeRead> => ({ ok: false, code });

describe('SoftHSM2 test backend', () => {
  let hsm: SoftHsm;
  let other: SoftHsm;
  let certDir: string;
  let token: SoftHsmToken;
  let module: OpenModule | undefined;
  let s: UserSession | undefined;

  function login(tokenRef: { slotId: number } | { label: string } = token, from: SoftHsm = hsm): UserSession {
    s?.close();
    module?.close();
    module = openModule(from);
    s = openUserSession(module.pkcs11, module.slot(tokenRef), USER_PIN);
    return s;
  }

  const one = (session: UserSession, template: { type: number; value: number | string | Buffer | boolean }[]): Handle => {
    const found = findObjects(session, template);
    assert.equal(found.length, 1, `one object for ${JSON.stringify(template)}`);
    return found[0]!;
  };

  before(async () => {
    hsm = createSoftHsm();
    other = createSoftHsm();
    certDir = tempDir('keydrift-softhsm-certs-');
    token = await hsm.initToken('keydrift-a', SO_PIN, USER_PIN);
  });
  after(() => {
    s?.close();
    module?.close();
    hsm?.cleanup();
    other?.cleanup();
    removeDir(certDir);
  });

  test('a token is initialised in the private token directory', () => {
    assert.match(hsm.conf, /softhsm2\.conf$/);
    assert.deepEqual(hsm.env, { SOFTHSM2_CONF: hsm.conf });
    assert.equal(readdirSync(hsm.tokenDir).length, 1, 'one token directory');
    assert.match(token.serial, /^[0-9a-f]{16}$/);
    assert.equal(typeof token.slotId, 'number');

    module = openModule(hsm);
    const info = module.pkcs11.C_GetInfo();
    assert.match(info.manufacturerID, /^SoftHSM/);
    const slot = module.slot(token);
    const tokenInfo = module.pkcs11.C_GetTokenInfo(slot);
    assert.equal(tokenInfo.label.trimEnd(), 'keydrift-a');
    assert.equal(tokenInfo.serialNumber.trimEnd(), token.serial);
    assert.ok(tokenInfo.flags & pkcs11js.CKF_TOKEN_INITIALIZED);
    assert.ok(tokenInfo.flags & pkcs11js.CKF_USER_PIN_INITIALIZED);
    assert.equal(module.slot({ label: 'keydrift-a' }).toString('hex'), slot.toString('hex'));
  });

  test('a wrong user PIN is CKR_PIN_INCORRECT', () => {
    module ??= openModule(hsm);
    const slot = module.slot(token);
    assert.throws(
      () => openUserSession(module!.pkcs11, slot, '00000000'),
      (error: unknown) => error instanceof pkcs11js.Pkcs11Error && error.message === 'CKR_PIN_INCORRECT' && error.code === pkcs11js.CKR_PIN_INCORRECT,
    );
    assert.equal(pkcs11js.CKR_PIN_INCORRECT, 0xa0);
  });

  test('objects of each kind are created, then found again with C_FindObjects in a new session', () => {
    const session = login();
    generateAes(session, { label: 'aes-128', id: '0128', bits: 128, extractable: true, sensitive: false });
    generateAes(session, { label: 'aes-256', id: '0256', bits: 256, extractable: false, sensitive: true, startDate: '2025-01-01', endDate: new Date('2027-06-30T12:00:00Z') });
    generateAes(session, { label: 'aes-public-dated', id: '0257', bits: 256, extractable: false, sensitive: true, private: false, startDate: '20250101', endDate: '20270630' });
    generateDes3(session, { label: 'des3', id: '03', extractable: false, sensitive: true });
    generateRsa(session, { label: 'rsa-1024', id: '1024', bits: 1024, endDate: '2026-12-31' });
    generateRsa(session, { label: 'rsa-2048', id: '2048', bits: 2048, extractable: true, sensitive: false });
    generateRsa(session, { label: 'rsa-3072', id: '3072', bits: 3072 });
    generateEc(session, { label: 'ec-p256', id: 'ec01', curve: 'P-256' });
    generateEc(session, { label: 'ec-p384', id: 'ec02', curve: 'P-384' });
    generateEc(session, { label: 'ec-k256', id: 'ec03', curve: 'secp256k1' });
    const cert = makeCert(certDir, { cn: 'hsm.example.test', key: 'rsa:2048', notBefore: '2025-03-01T00:00:00Z', notAfter: '2026-03-01T00:00:00Z' });
    importCertificate(session, { label: 'tls-cert', id: '2048', der: cert.der, startDate: '2025-03-01', endDate: '2026-03-01' });

    const again = login({ label: 'keydrift-a' }); // C_Finalize, C_Initialize, new session: the objects are on the token
    assert.equal(findObjects(again, []).length, 17); // 4 secret keys, 6 pairs, 1 certificate
    assert.equal(findObjects(again, [{ type: CKA_CLASS, value: CKO_SECRET_KEY }]).length, 4);
    assert.equal(findObjects(again, [{ type: CKA_CLASS, value: CKO_PRIVATE_KEY }]).length, 6);
    assert.equal(findObjects(again, [{ type: CKA_CLASS, value: CKO_PUBLIC_KEY }]).length, 6);
    assert.equal(findObjects(again, [{ type: CKA_ID, value: Buffer.from('2048', 'hex') }]).length, 3); // RSA pair + its certificate

    const aes256 = one(again, [{ type: CKA_LABEL, value: 'aes-256' }]);
    const [keyType, valueLen, sensitive, extractable, isPrivate] = readAttributes(again, aes256, [CKA_KEY_TYPE, CKA_VALUE_LEN, CKA_SENSITIVE, CKA_EXTRACTABLE, CKA_PRIVATE]);
    assert.deepEqual([ckUlong(keyType!), ckUlong(valueLen!), ckBool(sensitive!), ckBool(extractable!), ckBool(isPrivate!)], [CKK_AES, 32, true, false, true]);
    const aes128 = one(again, [{ type: CKA_LABEL, value: 'aes-128' }]);
    assert.equal(readAttributes(again, aes128, [CKA_VALUE])[0]!.length, 16);
    const des3 = one(again, [{ type: CKA_CLASS, value: CKO_SECRET_KEY }, { type: CKA_KEY_TYPE, value: CKK_DES3 }]);
    assert.equal(ckUlong(readAttributes(again, des3, [CKA_KEY_TYPE])[0]!), CKK_DES3);
    assert.deepEqual(pick(readAttribute(again, des3, CKA_VALUE_LEN)), failed('CKR_ATTRIBUTE_TYPE_INVALID')); // DES keys have no CKA_VALUE_LEN

    const rsaPublic = one(again, [{ type: CKA_CLASS, value: CKO_PUBLIC_KEY }, { type: CKA_LABEL, value: 'rsa-2048' }]);
    const [bits, modulus] = readAttributes(again, rsaPublic, [CKA_MODULUS_BITS, CKA_MODULUS]);
    assert.equal(ckUlong(bits!), 2048);
    assert.equal(modulus!.length, 256);
    const rsa3072 = one(again, [{ type: CKA_CLASS, value: CKO_PUBLIC_KEY }, { type: CKA_ID, value: Buffer.from('3072', 'hex') }]);
    assert.equal(ckUlong(readAttributes(again, rsa3072, [CKA_MODULUS_BITS])[0]!), 3072);
    const rsaPrivate = one(again, [{ type: CKA_CLASS, value: CKO_PRIVATE_KEY }, { type: CKA_ID, value: Buffer.from('1024', 'hex') }]);
    assert.equal(ckUlong(readAttributes(again, rsaPrivate, [CKA_KEY_TYPE])[0]!), CKK_RSA);
    assert.equal(readAttributes(again, rsaPrivate, [CKA_MODULUS])[0]!.length, 128);

    for (const [label, curve] of [['ec-p256', 'P-256'], ['ec-p384', 'P-384'], ['ec-k256', 'secp256k1']] as const) {
      for (const keyClass of [CKO_PUBLIC_KEY, CKO_PRIVATE_KEY]) {
        const key = one(again, [{ type: CKA_CLASS, value: keyClass }, { type: CKA_LABEL, value: label }]);
        const [ecKeyType, params] = readAttributes(again, key, [CKA_KEY_TYPE, CKA_EC_PARAMS]);
        assert.equal(ckUlong(ecKeyType!), CKK_EC);
        assert.deepEqual(params, EC_PARAMS[curve], `${label} CKA_EC_PARAMS`);
      }
    }

    const certificate = one(again, [{ type: CKA_CLASS, value: CKO_CERTIFICATE }]);
    const [certType, der, subject, label] = readAttributes(again, certificate, [CKA_CERTIFICATE_TYPE, CKA_VALUE, CKA_SUBJECT, CKA_LABEL]);
    assert.equal(ckUlong(certType!), CKC_X_509);
    assert.deepEqual(der, cert.der);
    assert.equal(new X509Certificate(der!).subject, 'CN=hsm.example.test');
    assert.ok(subject!.length > 0 && cert.der.includes(subject!));
    assert.equal(label!.toString('utf8'), 'tls-cert');
  });

  test('dates: CK_DATE YYYYMMDD on public objects; CKR_GENERAL_ERROR on dated private ones; TypeError when empty', () => {
    const session = s!;
    const dateOf = (template: { type: number; value: number | string | Buffer }[], type: number): AttributeRead =>
      readAttribute(session, one(session, template), type);
    const text = (read: AttributeRead): string | undefined => (read.ok ? read.value?.toString('ascii') : read.code);

    // Public objects: the dates read back as the 8 ASCII bytes given.
    assert.equal(text(dateOf([{ type: CKA_LABEL, value: 'aes-public-dated' }], CKA_START_DATE)), '20250101');
    assert.equal(text(dateOf([{ type: CKA_LABEL, value: 'aes-public-dated' }], CKA_END_DATE)), '20270630');
    assert.equal(text(dateOf([{ type: CKA_CLASS, value: CKO_CERTIFICATE }], CKA_END_DATE)), '20260301');
    assert.equal(text(dateOf([{ type: CKA_CLASS, value: CKO_PUBLIC_KEY }, { type: CKA_LABEL, value: 'rsa-1024' }], CKA_END_DATE)), '20261231');

    // Private objects with a date set (CKA_PRIVATE=true secret keys, private keys): CKR_GENERAL_ERROR (5).
    for (const template of [[{ type: CKA_LABEL, value: 'aes-256' }], [{ type: CKA_CLASS, value: CKO_PRIVATE_KEY }, { type: CKA_LABEL, value: 'rsa-1024' }]]) {
      for (const type of [CKA_START_DATE, CKA_END_DATE]) {
        const read = dateOf(template, type);
        if (template.length === 2 && type === CKA_START_DATE) {
          assert.equal(text(read), 'TypeError', 'no start date given: empty'); // the empty date of a private key is not an error in SoftHSM
          continue;
        }
        assert.deepEqual({ ...read, message: undefined }, { ok: false, code: 'CKR_GENERAL_ERROR', number: pkcs11js.CKR_GENERAL_ERROR, message: undefined });
      }
    }
    assert.equal(pkcs11js.CKR_GENERAL_ERROR, 5);
    // The same failure takes the whole template down.
    assert.throws(
      () => readAttributes(session, one(session, [{ type: CKA_LABEL, value: 'aes-256' }]), [CKA_LABEL, CKA_END_DATE]),
      { name: 'Pkcs11Error', message: 'CKR_GENERAL_ERROR' },
    );

    // No date given: an empty CK_DATE, which pkcs11js refuses with a TypeError (public or private alike).
    for (const template of [[{ type: CKA_LABEL, value: 'aes-128' }], [{ type: CKA_CLASS, value: CKO_PUBLIC_KEY }, { type: CKA_LABEL, value: 'ec-p256' }]]) {
      const read = dateOf(template, CKA_START_DATE);
      assert.deepEqual({ ok: read.ok, code: read.ok ? '' : read.code }, { ok: false, code: 'TypeError' });
      assert.match(read.ok ? '' : read.message, /has wrong length\. Should be 8, but is 0/);
    }
  });

  test('sensitive and type-invalid attributes, alone and among others', () => {
    const session = s!;
    const aes256 = one(session, [{ type: CKA_LABEL, value: 'aes-256' }]);
    const aes128 = one(session, [{ type: CKA_LABEL, value: 'aes-128' }]);
    const publicNonExtractable = one(session, [{ type: CKA_LABEL, value: 'aes-public-dated' }]);
    const rsaPrivate = one(session, [{ type: CKA_CLASS, value: CKO_PRIVATE_KEY }, { type: CKA_LABEL, value: 'rsa-1024' }]);
    const extractableRsaPrivate = one(session, [{ type: CKA_CLASS, value: CKO_PRIVATE_KEY }, { type: CKA_LABEL, value: 'rsa-2048' }]);

    assert.deepEqual(pick(readAttribute(session, aes256, CKA_VALUE)), failed('CKR_ATTRIBUTE_SENSITIVE'));
    assert.equal(pkcs11js.CKR_ATTRIBUTE_SENSITIVE, 0x11);
    // CKA_SENSITIVE=false but CKA_EXTRACTABLE=false: still CKR_ATTRIBUTE_SENSITIVE.
    assert.deepEqual(pick(readAttribute(session, publicNonExtractable, CKA_VALUE)), failed('CKR_ATTRIBUTE_SENSITIVE'));
    assert.deepEqual(pick(readAttribute(session, rsaPrivate, pkcs11js.CKA_PRIVATE_EXPONENT)), failed('CKR_ATTRIBUTE_SENSITIVE'));
    // d is a random number below the 2048-bit modulus: usually 256 bytes, sometimes fewer (leading zeros).
    const exponent = readAttributes(session, extractableRsaPrivate, [pkcs11js.CKA_PRIVATE_EXPONENT])[0]!.length;
    assert.ok(exponent > 240 && exponent <= 256, `private exponent of ${exponent} bytes`);
    // An attribute the object's type does not have: CKR_ATTRIBUTE_TYPE_INVALID.
    assert.deepEqual(pick(readAttribute(session, aes128, CKA_MODULUS)), failed('CKR_ATTRIBUTE_TYPE_INVALID'));
    assert.equal(pkcs11js.CKR_ATTRIBUTE_TYPE_INVALID, 0x12);

    // Several in one call: pkcs11js throws the call's CKR code; the valid attributes' values are lost.
    assert.throws(() => readAttributes(session, aes256, [CKA_LABEL, CKA_VALUE, CKA_ID]), { name: 'Pkcs11Error', message: 'CKR_ATTRIBUTE_SENSITIVE' });
    assert.throws(() => readAttributes(session, aes128, [CKA_LABEL, CKA_MODULUS]), { name: 'Pkcs11Error', message: 'CKR_ATTRIBUTE_TYPE_INVALID' });
    // Both kinds in one template: SoftHSM reports the sensitive one, whatever the order.
    assert.throws(() => readAttributes(session, aes256, [CKA_VALUE, CKA_MODULUS]), { name: 'Pkcs11Error', message: 'CKR_ATTRIBUTE_SENSITIVE' });
    assert.throws(() => readAttributes(session, aes256, [CKA_MODULUS, CKA_LABEL, CKA_VALUE]), { name: 'Pkcs11Error', message: 'CKR_ATTRIBUTE_SENSITIVE' });
    // ...and a dated private object's date before either (CKR_GENERAL_ERROR).
    assert.throws(() => readAttributes(session, rsaPrivate, [pkcs11js.CKA_PRIVATE_EXPONENT, pkcs11js.CKA_MODULUS_BITS, CKA_END_DATE]), { name: 'Pkcs11Error', message: 'CKR_GENERAL_ERROR' });
    // The extractable, non-sensitive key's value reads, alone or among others.
    const [label, value] = readAttributes(session, aes128, [CKA_LABEL, CKA_VALUE]);
    assert.equal(label!.toString(), 'aes-128');
    assert.equal(value!.length, 16);
  });

  test('tokens are isolated per SoftHsm directory', async () => {
    const otherToken = await other.initToken('keydrift-b', SO_PIN, USER_PIN);
    assert.notEqual(otherToken.serial, token.serial);
    assert.equal(readdirSync(hsm.tokenDir).length, 1);
    assert.equal(readdirSync(other.tokenDir).length, 1);

    const b = login(otherToken, other);
    const labels = (m: OpenModule) => m.pkcs11.C_GetSlotList(true).map((slot) => m.pkcs11.C_GetTokenInfo(slot).label.trimEnd());
    assert.deepEqual(labels(module!).filter((label) => label !== ''), ['keydrift-b']);
    assert.throws(() => module!.slot(token), /no token/);
    assert.equal(findObjects(b, []).length, 0);
    generateAes(b, { label: 'only-in-b', id: 'bb', bits: 128, extractable: false, sensitive: true });

    const a = login(token, hsm);
    assert.deepEqual(labels(module!).filter((label) => label !== ''), ['keydrift-a']);
    assert.equal(findObjects(a, [{ type: CKA_LABEL, value: 'only-in-b' }]).length, 0);
    assert.equal(findObjects(a, []).length, 17);
  });
});

function pick(read: AttributeRead): Partial<AttributeRead> {
  return read.ok ? read : { ok: false, code: read.code };
}
