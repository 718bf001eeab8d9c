import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../support/cli.ts';
import { assertReportsValid } from '../support/reports.ts';
import { makeCert, removeDir, tempDir } from '../support/certs.ts';

// Each mistake a user makes gets one clear line on stderr and the documented exit code:
// 2 for usage/config errors (nothing is scanned), 3 when a source could not be fully collected.

const NOW = '2026-11-01T00:00:00Z';

function noStackTrace(stderr: string): void {
  assert.doesNotMatch(stderr, /^\s+at /m, `stack trace printed:\n${stderr}`);
}

describe('bad input', () => {
  let dir: string;
  let goodCert: string;

  before(() => {
    dir = tempDir();
    goodCert = makeCert(dir, { cn: 'ok.test', notBefore: '2026-10-01T00:00:00Z', notAfter: '2027-01-01T00:00:00Z' }).certPem;
  });
  after(() => removeDir(dir));

  function config(name: string, text: string): string {
    const file = path.join(dir, name);
    writeFileSync(file, text);
    return file;
  }

  test('an unknown source type: one line naming file, line and field; exit 2; nothing written', async () => {
    const file = config('unknown-type.yaml', 'version: 1\nsources:\n  - { id: vaulty, type: hashicorp }\n');
    const out = path.join(dir, 'out-unknown');
    const run = await runCli(['scan', '--config', file, '--out', out]);
    assert.equal(run.code, 2);
    const lines = run.stderr.trim().split('\n');
    assert.equal(lines.length, 1, run.stderr);
    assert.match(lines[0]!, /unknown-type\.yaml:3:5: sources\[0\]: unknown type "hashicorp"; expected one of aws-kms/);
    noStackTrace(run.stderr);
    assert.throws(() => readFileSync(path.join(out, 'keydrift.json')));
  });

  test('malformed YAML: position and exit 2; --verbose adds the stack', async () => {
    const file = config('malformed.yaml', 'version: 1\nsources:\n  - id: a\n    type: [tls\n');
    const run = await runCli(['scan', '--config', file]);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /malformed\.yaml:\d+:\d+: invalid YAML/);
    noStackTrace(run.stderr);
    const verbose = await runCli(['scan', '--config', file, '--verbose']);
    assert.equal(verbose.code, 2);
    assert.match(verbose.stderr, /^\s+at /m);
  });

  test('a missing config file: exit 2 with the path', async () => {
    const run = await runCli(['scan', '--config', path.join(dir, 'nope.yaml')]);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /nope\.yaml: config file not found/);
    noStackTrace(run.stderr);
  });

  test('an unreadable certificate file: the source is partial, KD-GOV-003 names it, exit 3, the rest is scanned', async () => {
    const certs = path.join(dir, 'certs');
    mkdirSync(certs);
    writeFileSync(path.join(certs, 'good.pem'), goodCert);
    writeFileSync(path.join(certs, 'corrupt.pem'), '-----BEGIN CERTIFICATE-----\nnot base64 !!\n-----END CERTIFICATE-----\n');
    const file = config('files.yaml', 'version: 1\nsources:\n  - { id: certs, type: x509-files, paths: ["certs/*.pem"] }\n');
    const out = path.join(dir, 'out-files');
    const run = await runCli(['scan', '--config', file, '--now', NOW, '--out', out, '--format', 'json']);
    assert.equal(run.code, 3, run.stderr);
    assert.match(run.stderr, /certs: .*corrupt\.pem: line 2: not base64/);
    noStackTrace(run.stderr);
    const report = assertReportsValid(out);
    assert.equal(report.sources[0]?.status, 'partial');
    assert.equal(report.sources[0]?.items, 1);
    const coverage = report.findings.find((finding) => finding.ruleId === 'KD-GOV-003');
    assert.equal(coverage?.resource.uid, 'source:certs');
    assert.match(coverage!.message, /corrupt\.pem/);
    assert.equal(coverage?.declaredAt.region.startLine, 3);
  });

  test('a TLS endpoint that refuses and one that hangs: source failed, exit 3, each named once', async () => {
    const hanging = net.createServer(() => {});
    const sockets: net.Socket[] = [];
    hanging.on('connection', (socket) => sockets.push(socket));
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    const hangPort = (hanging.address() as net.AddressInfo).port;
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as net.AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    try {
      const file = config(
        'tls.yaml',
        `version: 1\nsources:\n  - id: edge\n    type: tls\n    timeoutMs: 500\n    endpoints: ["127.0.0.1:${closedPort}", "127.0.0.1:${hangPort}"]\n`,
      );
      const out = path.join(dir, 'out-tls');
      const run = await runCli(['scan', '--config', file, '--now', NOW, '--out', out, '--format', 'json']);
      assert.equal(run.code, 3, run.stderr);
      assert.match(run.stderr, new RegExp(`edge: 127\\.0\\.0\\.1:${closedPort}: connection refused`));
      assert.match(run.stderr, new RegExp(`edge: 127\\.0\\.0\\.1:${hangPort}: no TLS handshake within 500 ms`));
      noStackTrace(run.stderr);
      const report = assertReportsValid(out);
      assert.equal(report.sources[0]?.status, 'failed');
      assert.deepEqual(report.sources[0]?.errors.map((error) => error.code), ['tls-unreachable', 'tls-timeout']);
      assert.equal(report.findings.filter((finding) => finding.ruleId === 'KD-GOV-003').length, 1);
      // --fail-on none never fails on findings, but an incomplete scan still says so.
      const lenient = await runCli(['scan', '--config', file, '--now', NOW, '--out', out, '--format', 'json', '--fail-on', 'none']);
      assert.equal(lenient.code, 3);
    } finally {
      for (const socket of sockets) socket.destroy();
      hanging.close();
    }
  });

  test('usage errors exit 2: unknown command, unknown option, bad --now, bad --format, evaluate without --inventory', async () => {
    for (const args of [
      ['frobnicate'],
      ['scan', '--colour'],
      ['scan', '--now', 'yesterday'],
      ['scan', '--format', 'pdf'],
      ['evaluate'],
      ['report', '--from', path.join(dir, 'missing.json'), '--format', 'md'],
    ]) {
      const run = await runCli(args);
      assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, /^keydrift: /);
      noStackTrace(run.stderr);
    }
  });

  test('an inventory with an invalid item is rejected by evaluate, naming the item and field', async () => {
    const file = path.join(dir, 'bad-inventory.json');
    writeFileSync(file, JSON.stringify({ schemaVersion: '1', kind: 'inventory', tool: { name: 'keydrift', version: '0' }, collectedAt: NOW, sources: [], items: [{ uid: 'x', kind: 'gadget' }] }));
    const run = await runCli(['evaluate', '--inventory', file]);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /bad-inventory\.json: item 0 \(x\): /);
  });

  test('every command answers --help on stdout with exit 0', async () => {
    for (const command of [['scan'], ['inventory'], ['evaluate'], ['report'], ['policy']]) {
      const run = await runCli([...command, '--help']);
      assert.equal(run.code, 0);
      assert.match(run.stdout, new RegExp(`^Usage: keydrift ${command[0]}`));
    }
    const top = await runCli(['--help']);
    assert.equal(top.code, 0);
    assert.match(top.stdout, /Commands:/);
  });
});
