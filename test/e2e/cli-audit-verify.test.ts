import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { appendEntries } from '../../src/remediate/audit-log.ts';
import { runCli } from '../support/cli.ts';
import { removeDir, tempDir } from '../support/certs.ts';

// `keydrift audit verify` is what an auditor runs on the log an apply left behind: 0 and a
// one-line summary when intact, 1 and the first tampered line when not, 2 when the command
// itself was misused.

describe('keydrift audit verify / sign', () => {
  let dir: string;
  let counter = 0;
  let publicKey: string;
  let privateKey: string;

  before(() => {
    dir = tempDir();
    const keys = generateKeyPairSync('ed25519');
    publicKey = path.join(dir, 'audit.pub.pem');
    privateKey = path.join(dir, 'audit.key.pem');
    writeFileSync(publicKey, keys.publicKey.export({ type: 'spki', format: 'pem' }));
    writeFileSync(privateKey, keys.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  });
  after(() => removeDir(dir));

  async function log(count = 3): Promise<string> {
    const file = path.join(dir, `audit-${++counter}.jsonl`);
    await appendEntries(
      file,
      Array.from({ length: count }, (_, index) => ({
        reason: { rule: 'KD-ROT-001', fingerprint: `fp${index}` },
        resource: `vault:transit/key-${index}`,
        action: 'set-auto-rotate-period',
        before: { autoRotatePeriod: 0 },
        after: { autoRotatePeriod: 2592000 },
        result: { status: 'applied' as const },
      })),
      { actor: 'ci' },
    );
    return file;
  }

  test('an intact log: exit 0 and one summary line', async () => {
    const file = await log();
    const run = await runCli(['audit', 'verify', file]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^\S*audit-\d+\.jsonl: 3 entries, chain intact\n$/);
  });

  test('a removed line: exit 1 and the line named on stdout', async () => {
    const file = await log();
    const rows = readFileSync(file, 'utf8').split('\n');
    rows.splice(1, 1);
    writeFileSync(file, rows.join('\n'));
    const run = await runCli(['audit', 'verify', file]);
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stdout, /: line 2: seq 3 follows seq 1: an entry was removed \(seq 2\) before it\n$/);
  });

  test('sign, then verify with the public key; a log truncated after signing fails', async () => {
    const file = await log();
    const signed = await runCli(['audit', 'sign', file, '--sign-key', privateKey]);
    assert.equal(signed.code, 0, signed.stderr);
    assert.match(signed.stdout, /\.jsonl\.sig: signed seq 3 with sha256:[0-9a-f]{64}\n$/);
    assert.doesNotMatch(signed.stdout + signed.stderr, /PRIVATE KEY/);

    const ok = await runCli(['audit', 'verify', file, '--public-key', publicKey]);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /: 3 entries, chain intact, signature valid\n$/);

    const rows = readFileSync(file, 'utf8').split('\n');
    writeFileSync(file, rows.slice(0, 2).join('\n') + '\n');
    const truncated = await runCli(['audit', 'verify', file, '--public-key', publicKey]);
    assert.equal(truncated.code, 1);
    assert.match(truncated.stdout, /signature covers seq 3 but the log ends at seq 2: entries were removed after signing \(truncated\)/);
  });

  test('with --public-key and no signature file: exit 1', async () => {
    const file = await log();
    const run = await runCli(['audit', 'verify', file, '--public-key', publicKey]);
    assert.equal(run.code, 1);
    assert.match(run.stdout, /signature missing/);
  });

  test('usage errors exit 2 with one clear line', async () => {
    const file = await log(1);
    const cases: [string[], RegExp][] = [
      [['audit'], /audit needs a subcommand: verify or sign/],
      [['audit', 'check', file], /unknown subcommand "check"/],
      [['audit', 'verify'], /audit verify needs the audit log/],
      [['audit', 'verify', path.join(dir, 'missing.jsonl')], /missing\.jsonl: cannot read file \(ENOENT\)/],
      [['audit', 'verify', dir], /not a regular file \(a directory\)/],
      [['audit', 'verify', file, '--public-key', path.join(dir, 'nope.pem')], /nope\.pem: cannot read file \(ENOENT\)/],
      [['audit', 'verify', file, '--public-key', file], /not a public key in PEM/],
      [['audit', 'sign', file], /audit sign needs --sign-key FILE/],
      [['audit', 'sign', file, '--sign-key', publicKey], /audit\.pub\.pem: not a private key in PEM/],
      [['audit', 'verify', file, '--bogus'], /unknown option --bogus/],
    ];
    for (const [args, message] of cases) {
      const run = await runCli(args);
      assert.equal(run.code, 2, `${args.join(' ')}: ${run.stdout}${run.stderr}`);
      assert.match(run.stderr, message, args.join(' '));
      assert.doesNotMatch(run.stderr, /^\s+at /m);
    }
  });

  test('--help describes both subcommands; the main help lists audit', async () => {
    const run = await runCli(['audit', '--help']);
    assert.equal(run.code, 0);
    assert.match(run.stdout, /keydrift audit verify LOG\.jsonl \[--public-key FILE\]/);
    assert.match(run.stdout, /keydrift audit sign LOG\.jsonl --sign-key FILE/);
    const main = await runCli(['--help']);
    assert.match(main.stdout, /audit verify \| audit sign/);
  });
});
