import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Report } from '../../src/report/types.ts';
import { removeDir, tempDir } from '../support/certs.ts';
import { REPO, runCli, type CliRun } from '../support/cli.ts';

// In a GitHub Actions job the runner reads every line of a step's stdout and stderr, and obeys
// one that starts with "::" (after leading whitespace) or holds "##[". A certificate file in a
// pull request can be named "x\n::error title=forged::pwned": printed raw, that name forges an
// annotation (or stops command processing). keydrift shows such names escaped, on one line.

const FORGED = '::error title=forged::pwned';
const FILE_NAME = `bad\n${FORGED}.pem`;

function assertNoRunnerCommand(run: CliRun): void {
  for (const [stream, text] of [['stdout', run.stdout], ['stderr', run.stderr]] as const) {
    for (const line of text.split(/\r\n|\r|\n/)) {
      assert.doesNotMatch(line, /^\s*::/, `${stream} has a line the runner would obey: ${JSON.stringify(line)}\n${text}`);
      assert.ok(!line.includes('##['), `${stream} has a legacy runner command: ${JSON.stringify(line)}`);
      assert.ok(!line.includes('\u001b'), `${stream} carries an escape sequence: ${JSON.stringify(line)}`);
    }
  }
}

describe('CLI output: names from data cannot forge terminal or CI-runner commands', () => {
  let dir: string;
  before(() => {
    dir = tempDir();
    mkdirSync(path.join(dir, 'certs'));
    // Garbage, so the collector warns about the file by name.
    writeFileSync(path.join(dir, 'certs', FILE_NAME), 'not a certificate \u001b[2J ##[stop-commands]x\n');
    writeFileSync(path.join(dir, 'keydrift.yaml'), 'version: 1\nsources:\n  - { id: certs, type: x509-files, paths: ["certs/*"] }\n');
  });
  after(() => removeDir(dir));

  test('scan: the warning names the file escaped on one line; no stdout or stderr line starts with "::"', async () => {
    const out = path.join(dir, 'out');
    const run = await runCli(['scan', '--config', path.join(dir, 'keydrift.yaml'), '--now', '2026-11-01T00:00:00Z', '--out', out, '--format', 'json,md,html,csv', '--verbose']);
    assert.ok(run.code === 1 || run.code === 3, `exit ${run.code}: ${run.stderr}`);
    assertNoRunnerCommand(run);
    const warning = run.stderr.split('\n').find((line) => line.startsWith('warning: certs: '));
    assert.ok(warning, run.stderr);
    assert.ok(warning.includes(`bad\\n${FORGED}.pem`), `the name is recognisable, escaped: ${warning}`);
    // The job summary shows the same error as text, and adds no line of its own.
    const md = readFileSync(path.join(out, 'keydrift.md'), 'utf8');
    assert.ok(!md.split('\n').some((line) => line.startsWith('::')), md);
    // Once among the coverage gaps at the top, once in the sources table.
    const sources = md.split('\n').filter((line) => line.startsWith('| `certs` |'));
    assert.equal(sources.length, 2, md);
    for (const line of sources) assert.ok(line.includes(`/certs/bad ${FORGED}.pem: not a PEM`), line);
  });

  test('evaluate: a crafted report\'s source id and config name reach stdout and the reports only escaped', async () => {
    const crafted = JSON.parse(readFileSync(path.join(REPO, 'reports/keydrift.json'), 'utf8')) as Report;
    crafted.sources[0]!.id = `demo\n${FORGED}\r\n##[stop-commands]t`;
    crafted.sources[0]!.errors = [{ code: 'x', message: `m\n${FORGED}` }];
    crafted.scan.configName = `demo\n${FORGED}`;
    const file = path.join(dir, 'crafted.json');
    writeFileSync(file, JSON.stringify(crafted));
    const out = path.join(dir, 'evaluated');
    const run = await runCli(['evaluate', '--inventory', file, '--now', crafted.scan.now, '--out', out, '--format', 'json,md,html,csv']);
    assert.ok(run.code === 1, `exit ${run.code}: ${run.stderr}`);
    assertNoRunnerCommand(run);
    const sources = run.stdout.split('\n').find((line) => line.startsWith('sources: '));
    assert.ok(sources?.includes(`demo\\n${FORGED}\\r\\n##\\x5bstop-commands]t ok`), run.stdout);
    const md = readFileSync(path.join(out, 'keydrift.md'), 'utf8').split('\n');
    assert.equal(md[0], `# keydrift report: demo ${FORGED}`);
    assert.deepEqual(
      md.filter((line) => line.startsWith('#')).slice(1).map((line) => line.replace(/ \(\d+ of \d+\)$/, '')),
      ['## Top findings', '## Findings by severity', '## Findings by rule', '## Sources'],
    );
    assert.ok(md.includes(`| \`demo\\n${FORGED}\\r\\n##[stop-commands]t\` | \`x509-files\` | ok | 14 | m ${FORGED} |`), md.join('\n'));
    const html = readFileSync(path.join(out, 'keydrift.html'), 'utf8');
    assert.ok(html.includes('content="default-src \'none\'; style-src \'unsafe-inline\'; img-src data:; script-src \'sha256-'));
  });

  test('a usage error naming a crafted path is one escaped line', async () => {
    const run = await runCli(['scan', '--config', path.join(dir, `missing\n${FORGED}.yaml`)]);
    assert.equal(run.code, 2, run.stderr);
    assertNoRunnerCommand(run);
    const lines = run.stderr.trim().split('\n');
    assert.equal(lines.length, 1, run.stderr);
    assert.match(lines[0]!, /^keydrift: .*missing\\n::error title=forged::pwned\.yaml/);
  });
});
