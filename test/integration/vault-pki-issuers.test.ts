import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { vaultDeclaration } from '../../src/collectors/vault/declaration.ts';
import { vaultScanPolicy } from '../../src/collectors/vault/policy.ts';
import type { Report } from '../../src/report/types.ts';
import { makeCert, removeDir, tempDir } from '../support/certs.ts';
import { runCli } from '../support/cli.ts';
import { assertEvaluateAccepts } from '../support/evidence.ts';
import { assertReportsValid } from '../support/reports.ts';
import { startVault, type VaultServer } from '../support/vault-server.ts';

// PKI issuers and issuer keys of a real Vault 1.14 dev server. Mount `ca`: a generated root on an
// EC P-224 key that expires in 25 days, a root imported with its RSA-1024 key, and an RSA-1024 key
// imported alone (no issuer uses it). Mount `ca_int`: an intermediate on an EC P-256 key, signed
// by the P-224 root for 400 hours (Vault also keeps the root there, chain-only, and the root and
// the intermediate under ca/certs: each CA certificate must be inventoried once).
//
// Expected findings at seed time + 10 days, default profile, written by hand from
// docs/rule-semantics.md and the settings' defaults (minBits ec 256 / rsa 2048, expiry warnDays 30,
// failDays 7, pqc.deadline 2030-12-31):
const CLOCK_DAYS = 10;
const EXPECTED = [
  // Issuer certificate on P-224 (224 < 256 bits); 600 h - 240 h = 15 days left: <= 30, > 7.
  'weak-root KD-CRT-004 high',
  'weak-root KD-CRT-002 medium',
  // Its key, size read from the certificate: too short, and an EC key with no expiry (PQC, info).
  'weak-root-key KD-ALG-002 high',
  'weak-root-key KD-ALG-003 info',
  // Imported self-signed CA on RSA-1024, valid 10 years: the key size only.
  'imported-root KD-CRT-004 high',
  'imported-root-key KD-ALG-002 high',
  'imported-root-key KD-ALG-003 info',
  // No issuer uses it, and Vault's key read gives no size: UNKNOWN:rsa (low), still an RSA key (PQC, info).
  'orphan-key KD-ALG-001 low',
  'orphan-key KD-ALG-003 info',
  // 400 h - 240 h = 160 h = 6.7 days left: <= 7 days.
  'issuing KD-CRT-002 high',
  'issuing-key KD-ALG-003 info',
].sort();

const DAY = 86_400_000;

interface ImportResult {
  data: { imported_issuers: string[] | null; imported_keys: string[] | null; mapping: Record<string, string>; key_id?: string };
}

describe('vault PKI issuers and issuer keys against a real Vault dev server', () => {
  let vault: VaultServer;
  let dir: string;
  let seedTime: Date;

  before(async () => {
    vault = await startVault();
    dir = tempDir();
    seedTime = new Date();
    await vault.api('POST', 'sys/mounts/ca', { type: 'pki', config: { max_lease_ttl: '100000h' } });
    await vault.api('POST', 'ca/root/generate/internal', { common_name: 'Weak Root', key_type: 'ec', key_bits: 224, ttl: '600h', issuer_name: 'weak-root', key_name: 'weak-root-key' });

    const imported = makeCert(dir, { cn: 'Imported Root', key: 'rsa:1024', ca: true, notAfter: new Date(Date.now() + 3650 * DAY).toISOString() });
    const bundle = (await vault.api('POST', 'ca/issuers/import/bundle', { pem_bundle: imported.certPem + imported.keyPem })) as unknown as ImportResult;
    const issuerId = bundle.data.imported_issuers![0]!;
    await vault.api('POST', `ca/issuer/${issuerId}`, { issuer_name: 'imported-root' });
    await vault.api('POST', `ca/key/${bundle.data.mapping[issuerId]}`, { key_name: 'imported-root-key' });

    const orphan = makeCert(dir, { cn: 'orphan', key: 'rsa:1024' });
    await vault.api('POST', 'ca/keys/import', { pem_bundle: orphan.keyPem, key_name: 'orphan-key' });

    await vault.api('POST', 'sys/mounts/ca_int', { type: 'pki', config: { max_lease_ttl: '100000h' } });
    const csr = (await vault.api('POST', 'ca_int/intermediate/generate/internal', { common_name: 'Issuing CA', key_type: 'ec', key_bits: 256, key_name: 'issuing-key' })) as { data: { csr: string } };
    const signed = (await vault.api('POST', 'ca/issuer/weak-root/sign-intermediate', { csr: csr.data.csr, format: 'pem_bundle', ttl: '400h' })) as { data: { certificate: string } };
    const set = (await vault.api('POST', 'ca_int/intermediate/set-signed', { certificate: signed.data.certificate })) as unknown as ImportResult;
    const own = set.data.imported_issuers!.find((id) => set.data.mapping[id])!;
    await vault.api('POST', `ca_int/issuer/${own}`, { issuer_name: 'issuing' });
  });
  after(async () => {
    await vault?.stop();
    removeDir(dir);
  });

  async function scan(token: string): Promise<{ report: Report; text: string }> {
    const config = path.join(dir, `keydrift-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(config, `version: 1\nsources:\n  - { id: vault, type: vault, address: "${vault.address}" }\n`);
    const out = path.join(dir, `out-${Math.random().toString(36).slice(2)}`);
    const now = new Date(seedTime.getTime() + CLOCK_DAYS * DAY).toISOString();
    await runCli(['scan', '--config', config, '--now', now, '--out', out, '--format', 'json'], { env: { VAULT_TOKEN: token, VAULT_ADDR: '', HOME: dir } });
    return { report: assertReportsValid(out), text: readFileSync(path.join(out, 'keydrift.json'), 'utf8') };
  }

  const named = (report: Report) => report.findings.filter((finding) => finding.ruleId !== 'KD-GOV-003').map((finding) => `${finding.resource.name} ${finding.ruleId} ${finding.severity}`).sort();

  test('issuers and issuer keys yield exactly the expected findings', async () => {
    const { report } = await scan('keydrift-test-root');
    assert.equal(report.sources[0]?.status, 'ok', JSON.stringify(report.sources[0]?.errors));
    assert.deepEqual(named(report), EXPECTED);
    await assertEvaluateAccepts(report.inventory, report.sources);
  });

  test('each CA certificate once, as the issuer holding its key; keys sized from their issuer; no private key read', async () => {
    const { report, text } = await scan('keydrift-test-root');
    const cas = report.inventory.filter((item) => item.certificate?.isCA);
    assert.deepEqual(cas.map((item) => item.name).sort(), ['imported-root', 'issuing', 'weak-root']);
    assert.equal(new Set(cas.map((item) => item.certificate!.fingerprintSha256)).size, cas.length);
    const byName = (name: string) => report.inventory.find((item) => item.name === name)!;
    // weak-root is an issuer of ca (with its key) and a chain-only issuer of ca_int: the first is kept.
    assert.match(byName('weak-root').uid, new RegExp(`^${vault.address}/v1/ca/issuer/[0-9a-f-]{36}$`));
    assert.match(byName('issuing').uid, /\/v1\/ca_int\/issuer\/[0-9a-f-]{36}$/);
    assert.deepEqual(byName('issuing').evidence['usage'], ['crl-signing', 'issuing-certificates', 'ocsp-signing', 'read-only']);
    assert.equal(byName('issuing').evidence['leafNotAfterBehavior'], 'err');
    assert.equal(byName('weak-root').evidence['keyId'], byName('weak-root-key').evidence['keyId']);

    const key = byName('weak-root-key');
    assert.equal(key.kind, 'key');
    assert.equal(key.provider, 'vault-pki');
    assert.deepEqual([key.algorithm, key.keyType, key.keySize, key.curve, key.protection], ['EC-P224', 'ec', 224, 'P-224', 'software']);
    assert.deepEqual(key.evidence['issuerIds'], [byName('weak-root').evidence['issuerId']]);
    assert.match(key.uid, /\/v1\/ca\/key\/[0-9a-f-]{36}$/);
    assert.deepEqual([byName('imported-root-key').algorithm, byName('orphan-key').algorithm, byName('orphan-key').keyType], ['RSA-1024', 'UNKNOWN:rsa', 'rsa']);
    assert.ok(!/PRIVATE KEY/.test(text), 'no private key in the report');

    const calls = Object.keys(report.sources[0]?.apiCalls ?? {});
    for (const call of calls) assert.ok(vaultDeclaration.operations.includes(call), `${call} is a declared operation`);
    for (const operation of ['list <pki>/issuers', 'read <pki>/issuer/*', 'list <pki>/keys', 'read <pki>/key/*']) assert.ok(calls.includes(operation), `${operation} was called`);
  });

  test('a token refused the issuer reads and the key lists: the source is partial, each refused path named', async () => {
    const refused = new Set(['read <pki>/issuer/*', 'list <pki>/keys']);
    const operations = vaultDeclaration.operations.filter((operation) => !refused.has(operation));
    await vault.api('PUT', 'sys/policies/acl/no-issuers', { policy: vaultScanPolicy({ transit: [], pki: ['ca', 'ca_int'] }, operations) });
    const token = (await vault.api('POST', 'auth/token/create', { policies: ['no-issuers'], ttl: '1h' })) as { auth: { client_token: string } };
    const { report } = await scan(token.auth.client_token);
    const source = report.sources[0]!;
    assert.equal(source.status, 'partial');
    assert.ok(source.errors.every((error) => error.code === 'vault-permission-denied'), JSON.stringify(source.errors));
    const named = source.errors.map((error) => error.resource ?? '');
    // ca: weak-root and imported-root; ca_int: the intermediate and its chain-only copy of weak-root.
    assert.equal(named.filter((uid) => /\/v1\/ca\/issuer\/[0-9a-f-]{36}$/.test(uid)).length, 2);
    assert.equal(named.filter((uid) => /\/v1\/ca_int\/issuer\/[0-9a-f-]{36}$/.test(uid)).length, 2);
    assert.ok(named.includes(`${vault.address}/v1/ca/keys`));
    assert.ok(named.includes(`${vault.address}/v1/ca_int/keys`));
    assert.equal(named.length, 6);
    assert.ok(report.findings.some((finding) => finding.ruleId === 'KD-GOV-003'));
    // What could be read still is: the CA certificates under ca/certs, the certificates' own rules.
    assert.ok(report.inventory.some((item) => item.name === 'Weak Root' && item.uid.includes('/v1/ca/cert/')));
  });
});
