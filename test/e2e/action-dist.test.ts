import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildActionBundle, FAILED_OUTPUTS, runAction as runScript } from '../support/action.ts';
import { removeDir, tempDir } from '../support/certs.ts';
import { REPO, runCli } from '../support/cli.ts';
import { readValidReport } from '../support/reports.ts';

// The bundled Action (built as a release builds dist/action.js), run the way the runner runs a
// node24 action (test/support/action.ts).

describe('the bundled Action', () => {
  let dir: string;
  let bundle: { bundle: string; dir: string };
  const runAction = (inputs: Record<string, string>, cwd: string, env: Record<string, string> = {}) => runScript(bundle.bundle, inputs, cwd, REPO, env);
  before(() => {
    bundle = buildActionBundle();
    dir = tempDir();
    writeFileSync(path.join(dir, 'keydrift.yaml'), `version: 1\nname: action-test\nsources:\n  - { id: keys, type: snapshot, path: ${path.join(REPO, 'examples/demo/snapshot/keys.json')} }\n`);
  });
  after(() => {
    removeDir(dir);
    removeDir(bundle.dir);
  });

  test('on a snapshot source: outputs, job summary, annotations and exit code', async () => {
    const out = path.join(dir, 'reports');
    const run = await runAction({ config: path.join(dir, 'keydrift.yaml'), 'out-dir': out, 'fail-on': 'high', now: '2026-11-01T00:00:00Z', formats: 'json,sarif' }, dir);
    assert.equal(run.code, 1, run.stderr);
    const report = readValidReport(path.join(out, 'keydrift.json'));
    assert.deepEqual(run.outputs, {
      'scan-failed': 'false',
      'exit-code': '1',
      'json-file': path.join(out, 'keydrift.json'),
      'sarif-file': path.join(out, 'keydrift.sarif'),
      findings: String(report.findings.length),
      'new-findings': '0',
      'fixed-findings': '0',
      compliant: 'false',
      incomplete: 'false',
    });
    assert.match(run.summary, /^# keydrift report: action-test/);
    assert.match(run.summary, /\| critical \| 1 \|/);
    const annotations = run.stdout.split('\n').filter((line) => line.startsWith('::error '));
    assert.equal(annotations.length, Math.min(10, report.findings.filter((finding) => ['critical', 'high'].includes(finding.severity)).length));
    assert.match(annotations[0]!, /^::error file=[^,]+,line=\d+,endLine=\d+,title=KD-[A-Z]{3}-\d{3} /);
  });

  test('at most 10 annotations per level, the most severe first, with one notice for the rest; the summary links the run', async () => {
    const out = path.join(dir, 'low');
    // The committed demo report as a snapshot: certificates and keys, 14 medium findings.
    const config = path.join(dir, 'whole-demo.yaml');
    writeFileSync(config, `version: 1\nname: action-test\nsources:\n  - { id: demo, type: snapshot, path: ${path.join(REPO, 'reports/keydrift.json')} }\n`);
    const run = await runAction({ config, 'out-dir': out, 'fail-on': 'low', now: '2026-11-01T00:00:00Z', formats: 'json' }, dir, {
      GITHUB_SERVER_URL: 'https://github.com',
      GITHUB_REPOSITORY: 'acme/keys',
      GITHUB_RUN_ID: '1234',
    });
    const report = readValidReport(path.join(out, 'keydrift.json'));
    const lines = run.stdout.split('\n');
    const warnings = report.findings.filter((finding) => !finding.waiver && ['medium', 'low'].includes(finding.severity)).length;
    assert.ok(warnings > 10, 'the demo has more than 10 medium and low findings');
    assert.equal(lines.filter((line) => line.startsWith('::warning ')).length, 10);
    assert.ok(lines.includes(`::notice::${warnings - 10} more medium or lower findings at or above low are not annotated (GitHub shows 10 per level): see the job summary and the reports`), run.stdout);
    assert.ok(run.summary.endsWith('The full reports (JSON, SARIF, HTML) are this run\'s artifacts: https://github.com/acme/keys/actions/runs/1234\n'), run.summary.slice(-300));
  });

  test('a custom wasm bundle is evaluated on the sandbox worker, which re-enters the bundle without running the Action twice', { timeout: 180_000 }, async () => {
    const bundle = path.join(dir, 'acme.tar.gz');
    const built = await runCli(['policy', 'build', 'examples/custom-policy/policy', '--output', bundle]);
    assert.equal(built.code, 0, built.stderr);
    const config = path.join(dir, 'custom.yaml');
    writeFileSync(config, `version: 1\nname: custom\nsources:\n  - { id: keys, type: snapshot, path: ${path.join(REPO, 'examples/demo/snapshot/keys.json')} }\npolicy:\n  bundles: [${bundle}]\n`);
    const out = path.join(dir, 'custom-out');
    const run = await runAction({ config, 'out-dir': out, now: '2026-11-01T00:00:00Z', formats: 'json' }, dir);
    assert.equal(run.code, 1, run.stderr);
    assert.equal(run.outputs['scan-failed'], 'false');
    const report = readValidReport(path.join(out, 'keydrift.json'));
    assert.deepEqual(report.findings.filter((finding) => finding.ruleId.startsWith('ACME-')).map((finding) => finding.ruleId), ['ACME-001']);
    assert.equal(run.summary.match(/^# keydrift report/gm)?.length, 1, 'the job summary was written once');
  });

  test('with a baseline and fail-on-new-only: only new findings fail and are annotated', async () => {
    const first = path.join(dir, 'first');
    await runAction({ config: path.join(dir, 'keydrift.yaml'), 'out-dir': first, now: '2026-11-01T00:00:00Z' }, dir);
    const second = path.join(dir, 'second');
    const run = await runAction(
      { config: path.join(dir, 'keydrift.yaml'), 'out-dir': second, now: '2027-06-01T00:00:00Z', baseline: path.join(first, 'keydrift.json'), 'fail-on-new-only': 'true' },
      dir,
    );
    // Seven months later the BYOK key's material has expired while it is still enabled: new findings.
    assert.equal(run.code, 1, run.stderr);
    assert.ok(Number(run.outputs['new-findings']) > 0);
    const report = readValidReport(path.join(second, 'keydrift.json'));
    const annotated = run.stdout.split('\n').filter((line) => line.startsWith('::error ')).length;
    assert.equal(annotated, report.findings.filter((finding) => finding.baselineState === 'new' && ['critical', 'high'].includes(finding.severity)).length);
    const same = await runAction({ config: path.join(dir, 'keydrift.yaml'), 'out-dir': path.join(dir, 'third'), now: '2026-11-01T00:00:00Z', baseline: path.join(first, 'keydrift.json'), 'fail-on-new-only': 'true' }, dir);
    assert.equal(same.code, 0);
    assert.equal(same.outputs['compliant'], 'true');
  });

  test('findings and a partial source: exit 1, and the incomplete output still says the scan saw only part', async () => {
    const config = path.join(dir, 'partial.yaml');
    writeFileSync(
      config,
      `version: 1\nname: action-test\nsources:\n  - { id: keys, type: snapshot, path: ${path.join(REPO, 'examples/demo/snapshot/keys.json')} }\n  - { id: certs, type: x509-files, paths: ["no-such-dir/*.pem"] }\n`,
    );
    const run = await runAction({ config, 'out-dir': path.join(dir, 'partial-out'), now: '2026-11-01T00:00:00Z', formats: 'json' }, dir);
    assert.equal(run.code, 1, run.stderr);
    assert.equal(run.outputs['exit-code'], '1');
    assert.equal(run.outputs['incomplete'], 'true');
  });

  test('a broken config: exit 2, the outputs say the scan failed and claim nothing else', async () => {
    writeFileSync(path.join(dir, 'broken.yaml'), 'version: 1\nsources:\n  - { id: x, type: nope }\n');
    const run = await runAction({ config: path.join(dir, 'broken.yaml'), 'out-dir': path.join(dir, 'broken-out') }, dir);
    assert.equal(run.code, 2);
    assert.deepEqual(run.outputs, FAILED_OUTPUTS);
    assert.match(run.stdout, /^::error title=keydrift scan failed::keydrift exited 2 and this run has no report/m);
    assert.match(run.summary, /^## keydrift: the scan failed\n/);
    assert.match(run.stderr, /broken\.yaml:3:5: sources\[0\]: unknown type "nope"/);
  });
});
