import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../support/cli.ts';
import { removeDir, tempDir } from '../support/certs.ts';
import { echoingServer, redirectingServer, silentServer, type TestServer } from '../support/hostile-servers.ts';
import { assertReportsValid } from '../support/reports.ts';

// A backend that accepts the connection and never answers must not hang the scan: every call has
// a deadline (`timeoutMs` per source), the whole scan an optional `--timeout`, and the report is
// written either way, with the sources that ran out of time reported incomplete (KD-GOV-003).
// The test timeouts only turn a hang into a failure.

const NOW = '2026-11-01T00:00:00Z';
const ENV = { VAULT_TOKEN: 'deadline-test-token', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: 'us-east-1', AWS_EC2_METADATA_DISABLED: 'true' };

interface SavedReport {
  sources: { id: string; status: string; errors: { code: string; message: string }[] }[];
  findings: { ruleId: string; resource: { sourceId: string } }[];
}

describe('network deadlines', () => {
  let dir: string;
  let silent: TestServer;

  before(async () => {
    dir = tempDir();
    silent = await silentServer();
  });
  after(async () => {
    await silent.close();
    removeDir(dir);
  });

  function config(name: string, lines: string[]): string {
    const file = path.join(dir, name);
    writeFileSync(file, ['version: 1', 'sources:', ...lines, ''].join('\n'));
    return file;
  }

  function report(out: string): SavedReport {
    assertReportsValid(out);
    return JSON.parse(readFileSync(path.join(out, 'keydrift.json'), 'utf8')) as SavedReport;
  }

  test('a silent Vault and a silent AWS endpoint: each call times out after timeoutMs, the sources fail, the report is written', { timeout: 120_000 }, async () => {
    const file = config('silent.yaml', [
      `  - { id: vault, type: vault, address: "${silent.url}", mounts: { transit: [transit] }, timeoutMs: 300 }`,
      `  - { id: kms, type: aws-kms, regions: [us-east-1], endpoint: "${silent.url}", timeoutMs: 300 }`,
      `  - { id: acm, type: aws-acm, regions: [us-east-1], endpoint: "${silent.url}", timeoutMs: 300 }`,
    ]);
    const out = path.join(dir, 'out-silent');
    const run = await runCli(['scan', '--config', file, '--now', NOW, '--out', out], { env: { ...ENV, AWS_MAX_ATTEMPTS: '2' } });
    assert.equal(run.code, 3, run.stderr);
    const saved = report(out);
    assert.deepEqual(saved.sources.map((source) => [source.id, source.status]), [['vault', 'failed'], ['kms', 'failed'], ['acm', 'failed']]);
    assert.equal(saved.sources[0]!.errors[0]!.code, 'vault-timeout');
    assert.match(saved.sources[0]!.errors[0]!.message, /no answer within 300 ms/);
    assert.match(saved.sources[1]!.errors[0]!.message, /kms:ListKeys on us-east-1: endpoint unreachable .*requestTimeout/);
    const coverage = saved.findings.filter((finding) => finding.ruleId === 'KD-GOV-003').map((finding) => finding.resource.sourceId);
    assert.deepEqual(coverage.sort(), ['acm', 'kms', 'vault']);
  });

  test('--timeout bounds the whole scan even when each call may take minutes: the report is written and the process exits', { timeout: 120_000 }, async () => {
    // The AWS SDK does not see the scan's abort signal: its call is left pending, and the process must still exit.
    const file = config('scan-timeout.yaml', [
      `  - { id: kms, type: aws-kms, regions: [us-east-1], endpoint: "${silent.url}", timeoutMs: 600000 }`,
      `  - { id: vault, type: vault, address: "${silent.url}", mounts: { transit: [transit] }, timeoutMs: 600000 }`,
    ]);
    const out = path.join(dir, 'out-scan-timeout');
    const run = await runCli(['scan', '--config', file, '--now', NOW, '--out', out, '--timeout', '2s'], { env: ENV });
    assert.equal(run.code, 3, run.stderr);
    const saved = report(out);
    assert.deepEqual(saved.sources.map((source) => [source.id, source.status, source.errors.map((error) => error.code)]), [
      ['kms', 'failed', ['scan-timeout']],
      ['vault', 'failed', ['scan-timeout']],
    ]);
    assert.match(saved.sources[0]!.errors[0]!.message, /collection stopped: the scan's --timeout \(2 s\) passed/);
    assert.match(saved.sources[1]!.errors[0]!.message, /not collected: the scan's --timeout \(2 s\) passed before this source started/);
    assert.match(run.stdout, /incomplete \(exit 3\)/);
  });

  test('--timeout with a bad value is a usage error', async () => {
    const run = await runCli(['scan', '--config', config('any.yaml', [`  - { id: v, type: vault, address: "${silent.url}" }`]), '--timeout', 'soon']);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /--timeout: "soon" is not a duration/);
  });
});

describe('Vault redirects', () => {
  let dir: string;
  let elsewhere: TestServer;
  let redirecting: TestServer;

  before(async () => {
    dir = tempDir();
    elsewhere = await echoingServer();
    redirecting = await redirectingServer(elsewhere.url);
  });
  after(async () => {
    await redirecting.close();
    await elsewhere.close();
    removeDir(dir);
  });

  test('a redirect to another origin is not followed, so the token never reaches it; the source says why', { timeout: 60_000 }, async () => {
    const file = path.join(dir, 'redirect.yaml');
    writeFileSync(file, `version: 1\nsources:\n  - { id: vault, type: vault, address: "${redirecting.url}", timeoutMs: 2000 }\n`);
    const out = path.join(dir, 'out');
    const run = await runCli(['scan', '--config', file, '--now', NOW, '--out', out], { env: ENV });
    assert.equal(run.code, 3, run.stderr);
    assert.ok(redirecting.received.length > 0);
    assert.equal(redirecting.received[0]!.headers['x-vault-token'], ENV.VAULT_TOKEN, 'the configured address does get the token');
    assert.deepEqual(elsewhere.received, [], 'the other origin was contacted');
    const saved = JSON.parse(readFileSync(path.join(out, 'keydrift.json'), 'utf8')) as SavedReport;
    assert.match(saved.sources[0]!.errors[0]!.message, /redirected from http:\/\/127\.0\.0\.1:\d+ to another origin \(http:\/\/127\.0\.0\.1:\d+\); not followed/);
  });
});
