import assert from 'node:assert/strict';
import { existsSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Report } from '../../src/report/types.ts';
import { runCli } from '../support/cli.ts';
import { makeCert, removeDir, tempDir } from '../support/certs.ts';

// A careless operator's mistakes and an attacker's plants: a config that scans nothing, a symlink
// where the inventory's temporary file would go, a report whose recorded policy is re-used, a
// config with a huge number of sources.

const NOW = '2026-11-01T00:00:00Z';

describe('hardening of the CLI', () => {
  let dir: string;

  before(() => {
    dir = tempDir();
    makeCert(dir, { cn: 'old.test', notBefore: '2024-01-01T00:00:00Z', notAfter: '2026-06-01T00:00:00Z' });
    writeFileSync(path.join(dir, 'keydrift.yaml'), 'version: 1\nsources:\n  - { id: files, type: x509-files, paths: ["*.pem"] }\n');
  });
  after(() => removeDir(dir));

  test('a config that lists no source is a configuration error (exit 2) for scan and inventory, never "compliant"', async () => {
    const file = path.join(dir, 'empty.yaml');
    writeFileSync(file, 'version: 1\nsources: []\n');
    const out = path.join(dir, 'out-empty');
    for (const args of [['scan', '--out', out], ['inventory', '--output', path.join(out, 'inventory.json')]]) {
      const run = await runCli([...args, '--config', file, '--now', NOW]);
      assert.equal(run.code, 2, run.stderr);
      assert.match(run.stderr, /empty\.yaml: sources: lists no source, so there is nothing to scan/);
      assert.equal(existsSync(out), false, 'nothing is written');
    }
  });

  test('inventory --output writes through an unpredictable temporary file: a planted <output>.tmp symlink redirects nothing', async () => {
    const victim = path.join(dir, 'victim.txt');
    writeFileSync(victim, 'precious\n');
    const output = path.join(dir, 'inventory.json');
    symlinkSync(victim, `${output}.tmp`);
    const run = await runCli(['inventory', '--config', path.join(dir, 'keydrift.yaml'), '--output', output, '--now', NOW]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(readFileSync(victim, 'utf8'), 'precious\n');
    assert.equal((JSON.parse(readFileSync(output, 'utf8')) as { kind: string }).kind, 'inventory');
  });

  test('evaluate says when it re-uses the waivers and custom bundles a report recorded; --no-recorded-policy ignores them', async () => {
    const out = path.join(dir, 'out-recorded');
    const config = path.join(dir, 'waived.yaml');
    writeFileSync(
      config,
      'version: 1\nsources:\n  - { id: files, type: x509-files, paths: ["*.pem"] }\n' +
        'waivers:\n  - { rule: KD-CRT-001, resource: "*", reason: "accepted", owner: "someone", expires: 2027-01-01 }\n',
    );
    const scanned = await runCli(['scan', '--config', config, '--now', NOW, '--out', out, '--format', 'json']);
    assert.equal(scanned.code, 0, scanned.stderr);
    const reportFile = path.join(out, 'keydrift.json');
    // Elsewhere, with no keydrift.yaml: only the report's own record is there to re-use.
    const elsewhere = tempDir();
    try {
      const reused = await runCli(['evaluate', '--inventory', reportFile, '--now', NOW, '--out', path.join(elsewhere, 'a'), '--format', 'json'], { cwd: elsewhere });
      assert.equal(reused.code, 0, reused.stderr);
      assert.match(reused.stderr, /warning: using the policy recorded in .*keydrift\.json \(profile default, 1 waiver\); --config or --no-recorded-policy/);
      const ignored = await runCli(['evaluate', '--inventory', reportFile, '--now', NOW, '--out', path.join(elsewhere, 'b'), '--format', 'json', '--no-recorded-policy'], { cwd: elsewhere });
      assert.equal(ignored.code, 1, ignored.stderr);
      assert.doesNotMatch(ignored.stderr, /using the policy recorded/);
      const report = JSON.parse(readFileSync(path.join(elsewhere, 'b', 'keydrift.json'), 'utf8')) as Report;
      const expired = report.findings.find((finding) => finding.ruleId === 'KD-CRT-001');
      assert.ok(expired && !expired.waiver, 'the recorded waiver no longer applies');
      // --profile asks for its own policy too: it is applied, not silently replaced by the recorded one.
      const profiled = await runCli(['evaluate', '--inventory', reportFile, '--now', NOW, '--out', path.join(elsewhere, 'c'), '--format', 'json', '--profile', 'pci-dss'], { cwd: elsewhere });
      assert.doesNotMatch(profiled.stderr, /using the policy recorded/);
      assert.equal((JSON.parse(readFileSync(path.join(elsewhere, 'c', 'keydrift.json'), 'utf8')) as Report).scan.policy.profile, 'pci-dss');
    } finally {
      removeDir(elsewhere);
    }
  });
});
