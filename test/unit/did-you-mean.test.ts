import assert from 'node:assert/strict';
import { test } from 'node:test';
import { closest, editDistance } from '../../src/util/did-you-mean.ts';
import { runCli } from '../support/cli.ts';

test('edit distance counts a swap of neighbours as one edit', () => {
  assert.equal(editDistance('format', 'format'), 0);
  assert.equal(editDistance('formt', 'format'), 1);
  assert.equal(editDistance('fromat', 'format'), 1);
  assert.equal(editDistance('', 'abc'), 3);
});

test('the closest candidate within a third of the word, or none', () => {
  assert.equal(closest('--formt', ['--format', '--from', '--out']), '--format');
  assert.equal(closest('evalute', ['scan', 'evaluate', 'report']), 'evaluate');
  assert.equal(closest('x', ['scan', 'report']), null);
  assert.equal(closest('deploy', ['scan', 'report']), null);
});

test('the CLI suggests a command, an option and a format it knows', async () => {
  const command = await runCli(['scna']);
  assert.equal(command.code, 2);
  assert.match(command.stderr, /unknown command "scna" \(did you mean "scan"\?\)/);
  const option = await runCli(['scan', '--formt', 'json']);
  assert.equal(option.code, 2);
  assert.match(option.stderr, /unknown option --formt \(did you mean "--format"\?\)/);
  const ignored = await runCli(['report', '--from', 'reports/keydrift.json', '--format', 'json', '--now', '2026-01-01T00:00:00Z']);
  assert.equal(ignored.code, 2);
  assert.match(ignored.stderr, /--now is not an option of this command \(it would be ignored\)/);
  const format = await runCli(['report', '--from', 'reports/keydrift.json', '--format', 'sraif']);
  assert.match(format.stderr, /unknown format "sraif" \(did you mean "sarif"\?\)/);
});
