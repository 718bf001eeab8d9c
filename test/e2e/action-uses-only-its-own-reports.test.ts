import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildActionBundle, FAILED_OUTPUTS, runAction, type ActionRun } from '../support/action.ts';
import { removeDir, tempDir } from '../support/certs.ts';
import { REPO } from '../support/cli.ts';
import { readValidReport } from '../support/reports.ts';

// The Action runs in a workspace that may already hold reports/keydrift.* (an earlier step, a
// cached folder, or files a pull request committed). Whatever happens, the outputs and the job
// summary come from this run's scan alone, and a planted symlink is never followed.
// Runs a bundle freshly built from src/ with scripts/build-action.ts, as a release builds it.

const PLANTED_SENTENCE = 'PLANTED: every key here is compliant';
const PLANTED_REPORT = JSON.stringify({
  schemaVersion: '1',
  scan: { startedAt: '2099-01-01T00:00:00.000Z', finishedAt: '2099-01-01T00:00:01.000Z' },
  summary: { items: 0, findings: { critical: 0, high: 0, medium: 0, low: 0, info: 0 }, waived: 0, new: 0, fixed: 0, compliant: true, exitCode: 0 },
  findings: [],
  inventory: [],
});
const PLANTED_SARIF = '{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"planted"}},"results":[]}]}\n';


describe('the Action uses only the reports its own scan wrote', () => {
  let bundleDir: string;
  let bundle: string;
  const dirs: string[] = [];

  before(() => {
    ({ bundle, dir: bundleDir } = buildActionBundle());
  });
  after(() => {
    removeDir(bundleDir);
    for (const dir of dirs) removeDir(dir);
  });

  /** A workspace with a valid and a broken config, and a previous run's (or a planted) report set. */
  function workspace(): { root: string; reports: string } {
    const root = tempDir('keydrift-action-');
    dirs.push(root);
    writeFileSync(path.join(root, 'keydrift.yaml'), `version: 1\nname: action-fresh\nsources:\n  - { id: keys, type: snapshot, path: ${path.join(REPO, 'examples/demo/snapshot/keys.json')} }\n`);
    writeFileSync(path.join(root, 'broken.yaml'), 'version: 1\nsources:\n  - { id: x, type: nope }\n');
    const reports = path.join(root, 'reports');
    mkdirSync(reports);
    writeFileSync(path.join(reports, 'keydrift.json'), PLANTED_REPORT);
    writeFileSync(path.join(reports, 'keydrift.md'), `# keydrift report\n\n${PLANTED_SENTENCE}\n`);
    writeFileSync(path.join(reports, 'keydrift.sarif'), PLANTED_SARIF);
    return { root, reports };
  }

  function action(root: string, inputs: Record<string, string>): Promise<ActionRun> {
    return runAction(bundle, { now: '2026-11-01T00:00:00Z', ...inputs }, root, root);
  }

  function assertScanFailed(run: ActionRun): void {
    assert.equal(run.code, 2, run.stderr);
    assert.deepEqual(run.outputs, FAILED_OUTPUTS);
    assert.match(run.summary, /^## keydrift: the scan failed\n\nkeydrift exited 2 and this run has no report/);
    assert.ok(!run.summary.includes(PLANTED_SENTENCE), run.summary);
    assert.match(run.stdout, /^::error title=keydrift scan failed::keydrift exited 2 and this run has no report: a usage, config or policy error stopped the scan\. See the log of this step\.$/m);
  }

  test('a broken config (exit 2) next to a planted compliant report: scan-failed, nothing planted is used or left', async () => {
    const { root, reports } = workspace();
    const run = await action(root, { config: 'broken.yaml' });
    assertScanFailed(run);
    assert.match(run.stderr, /broken\.yaml:3:5: sources\[0\]: unknown type "nope"/);
    // Gone, so that a later step keyed on the files (hashFiles, an artifact upload) cannot pick them up either.
    for (const name of ['keydrift.json', 'keydrift.md', 'keydrift.sarif']) assert.ok(!present(path.join(reports, name)), `${name} was left in place`);
  });

  test('a valid config next to planted reports: the outputs and the summary are the fresh run', async () => {
    const { root, reports } = workspace();
    const before = Date.now();
    const run = await action(root, { formats: 'json,sarif' });
    assert.equal(run.code, 1, run.stderr);
    const report = readValidReport(path.join(reports, 'keydrift.json'));
    assert.ok(Date.parse(report.scan.startedAt) >= before, `startedAt ${report.scan.startedAt} predates the run`);
    assert.deepEqual(run.outputs, {
      'scan-failed': 'false',
      'exit-code': '1',
      'json-file': path.join('reports', 'keydrift.json'),
      'sarif-file': path.join('reports', 'keydrift.sarif'),
      findings: String(report.findings.filter((finding) => !finding.waiver).length),
      'new-findings': '0',
      'fixed-findings': '0',
      compliant: 'false',
      incomplete: 'false',
    });
    assert.match(run.summary, /^# keydrift report: action-fresh/);
    assert.ok(!run.summary.includes(PLANTED_SENTENCE), run.summary);
    const sarif = JSON.parse(readFileSync(path.join(reports, 'keydrift.sarif'), 'utf8')) as { runs: { invocations?: { startTimeUtc: string }[] }[] };
    assert.equal(sarif.runs[0]!.invocations?.[0]?.startTimeUtc, report.scan.startedAt);
  });

  test('sarif not requested: no sarif-file output, and the planted keydrift.sarif is removed', async () => {
    const { root, reports } = workspace();
    const run = await action(root, { formats: 'json' });
    assert.equal(run.code, 1, run.stderr);
    assert.equal(run.outputs['scan-failed'], 'false');
    assert.equal(run.outputs['sarif-file'], '');
    assert.ok(!present(path.join(reports, 'keydrift.sarif')), 'the planted keydrift.sarif is still there');
  });

  test('a baseline kept in the out-dir is read before it is replaced, not removed beforehand', async () => {
    const { root, reports } = workspace();
    assert.equal((await action(root, {})).code, 1);
    const first = readValidReport(path.join(reports, 'keydrift.json'));
    const run = await action(root, { baseline: 'reports/keydrift.json' });
    assert.equal(run.code, 1, run.stderr);
    assert.equal(run.outputs['scan-failed'], 'false');
    assert.equal(run.outputs['new-findings'], '0');
    const second = readValidReport(path.join(reports, 'keydrift.json'));
    assert.ok(second.drift, 'the baseline was not applied');
    assert.ok(second.scan.startedAt > first.scan.startedAt);
  });

  test('planted symlinks to files outside the workspace are removed, never followed or written through', async () => {
    const outside = tempDir('keydrift-outside-');
    dirs.push(outside);
    const outsideReport = path.join(outside, 'report.json');
    const outsideMarkdown = path.join(outside, 'summary.md');
    writeFileSync(outsideReport, PLANTED_REPORT);
    writeFileSync(outsideMarkdown, `${PLANTED_SENTENCE}\n`);
    const { root, reports } = workspace();
    const plant = () => {
      for (const [name, target] of [['keydrift.json', outsideReport], ['keydrift.md', outsideMarkdown]] as const) {
        removeDir(path.join(reports, name));
        symlinkSync(target, path.join(reports, name));
      }
    };

    plant();
    assertScanFailed(await action(root, { config: 'broken.yaml' }));
    assert.ok(!present(path.join(reports, 'keydrift.json')), 'the link is still there');
    assert.equal(readFileSync(outsideReport, 'utf8'), PLANTED_REPORT);
    assert.equal(readFileSync(outsideMarkdown, 'utf8'), `${PLANTED_SENTENCE}\n`);

    plant();
    const run = await action(root, {});
    assert.equal(run.code, 1, run.stderr);
    assert.equal(run.outputs['scan-failed'], 'false');
    assert.ok(lstatSync(path.join(reports, 'keydrift.json')).isFile(), 'keydrift.json is not a regular file of its own');
    assert.ok(!run.summary.includes(PLANTED_SENTENCE), run.summary);
    assert.equal(readFileSync(outsideReport, 'utf8'), PLANTED_REPORT);
    assert.equal(readFileSync(outsideMarkdown, 'utf8'), `${PLANTED_SENTENCE}\n`);
  });
});

/** Whether anything, a dangling symlink included, is at `file`. */
function present(file: string): boolean {
  try {
    lstatSync(file);
    return true;
  } catch {
    return false;
  }
}
