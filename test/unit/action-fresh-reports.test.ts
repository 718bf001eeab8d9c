import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { readRegularFile, removeStaleReports, reportOfThisRun, writtenThisRun, type ScanRun } from '../../src/action/fresh-reports.ts';
import { removeDir, tempDir } from '../support/certs.ts';

// The Action's checks that a report in the out-dir is this run's: the cases the end-to-end tests
// cannot set up (a leftover that could not be removed, a report from outside the scan's time span).

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) removeDir(dir);
});
function dir(): string {
  const created = tempDir('keydrift-fresh-');
  dirs.push(created);
  return created;
}

const START = Date.parse('2026-05-01T10:00:00.000Z');
const RUN: ScanRun = { exitCode: 1, startedAt: START, finishedAt: START + 5_000 };

function writeReport(outDir: string, startedAt: string, exitCode = 1): void {
  writeFileSync(
    path.join(outDir, 'keydrift.json'),
    JSON.stringify({ scan: { startedAt }, summary: { compliant: exitCode === 0, exitCode, new: 0, fixed: 0 }, findings: [] }),
  );
}

async function problem(outDir: string, run: ScanRun, leftOver = new Map<string, string>()): Promise<string> {
  const outcome = await reportOfThisRun(outDir, run, leftOver);
  assert.equal(outcome.ok, false, 'the report was accepted');
  return outcome.ok ? '' : outcome.problem;
}

test('a report that started within the scan and records its exit code is accepted', async () => {
  const outDir = dir();
  writeReport(outDir, '2026-05-01T10:00:00.000Z');
  const outcome = await reportOfThisRun(outDir, RUN, new Map());
  assert.ok(outcome.ok, outcome.ok ? '' : outcome.problem);
  assert.equal(outcome.value.summary.exitCode, 1);
});

test('a report started before the scan, or dated after it ended, is not this run\'s', async () => {
  const outDir = dir();
  writeReport(outDir, '2026-05-01T09:59:59.999Z');
  assert.match(await problem(outDir, RUN), /keydrift\.json is not this run's: its scan\.startedAt 2026-05-01T09:59:59\.999Z is outside this scan/);
  writeReport(outDir, '2099-01-01T00:00:00.000Z');
  assert.match(await problem(outDir, RUN), /not this run's: its scan\.startedAt 2099-01-01/);
});

test('exit code 2 has no report, whatever file is there', async () => {
  const outDir = dir();
  writeReport(outDir, '2026-05-01T10:00:01.000Z', 2);
  assert.equal(await problem(outDir, { ...RUN, exitCode: 2 }), 'a usage, config or policy error stopped the scan');
});

test('a report whose exit code is not the scan\'s is refused', async () => {
  const outDir = dir();
  writeReport(outDir, '2026-05-01T10:00:01.000Z', 0);
  assert.match(await problem(outDir, RUN), /records exit code 0, the scan exited 1/);
});

test('a keydrift.json that could not be removed before the scan is never believed', async () => {
  const outDir = dir();
  writeReport(outDir, '2026-05-01T10:00:01.000Z');
  assert.match(await problem(outDir, RUN, new Map([['keydrift.json', 'EACCES']])), /already there before the scan could not be removed \(EACCES\)/);
});

test('a symlinked report is refused, and removing stale reports removes the link, not its target', async () => {
  const outDir = dir();
  const outside = path.join(dir(), 'elsewhere.json');
  writeFileSync(outside, JSON.stringify({ scan: { startedAt: '2026-05-01T10:00:01.000Z' }, summary: { exitCode: 1 }, findings: [] }));
  symlinkSync(outside, path.join(outDir, 'keydrift.json'));
  assert.match(await problem(outDir, RUN), /keydrift\.json is missing or not a regular file/);
  assert.equal(await writtenThisRun(outDir, 'keydrift.json', new Map()), null);

  mkdirSync(path.join(outDir, 'keydrift.sarif'));
  const left = await removeStaleReports(outDir);
  assert.throws(() => lstatSync(path.join(outDir, 'keydrift.json')), { code: 'ENOENT' });
  assert.ok(readFileSync(outside, 'utf8').includes('startedAt'));
  // A folder in a report's place stays (never removed recursively) and is reported as left over.
  assert.deepEqual([...left.keys()], ['keydrift.sarif']);
  assert.equal(await writtenThisRun(outDir, 'keydrift.sarif', left), null);
});

test('reading is bounded: a file over the limit is refused, not read', async () => {
  const file = path.join(dir(), 'big.md');
  writeFileSync(file, 'x'.repeat(1025));
  const outcome = await readRegularFile(file, 1024);
  assert.equal(outcome.ok, false);
  assert.match(outcome.ok ? '' : outcome.problem, /big\.md is 1025 bytes, more than the 1024 this reads/);
  const within = await readRegularFile(file, 1025);
  assert.ok(within.ok && within.value.length === 1025);
});

test('a file the scan reads first (a baseline in the out-dir) is kept, and not counted as left over', async () => {
  const outDir = dir();
  writeReport(outDir, '2026-05-01T09:00:00.000Z');
  writeFileSync(path.join(outDir, 'keydrift.md'), 'old');
  const left = await removeStaleReports(outDir, [path.relative(process.cwd(), path.join(outDir, 'keydrift.json'))]);
  assert.equal(left.size, 0);
  assert.ok(lstatSync(path.join(outDir, 'keydrift.json')).isFile());
  assert.throws(() => lstatSync(path.join(outDir, 'keydrift.md')), { code: 'ENOENT' });
});

test('a missing out-dir is simply empty: nothing to remove, no report', async () => {
  const outDir = path.join(dir(), 'not-created');
  assert.equal((await removeStaleReports(outDir)).size, 0);
  assert.match(await problem(outDir, RUN), /keydrift\.json is missing or not a regular file/);
});
