import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { mixedItem } from '../../bench/mixed-estate.ts';
import { effectivePolicy } from '../../src/config/settings.ts';
import { inventoryDigest } from '../../src/findings/fingerprint.ts';
import type { InventoryItem } from '../../src/inventory/types.ts';
import { evaluateEvidence } from '../../src/pipeline.ts';
import { loadEvidence } from '../../src/inventory/file.ts';
import type { Report } from '../../src/report/types.ts';
import { REPO, runCli } from '../support/cli.ts';
import { assertReportsValid, readValidReport as readValidJson } from '../support/reports.ts';

// evaluate reads its evidence as a stream and evaluates it in batches on worker threads: the
// findings must be those of the in-memory engine, in the same order, whatever the thread count,
// the file's shape or how large the report is (a large one is written piece by piece, compact).

const NOW = '2026-11-01T00:00:00Z';
// Enough items that the report is written in pieces (more than 10,000 items and findings) and spans many batches.
const COUNT = 6_000;

describe('evaluate --inventory streams its evidence', () => {
  let dir: string;
  let items: InventoryItem[];
  let expected: Report;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'keydrift-streaming-'));
    items = Array.from({ length: COUNT }, (_, i) => mixedItem(i));
    const header = { schemaVersion: '1', kind: 'inventory', tool: { name: 'keydrift', version: '0.1.0' }, collectedAt: NOW, sources: [] };
    writeFileSync(path.join(dir, 'inventory.json'), JSON.stringify({ ...header, items }, null, 2));
    writeFileSync(path.join(dir, 'inventory.jsonl'), [JSON.stringify(header), ...items.map((item) => JSON.stringify(item)), ''].join('\n'));
    expected = await evaluateEvidence({
      items,
      sources: [],
      now: new Date(NOW),
      policy: effectivePolicy(undefined),
      failOn: 'high',
      configName: 'keydrift',
      configDigest: null,
      startedAt: new Date(NOW),
      fallbackFile: 'inventory.json',
    });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function evaluate(file: string, out: string, extra: string[]): Promise<Report> {
    const run = await runCli(['evaluate', '--inventory', file, '--now', NOW, '--format', 'json,sarif,md', '--out', out, '--quiet', ...extra], { cwd: dir });
    assert.equal(run.code, 1, run.stderr);
    return assertReportsValid(path.join(dir, out));
  }

  test('one thread, two threads and JSON Lines give the in-memory findings, in order', async () => {
    const one = await evaluate('inventory.json', 'one', ['--threads', '1']);
    const two = await evaluate('inventory.json', 'two', ['--threads', '2']);
    const lines = await evaluate('inventory.jsonl', 'lines', ['--threads', '2']);
    assert.ok(expected.findings.length > 8_000, `${expected.findings.length} findings`);
    // The fallback file names where SARIF points; the rest of each finding is the engine's.
    const comparable = (report: Report) => report.findings.map(({ declaredAt: _declaredAt, ...finding }) => finding);
    for (const report of [one, two, lines]) {
      assert.deepEqual(comparable(report), comparable(expected));
      assert.deepEqual(report.summary, expected.summary);
      assert.equal(report.scan.inventoryDigest, inventoryDigest(items));
      assert.deepEqual(report.inventory, JSON.parse(JSON.stringify(items)));
    }
    assert.deepEqual(two.findings, one.findings);
  });

  test('a large report is compact with a rules table; --pretty indents it', async () => {
    const compact = path.join(dir, 'two', 'keydrift.json');
    const text = readFileSync(compact, 'utf8');
    assert.ok(!text.includes('\n  "'), 'no indentation');
    const report = JSON.parse(text) as Report & { rules: Record<string, { remediation: { text: string } }> };
    for (const finding of report.findings) assert.equal(report.rules[finding.ruleId]!.remediation.text, finding.remediation.text);
    await evaluate('inventory.json', 'pretty', ['--pretty']);
    const pretty = path.join(dir, 'pretty', 'keydrift.json');
    assert.ok(readFileSync(pretty, 'utf8').includes('\n  "findings": ['));
    assert.ok(statSync(pretty).size > statSync(compact).size);
    const markdown = readFileSync(path.join(dir, 'two', 'keydrift.md'), 'utf8');
    assert.equal(markdown, readFileSync(path.join(dir, 'pretty', 'keydrift.md'), 'utf8'));
  });

  test('inventory --inventory-format jsonl writes JSON Lines that evaluate and a snapshot source read as the JSON inventory', async () => {
    const config = path.join(REPO, 'examples', 'demo', 'keydrift.yaml');
    for (const format of ['json', 'jsonl']) {
      const run = await runCli(['inventory', '--config', config, '--now', NOW, '--inventory-format', format, '--output', `demo.${format}`, '--quiet'], { cwd: dir });
      assert.equal(run.code, 0, run.stderr);
    }
    const lines = readFileSync(path.join(dir, 'demo.jsonl'), 'utf8').trimEnd().split('\n');
    const header = JSON.parse(lines[0]!) as { kind: string; sources: unknown[] };
    assert.equal(header.kind, 'inventory');
    assert.equal(header.sources.length, 2);
    assert.equal(lines.length - 1, (JSON.parse(readFileSync(path.join(dir, 'demo.json'), 'utf8')) as { items: unknown[] }).items.length);
    const fromJson = await evaluate('demo.json', 'demo-json', []);
    const fromLines = await evaluate('demo.jsonl', 'demo-jsonl', []);
    assert.deepEqual(fromLines.findings.map(({ declaredAt: _d, ...finding }) => finding), fromJson.findings.map(({ declaredAt: _d, ...finding }) => finding));
    assert.equal(fromLines.scan.inventoryDigest, fromJson.scan.inventoryDigest);
    // The demo's PKI relates certificates to each other: the batches holding them are evaluated
    // again with the whole inventory's index, and the findings are the in-memory engine's.
    const saved = await loadEvidence(path.join(dir, 'demo.json'));
    const inMemory = await evaluateEvidence({ items: saved.items, sources: saved.sources, now: new Date(NOW), policy: effectivePolicy(undefined), failOn: 'high', configName: 'keydrift', configDigest: null, startedAt: new Date(NOW), fallbackFile: 'demo.json' });
    assert.ok(inMemory.findings.some((finding) => finding.ruleId.startsWith('KD-CRT')));
    assert.deepEqual(fromJson.findings.map(({ declaredAt: _d, ...finding }) => finding), inMemory.findings.map(({ declaredAt: _d, ...finding }) => finding));
    const verbose = await runCli(['evaluate', '--inventory', 'demo.jsonl', '--now', NOW, '--format', 'json', '--out', 'demo-verbose', '--threads', '2'], { cwd: dir });
    assert.match(verbose.stderr, /evaluated again with the whole inventory's index/);
    writeFileSync(path.join(dir, 'snapshot.yaml'), 'version: 1\nsources:\n  - { id: saved, type: snapshot, path: demo.jsonl }\n');
    const snapshot = await runCli(['scan', '--config', 'snapshot.yaml', '--now', NOW, '--format', 'json', '--out', 'snapshot', '--quiet'], { cwd: dir });
    assert.equal(snapshot.code, 1, snapshot.stderr);
    assert.equal(readValidJson(path.join(dir, 'snapshot', 'keydrift.json')).summary.items, lines.length - 1);
  });

  test('a file that names its sources after its items is evaluated again with them', async () => {
    // More than one read of the file (4 MiB), so the items are under way before the sources are seen.
    const few = items;
    const sources = [{ id: 'bench', type: 'snapshot', status: 'partial', items: few.length, errors: [{ code: 'x', message: 'one region was not read' }], declaredAt: { file: 'keydrift.yaml', region: { startLine: 4, startColumn: 5, endLine: 4, endColumn: 30 } } }];
    // Key order as a hand-written file may have it: the items first.
    writeFileSync(path.join(dir, 'late.json'), `{"items":${JSON.stringify(few)},"sources":${JSON.stringify(sources)},"kind":"inventory","schemaVersion":"1"}`);
    const run = await runCli(['evaluate', '--inventory', 'late.json', '--now', NOW, '--format', 'json', '--out', 'late', '--threads', '2'], { cwd: dir });
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /\(30 of 30 batches evaluated again/);
    const report = readValidJson(path.join(dir, 'late', 'keydrift.json'));
    const inMemory = await evaluateEvidence({ items: few, sources: sources as Report['sources'], now: new Date(NOW), policy: effectivePolicy(undefined), failOn: 'high', configName: 'keydrift', configDigest: null, startedAt: new Date(NOW), fallbackFile: 'late.json' });
    assert.deepEqual(report.findings, inMemory.findings);
    assert.ok(report.findings.some((finding) => finding.ruleId === 'KD-GOV-003'));
    assert.ok(report.findings.every((finding) => finding.ruleId === 'KD-GOV-003' || finding.declaredAt.file === 'keydrift.yaml'));
  });

  test('an invalid item in the middle of a stream refuses the file, naming it', async () => {
    const broken = items.slice(0, 1_000).map((item, i) => (i === 700 ? { ...item, kind: 'banana' } : item));
    writeFileSync(path.join(dir, 'broken.jsonl'), broken.map((item) => JSON.stringify(item)).join('\n'));
    const run = await runCli(['evaluate', '--inventory', 'broken.jsonl', '--now', NOW, '--out', 'broken', '--threads', '2'], { cwd: dir });
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /broken\.jsonl: item 700 \(arn:aws:kms:[^)]+\): kind: /);
    // A line that is not JSON is named, never quoted: the file may hold anything.
    writeFileSync(path.join(dir, 'shadow.jsonl'), '{"kind":"inventory","sources":[]}\n{"uid": "a"}\n{"uid": root:$y$CANARY-SALT}\n');
    const shadow = await runCli(['evaluate', '--inventory', 'shadow.jsonl', '--now', NOW, '--out', 'shadow'], { cwd: dir });
    assert.equal(shadow.code, 2, shadow.stderr);
    assert.match(shadow.stderr, /shadow\.jsonl: item 1 is not valid JSON/);
    assert.doesNotMatch(shadow.stderr + shadow.stdout, /CANARY/);
    writeFileSync(path.join(dir, 'truncated.json'), JSON.stringify({ items: items.slice(0, 300) }).slice(0, -50));
    const truncated = await runCli(['evaluate', '--inventory', 'truncated.json', '--now', NOW, '--out', 'truncated'], { cwd: dir });
    assert.equal(truncated.code, 2, truncated.stderr);
    assert.match(truncated.stderr, /truncated\.json: not valid JSON/);
  });
});
