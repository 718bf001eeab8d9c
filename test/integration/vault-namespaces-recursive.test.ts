import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { vaultScanPolicy } from '../../src/collectors/vault/policy.ts';
import type { Report } from '../../src/report/types.ts';
import { removeDir, tempDir } from '../support/certs.ts';
import { runCli } from '../support/cli.ts';
import { assertReportsValid } from '../support/reports.ts';
import { startNamespacedVault, type NamespacedVault } from '../support/vault-namespaces.ts';
import { ROOT_TOKEN, startVault, type VaultServer } from '../support/vault-server.ts';

// `namespaces: recursive` walks LIST sys/namespaces from the starting namespace down and collects
// every namespace's mounts. The namespaces are Vault Enterprise's, served by the namespace test
// double (test/support/vault-namespaces.ts) over the real Vault 1.14 dev server, whose keys,
// tokens and ACL policies decide every answer; the plain dev server is Vault OSS, without namespaces.

const ROTATING = { type: 'aes256-gcm96', auto_rotate_period: '8760h' };

async function scan(dir: string, address: string, token: string, extra: string): Promise<{ report: Report; code: number; outputs: string[] }> {
  const config = path.join(dir, `keydrift-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(config, `version: 1\nsources:\n  - { id: vault, type: vault, address: "${address}", concurrency: 2${extra} }\n`);
  const out = path.join(dir, `out-${Math.random().toString(36).slice(2)}`);
  const run = await runCli(['scan', '--config', config, '--out', out, '--format', 'json,sarif,md', '--verbose'], {
    env: { VAULT_TOKEN: token, VAULT_ADDR: '', VAULT_NAMESPACE: '', HOME: dir },
  });
  assert.ok(existsSync(path.join(out, 'keydrift.json')), `no report written (exit ${run.code}): ${run.stderr.slice(-2000)}`);
  const files = ['keydrift.json', 'keydrift.sarif', 'keydrift.md'].map((file) => readFileSync(path.join(out, file), 'utf8'));
  return { report: assertReportsValid(out), code: run.code, outputs: [run.stdout, run.stderr, ...files] };
}

/** "name@namespace" of every transit key, sorted; the root namespace is "-". */
const transitKeys = (report: Report) =>
  report.inventory
    .filter((item) => item.provider === 'vault-transit')
    .map((item) => `${item.name}@${(item.evidence['namespace'] as string | undefined) ?? '-'}`)
    .sort();

describe('namespaces: recursive on a server with namespaces (Vault Enterprise API over the real dev server)', () => {
  let vault: VaultServer;
  let namespaced: NamespacedVault;
  let dir: string;
  let scanner: string;

  before(async () => {
    vault = await startVault();
    namespaced = await startNamespacedVault(vault);
    dir = tempDir();
    const api = namespaced.api;
    await api('POST', 'sys/mounts/transit', { type: 'transit' });
    await api('POST', 'transit/keys/k-root', ROTATING);
    await api('POST', 'sys/namespaces/team-a');
    await api('POST', 'sys/namespaces/team-b');
    await api('POST', 'sys/namespaces/payments', {}, { namespace: 'team-a' });
    for (const [namespace, key] of [['team-a', 'k-team-a'], ['team-a/payments', 'k-payments'], ['team-b', 'k-team-b']] as const) {
      await api('POST', 'sys/mounts/transit', { type: 'transit' }, { namespace });
      await api('POST', `transit/keys/${key}`, ROTATING, { namespace });
    }
    // A PKI mount in the grandchild, discovered and collected like the transit mounts.
    await api('POST', 'sys/mounts/pki', { type: 'pki', config: { max_lease_ttl: '87600h' } }, { namespace: 'team-a/payments' });
    await api('POST', 'pki/root/generate/internal', { common_name: 'Payments Root', key_type: 'ec', key_bits: 384, ttl: '87600h', key_name: 'payments-root' }, { namespace: 'team-a/payments' });
    // The scanning token's policy lives in the root namespace and reaches the children by their
    // path prefix, as Enterprise's do; it grants everything the scan reads except in team-b.
    await vault.api('PUT', 'sys/policies/acl/keydrift-scan', { policy: vaultScanPolicy({ transit: ['transit'], pki: ['pki'] }, undefined, [null, 'team-a', 'team-a/payments']) });
    scanner = ((await vault.api('POST', 'auth/token/create', { policies: ['keydrift-scan'], ttl: '1h' })) as { auth: { client_token: string } }).auth.client_token;
  });
  after(async () => {
    await namespaced?.stop();
    await vault?.stop();
    removeDir(dir);
  });

  test('the double answers LIST sys/namespaces in the Enterprise shape: relative keys with a trailing slash, key_info by key, 404 for none', async () => {
    const root = (await namespaced.api('LIST', 'sys/namespaces')) as { data: { keys: string[]; key_info: Record<string, { id: string; path: string; custom_metadata: object }> } };
    assert.deepEqual(root.data.keys, ['team-a/', 'team-b/']);
    assert.deepEqual(Object.keys(root.data.key_info).sort(), ['team-a/', 'team-b/']);
    assert.equal(root.data.key_info['team-a/']?.path, 'team-a/');
    assert.match(root.data.key_info['team-a/']?.id ?? '', /^[A-Za-z0-9_-]{5}$/);
    const child = (await namespaced.api('LIST', 'sys/namespaces', undefined, { namespace: 'team-a' })) as { data: { keys: string[]; key_info: Record<string, { path: string }> } };
    assert.deepEqual(child.data.keys, ['payments/']);
    assert.equal(child.data.key_info['payments/']?.path, 'team-a/payments/');
    await assert.rejects(namespaced.api('LIST', 'sys/namespaces', undefined, { namespace: 'team-a/payments' }), /HTTP 404 \{"errors":\[\]\}/);
  });

  test('every namespace is collected with its namespace; the denied one is a source error naming it (KD-GOV-003, exit 3)', async () => {
    const { report, code, outputs } = await scan(dir, namespaced.address, scanner, ', namespaces: recursive');
    assert.deepEqual(transitKeys(report), ['k-payments@team-a/payments', 'k-root@-', 'k-team-a@team-a']);
    const payments = report.inventory.find((item) => item.name === 'k-payments')!;
    assert.equal(payments.uid, `${namespaced.address}/v1/team-a/payments/transit/keys/k-payments`);
    assert.equal(payments.location, 'team-a/payments/transit');
    const issuers = report.inventory.filter((item) => item.provider === 'vault-pki' && item.certificate?.isCA);
    assert.equal(issuers.length, 1, 'the grandchild namespace\'s PKI issuer');
    assert.ok(issuers[0]!.uid.startsWith(`${namespaced.address}/v1/team-a/payments/pki/issuer/`), issuers[0]!.uid);
    assert.ok(report.inventory.some((item) => item.kind === 'key' && item.provider === 'vault-pki' && item.name === 'payments-root'));

    const source = report.sources[0]!;
    assert.equal(source.status, 'partial');
    assert.ok(source.errors.length > 0);
    for (const error of source.errors) assert.match(`${error.message} ${error.resource}`, /team-b/, `every error is about team-b: ${JSON.stringify(error)}`);
    assert.ok(source.errors.some((error) => error.code === 'vault-permission-denied' && error.message.includes('namespace "team-b"') && error.resource === `${namespaced.address}/v1/team-b/sys/namespaces`), JSON.stringify(source.errors));
    assert.ok(source.errors.some((error) => error.code === 'vault-mounts-unknown' && error.message.includes('namespace "team-b"')), JSON.stringify(source.errors));
    assert.ok(report.findings.some((finding) => finding.ruleId === 'KD-GOV-003'));
    assert.equal(code, 3);
    assert.equal(source.apiCalls?.['list sys/namespaces'], 4, 'one listing per namespace');
    for (const text of outputs) assert.ok(!text.includes(scanner), 'the token never reaches the output');

    const listed = namespaced.calls.filter((call) => call.method === 'LIST' && call.path === 'sys/namespaces').map((call) => `${call.namespace || '-'} ${call.status}`);
    assert.deepEqual(listed.slice(-4).sort(), ['- 200', 'team-a 200', 'team-a/payments 404', 'team-b 403']);
  });

  test('with `mounts` given, the same mount names are read in every namespace; team-b\'s refusal names its path', async () => {
    const { report, code } = await scan(dir, namespaced.address, scanner, ', namespaces: recursive, mounts: { transit: [transit] }');
    assert.deepEqual(transitKeys(report), ['k-payments@team-a/payments', 'k-root@-', 'k-team-a@team-a']);
    const errors = report.sources[0]!.errors;
    assert.ok(errors.some((error) => error.code === 'vault-permission-denied' && error.resource === `${namespaced.address}/v1/team-b/transit/keys`), JSON.stringify(errors));
    assert.ok(errors.some((error) => error.message.includes('namespace "team-b"') && error.resource === `${namespaced.address}/v1/team-b/sys/namespaces`), JSON.stringify(errors));
    assert.ok(!errors.some((error) => error.code === 'vault-mounts-unknown'), 'sys/mounts is not read when the mounts are given');
    assert.equal(code, 3);
  });

  test('a token allowed everywhere collects all four namespaces, complete; without the option only the starting namespace is read', async () => {
    const all = await scan(dir, namespaced.address, ROOT_TOKEN, ', namespaces: recursive');
    assert.equal(all.report.sources[0]?.status, 'ok', JSON.stringify(all.report.sources[0]?.errors));
    assert.deepEqual(transitKeys(all.report), ['k-payments@team-a/payments', 'k-root@-', 'k-team-a@team-a', 'k-team-b@team-b']);
    assert.equal(all.code, 0);
    const fromTeamA = await scan(dir, namespaced.address, ROOT_TOKEN, ', namespace: team-a, namespaces: recursive');
    assert.deepEqual(transitKeys(fromTeamA.report), ['k-payments@team-a/payments', 'k-team-a@team-a']);
    const flat = await scan(dir, namespaced.address, ROOT_TOKEN, '');
    assert.deepEqual(transitKeys(flat.report), ['k-root@-']);
    assert.equal(flat.report.sources[0]?.apiCalls?.['list sys/namespaces'], undefined);
  });
});

describe('namespaces: recursive on Vault OSS (the dev server has no namespaces)', () => {
  let vault: VaultServer;
  let dir: string;

  before(async () => {
    vault = await startVault();
    dir = tempDir();
    await vault.api('POST', 'sys/mounts/transit', { type: 'transit' });
    await vault.api('POST', 'transit/keys/k-root', ROTATING);
  });
  after(async () => {
    await vault?.stop();
    removeDir(dir);
  });

  test('a clear source error says the server does not support namespaces, and the root is still collected', async () => {
    const { report, code } = await scan(dir, vault.address, ROOT_TOKEN, ', namespaces: recursive');
    assert.deepEqual(transitKeys(report), ['k-root@-']);
    const source = report.sources[0]!;
    assert.equal(source.status, 'partial');
    assert.equal(source.errors.length, 1, JSON.stringify(source.errors));
    assert.equal(source.errors[0]?.code, 'vault-namespaces-unsupported');
    assert.match(source.errors[0]!.message, /does not support namespaces/);
    assert.match(source.errors[0]!.message, /enterprise-only feature/);
    assert.match(source.errors[0]!.message, /only namespace root was collected/);
    assert.ok(report.findings.some((finding) => finding.ruleId === 'KD-GOV-003'));
    assert.equal(code, 3);
  });
});
