import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { removeDir, tempDir } from '../support/certs.ts';
import { REPO } from '../support/cli.ts';
import { readValidReport } from '../support/reports.ts';

// dist/action.js run the way the runner runs a node24 action: INPUT_* variables (hyphens kept),
// GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files, stdout for workflow commands.

function runAction(inputs: Record<string, string>, dir: string): Promise<{ code: number; stdout: string; stderr: string; outputs: Record<string, string>; summary: string }> {
  const outputFile = path.join(dir, `output-${Math.random().toString(36).slice(2)}`);
  const summaryFile = path.join(dir, `summary-${Math.random().toString(36).slice(2)}`);
  writeFileSync(outputFile, '');
  writeFileSync(summaryFile, '');
  const env: NodeJS.ProcessEnv = { PATH: process.env['PATH'] ?? '', HOME: dir, GITHUB_OUTPUT: outputFile, GITHUB_STEP_SUMMARY: summaryFile, NO_COLOR: '1' };
  for (const [name, value] of Object.entries(inputs)) env[`INPUT_${name.toUpperCase()}`] = value;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(REPO, 'dist/action.js')], { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const outputs: Record<string, string> = {};
      const text = readFileSync(outputFile, 'utf8');
      for (const match of text.matchAll(/^([\w-]+)<<(\S+)\n([\s\S]*?)\n\2$/gm)) outputs[match[1]!] = match[3]!;
      resolve({ code: code ?? -1, stdout, stderr, outputs, summary: readFileSync(summaryFile, 'utf8') });
    });
  });
}

describe('the bundled Action (dist/action.js)', () => {
  let dir: string;
  before(() => {
    dir = tempDir();
    writeFileSync(path.join(dir, 'keydrift.yaml'), `version: 1\nname: action-test\nsources:\n  - { id: keys, type: snapshot, path: ${path.join(REPO, 'examples/demo/snapshot/keys.json')} }\n`);
  });
  after(() => removeDir(dir));

  test('on a snapshot source: outputs, job summary, annotations and exit code', async () => {
    const out = path.join(dir, 'reports');
    const run = await runAction({ config: path.join(dir, 'keydrift.yaml'), 'out-dir': out, 'fail-on': 'high', now: '2026-11-01T00:00:00Z', formats: 'json,sarif' }, dir);
    assert.equal(run.code, 1, run.stderr);
    const report = readValidReport(path.join(out, 'keydrift.json'));
    assert.deepEqual(run.outputs, {
      'exit-code': '1',
      'json-file': path.join(out, 'keydrift.json'),
      'sarif-file': path.join(out, 'keydrift.sarif'),
      findings: String(report.findings.length),
      'new-findings': '0',
      'fixed-findings': '0',
      compliant: 'false',
    });
    assert.match(run.summary, /^# keydrift report: action-test/);
    assert.match(run.summary, /\| critical \| 1 \|/);
    const annotations = run.stdout.split('\n').filter((line) => line.startsWith('::error '));
    assert.equal(annotations.length, report.findings.filter((finding) => ['critical', 'high'].includes(finding.severity)).length);
    assert.match(annotations[0]!, /^::error file=[^,]+,line=\d+,endLine=\d+,title=KD-[A-Z]{3}-\d{3} /);
  });

  test('with a baseline and fail-on-new-only: only new findings fail and are annotated', async () => {
    const first = path.join(dir, 'first');
    await runAction({ config: path.join(dir, 'keydrift.yaml'), 'out-dir': first, now: '2026-11-01T00:00:00Z' }, dir);
    const second = path.join(dir, 'second');
    const run = await runAction(
      { config: path.join(dir, 'keydrift.yaml'), 'out-dir': second, now: '2026-11-01T00:00:00Z', baseline: path.join(first, 'keydrift.json'), 'fail-on-new-only': 'true', profile: 'cis-gcp' },
      dir,
    );
    // cis-gcp's 90-day cadence adds findings the default profile did not have: those are new.
    assert.equal(run.code, 1, run.stderr);
    assert.ok(Number(run.outputs['new-findings']) > 0);
    const report = readValidReport(path.join(second, 'keydrift.json'));
    assert.equal(report.scan.policy.profile, 'cis-gcp');
    const annotated = run.stdout.split('\n').filter((line) => line.startsWith('::error ')).length;
    assert.equal(annotated, report.findings.filter((finding) => finding.baselineState === 'new' && ['critical', 'high'].includes(finding.severity)).length);
    const same = await runAction({ config: path.join(dir, 'keydrift.yaml'), 'out-dir': path.join(dir, 'third'), now: '2026-11-01T00:00:00Z', baseline: path.join(first, 'keydrift.json'), 'fail-on-new-only': 'true' }, dir);
    assert.equal(same.code, 0);
    assert.equal(same.outputs['compliant'], 'true');
  });

  test('a broken config: exit 2, exit-code output, nothing else claimed', async () => {
    writeFileSync(path.join(dir, 'broken.yaml'), 'version: 1\nsources:\n  - { id: x, type: nope }\n');
    const run = await runAction({ config: path.join(dir, 'broken.yaml'), 'out-dir': path.join(dir, 'broken-out') }, dir);
    assert.equal(run.code, 2);
    assert.deepEqual(run.outputs, { 'exit-code': '2', compliant: 'false' });
    assert.match(run.stderr, /broken\.yaml:3:5: sources\[0\]: unknown type "nope"/);
  });
});
