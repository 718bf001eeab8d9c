import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Report } from '../../src/report/types.ts';
import { makeCert } from '../support/certs.ts';
import { runCli } from '../support/cli.ts';
import { assertEvaluateAccepts } from '../support/evidence.ts';
import { assertReportsValid } from '../support/reports.ts';
import { ckId, createSoftHsm, generateAes, generateDes3, generateEc, generateRsa, importCertificate, openModule, openUserSession, pkcs11js as ck, type SoftHsm } from '../support/softhsm.ts';

// SoftHSM2 from Debian, a private token directory for this run, tokens and objects created here;
// the CLI scans them as a process through pkcs11js. Evaluation clock: 2026-11-01.

const NOW = '2026-11-01T00:00:00Z';
const MAIN_PIN = '1234-canary-pin';
const OTHER_PIN = '9876';

// SoftHSM sets every usage flag the template leaves out to true, so each key below (secret keys
// with CKA_SIGN, private keys with CKA_DECRYPT and CKA_UNWRAP) may both sign and decrypt: KD-ACC-005.
const BOTH_PURPOSES = [
  'aes-256-ok', 'aes-128-old', 'aes-extractable', 'aes-not-sensitive', 'des3-legacy', 'aes-expiring', 'aes-expired', 'aes-192-private-dated', 'aes-no-dates',
  'rsa-1024', 'rsa-2048', 'rsa-3072-retiring', 'ec-p256', 'ec-p384', 'ec-secp256k1', 'rsa-2048-extractable',
].map((name) => `${name} KD-ACC-005 medium`);

const EXPECTED = [
  'aes-128-old KD-ROT-003 high',
  'aes-expired KD-RET-005 high',
  'aes-expiring KD-RET-004 high',
  'aes-extractable KD-HSM-001 high',
  'aes-not-sensitive KD-HSM-001 high',
  'cert-expired.example.com KD-CRT-001 high',
  'cert-sha1.example.com KD-CRT-005 high',
  'des3-legacy KD-ALG-001 high',
  'ec-p256 KD-ALG-003 info',
  'ec-p384 KD-ALG-003 info',
  'ec-secp256k1 KD-ALG-003 info',
  'rsa-1024 KD-ALG-002 high',
  'rsa-1024 KD-ALG-003 info',
  'rsa-2048 KD-ALG-003 info',
  'rsa-2048-extractable KD-ALG-003 info',
  'rsa-2048-extractable KD-HSM-001 high',
  // Extractable but only under a CKA_TRUSTED wrapping key (PCI DSS 3.6.1.2's KEK form): low.
  'aes-wrap-trusted KD-HSM-001 low',
  // 3DES that can only decrypt: SP 800-131A legacy use, low.
  'des3-decrypt-only KD-ALG-001 low',
  ...BOTH_PURPOSES,
].sort();

describe('pkcs11 source against SoftHSM2', () => {
  let hsm: SoftHsm;

  before(async () => {
    hsm = createSoftHsm();
    const main = await hsm.initToken('kd-main', '5678', MAIN_PIN);
    await hsm.initToken('kd-other', '5678', OTHER_PIN);
    const module = openModule(hsm);
    const s = openUserSession(module.pkcs11, module.slot(main), MAIN_PIN);
    try {
      const secret = { extractable: false, sensitive: true, private: false, startDate: '20260601' };
      generateAes(s, { label: 'aes-256-ok', id: '01', bits: 256, ...secret });
      generateAes(s, { label: 'aes-128-old', id: '02', bits: 128, ...secret, startDate: '20240101' });
      generateAes(s, { label: 'aes-extractable', id: '03', bits: 256, ...secret, extractable: true });
      generateAes(s, { label: 'aes-not-sensitive', id: '04', bits: 256, ...secret, sensitive: false });
      generateDes3(s, { label: 'des3-legacy', id: '05', ...secret });
      generateAes(s, { label: 'aes-expiring', id: '06', bits: 256, ...secret, endDate: '20261105' });
      generateAes(s, { label: 'aes-expired', id: '07', bits: 256, ...secret, endDate: '20261001' });
      // A private (CKA_PRIVATE) key's dates read back as CKR_GENERAL_ERROR in SoftHSM: unknown, no finding.
      generateAes(s, { label: 'aes-192-private-dated', id: '08', bits: 192, extractable: false, sensitive: true, private: true, endDate: '20261001' });
      generateAes(s, { label: 'aes-no-dates', id: '09', bits: 256, extractable: false, sensitive: true, private: false });
      const pair = { startDate: '20260601' };
      generateRsa(s, { label: 'rsa-1024', id: '10', bits: 1024, ...pair });
      generateRsa(s, { label: 'rsa-2048', id: '11', bits: 2048, ...pair });
      generateRsa(s, { label: 'rsa-3072-retiring', id: '12', bits: 3072, ...pair, endDate: '20300601' });
      generateEc(s, { label: 'ec-p256', id: '13', curve: 'P-256', ...pair });
      generateEc(s, { label: 'ec-p384', id: '14', curve: 'P-384', ...pair });
      generateEc(s, { label: 'ec-secp256k1', id: '15', curve: 'secp256k1', ...pair });
      generateRsa(s, { label: 'rsa-2048-extractable', id: '16', bits: 2048, ...pair, extractable: true });
      // Usage flags written out (SoftHSM turns omitted ones on), so neither key both signs and decrypts.
      const only = (on: number[], off: number[]) => [...on.map((type) => ({ type, value: true })), ...off.map((type) => ({ type, value: false }))];
      const common = (label: string, id: string) => [
        { type: ck.CKA_CLASS, value: ck.CKO_SECRET_KEY },
        { type: ck.CKA_TOKEN, value: true },
        { type: ck.CKA_PRIVATE, value: false },
        { type: ck.CKA_LABEL, value: label },
        { type: ck.CKA_ID, value: ckId(id) },
        { type: ck.CKA_SENSITIVE, value: true },
      ];
      s.pkcs11.C_GenerateKey(s.session, { mechanism: ck.CKM_AES_KEY_GEN }, [
        ...common('aes-wrap-trusted', '17'),
        { type: ck.CKA_KEY_TYPE, value: ck.CKK_AES },
        { type: ck.CKA_VALUE_LEN, value: 32 },
        ...only([ck.CKA_EXTRACTABLE, ck.CKA_WRAP_WITH_TRUSTED, ck.CKA_ENCRYPT, ck.CKA_DECRYPT], [ck.CKA_SIGN, ck.CKA_VERIFY, ck.CKA_DERIVE]),
      ]);
      s.pkcs11.C_GenerateKey(s.session, { mechanism: ck.CKM_DES3_KEY_GEN }, [
        ...common('des3-decrypt-only', '18'),
        { type: ck.CKA_KEY_TYPE, value: ck.CKK_DES3 },
        ...only([ck.CKA_DECRYPT], [ck.CKA_EXTRACTABLE, ck.CKA_ENCRYPT, ck.CKA_WRAP, ck.CKA_UNWRAP, ck.CKA_SIGN, ck.CKA_VERIFY, ck.CKA_DERIVE]),
      ]);
      const ok = makeCert(hsm.dir, { cn: 'cert-ok.example.com', key: 'rsa:2048', notBefore: '2026-10-01T00:00:00Z', notAfter: '2027-01-01T00:00:00Z' });
      const expired = makeCert(hsm.dir, { cn: 'cert-expired.example.com', key: 'ec:P-256', notBefore: '2026-07-01T00:00:00Z', notAfter: '2026-10-15T00:00:00Z' });
      const sha1 = makeCert(hsm.dir, { cn: 'cert-sha1.example.com', key: 'rsa:2048', md: 'sha1', notBefore: '2026-10-01T00:00:00Z', notAfter: '2027-01-01T00:00:00Z' });
      importCertificate(s, { label: 'cert-ok', id: '11', der: ok.der });
      importCertificate(s, { label: 'cert-expired', id: '20', der: expired.der });
      importCertificate(s, { label: 'cert-sha1', id: '21', der: sha1.der });
    } finally {
      s.close();
      module.close();
    }
  });
  after(() => hsm?.cleanup());

  async function scan(sources: string[]): Promise<{ report: Report; code: number; stdout: string; stderr: string }> {
    const config = path.join(hsm.dir, `keydrift-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(config, ['version: 1', 'sources:', ...sources.map((source) => `  - ${source}`), ''].join('\n'));
    const out = path.join(hsm.dir, `out-${Math.random().toString(36).slice(2)}`);
    const run = await runCli(['scan', '--config', config, '--now', NOW, '--out', out, '--format', 'json,sarif,md', '--verbose'], {
      env: { ...hsm.env, MAIN_PIN, WRONG_PIN: '0000' },
    });
    return { report: assertReportsValid(out), code: run.code, stdout: run.stdout, stderr: run.stderr };
  }

  const named = (report: Report) =>
    report.findings.filter((finding) => finding.ruleId !== 'KD-GOV-003').map((finding) => `${finding.resource.name} ${finding.ruleId} ${finding.severity}`).sort();

  test('a seeded token yields exactly the expected findings', async () => {
    const { report } = await scan([`{ id: hsm, type: pkcs11, module: "${hsm.modulePath}", token: kd-main, pinEnv: MAIN_PIN }`]);
    assert.equal(report.sources[0]?.status, 'ok', JSON.stringify(report.sources[0]?.errors));
    assert.deepEqual(named(report), EXPECTED);
    await assertEvaluateAccepts(report.inventory, report.sources);
    const item = (name: string) => report.inventory.find((candidate) => candidate.name === name)!;
    assert.equal(item('aes-128-old').algorithm, 'AES-128');
    assert.equal(item('aes-128-old').protection, 'hsm');
    assert.equal(item('aes-128-old').origin, 'generated');
    assert.equal(item('des3-legacy').algorithm, '3DES');
    assert.equal(item('rsa-1024').algorithm, 'RSA-1024');
    assert.equal(item('ec-secp256k1').algorithm, 'EC-secp256k1');
    assert.equal(item('rsa-3072-retiring').expiresAt, '2030-06-01T00:00:00Z', 'dates from the public half');
    assert.equal(item('aes-192-private-dated').expiresAt, null, 'unreadable dates are unknown');
    assert.deepEqual(item('aes-192-private-dated').evidence['unreadable'], ['CKA_END_DATE: CKR_GENERAL_ERROR']);
    assert.equal(item('aes-no-dates').createdAt, null);
    assert.deepEqual(item('aes-extractable').attributes, {
      extractable: true,
      sensitive: true,
      exportable: null,
      plaintextBackup: null,
      usages: ['encrypt', 'decrypt', 'wrap', 'unwrap', 'sign', 'verify'],
      appliesProtection: true,
      wrapWithTrusted: false,
    });
    assert.equal(item('aes-wrap-trusted').attributes?.wrapWithTrusted, true);
    assert.deepEqual(item('des3-decrypt-only').attributes?.usages, ['decrypt']);
    assert.equal(item('des3-decrypt-only').attributes?.appliesProtection, false);
    assert.equal(item('rsa-2048').evidence['certificateUid'], report.inventory.find((candidate) => candidate.name === 'cert-ok.example.com')?.uid, 'linked by CKA_ID');
    assert.ok(!report.inventory.some((candidate) => candidate.evidence['class'] === 'CKO_PUBLIC_KEY'), 'public halves fold into their private keys');
    assert.match(item('rsa-2048').uid, /^pkcs11:token=kd-main;serial=[0-9a-f]+;object=rsa-2048;id=11;type=private$/);
  });

  test('two tokens, one whose PIN is wrong: one partial source with KD-GOV-003, one complete', async () => {
    const { report, code } = await scan([
      `{ id: main-token, type: pkcs11, module: "${hsm.modulePath}", token: kd-main, pinEnv: MAIN_PIN }`,
      `{ id: all-tokens, type: pkcs11, module: "${hsm.modulePath}", pinEnv: MAIN_PIN }`,
    ]);
    const [main, all] = report.sources;
    assert.equal(main?.status, 'ok');
    assert.equal(all?.status, 'partial', JSON.stringify(all?.errors));
    assert.equal(all?.errors.length, 1);
    assert.equal(all?.errors[0]?.code, 'pkcs11-login-failed');
    assert.match(all!.errors[0]!.message, /token "kd-other" \(serial [0-9a-f]+, slot \d+\): login failed: the PIN is incorrect/);
    assert.ok(report.findings.some((finding) => finding.ruleId === 'KD-GOV-003' && finding.resource.uid === 'source:all-tokens'));
    assert.equal(code, 1);
  });

  test('a wrong PIN and a missing module fail the source clearly; the PIN never reaches any output', async () => {
    const { report, stdout, stderr } = await scan([
      `{ id: wrong-pin, type: pkcs11, module: "${hsm.modulePath}", token: kd-main, pinEnv: WRONG_PIN }`,
      `{ id: no-module, type: pkcs11, module: /nonexistent/libpkcs11.so, pinEnv: MAIN_PIN }`,
      `{ id: good, type: pkcs11, module: "${hsm.modulePath}", token: kd-main, pinEnv: MAIN_PIN }`,
    ]);
    assert.deepEqual(report.sources.map((source) => `${source.id} ${source.status}`), ['wrong-pin failed', 'no-module failed', 'good ok']);
    assert.match(report.sources[1]!.errors[0]!.message, /\/nonexistent\/libpkcs11\.so: cannot load the PKCS#11 module/);
    for (const text of [stdout, stderr, JSON.stringify(report)]) assert.ok(!text.includes(MAIN_PIN), 'PIN leaked');
  });
});
