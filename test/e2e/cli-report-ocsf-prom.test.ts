import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { Report } from '../../src/report/types.ts';
import { removeDir, tempDir } from '../support/certs.ts';
import { runCli } from '../support/cli.ts';
import { parseOpenMetrics, validateOcsf } from '../support/report-validators.ts';

test('--format ocsf,prom writes keydrift.ocsf.json (valid OCSF) and keydrift.prom (parsed by a real parser)', async () => {
  const out = tempDir();
  try {
    const run = await runCli(['report', '--from', 'reports/keydrift.json', '--format', 'ocsf,prom', '--out', out]);
    assert.equal(run.code, 0, run.stderr);
    const report = JSON.parse(readFileSync('reports/keydrift.json', 'utf8')) as Report;
    const events = JSON.parse(readFileSync(path.join(out, 'keydrift.ocsf.json'), 'utf8')) as { class_uid: number }[];
    assert.equal(events.length, report.findings.length);
    assert.ok(events.every((event) => event.class_uid === 2004));
    assert.deepEqual(validateOcsf(events), []);
    const parsed = parseOpenMetrics(readFileSync(path.join(out, 'keydrift.prom'), 'utf8'));
    assert.ok(!('error' in parsed), 'error' in parsed ? parsed.error : '');
    assert.ok(parsed.families.some((family) => family.name === 'keydrift_item_days_to_expiry'));
  } finally {
    removeDir(out);
  }
});
