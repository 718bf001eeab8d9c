import assert from 'node:assert/strict';
import { test } from 'node:test';
import { summaryText } from '../../src/cli/commands/shared.ts';
import { createLogger } from '../../src/cli/logger.ts';
import type { Report } from '../../src/report/types.ts';
import { registerSecret } from '../../src/util/redact.ts';
import { printable, terminalLine } from '../../src/util/terminal.ts';

// A file name, a source id or a backend message can hold anything. Printed raw, a newline starts a
// line the GitHub Actions runner obeys (`::error ...::`, `##[stop-commands]`), an ESC sequence
// repaints the terminal. Every line keydrift prints must show such data escaped, on one line.

const FORGED = 'certs/x\n::error title=forged::pwned\r\u001b[2J\u0007\u009b31m\u202etxt.pem';

/** The runner reads a command from a line that starts with "::" after leading whitespace, or holds "##[". */
function assertNoRunnerCommand(output: string): void {
  for (const line of output.split(/\r\n|\r|\n/)) {
    assert.doesNotMatch(line, /^\s*::/, `a line starts with "::": ${JSON.stringify(line)}`);
    assert.ok(!line.includes('##['), `a line holds "##[": ${JSON.stringify(line)}`);
  }
}

function capture(level: 'quiet' | 'normal' | 'verbose', color: boolean) {
  const lines: string[] = [];
  return { lines, logger: createLogger(level, color, (line) => lines.push(line)) };
}

test('logger: a crafted message is one line, its control characters and ANSI escapes shown escaped', () => {
  const { lines, logger } = capture('verbose', false);
  logger.warn(`demo-certs: ${FORGED}: not a certificate`);
  logger.info(FORGED);
  logger.debug(FORGED);
  assert.equal(lines.length, 3);
  const escaped = 'certs/x\\n::error title=forged::pwned\\r\\x1b[2J\\x07\\x9b31m\\u202etxt.pem';
  assert.equal(lines[0], `warning: demo-certs: ${escaped}: not a certificate`);
  assert.equal(lines[1], escaped);
  for (const line of lines) {
    assert.ok(![...line].some((character) => character < ' ' || (character >= '\u007f' && character <= '\u009f') || character === '\u202e'), JSON.stringify(line));
  }
  assertNoRunnerCommand(lines.join('\n'));
});

test('logger: a message that itself starts with "::" or holds "##[" is not a runner command', () => {
  const { lines, logger } = capture('verbose', false);
  logger.info('::error title=forged::pwned');
  logger.info('  ::add-mask::x');
  logger.debug('\t::warning::x');
  logger.warn('prefix ##[stop-commands]token');
  logger.info('##[error]forged');
  assert.deepEqual(lines, [
    '\\x3a:error title=forged::pwned',
    '  \\x3a:add-mask::x',
    '\\t::warning::x',
    'warning: prefix ##\\x5bstop-commands]token',
    '##\\x5berror]forged',
  ]);
  assertNoRunnerCommand(lines.join('\n'));
});

test('logger: its own colours still work when colour is on, and data cannot add any', () => {
  const { lines, logger } = capture('verbose', true);
  logger.warn('file \u001b[31mred');
  logger.debug('detail');
  assert.equal(lines[0], '\u001b[33mwarning: \u001b[0mfile \\x1b[31mred');
  assert.equal(lines[1], '\u001b[2mdetail\u001b[0m');
});

test('logger: every line is redacted before it is written', () => {
  const held = 'hvs.CAESIJ3nT3stT0kenHeldByTheProcess0123';
  registerSecret('pin-4711-held-by-process');
  const { lines, logger } = capture('verbose', false);
  logger.warn(`vault: 403 from backend echoing X-Vault-Token: ${held}`);
  logger.info('hsm: login with pin-4711-held-by-process failed');
  logger.debug('aws: key AKIAABCDEFGHIJKLMNOP denied');
  assert.equal(lines.length, 3);
  const all = lines.join('\n');
  for (const secret of [held, 'pin-4711-held-by-process', 'AKIAABCDEFGHIJKLMNOP']) assert.ok(!all.includes(secret), all);
  assert.match(all, /\[REDACTED\]/);
});

test('logger: quiet drops info and debug, but not warnings', () => {
  const { lines, logger } = capture('quiet', false);
  logger.info('a');
  logger.debug('b');
  logger.warn('c');
  assert.deepEqual(lines, ['warning: c']);
});

test('printable leaves ordinary text, Unicode and backslashes alone', () => {
  const ordinary = 'certs/web/api-expired.pem (ünïcode, 日本) C:\\path 100%';
  assert.equal(printable(ordinary), ordinary);
  assert.equal(terminalLine(ordinary), ordinary);
  assert.equal(terminalLine('a: b :: c'), 'a: b :: c');
});

test('printable shows invisible characters that could hide in a name or split "::" and "##["', () => {
  assert.equal(printable('a\u00adb\u200bc\u200dd\ufeffe'), 'a\\xadb\\u200bc\\u200dd\\ufeffe');
  assert.equal(terminalLine(':\u00ad:error::x #\u200b#[y]'), ':\\xad:error::x #\\u200b#[y]');
});

test('summaryText: source ids, statuses and counts from a crafted report stay on their own lines', () => {
  const report = {
    summary: { items: 1, findings: { critical: 0, high: 0, medium: 0, low: 0, info: 0 }, waived: 0, new: 0, fixed: 0, compliant: false, exitCode: 3 },
    scan: { failOn: 'high' },
    findings: [],
    sources: [{ id: 'x\n::error title=forged::pwned', type: 'x509-files', status: 'failed\n##[stop-commands]t', items: 0, errors: [] }],
  } as unknown as Report;
  const text = summaryText(report, ['/tmp/out\n::warning::x/keydrift.json']);
  const lines = text.split('\n');
  assert.equal(lines.length, 4, text); // three lines and the final newline
  assert.equal(lines[3], '');
  assert.match(lines[1]!, /^sources: x\\n::error title=forged::pwned failed\\n##\\x5bstop-commands\]t \(0\)$/);
  assert.match(lines[2]!, /^reports: .*out\\n::warning::x/);
  assertNoRunnerCommand(text);
});

test('summaryText: the most severe findings as a short table, with the rest counted and plural grammar', () => {
  const finding = (severity: string, ruleId: string, name: string) => ({ severity, ruleId, title: `${ruleId} title`, resource: { name }, fingerprint: name });
  const report = {
    summary: { items: 1, findings: { critical: 1, high: 5, medium: 0, low: 0, info: 0 }, waived: 0, new: 0, fixed: 0, compliant: false, exitCode: 1 },
    scan: { failOn: 'high' },
    findings: [finding('high', 'KD-ROT-001', 'k1'), finding('critical', 'KD-ACC-001', '::error::forged'), ...['k2', 'k3', 'k4', 'k5'].map((name) => finding('high', 'KD-ROT-003', name))],
    sources: [],
  } as unknown as Report;
  const lines = summaryText(report, []).split('\n');
  assert.match(lines[0]!, /^keydrift: 1 item, 6 findings /);
  assert.match(lines[1]!, /^ {2}SEVERITY {2}RULE {8}RESOURCE +TITLE$/);
  assert.match(lines[2]!, /^ {2}critical {2}KD-ACC-001 {2}::error::forged +KD-ACC-001 title$/);
  assert.equal(lines[7], '  … and 1 more finding in the reports');
  assertNoRunnerCommand(lines.join('\n'));
});
