import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { vaultScanPolicy } from '../../src/collectors/vault/policy.ts';
import type { Report } from '../../src/report/types.ts';
import { CERTS, TRANSIT, seedVault } from '../fixtures/vault/estate.ts';
import { removeDir, tempDir } from '../support/certs.ts';
import { runCli } from '../support/cli.ts';
import { assertEvaluateAccepts } from '../support/evidence.ts';
import { assertReportsValid } from '../support/reports.ts';
import { startVault, type VaultServer } from '../support/vault-server.ts';

// A real Vault 1.14 dev server on loopback, seeded through its HTTP API, scanned by the CLI.

interface Expected {
  clockDays: number;
  findings: Record<string, { ruleId: string; severity: string }[]>;
}

const expected = JSON.parse(readFileSync('test/fixtures/vault/expected.json', 'utf8')) as Expected;
const DAY = 86_400_000;
const MOUNTS = { transit: ['transit'], pki: ['pki', 'pki_int'] };

describe('vault source against a real Vault dev server', () => {
  let vault: VaultServer;
  let dir: string;
  let seedTime: Date;

  before(async () => {
    vault = await startVault();
    dir = tempDir();
    seedTime = new Date();
    await seedVault(vault);
  });
  after(async () => {
    await vault?.stop();
    removeDir(dir);
  });

  async function scan(token: string, extra = ''): Promise<{ report: Report; code: number; stdout: string; stderr: string; files: string[] }> {
    const config = path.join(dir, `keydrift-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(config, `version: 1\nsources:\n  - { id: vault, type: vault, address: "${vault.address}"${extra} }\n`);
    const out = path.join(dir, `out-${Math.random().toString(36).slice(2)}`);
    const now = new Date(seedTime.getTime() + expected.clockDays * DAY).toISOString();
    const run = await runCli(['scan', '--config', config, '--now', now, '--out', out, '--format', 'json,sarif,md', '--verbose'], {
      env: { VAULT_TOKEN: token, VAULT_ADDR: '', HOME: dir },
    });
    assert.ok(existsSync(path.join(out, 'keydrift.json')), `no report written (exit ${run.code}): ${run.stderr.slice(-2000)}`);
    const files = ['keydrift.json', 'keydrift.sarif', 'keydrift.md'].map((file) => readFileSync(path.join(out, file), 'utf8'));
    return { report: assertReportsValid(out), code: run.code, stdout: run.stdout, stderr: run.stderr, files };
  }

  const named = (report: Report) =>
    report.findings
      .filter((finding) => finding.ruleId !== 'KD-GOV-003')
      .map((finding) => `${finding.resource.name} ${finding.ruleId} ${finding.severity}`)
      .sort();
  const want = () =>
    Object.entries(expected.findings)
      .flatMap(([name, findings]) => findings.map((finding) => `${name} ${finding.ruleId} ${finding.severity}`))
      .sort();

  test('the seeded server yields exactly the expected findings, mounts discovered from sys/mounts', async () => {
    const { report } = await scan('keydrift-test-root');
    assert.equal(report.sources[0]?.status, 'ok', JSON.stringify(report.sources[0]?.errors));
    const transit = report.inventory.filter((item) => item.provider === 'vault-transit');
    assert.equal(transit.length, TRANSIT.length);
    const leaves = report.inventory.filter((item) => item.provider === 'vault-pki' && item.certificate && !item.certificate.isCA);
    assert.equal(leaves.length, CERTS.length);
    // The root (pki's issuer, under pki/certs, chain-only in pki_int) and the intermediate (pki_int's
    // issuer, under pki/certs): once each, as the issuer holding the key.
    const cas = report.inventory.filter((item) => item.certificate?.isCA);
    assert.deepEqual(cas.map((item) => item.uid.replace(/[0-9a-f-]{36}$/, '<id>')).sort(), [`${vault.address}/v1/pki/issuer/<id>`, `${vault.address}/v1/pki_int/issuer/<id>`]);
    assert.deepEqual(report.inventory.filter((item) => item.kind === 'key' && item.provider === 'vault-pki').map((item) => `${item.name} ${item.algorithm}`).sort(), ['issuing-key EC-P384', 'root-key RSA-4096']);
    assert.deepEqual(named(report), want());
    await assertEvaluateAccepts(report.inventory, report.sources);
  });

  test('mapping: versions, min_decryption_version, auto-rotation, exportable, revoked', async () => {
    const { report } = await scan('keydrift-test-root');
    const key = (name: string) => report.inventory.find((item) => item.provider === 'vault-transit' && item.name === name)!;
    assert.equal(key('t-rotated-old-versions').versions?.length, 4);
    // Vault lists only the versions at or above min_decryption_version: the others cannot decrypt.
    assert.deepEqual(key('t-rotated-min-raised').versions?.map((version) => `${version.id}:${version.decryptable}`), ['4:true']);
    assert.deepEqual(key('t-rotated-old-versions').versions?.map((version) => `${version.id}:${version.decryptable}`), ['1:true', '2:true', '3:true', '4:true']);
    assert.equal(key('t-rotated-min-raised').versions?.find((version) => version.primary)?.id, '4');
    assert.equal(key('t-aes256-yearly').rotation?.periodDays, 365);
    assert.equal(key('t-aes256-plain').rotation?.automatic, false);
    assert.equal(key('t-plaintext-backup').attributes?.plaintextBackup, true);
    assert.equal(key('t-ecdsa-p384').algorithm, 'EC-P384');
    assert.equal(key('t-hmac').keySize, 256);
    assert.equal(key('t-aes256-plain').uid, `${vault.address}/v1/transit/keys/t-aes256-plain`);
    const revoked = report.inventory.find((item) => item.name === 'c-revoked.example.com')!;
    assert.equal(revoked.state, 'disabled');
    assert.ok(revoked.stateSince);
    const role = report.inventory.find((item) => item.name === 'role long')!;
    assert.equal(role.evidence['roleMaxTtlSeconds'], 43800 * 3600);
  });

  test('a token limited by policy to the transit mount: the PKI mounts are partial with KD-GOV-003, transit is complete', async () => {
    await vault.api('PUT', 'sys/policies/acl/transit-only', { policy: vaultScanPolicy({ transit: ['transit'], pki: [] }) });
    const token = (await vault.api('POST', 'auth/token/create', { policies: ['transit-only'], ttl: '1h' })) as { auth: { client_token: string } };
    const { report, code } = await scan(token.auth.client_token);
    const source = report.sources[0]!;
    assert.equal(source.status, 'partial');
    assert.ok(source.errors.every((error) => error.code === 'vault-permission-denied'), JSON.stringify(source.errors));
    // LIST <pki>/issuers is one of Vault's unauthenticated paths; reading an issuer is not.
    for (const path of ['/v1/pki/issuer/', '/v1/pki_int/issuer/', '/v1/pki/keys', '/v1/pki_int/keys', '/v1/pki/certs', '/v1/pki_int/certs']) {
      assert.ok(source.errors.some((error) => error.message.includes(path)), `an error names ${path}`);
    }
    assert.equal(source.errors.length, 7, 'one error per refused path: 3 issuers, 2 key lists, 2 certificate lists');
    assert.equal(report.inventory.filter((item) => item.provider === 'vault-transit').length, TRANSIT.length);
    assert.ok(report.findings.some((finding) => finding.ruleId === 'KD-GOV-003'));
    assert.equal(code, 1);
  });

  test('the README scanning policy is enough: a token with exactly that policy scans everything', async () => {
    await vault.api('PUT', 'sys/policies/acl/keydrift-scan', { policy: vaultScanPolicy(MOUNTS) });
    const token = (await vault.api('POST', 'auth/token/create', { policies: ['keydrift-scan'], ttl: '1h' })) as { auth: { client_token: string } };
    const limited = await scan(token.auth.client_token);
    assert.equal(limited.report.sources[0]?.status, 'ok', JSON.stringify(limited.report.sources[0]?.errors));
    const root = await scan('keydrift-test-root');
    assert.deepEqual(limited.report.inventory.map((item) => item.uid).sort(), root.report.inventory.map((item) => item.uid).sort());
    assert.ok(readFileSync('README.md', 'utf8').includes(vaultScanPolicy({ transit: ['transit'], pki: ['pki'] }).trim()), 'README shows the generated policy');
  });

  test('canary: the token never reaches logs, reports or errors, even when it is refused', async () => {
    const canary = 'hvs.CANARY-keydrift-token-0000000000';
    const { files, stdout, stderr, report } = await scan(canary);
    assert.equal(report.sources[0]?.status, 'failed');
    for (const text of [stdout, stderr, ...files]) assert.ok(!text.includes(canary), 'token leaked');
    const good = await scan('keydrift-test-root');
    for (const text of [good.stdout, good.stderr, ...good.files]) assert.ok(!text.includes('keydrift-test-root'), 'root token leaked');
  });
});
