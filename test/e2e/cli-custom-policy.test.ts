import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Log } from 'sarif';
import { runOpa } from '../../src/engine/opa-cli.ts';
import { REPO, runCli } from '../support/cli.ts';
import { removeDir, tempDir } from '../support/certs.ts';
import { assertReportsValid } from '../support/reports.ts';
import { validateSarifMultitool } from '../support/sarif-validate.ts';

const NOW = '2026-11-01T00:00:00Z';

describe('custom policies', () => {
  let dir: string;

  before(() => {
    dir = tempDir();
  });
  after(() => removeDir(dir));

  test('the example Rego folder builds and its findings carry the user rule metadata in JSON and SARIF', async () => {
    const out = path.join(dir, 'example');
    const run = await runCli(['scan', '--config', 'examples/custom-policy/keydrift.yaml', '--now', NOW, '--out', out, '--format', 'json,sarif']);
    assert.equal(run.code, 1, run.stderr);
    const report = assertReportsValid(out);
    const custom = report.findings.filter((finding) => finding.ruleId.startsWith('ACME-'));
    assert.deepEqual(custom.map((finding) => `${finding.ruleId} ${finding.severity} ${finding.resource.name}`), [
      'ACME-001 medium card-data',
      'ACME-002 low gateway.partner.example.net',
    ]);
    assert.equal(custom[0]?.title, 'Production key lacks an owner or application tag');
    assert.equal(custom[0]?.message, 'Key card-data (example-prod/europe-west1) is tagged env=prod but has no app tag.');
    assert.equal(custom[0]?.remediation.text, 'Tag the key with owner=<team> and app=<service> in its IaC.');
    assert.equal(report.scan.customRules['ACME-002']?.severity, 'low');
    assert.ok(report.findings.some((finding) => finding.ruleId === 'KD-ROT-001'), 'built-in rules still run');

    const sarifFile = path.join(out, 'keydrift.sarif');
    const sarif = JSON.parse(readFileSync(sarifFile, 'utf8')) as Log;
    const rule = sarif.runs[0]!.tool.driver.rules!.find((candidate) => candidate.id === 'ACME-001')!;
    assert.equal(rule.shortDescription?.text, 'Production key lacks an owner or application tag');
    assert.match(rule.help?.markdown ?? '', /aws kms tag-resource/);
    assert.equal(rule.properties?.['security-severity'], '5.5');
    assert.ok((rule.properties?.tags as string[]).includes('acme'));
    assert.deepEqual((await validateSarifMultitool(sarifFile)).errors, []);

    // The saved report re-renders without the policy folder: the metadata travels in it.
    const again = path.join(dir, 'rerendered');
    const rerender = await runCli(['report', '--from', path.join(out, 'keydrift.json'), '--format', 'sarif', '--out', again]);
    assert.equal(rerender.code, 0, rerender.stderr);
    assert.equal(readFileSync(path.join(again, 'keydrift.sarif'), 'utf8'), readFileSync(sarifFile, 'utf8'));
  });

  test('a prebuilt wasm bundle works like the folder it was built from', async () => {
    const bundle = path.join(dir, 'acme.tar.gz');
    const built = await runCli(['policy', 'build', 'examples/custom-policy/policy', '--output', bundle]);
    assert.equal(built.code, 0, built.stderr);
    const config = path.join(dir, 'prebuilt.yaml');
    writeFileSync(config, readFileSync(path.join(REPO, 'examples/custom-policy/keydrift.yaml'), 'utf8')
      .replaceAll('../demo/', `${path.join(REPO, 'examples/demo')}/`)
      .replace('    - policy', `    - ${bundle}`));
    const out = path.join(dir, 'prebuilt');
    const run = await runCli(['scan', '--config', config, '--now', NOW, '--out', out, '--format', 'json']);
    assert.equal(run.code, 1, run.stderr);
    const report = assertReportsValid(out);
    assert.deepEqual(report.findings.filter((f) => f.ruleId.startsWith('ACME-')).map((f) => f.ruleId), ['ACME-001', 'ACME-002']);
  });

  test('a Rego folder without opa available is a clear configuration error (exit 2)', async () => {
    const run = await runCli(['scan', '--config', 'examples/custom-policy/keydrift.yaml', '--out', path.join(dir, 'no-opa')], {
      env: { KEYDRIFT_OPA: '', KEYDRIFT_TOOLS_DIR: path.join(dir, 'no-tools'), PATH: path.dirname(process.execPath) },
    });
    assert.equal(run.code, 2);
    assert.match(run.stderr, /opa v[\d.]+ not found/);
    assert.doesNotMatch(run.stderr, /^\s+at /m);
  });

  test('policy mistakes are reported with the folder: a non-wasm builtin, a missing rules entry, a reserved id', async () => {
    const cases: [string, string, RegExp][] = [
      ['uses-sprintf', 'package keydrift.custom\n\nrules := {"X-1": {"title": "t", "severity": "low", "description": "d"}}\n\nfindings contains {"rule": "X-1", "uid": item.uid, "evidence": {}, "message": sprintf("%v", [item.uid])} if {\n\tsome item in input.items\n}\n', /uses-sprintf: opa build failed:[\s\S]*sprintf/],
      ['no-metadata', 'package keydrift.custom\n\nrules := {"X-2": {"title": "t", "severity": "low", "description": "d"}}\n\nfindings contains {"rule": "X-9", "uid": item.uid, "evidence": {}} if {\n\tsome item in input.items\n}\n', /rule X-9 fired but has no entry/],
      ['reserved', 'package keydrift.custom\n\nrules := {"KD-ZZZ-001": {"title": "t", "severity": "low", "description": "d"}}\n\nfindings := set()\n', /KD- prefix is reserved/],
      ['bad-severity', 'package keydrift.custom\n\nrules := {"X-3": {"title": "t", "severity": "severe", "description": "d"}}\n\nfindings := set()\n', /rules: X-3\.severity: must be one of/],
    ];
    for (const [name, rego, expected] of cases) {
      const folder = path.join(dir, name);
      mkdirSync(folder);
      writeFileSync(path.join(folder, 'policy.rego'), rego);
      const config = path.join(dir, `${name}.yaml`);
      writeFileSync(config, `version: 1\nsources:\n  - { id: keys, type: snapshot, path: ${path.join(REPO, 'examples/demo/snapshot/keys.json')} }\npolicy:\n  bundles: [${name}]\n`);
      const run = await runCli(['scan', '--config', config, '--out', path.join(dir, `${name}-out`)]);
      assert.equal(run.code, 2, `${name}: ${run.stderr}`);
      assert.match(run.stderr, expected, name);
    }
  });

  // The test timeout only turns a hang (no deadline: minutes of wasm) into a failure.
  test('a custom policy that does not finish within policy.bundleTimeoutMs stops the run with a policy error (exit 2)', { timeout: 120_000 }, async () => {
    const folder = path.join(dir, 'slow');
    mkdirSync(folder);
    // 10^12 pairs: hours of evaluation, all of it inside one wasm call.
    writeFileSync(
      path.join(folder, 'slow.rego'),
      'package keydrift.custom\n\nrules := {"SLOW-1": {"title": "t", "severity": "low", "description": "d"}}\n\n' +
        'findings contains {"rule": "SLOW-1", "uid": item.uid, "evidence": {}} if {\n\tsome item in input.items\n\tcount([1 | some i in numbers.range(1, 1000000); some j in numbers.range(1, 1000000); i == j + 7]) < 0\n}\n',
    );
    const config = path.join(dir, 'slow.yaml');
    writeFileSync(config, `version: 1\nsources:\n  - { id: keys, type: snapshot, path: ${path.join(REPO, 'examples/demo/snapshot/keys.json')} }\npolicy:\n  bundles: [slow]\n  bundleTimeoutMs: 3000\n`);
    const out = path.join(dir, 'slow-out');
    const run = await runCli(['scan', '--config', config, '--now', NOW, '--out', out]);
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /policy evaluation failed in .*slow: evaluation did not finish within 3000 ms and was stopped/);
  });

  test('opa check --schema with the published input schema type-checks built-in and custom policies', () => {
    const ok = runOpa(['check', '--schema', 'schemas/policy-input/input.json', '--ignore', '*_test.rego', 'policies/keydrift', 'examples/custom-policy/policy']);
    assert.equal(ok.status, 0, ok.stderr);
    const folder = path.join(dir, 'typo');
    mkdirSync(folder);
    writeFileSync(path.join(folder, 'typo.rego'), 'package keydrift.custom\n\nfindings contains item.uid if {\n\tsome item in input.items\n\titem.rotaton.automatic == false\n}\n');
    const typo = runOpa(['check', '--schema', 'schemas/policy-input/input.json', folder]);
    assert.notEqual(typo.status, 0);
    assert.match(typo.stdout + typo.stderr, /undefined ref: item\.rotaton\.automatic/);
  });
});
