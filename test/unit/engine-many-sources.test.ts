import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { REPO } from '../support/cli.ts';

// A config with ~200,000 sources once died with "Maximum call stack size exceeded": the engine
// spread every KD-GOV-003 finding into push() as arguments. At a tenth of Node's default stack
// (--stack-size=100) the same mistake overflows at 20,000 arguments, so 30,000 sources prove the
// fix in seconds instead of minutes.
const SCRIPT = `
import { effectivePolicy } from './src/config/settings.ts';
import { PolicyEngine } from './src/engine/engine.ts';
const engine = await PolicyEngine.load();
const sources = Array.from({ length: 30000 }, (_, index) => ({
  id: 's' + index, type: 'snapshot', status: 'failed', items: 0,
  errors: [{ code: 'file-unreadable', message: 'missing.json: cannot read file (ENOENT)' }],
}));
const findings = await engine.evaluateAll({ items: [], sources, now: new Date('2026-11-01T00:00:00Z'), policy: effectivePolicy(undefined) });
console.log(JSON.stringify({ count: findings.length, rules: [...new Set(findings.map((finding) => finding.rule))] }));
`;

test('30,000 failed sources on a small stack give 30,000 KD-GOV-003 findings, not a stack overflow', () => {
  const run = spawnSync(process.execPath, ['--stack-size=100', '--input-type=module', '--eval', SCRIPT], { cwd: REPO, encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  assert.deepEqual(JSON.parse(run.stdout), { count: 30_000, rules: ['KD-GOV-003'] });
});
