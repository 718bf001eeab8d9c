import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli, type CliRun } from '../support/cli.ts';
import { removeDir, tempDir } from '../support/certs.ts';
import { echoingServer, type TestServer } from '../support/hostile-servers.ts';
import { assertReportsValid } from '../support/reports.ts';

// Every credential a collector reads is set to a canary value, and every backend echoes each
// request (headers and body) back in its error. No canary may reach any report, the inventory,
// stdout or stderr, with or without --verbose.

const NOW = '2026-11-01T00:00:00Z';

const CANARIES = {
  VAULT_TOKEN: 'canary-vault-token-5b1f0e7d',
  VAULT_ROLE_ID: 'canary-role-id-93c0a2',
  VAULT_SECRET_ID: 'canary-secret-id-4e7d11',
  AWS_ACCESS_KEY_ID: 'CANARYACCESSKEY7Q2W',
  AWS_SECRET_ACCESS_KEY: 'canary-aws-secret-key-0c9b8a7f6e5d',
  AWS_SESSION_TOKEN: 'canary-aws-session-token-31d4',
  HSM_PIN: 'canary-hsm-pin-8812',
} as const;

function assertNoCanary(where: string, text: string): void {
  for (const [name, value] of Object.entries(CANARIES)) {
    assert.ok(!text.includes(value), `${name} leaked into ${where}:\n${text.slice(Math.max(0, text.indexOf(value) - 300), text.indexOf(value) + 100)}`);
  }
}

describe('secrets echoed by a backend never reach an output', () => {
  let dir: string;
  let echo: TestServer;
  let config: string;

  before(async () => {
    dir = tempDir();
    echo = await echoingServer();
    config = path.join(dir, 'keydrift.yaml');
    writeFileSync(
      config,
      [
        'version: 1',
        'sources:',
        `  - { id: vault-token, type: vault, address: "${echo.url}", mounts: { transit: [transit], pki: [pki] }, timeoutMs: 5000 }`,
        `  - { id: vault-discover, type: vault, address: "${echo.url}", timeoutMs: 5000 }`,
        `  - { id: vault-approle, type: vault, address: "${echo.url}", auth: { method: approle }, timeoutMs: 5000 }`,
        `  - { id: aws-kms, type: aws-kms, regions: [us-east-1, eu-west-1], endpoint: "${echo.url}", timeoutMs: 5000 }`,
        `  - { id: aws-acm, type: aws-acm, regions: [us-east-1], endpoint: "${echo.url}", timeoutMs: 5000 }`,
        `  - { id: aws-all-regions, type: aws-kms, regions: all, endpoint: "${echo.url}", timeoutMs: 5000 }`,
        '  - { id: hsm, type: pkcs11, module: /nonexistent/libpkcs11-canary.so, pinEnv: HSM_PIN }',
        '',
      ].join('\n'),
    );
  });
  after(async () => {
    await echo.close();
    removeDir(dir);
  });

  const env = { ...CANARIES, AWS_MAX_ATTEMPTS: '1', AWS_REGION: 'us-east-1', AWS_EC2_METADATA_DISABLED: 'true' };

  function assertClean(run: CliRun, out: string): void {
    assertNoCanary('stdout', run.stdout);
    assertNoCanary('stderr', run.stderr);
    for (const file of readdirSync(out)) assertNoCanary(file, readFileSync(path.join(out, file), 'utf8'));
  }

  for (const verbose of [false, true]) {
    test(`scan${verbose ? ' --verbose' : ''}: JSON, SARIF, Markdown, HTML, CSV, stdout and stderr carry no credential`, async () => {
      const out = path.join(dir, verbose ? 'out-verbose' : 'out');
      const run = await runCli(['scan', '--config', config, '--now', NOW, '--format', 'json,sarif,md,html,csv', '--out', out, ...(verbose ? ['--verbose'] : [])], { env });
      assert.equal(run.code, 3, run.stderr);
      assertClean(run, out);
      // The backend did receive the credentials and echo them: the redaction is what kept them out.
      const seen = JSON.stringify(echo.received);
      assert.ok(seen.includes(CANARIES.VAULT_TOKEN) && seen.includes(CANARIES.VAULT_SECRET_ID) && seen.includes(CANARIES.AWS_ACCESS_KEY_ID));
      const report = JSON.parse(readFileSync(path.join(out, 'keydrift.json'), 'utf8')) as { sources: { id: string; status: string; errors: { message: string }[] }[] };
      for (const source of report.sources) assert.equal(source.status, 'failed', source.id);
      const approle = report.sources.find((source) => source.id === 'vault-approle')!;
      assert.match(approle.errors[0]!.message, /AppRole login failed: HTTP 403: .*\[REDACTED\]/);
      await assertReportsValid(out);
    });
  }

  test('inventory --output: the evidence file carries no credential', async () => {
    const out = path.join(dir, 'inventory-out');
    const run = await runCli(['inventory', '--config', config, '--now', NOW, '--output', path.join(out, 'inventory.json'), '--verbose'], { env });
    assert.equal(run.code, 3, run.stderr);
    assertClean(run, out);
  });

  test('the AppRole login request carries no Vault token, only the role and secret ids', async () => {
    const logins = echo.received.filter((request) => request.url.endsWith('/auth/approle/login'));
    assert.ok(logins.length > 0);
    for (const login of logins) {
      assert.equal(login.headers['x-vault-token'], undefined, 'VAULT_TOKEN was sent along with the AppRole login');
      assert.deepEqual(JSON.parse(login.body), { role_id: CANARIES.VAULT_ROLE_ID, secret_id: CANARIES.VAULT_SECRET_ID });
    }
  });
});
