import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { inventoryDigest } from '../../src/findings/fingerprint.ts';
import type { Report } from '../../src/report/types.ts';
import { runCli, type CliRun } from '../support/cli.ts';
import { removeDir, tempDir } from '../support/certs.ts';

// `keydrift report --evidence` hands an auditor a folder; `keydrift verify` is what the auditor
// runs on it. Every way of changing the folder after the fact must fail verification and name
// what changed: a byte of any file, a file added, a manifest recomputed after an edit (caught by
// the signature), and an inventory edited so the findings no longer follow from it.

const DEMO_REPORT = 'reports/keydrift.json';
const BUNDLED = ['keydrift.json', 'keydrift.html', 'keydrift.sarif', 'policy-digest.txt'];

describe('keydrift report --evidence / keydrift verify', () => {
  let dir: string;
  let bundle: string;
  let signed: string;
  let publicKey: string;
  let privateKey: string;
  let counter = 0;

  before(async () => {
    dir = tempDir('keydrift-evidence-');
    const keys = generateKeyPairSync('ed25519');
    publicKey = path.join(dir, 'bundle.pub.pem');
    privateKey = path.join(dir, 'bundle.key.pem');
    writeFileSync(publicKey, keys.publicKey.export({ type: 'spki', format: 'pem' }));
    writeFileSync(privateKey, keys.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });

    bundle = path.join(dir, 'bundle');
    const built = await runCli(['report', '--from', DEMO_REPORT, '--evidence', bundle]);
    assert.equal(built.code, 0, built.stderr);
    signed = path.join(dir, 'signed');
    const builtSigned = await runCli(['report', '--from', DEMO_REPORT, '--evidence', signed, '--sign-key', privateKey]);
    assert.equal(builtSigned.code, 0, builtSigned.stderr);
    assert.match(builtSigned.stdout, /manifest\.sig \(signed with sha256:[0-9a-f]{64}\)\n$/);
    assert.doesNotMatch(builtSigned.stdout + builtSigned.stderr, /PRIVATE KEY/);
  });
  after(() => removeDir(dir));

  /** A copy of `source` to tamper with, so every case starts from an intact bundle. */
  function copyOf(source: string): string {
    const copy = path.join(dir, `case-${++counter}`);
    cpSync(source, copy, { recursive: true });
    return copy;
  }

  function verdict(run: CliRun): string {
    return run.stdout.trimEnd().split('\n').at(-1)!;
  }

  /** What a careful forger does after an edit: the manifest's digests and sizes made right again. */
  function recomputeManifest(folder: string): void {
    const file = path.join(folder, 'manifest.json');
    const manifest = JSON.parse(readFileSync(file, 'utf8')) as { files: { name: string; sha256: string; size: number }[] };
    for (const entry of manifest.files) {
      const bytes = readFileSync(path.join(folder, entry.name));
      entry.sha256 = createHash('sha256').update(bytes).digest('hex');
      entry.size = bytes.length;
    }
    writeFileSync(file, JSON.stringify(manifest, null, 2) + '\n');
  }

  test('the bundle holds the report as read, its renderings, the policy digest and a manifest of them all', () => {
    assert.deepEqual(readdirSync(bundle).sort(), [...BUNDLED, 'manifest.json'].sort());
    assert.deepEqual(readFileSync(path.join(bundle, 'keydrift.json')), readFileSync(DEMO_REPORT));
    const report = JSON.parse(readFileSync(DEMO_REPORT, 'utf8')) as Report;
    assert.equal(readFileSync(path.join(bundle, 'policy-digest.txt'), 'utf8'), `${report.scan.policyDigest}\n`);
    const manifest = JSON.parse(readFileSync(path.join(bundle, 'manifest.json'), 'utf8')) as {
      report: Record<string, unknown>;
      rederive: string;
      files: { name: string; sha256: string; size: number }[];
    };
    assert.deepEqual(manifest.files.map((file) => file.name), [...BUNDLED].sort());
    for (const file of manifest.files) {
      const bytes = readFileSync(path.join(bundle, file.name));
      assert.equal(file.sha256, createHash('sha256').update(bytes).digest('hex'), file.name);
      assert.equal(file.size, bytes.length, file.name);
    }
    assert.equal(manifest.report['now'], report.scan.now);
    assert.equal(manifest.report['inventoryDigest'], report.scan.inventoryDigest);
    assert.equal(manifest.report['policyDigest'], report.scan.policyDigest);
    assert.equal(manifest.report['toolVersion'], report.tool.version);
    assert.equal(manifest.rederive, `keydrift evaluate --inventory keydrift.json --now ${report.scan.now}`);
  });

  test('an intact bundle verifies: exit 0, one line per check, the findings re-derived', async () => {
    const run = await runCli(['verify', bundle]);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    const lines = run.stdout.trimEnd().split('\n');
    for (const name of BUNDLED) assert.ok(lines.some((line) => line.startsWith('ok') && line.includes(`file ${name}: `)), `${name}: ${run.stdout}`);
    assert.match(run.stdout, /^ok +schema: /m);
    assert.match(run.stdout, /^ok +findings: \d+ re-derived from \d+ items at /m);
    assert.match(run.stdout, /^not checked +signature: the bundle is not signed/m);
    assert.match(verdict(run), /: every check holds \(signature not checked\)$/);
  });

  test('one changed byte in any bundled file fails verification, naming that file', async () => {
    const runs = await Promise.all(
      [...BUNDLED, 'manifest.json'].map(async (name) => {
        const copy = copyOf(signed);
        const file = path.join(copy, name);
        const bytes = readFileSync(file);
        const middle = Math.floor(bytes.length / 2);
        bytes[middle] = bytes[middle] === 0x41 ? 0x42 : 0x41;
        writeFileSync(file, bytes);
        return [name, await runCli(['verify', copy, '--public-key', publicKey])] as const;
      }),
    );
    for (const [name, run] of runs) {
      assert.equal(run.code, 1, `${name}: ${run.stdout}${run.stderr}`);
      if (name === 'manifest.json') {
        assert.match(verdict(run), /: FAILED: signature: signature invalid: manifest\.json was changed after signing/, run.stdout);
      } else {
        assert.ok(verdict(run).includes(`: FAILED: file ${name}: digest mismatch: SHA-256 `), `${name}: ${run.stdout}`);
      }
    }
  });

  test('a file added to the bundle fails verification, naming it', async () => {
    const copy = copyOf(bundle);
    writeFileSync(path.join(copy, 'notes.txt'), 'nothing to see\n');
    const run = await runCli(['verify', copy]);
    assert.equal(run.code, 1, run.stdout + run.stderr);
    assert.match(verdict(run), /: FAILED: unlisted notes\.txt: not listed in manifest\.json/);
  });

  test('a signed bundle verifies with the public key; without it the signature is reported as not checked', async () => {
    const run = await runCli(['verify', signed, '--public-key', publicKey]);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /^ok +signature: manifest\.json signed by the given key \(sha256:[0-9a-f]{64}\)$/m);
    assert.match(verdict(run), /: every check holds$/);

    const unchecked = await runCli(['verify', signed]);
    assert.equal(unchecked.code, 0, unchecked.stdout + unchecked.stderr);
    assert.match(unchecked.stdout, /^not checked +signature: manifest\.sig present but not checked/m);
  });

  test('an edited report with a recomputed manifest passes every digest but fails on the signature', async () => {
    const copy = copyOf(signed);
    const file = path.join(copy, 'keydrift.json');
    const report = JSON.parse(readFileSync(file, 'utf8')) as Report;
    report.scan.configName = 'someone-else';
    writeFileSync(file, JSON.stringify(report, null, 2) + '\n');
    recomputeManifest(copy);
    const run = await runCli(['verify', copy, '--public-key', publicKey]);
    assert.equal(run.code, 1, run.stdout + run.stderr);
    for (const name of BUNDLED) assert.match(run.stdout, new RegExp(`^ok +file ${name.replace('.', '\\.')}: `, 'm'));
    assert.match(verdict(run), /: FAILED: signature: signature invalid: manifest\.json was changed after signing, or not signed with this key$/);
  });

  test('an inventory edited so the findings no longer follow from it fails on the re-derived findings', async () => {
    const copy = copyOf(bundle);
    const file = path.join(copy, 'keydrift.json');
    const report = JSON.parse(readFileSync(file, 'utf8')) as Report;
    // KD-RET-002: a key under legal hold is scheduled for deletion. Without the tag it is not.
    const finding = report.findings.find((candidate) => candidate.ruleId === 'KD-RET-002');
    assert.ok(finding, 'the demo report has a KD-RET-002 finding');
    const item = report.inventory.find((candidate) => candidate.uid === finding.resource.uid)!;
    delete (item.tags as Record<string, string>)['legal-hold'];
    // A careful forger also makes the recorded inventory digest right, leaving the findings as the only tell.
    report.scan.inventoryDigest = inventoryDigest(report.inventory);
    writeFileSync(file, JSON.stringify(report, null, 2) + '\n');
    const manifestFile = path.join(copy, 'manifest.json');
    writeFileSync(manifestFile, readFileSync(manifestFile, 'utf8').replace(/"inventoryDigest": "[^"]+"/, `"inventoryDigest": "${report.scan.inventoryDigest}"`));
    recomputeManifest(copy);

    const run = await runCli(['verify', copy]);
    assert.equal(run.code, 1, run.stdout + run.stderr);
    assert.match(run.stdout, /^ok +recorded digests: /m);
    assert.match(run.stdout, /^ok +policy: /m);
    assert.match(verdict(run), /: FAILED: findings: re-derived at \S+: \d+ findings? differs?: /);
    assert.ok(verdict(run).includes(`${finding.fingerprint} (KD-RET-002 critical, ${finding.resource.uid}) is in the bundle but not re-derived`), run.stdout);
  });

  test('a manifest naming a file outside the bundle is refused, not read', async () => {
    const copy = copyOf(bundle);
    const file = path.join(copy, 'manifest.json');
    const manifest = JSON.parse(readFileSync(file, 'utf8')) as { files: { name: string; sha256: string; size: number }[] };
    const key = readFileSync(privateKey);
    manifest.files.push({ name: '../bundle.key.pem', sha256: createHash('sha256').update(key).digest('hex'), size: key.length });
    writeFileSync(file, JSON.stringify(manifest, null, 2) + '\n');
    const run = await runCli(['verify', copy]);
    assert.equal(run.code, 1, run.stdout + run.stderr);
    assert.match(verdict(run), /: FAILED: manifest: manifest\.json is not a keydrift evidence manifest: files\[4\]\.name: not a plain file name of the bundle$/);
    assert.doesNotMatch(run.stdout, /^ok +file /m, 'no file is vouched for by a manifest that is refused');
  });

  test('report --evidence refuses a non-empty folder that is not a bundle, naming it, and replaces a previous bundle', async () => {
    const occupied = path.join(dir, 'occupied');
    mkdirSync(occupied);
    writeFileSync(path.join(occupied, 'thesis.tex'), 'years of work\n');
    const refused = await runCli(['report', '--from', DEMO_REPORT, '--evidence', occupied]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /occupied: not empty and not a keydrift evidence bundle \(no manifest\.json; it holds "thesis\.tex"\)/);
    assert.deepEqual(readdirSync(occupied), ['thesis.tex']);

    const previous = copyOf(signed);
    const again = await runCli(['report', '--from', DEMO_REPORT, '--evidence', previous]);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(readdirSync(previous).sort(), [...BUNDLED, 'manifest.json'].sort(), 'the unsigned bundle replaced the signed one whole');
    assert.deepEqual(readdirSync(dir).filter((name) => name.startsWith('.')), [], 'no temporary folder is left beside it');
  });

  test('usage errors exit 2: no folder, a folder that does not exist, --sign-key without --evidence', async () => {
    for (const args of [['verify'], ['verify', path.join(dir, 'nowhere')], ['report', '--from', DEMO_REPORT, '--format', 'md', '--sign-key', privateKey]]) {
      const run = await runCli(args);
      assert.equal(run.code, 2, `${args.join(' ')}: ${run.stdout}${run.stderr}`);
      assert.match(run.stderr, /^keydrift: /);
    }
  });
});
