import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Report } from '../../src/report/types.ts';
import { removeDir, tempDir } from '../support/certs.ts';
import { runCli } from '../support/cli.ts';
import { assertReportsValid } from '../support/reports.ts';

// An auditor re-judging evidence: without --now a report is judged at the clock it recorded, an
// edited inventory is called out, and an old snapshot says how old it is everywhere it shows.

describe('evaluate and snapshots say which clock and which evidence they judge', () => {
  let dir: string;
  const demo = JSON.parse(readFileSync('reports/keydrift.json', 'utf8')) as Report;
  before(() => {
    dir = tempDir();
  });
  after(() => removeDir(dir));

  test('a report without --now: its recorded clock, the same findings, and a warning that says so', async () => {
    const run = await runCli(['evaluate', '--inventory', 'reports/keydrift.json', '--out', path.join(dir, 'same'), '--format', 'json']);
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /evaluating at the clock reports\/keydrift\.json recorded \(2026-11-01T00:00:00\.000Z\); --now to evaluate at another time/);
    const report = assertReportsValid(path.join(dir, 'same'));
    assert.equal(report.scan.now, demo.scan.now);
    assert.deepEqual(report.findings.map((finding) => finding.fingerprint), demo.findings.map((finding) => finding.fingerprint));
    assert.doesNotMatch(run.stderr, /does not match the digest/);
  });

  test('an inventory edited after the scan is called out', async () => {
    const edited = structuredClone(demo);
    edited.inventory[0]!.name = 'renamed-by-hand';
    const file = path.join(dir, 'edited.json');
    writeFileSync(file, JSON.stringify(edited));
    const run = await runCli(['evaluate', '--inventory', file, '--now', demo.scan.now, '--out', path.join(dir, 'edited'), '--format', 'json']);
    assert.match(run.stderr, /does not match the digest its report recorded \(sha256:[0-9a-f]{64}\): it was changed after the scan/);
  });

  test('a snapshot collected long ago: a warning at scan time and its observation time in the report and the summary', async () => {
    const snapshot = { schemaVersion: '1', kind: 'inventory', tool: demo.tool, collectedAt: '2025-01-15T00:00:00Z', sources: [], items: demo.inventory.slice(0, 3) };
    writeFileSync(path.join(dir, 'old.json'), JSON.stringify(snapshot));
    writeFileSync(path.join(dir, 'keydrift.yaml'), 'version: 1\nsources:\n  - { id: old, type: snapshot, path: old.json }\nreport: { failOn: none }\n');
    const scan = await runCli(['scan', '--config', path.join(dir, 'keydrift.yaml'), '--now', '2026-11-01T00:00:00Z', '--out', path.join(dir, 'scan'), '--format', 'json,md']);
    assert.equal(scan.code, 0, scan.stderr);
    assert.match(scan.stderr, /old: what it holds was observed at 2025-01-15T00:00:00Z, 655 days before the evaluation clock/);
    const report = assertReportsValid(path.join(dir, 'scan'));
    assert.equal(report.sources[0]!.observedAt, '2025-01-15T00:00:00Z');
    assert.match(readFileSync(path.join(dir, 'scan', 'keydrift.md'), 'utf8'), /\| `old` \| `snapshot` \| ok \(observed 2025-01-15T00:00:00Z\) \| 3 \|/);
    const evaluated = await runCli(['evaluate', '--inventory', path.join(dir, 'old.json'), '--out', path.join(dir, 'inv'), '--format', 'json']);
    assert.match(evaluated.stderr, /old\.json was collected at 2025-01-15T00:00:00Z, \d+ days ago: findings are judged at the real clock; --now 2025-01-15T00:00:00Z judges it as collected/);
  });
});
