import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { Report } from '../../src/report/types.ts';
import { removeDir, tempDir } from '../support/certs.ts';
import { runCli } from '../support/cli.ts';

test('--history puts the trend of earlier runs in the HTML (chart) and the Markdown (table); a broken history is refused by name', async () => {
  const dir = tempDir();
  try {
    const demo = JSON.parse(readFileSync('reports/keydrift.json', 'utf8')) as Report;
    const history = path.join(dir, 'history.jsonl');
    // Two earlier nights: the first had only the critical finding, the second also the highs.
    for (const [day, severities] of [['2026-10-30', ['critical']], ['2026-10-31', ['critical', 'high']]] as const) {
      const night = structuredClone(demo);
      night.scan.now = `${day}T00:00:00.000Z`;
      night.findings = night.findings.filter((finding) => (severities as readonly string[]).includes(finding.severity));
      const file = path.join(dir, `${day}.json`);
      writeFileSync(file, JSON.stringify(night));
      const appended = await runCli(['history', 'append', file, '--to', history]);
      assert.equal(appended.code, 0, appended.stderr);
    }
    const out = path.join(dir, 'out');
    const run = await runCli(['report', '--from', 'reports/keydrift.json', '--format', 'html,md', '--history', history, '--out', out]);
    assert.equal(run.code, 0, run.stderr);
    const md = readFileSync(path.join(out, 'keydrift.md'), 'utf8');
    assert.match(md, /## Trend \(last 3 runs\)/);
    assert.match(md, /\| 2026-10-30T00:00:00\.000Z \| 1 \| 0 \| 0 \| 0 \| 0 \| 22 \|/);
    assert.match(md, /\| 2026-10-31T00:00:00\.000Z \| 1 \| 9 \| 0 \| 0 \| 0 \| 22 \|/);
    assert.match(md, /\| 2026-11-01T00:00:00\.000Z \| 1 \| 9 \| 14 \|/);
    assert.match(readFileSync(path.join(out, 'keydrift.html'), 'utf8'), /<svg[^>]* id="chart-trend"/);

    writeFileSync(path.join(dir, 'broken.jsonl'), '{"v":1,\n');
    const broken = await runCli(['report', '--from', 'reports/keydrift.json', '--format', 'md', '--history', path.join(dir, 'broken.jsonl'), '--out', out]);
    assert.equal(broken.code, 2);
    assert.match(broken.stderr, /--history .*broken\.jsonl: /);
  } finally {
    removeDir(dir);
  }
});
