import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Template } from 'pkcs11js';
import type { Report } from '../../src/report/types.ts';
import { removeDir, tempDir } from '../support/certs.ts';
import { runCli } from '../support/cli.ts';
import { assertReportsValid } from '../support/reports.ts';
import { ckDate, ckId, createSoftHsm, openModule, openUserSession, pkcs11js as ck, type SoftHsm, type UserSession } from '../support/softhsm.ts';
import { startVault, type VaultServer } from '../support/vault-server.ts';

// KD-ACC-005 (NIST SP 800-57 Pt 1 Rev. 5, 5.2: one key, one purpose) against real backends: keys
// created on SoftHSM2 with every usage flag given explicitly, and Vault transit keys whose type
// fixes what they can do. The keys are otherwise compliant (dated, short-lived enough for
// KD-ALG-003, AES-256 or RSA-3072), so the findings below, written by hand, are the usage ones.

const NOW = '2026-11-01T00:00:00Z';
const PIN = '2468';

type Flags = Partial<Record<'encrypt' | 'decrypt' | 'wrap' | 'unwrap' | 'sign' | 'verify', boolean>>;
const FLAG_ATTRIBUTES = { encrypt: ck.CKA_ENCRYPT, decrypt: ck.CKA_DECRYPT, wrap: ck.CKA_WRAP, unwrap: ck.CKA_UNWRAP, sign: ck.CKA_SIGN, verify: ck.CKA_VERIFY };
const flagTemplate = (flags: Flags): Template => Object.entries(flags).map(([flag, on]) => ({ type: FLAG_ATTRIBUTES[flag as keyof Flags], value: on }));
const dated: Template = [
  { type: ck.CKA_START_DATE, value: ckDate('20260601') },
  { type: ck.CKA_END_DATE, value: ckDate('20290601') },
];

/** An AES-256 token key with exactly these usage flags (public object, so its dates read back). */
function aes(s: UserSession, label: string, id: string, flags: Flags): void {
  s.pkcs11.C_GenerateKey(s.session, { mechanism: ck.CKM_AES_KEY_GEN }, [
    { type: ck.CKA_CLASS, value: ck.CKO_SECRET_KEY },
    { type: ck.CKA_KEY_TYPE, value: ck.CKK_AES },
    { type: ck.CKA_VALUE_LEN, value: 32 },
    { type: ck.CKA_TOKEN, value: true },
    { type: ck.CKA_LABEL, value: label },
    { type: ck.CKA_ID, value: ckId(id) },
    { type: ck.CKA_PRIVATE, value: false },
    { type: ck.CKA_EXTRACTABLE, value: false },
    { type: ck.CKA_SENSITIVE, value: true },
    ...dated,
    ...flagTemplate({ encrypt: false, decrypt: false, wrap: false, unwrap: false, sign: false, verify: false, ...flags }),
  ]);
}

/** An RSA-3072 or EC P-256 pair whose private key has exactly these flags (sign, decrypt, unwrap). */
function pair(s: UserSession, label: string, id: string, type: 'rsa' | 'ec', flags: Pick<Flags, 'sign' | 'decrypt' | 'unwrap'>): void {
  const common: Template = [{ type: ck.CKA_TOKEN, value: true }, { type: ck.CKA_LABEL, value: label }, { type: ck.CKA_ID, value: ckId(id) }, ...dated];
  const publicExtra: Template =
    type === 'rsa'
      ? [{ type: ck.CKA_MODULUS_BITS, value: 3072 }, { type: ck.CKA_PUBLIC_EXPONENT, value: Buffer.from([1, 0, 1]) }]
      : [{ type: ck.CKA_EC_PARAMS, value: Buffer.from('06082a8648ce3d030107', 'hex') }];
  s.pkcs11.C_GenerateKeyPair(
    s.session,
    { mechanism: type === 'rsa' ? ck.CKM_RSA_PKCS_KEY_PAIR_GEN : ck.CKM_EC_KEY_PAIR_GEN },
    [{ type: ck.CKA_CLASS, value: ck.CKO_PUBLIC_KEY }, ...common, ...publicExtra, { type: ck.CKA_PRIVATE, value: false }],
    [
      { type: ck.CKA_CLASS, value: ck.CKO_PRIVATE_KEY },
      ...common,
      { type: ck.CKA_PRIVATE, value: true },
      { type: ck.CKA_EXTRACTABLE, value: false },
      { type: ck.CKA_SENSITIVE, value: true },
      ...flagTemplate({ sign: false, decrypt: false, unwrap: false, ...flags }),
    ],
  );
}

async function scan(dir: string, source: string, env: Record<string, string>, now = NOW): Promise<{ report: Report; code: number }> {
  const config = path.join(dir, `keydrift-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(config, `version: 1\nsources:\n  - ${source}\n`);
  const out = path.join(dir, `out-${Math.random().toString(36).slice(2)}`);
  const run = await runCli(['scan', '--config', config, '--now', now, '--out', out, '--format', 'json'], { env });
  return { report: assertReportsValid(out), code: run.code };
}

const named = (report: Report) => report.findings.map((finding) => `${finding.resource.name} ${finding.ruleId} ${finding.severity}`).sort();

describe('KD-ACC-005 on SoftHSM2: usage flags set explicitly at generation', () => {
  let hsm: SoftHsm;

  before(async () => {
    hsm = createSoftHsm();
    const slot = await hsm.initToken('kd-usage', '1357', PIN);
    const module = openModule(hsm);
    const s = openUserSession(module.pkcs11, module.slot(slot), PIN);
    try {
      aes(s, 'aes-encrypt-only', '01', { encrypt: true, decrypt: true });
      aes(s, 'aes-wrap-only', '02', { wrap: true, unwrap: true });
      aes(s, 'aes-mac-and-decrypt', '03', { encrypt: true, decrypt: true, sign: true, verify: true });
      pair(s, 'rsa-sign-only', '04', 'rsa', { sign: true });
      pair(s, 'rsa-decrypt-only', '05', 'rsa', { decrypt: true, unwrap: true });
      pair(s, 'rsa-sign-and-decrypt', '06', 'rsa', { sign: true, decrypt: true });
      pair(s, 'ec-sign-and-unwrap', '07', 'ec', { sign: true, unwrap: true });
    } finally {
      s.close();
      module.close();
    }
  });
  after(() => hsm?.cleanup());

  test('exactly the keys allowed to sign and to decrypt or unwrap are reported, at medium', async () => {
    const { report } = await scan(hsm.dir, `{ id: hsm, type: pkcs11, module: "${hsm.modulePath}", token: kd-usage, pinEnv: HSM_PIN }`, { ...hsm.env, HSM_PIN: PIN });
    assert.equal(report.sources[0]?.status, 'ok', JSON.stringify(report.sources[0]?.errors));
    assert.deepEqual(named(report), [
      'aes-mac-and-decrypt KD-ACC-005 medium', // CKA_SIGN (a MAC) and CKA_DECRYPT on one secret key
      'ec-sign-and-unwrap KD-ACC-005 medium', // CKA_SIGN and CKA_UNWRAP on one private key
      'rsa-sign-and-decrypt KD-ACC-005 medium', // CKA_SIGN and CKA_DECRYPT on one private key
    ]);
    const item = (name: string) => report.inventory.find((candidate) => candidate.name === name)!;
    assert.deepEqual(item('rsa-sign-and-decrypt').attributes?.usages, ['decrypt', 'sign'], 'CKA_ENCRYPT, CKA_WRAP, CKA_VERIFY do not exist on a private key: not listed');
    assert.deepEqual(item('aes-wrap-only').attributes?.usages, ['wrap', 'unwrap']);
    const finding = report.findings.find((candidate) => candidate.resource.name === 'ec-sign-and-unwrap')!;
    assert.deepEqual(finding.evidence, { usages: ['unwrap', 'sign'], conflicting: ['sign', 'unwrap'], fromKeyType: false });
  });
});

describe('KD-ACC-005 on a Vault dev server: the transit key type fixes the usages', () => {
  let vault: VaultServer;
  let dir: string;

  before(async () => {
    vault = await startVault();
    dir = tempDir();
    await vault.api('POST', 'sys/mounts/transit', { type: 'transit' });
    for (const [name, type] of [['rsa-3072', 'rsa-3072'], ['aes-256', 'aes256-gcm96'], ['ed25519', 'ed25519']]) {
      await vault.api('POST', `transit/keys/${name}`, { type, auto_rotate_period: '720h' });
    }
  });
  after(async () => {
    await vault?.stop();
    removeDir(dir);
  });

  test('an RSA key can both decrypt and sign: low; AES and Ed25519 keys have one purpose', async () => {
    // Just after creation: nothing is old, and KD-ALG-003 is the RSA and Ed25519 keys' post-quantum note
    // (low for the RSA key, whose transit purpose is encrypt: key establishment; info for the signing key).
    const { report } = await scan(dir, `{ id: vault, type: vault, address: "${vault.address}", mounts: { transit: [transit], pki: [] } }`, { VAULT_TOKEN: 'keydrift-test-root', VAULT_ADDR: '', HOME: dir }, new Date().toISOString());
    assert.equal(report.sources[0]?.status, 'ok', JSON.stringify(report.sources[0]?.errors));
    assert.deepEqual(named(report), ['ed25519 KD-ALG-003 info', 'rsa-3072 KD-ACC-005 low', 'rsa-3072 KD-ALG-003 low']);
    const key = (name: string) => report.inventory.find((item) => item.name === name)!;
    assert.deepEqual(key('rsa-3072').attributes?.usages, ['encrypt', 'decrypt', 'sign', 'verify']);
    assert.equal(key('rsa-3072').attributes?.usagesFromKeyType, true);
    assert.deepEqual(key('aes-256').attributes?.usages, ['encrypt', 'decrypt']);
    assert.deepEqual(key('ed25519').attributes?.usages, ['sign', 'verify']);
  });
});
