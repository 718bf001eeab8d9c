import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Log } from 'sarif';
import type { Report } from '../../src/report/types.ts';
import { removeDir, tempDir } from '../support/certs.ts';
import { REPO } from '../support/cli.ts';

// Issue 12, acceptance 1: in a scratch clone of this repository's HEAD, a toy collector and a toy
// rule are added from templates/ with scripts/new-collector.ts and scripts/new-rule.ts, the
// generators run, and nothing else is edited. The files touched are the collector's folder and its
// registry line, the rule's Rego, Rego test and YAML, and generated files; scan, evaluate, SARIF,
// the README and the config schema then take both in.

const HAND_WRITTEN = [
  '?? src/collectors/toy/',
  ' M src/collectors/registry.ts',
  ' M policies/keydrift/rotation/rotation.rego',
  ' M policies/keydrift/rotation/rotation_test.rego',
  '?? rules/KD-ROT-005.yaml',
];
const GENERATED = [
  ' M src/model/sources.generated.ts',
  ' M schemas/config.schema.json',
  ' M schemas/inventory-item.schema.json',
  ' M schemas/policy-input/input.json',
  ' M README.md',
  ' M policies/keydrift/catalogue/catalogue.rego',
  ' M policies/bundle.tar.gz',
];

describe('adding a collector and a rule from the templates', () => {
  let dir: string;
  let clone: string;
  const run = (command: string, args: string[]) => {
    const result = spawnSync(command, args, { cwd: clone, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, maxBuffer: 64 * 1024 * 1024 });
    return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
  };
  const node = (args: string[]) => run(process.execPath, args);
  // What `npm run <script>` runs, with this Node first on PATH, as npm would put node_modules/.bin.
  const npmScript = (name: string) => {
    const scripts = (JSON.parse(readFileSync(path.join(clone, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    return run('sh', ['-c', `PATH="${path.dirname(process.execPath)}:$PATH" && ${scripts[name]!}`]);
  };
  const ok = (result: { code: number; stdout: string; stderr: string }, what: string) => assert.equal(result.code, 0, `${what}:\n${result.stdout}\n${result.stderr}`);

  before(() => {
    dir = tempDir();
    clone = path.join(dir, 'clone');
    execFileSync('git', ['clone', '--quiet', '--no-hardlinks', REPO, clone]);
    symlinkSync(path.join(REPO, 'node_modules'), path.join(clone, 'node_modules'));
    // A symlink is not the folder .gitignore's node_modules/ names; it is scaffolding, not a change.
    appendFileSync(path.join(clone, '.git', 'info', 'exclude'), '/node_modules\n');
  });
  after(() => removeDir(dir));

  test('a collector is its folder and one registry entry; a rule is its Rego, Rego test and YAML; the rest is generated', { timeout: 300_000 }, () => {
    ok(node(['scripts/new-collector.ts', 'toy']), 'new-collector');
    ok(node(['scripts/new-rule.ts', 'KD-ROT-005', 'rotation']), 'new-rule');
    ok(npmScript('docs'), 'npm run docs');
    ok(npmScript('policy:build'), 'npm run policy:build');

    const touched = run('git', ['status', '--porcelain']).stdout.split('\n').filter(Boolean);
    assert.deepEqual(touched.sort(), [...HAND_WRITTEN, ...GENERATED].sort());
    assert.deepEqual(run('git', ['status', '--porcelain', '--untracked-files=all', 'src/collectors/toy']).stdout.split('\n').filter(Boolean).sort(), [
      '?? src/collectors/toy/collector.ts',
      '?? src/collectors/toy/declaration.ts',
    ]);
    const registry = run('git', ['diff', '--unified=0', 'src/collectors/registry.ts']).stdout.split('\n').filter((line) => /^[+-](?![+-])/.test(line));
    assert.deepEqual(registry, ["+  (await import('./toy/declaration.ts')).toyDeclaration,"], 'the registry gains one line, nothing else');

    // Every generator agrees the tree is fresh, the types hold, the layering holds, and the Rego test passes.
    for (const script of ['scripts/gen-collector-artifacts.ts', 'scripts/gen-input-schema.ts', 'scripts/gen-docs.ts', 'scripts/gen-rego.ts']) ok(node([script, '--check']), `${script} --check`);
    ok(node(['node_modules/typescript/bin/tsc', '--noEmit', '-p', 'tsconfig.json']), 'tsc');
    ok(node(['node_modules/eslint/bin/eslint.js', 'src/collectors', 'src/model', 'scripts']), 'eslint');
    const policyTest = node(['src/cli/main.ts', 'policy', 'test']);
    ok(policyTest, 'policy test');
    const readme = readFileSync(path.join(clone, 'README.md'), 'utf8');
    assert.match(readme, /^\| `toy` \| `toy` \| `toy:ListKeys` \|$/m, 'the README lists the new source type');
    assert.match(readme, /^\| KD-ROT-005 \| medium \|/m, 'the README lists the new rule');
  });

  test('scan takes a toy source, the toy rule fires, and evaluate and SARIF take the result', { timeout: 120_000 }, () => {
    const config = path.join(dir, 'keydrift.yaml');
    writeFileSync(config, 'version: 1\nname: toy\nsources:\n  - { id: toy-keys, type: toy, keys: [orders] }\n');
    const out = path.join(dir, 'scan');
    const scan = node(['src/cli/main.ts', 'scan', '--config', config, '--now', '2026-11-01T00:00:00Z', '--out', out, '--format', 'json,sarif,md']);
    assert.equal(scan.code, 1, `findings at or above high (KD-ROT-001 fires too):\n${scan.stderr}`);
    const report = JSON.parse(readFileSync(path.join(out, 'keydrift.json'), 'utf8')) as Report;
    assert.deepEqual(report.sources.map((source) => [source.type, source.status, source.items]), [['toy', 'ok', 1]]);
    assert.deepEqual(report.sources[0]!.apiCalls, { 'toy:ListKeys': 1 });
    assert.equal(report.inventory[0]!.provider, 'toy');
    assert.deepEqual(report.findings.map((finding) => [finding.ruleId, finding.severity]).sort(), [['KD-ROT-001', 'high'], ['KD-ROT-005', 'medium']]);

    const sarif = JSON.parse(readFileSync(path.join(out, 'keydrift.sarif'), 'utf8')) as Log;
    const driver = sarif.runs[0]!.tool.driver;
    assert.ok(driver.rules?.some((rule) => rule.id === 'KD-ROT-005'), 'SARIF describes the new rule');
    assert.ok(sarif.runs[0]!.results?.some((result) => result.ruleId === 'KD-ROT-005'), 'SARIF reports its finding');

    // evaluate re-derives the same findings from the saved evidence, validating each toy item.
    const evaluated = path.join(dir, 'evaluate');
    const evaluate = node(['src/cli/main.ts', 'evaluate', '--inventory', path.join(out, 'keydrift.json'), '--now', '2026-11-01T00:00:00Z', '--out', evaluated, '--format', 'json']);
    assert.equal(evaluate.code, 1, evaluate.stderr);
    const again = JSON.parse(readFileSync(path.join(evaluated, 'keydrift.json'), 'utf8')) as Report;
    assert.deepEqual(again.findings, report.findings);

    // The generated config schema rejects a toy source without its required field, naming it.
    writeFileSync(config, 'version: 1\nsources:\n  - { id: toy-keys, type: toy }\n');
    const bad = node(['src/cli/main.ts', 'scan', '--config', config, '--out', path.join(dir, 'bad')]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /keys/);
  });
});
