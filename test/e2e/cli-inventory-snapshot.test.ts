import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { InventoryFile } from '../../src/inventory/file.ts';
import type { Report } from '../../src/report/types.ts';
import { validator } from '../../src/util/schemas.ts';
import { runCli } from '../support/cli.ts';
import { assertReportsValid } from '../support/reports.ts';
import { validateSarifMultitool } from '../support/sarif-validate.ts';
import { makeCert, removeDir, tempDir, type TestCert } from '../support/certs.ts';

const NOW = '2026-11-01T00:00:00Z';

describe('inventory, snapshot and secrets', () => {
  let dir: string;
  let leaf: TestCert;

  before(() => {
    dir = tempDir();
    leaf = makeCert(dir, { cn: 'bundle.test', key: 'rsa:2048', notBefore: '2026-10-01T00:00:00Z', notAfter: '2026-11-10T00:00:00Z' });
    // The common "cert and key in one file" layout: the key must never reach any output.
    writeFileSync(path.join(dir, 'combined.pem'), leaf.keyPem + leaf.certPem);
    writeFileSync(
      path.join(dir, 'keydrift.yaml'),
      'version: 1\nname: canary\nsources:\n  - { id: files, type: x509-files, paths: ["combined.pem"] }\n',
    );
  });
  after(() => removeDir(dir));

  test('inventory writes a schema-valid inventory; a snapshot source replays it to the same findings', async () => {
    const inventoryFile = path.join(dir, 'inventory.json');
    const collected = await runCli(['inventory', '--config', path.join(dir, 'keydrift.yaml'), '--output', inventoryFile, '--now', NOW]);
    assert.equal(collected.code, 0, collected.stderr);
    const inventory = JSON.parse(readFileSync(inventoryFile, 'utf8')) as InventoryFile;
    const validate = validator('inventory');
    assert.ok(validate(inventory), JSON.stringify(validate.errors));
    assert.equal(inventory.items.length, 1);
    assert.equal(inventory.sources[0]?.status, 'ok');

    const direct = path.join(dir, 'direct');
    const scanned = await runCli(['scan', '--config', path.join(dir, 'keydrift.yaml'), '--now', NOW, '--out', direct, '--format', 'json']);
    assert.equal(scanned.code, 0, scanned.stderr); // one medium finding: below --fail-on high

    writeFileSync(path.join(dir, 'replay.yaml'), 'version: 1\nsources:\n  - { id: files, type: snapshot, path: inventory.json }\n');
    const replayOut = path.join(dir, 'replay');
    const replayed = await runCli(['scan', '--config', path.join(dir, 'replay.yaml'), '--now', NOW, '--out', replayOut, '--format', 'json']);
    assert.equal(replayed.code, 0, replayed.stderr);
    const strip = (report: Report) => report.findings.map(({ ruleId, severity, fingerprint, message }) => ({ ruleId, severity, fingerprint, message }));
    const a = assertReportsValid(direct);
    const b = assertReportsValid(replayOut);
    assert.deepEqual(strip(b), strip(a));
    assert.deepEqual(a.findings.map((finding) => finding.ruleId), ['KD-CRT-002']);
  });

  test('inventory --output - writes JSON to stdout only', async () => {
    const run = await runCli(['inventory', '--config', path.join(dir, 'keydrift.yaml'), '--output', '-']);
    assert.equal(run.code, 0, run.stderr);
    const parsed = JSON.parse(run.stdout) as InventoryFile;
    assert.equal(parsed.kind, 'inventory');
  });

  test('a snapshot whose source was incomplete keeps the replaying source incomplete', async () => {
    const saved = JSON.parse(readFileSync(path.join(dir, 'inventory.json'), 'utf8')) as InventoryFile;
    saved.sources[0]!.status = 'partial';
    writeFileSync(path.join(dir, 'partial.json'), JSON.stringify(saved));
    writeFileSync(path.join(dir, 'partial.yaml'), 'version: 1\nsources:\n  - { id: old, type: snapshot, path: partial.json }\n');
    const out = path.join(dir, 'partial-out');
    const run = await runCli(['scan', '--config', path.join(dir, 'partial.yaml'), '--now', NOW, '--out', out, '--format', 'json', '--fail-on', 'critical']);
    assert.equal(run.code, 3, run.stderr);
    const report = assertReportsValid(out);
    assert.equal(report.sources[0]?.status, 'partial');
    assert.ok(report.findings.some((finding) => finding.ruleId === 'KD-GOV-003' && finding.resource.uid === 'source:old'));
  });

  test('canary: private key material in a scanned file appears in no report, inventory or log', async () => {
    const out = path.join(dir, 'canary');
    const run = await runCli(['scan', '--config', path.join(dir, 'keydrift.yaml'), '--now', NOW, '--out', out, '--format', 'json,sarif,md,html,csv', '--verbose']);
    const keyBody = leaf.keyPem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
    const canaries = [keyBody.slice(0, 40), keyBody.slice(100, 140), 'PRIVATE KEY'];
    const outputs = [run.stdout, run.stderr, ...readdirSync(out).map((file) => readFileSync(path.join(out, file), 'utf8'))];
    for (const text of outputs) {
      for (const canary of canaries) assert.ok(!text.includes(canary), `key material leaked: ${canary}`);
    }
    assert.equal(readdirSync(out).length, 5);
    // The config lives outside the working folder here: SARIF must still be valid for GitHub.
    assertReportsValid(out);
    assert.deepEqual((await validateSarifMultitool(path.join(out, 'keydrift.sarif'))).errors, []);
  });
});
