import assert from 'node:assert/strict';
import { test } from 'node:test';
import { testPolicies } from '../../src/engine/opa-cli.ts';

// The Rego unit tests (policies/**/*_test.rego) run through the pinned opa, with coverage.
const THRESHOLD = 95;

test(`opa test passes every Rego test with at least ${THRESHOLD}% coverage`, () => {
  const run = testPolicies([], { coverage: true, threshold: THRESHOLD });
  const report = JSON.parse(run.stdout) as { coverage: number; files: Record<string, { coverage?: number }> };
  const perFile = Object.entries(report.files).map(([file, entry]) => `${file}: ${entry.coverage ?? 100}%`);
  console.log(`Rego coverage ${report.coverage}%\n  ${perFile.join('\n  ')}`);
  assert.equal(run.status, 0, `opa test failed or coverage under ${THRESHOLD}%:\n${run.stderr}`);
  assert.ok(report.coverage >= THRESHOLD);
});

test('opa test reports the individual Rego test results', () => {
  const run = testPolicies([]);
  assert.equal(run.status, 0, run.stdout + run.stderr);
  assert.match(run.stdout, /PASS: \d+\/\d+/);
});
