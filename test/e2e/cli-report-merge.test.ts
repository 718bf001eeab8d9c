import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Report } from '../../src/report/types.ts';
import { removeDir, tempDir } from '../support/certs.ts';
import { REPO, runCli } from '../support/cli.ts';
import { assertReportsValid } from '../support/reports.ts';

// Sharded nightly: two shards scan some of the sources each; merging their reports must equal
// one unsharded scan of the same sources.

const NOW = '2026-11-01T00:00:00Z';
const CERTS = `{ id: demo-certs, type: x509-files, paths: ["${path.join(REPO, 'examples/demo/certs')}/**/*.pem"] }`;
const KEYS = `{ id: demo-keys, type: snapshot, path: ${path.join(REPO, 'examples/demo/snapshot/keys.json')} }`;
const WAIVER = 'waivers:\n  - { rule: KD-CRT-005, resource: "*partner-sha1.pem#*", reason: r, owner: o, expires: 2026-09-30 }\n';

describe('report --merge', () => {
  let dir: string;
  before(() => {
    dir = tempDir();
    writeFileSync(path.join(dir, 'all.yaml'), `version: 1\nsources:\n  - ${CERTS}\n  - ${KEYS}\n${WAIVER}`);
    writeFileSync(path.join(dir, 'shard-a.yaml'), `version: 1\nsources:\n  - ${CERTS}\n${WAIVER}`);
    writeFileSync(path.join(dir, 'shard-b.yaml'), `version: 1\nsources:\n  - ${KEYS}\n${WAIVER}`);
  });
  after(() => removeDir(dir));

  const scan = async (name: string) => {
    const out = path.join(dir, name);
    await runCli(['scan', '--config', path.join(dir, `${name}.yaml`), '--now', NOW, '--out', out, '--format', 'json']);
    return path.join(out, 'keydrift.json');
  };
  const comparable = (report: Report) => ({
    sources: report.sources.map(({ id, type, status, items, errors }) => ({ id, type, status, items, errors })),
    summary: report.summary,
    inventory: report.inventory,
    findings: report.findings
      // Where a finding is declared (and a waiver's config file) differs by design between configs.
      .map(({ declaredAt: _declaredAt, ...finding }) => (finding.resource.kind === 'waiver' ? { ...finding, resource: { ...finding.resource, location: '' } } : finding))
      .sort((a, b) => (a.fingerprint < b.fingerprint ? -1 : 1)),
    inventoryDigest: report.scan.inventoryDigest,
  });

  test('merging two shards equals one unsharded scan', async () => {
    const whole = assertReportsValid(path.dirname(await scan('all')));
    const a = await scan('shard-a');
    const b = await scan('shard-b');
    const out = path.join(dir, 'merged');
    const run = await runCli(['report', '--merge', a, b, '--format', 'json,sarif,md', '--out', out]);
    assert.equal(run.code, whole.summary.exitCode, run.stderr);
    const merged = assertReportsValid(out);
    assert.deepEqual(comparable(merged), comparable(whole));
    assert.equal(merged.findings.filter((finding) => finding.ruleId === 'KD-GOV-002').length, 1, 'the shared waiver finding appears once');
  });

  test('shards evaluated at different clocks are refused', async () => {
    const a = await scan('shard-a');
    const other = path.join(dir, 'later');
    await runCli(['scan', '--config', path.join(dir, 'shard-b.yaml'), '--now', '2026-12-01T00:00:00Z', '--out', other, '--format', 'json']);
    const run = await runCli(['report', '--merge', a, path.join(other, 'keydrift.json'), '--format', 'json', '--out', path.join(dir, 'bad')]);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /shards were evaluated at different clocks/);
  });
});
