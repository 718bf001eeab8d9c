import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Log } from 'sarif';
import { runCli } from '../support/cli.ts';
import { assertReportsValid } from '../support/reports.ts';
import { validateSarifMultitool } from '../support/sarif-validate.ts';
import { assertEvaluateAccepts } from '../support/evidence.ts';

const FIXTURES = 'test/fixtures/iac/terraform';
const PLAN = `${FIXTURES}/plan.json`;
const STATE = `${FIXTURES}/state.json`;
const NOW = '2026-01-15T00:00:00Z';

/** Written by hand from the fixtures: rule, severity, resource, and the file and line the SARIF result points at. */
const EXPECTED = [
  // enable_key_rotation = false on a new symmetric key: the annotation is on that attribute's line.
  ['KD-ROT-001', 'high', 'terraform:plan.json#aws_kms_key.payments', PLAN, 25],
  // auto_rotate_period = 0 on a transit key; exportable = true on the same key.
  ['KD-ROT-001', 'high', 'terraform:plan.json#vault_transit_secret_backend_key.key', PLAN, 174],
  ['KD-HSM-001', 'high', 'terraform:plan.json#vault_transit_secret_backend_key.key', PLAN, 178],
  // A role issuing 5-year certificates: max_ttl.
  ['KD-CRT-003', 'medium', 'terraform:plan.json#vault_pki_secret_backend_role.role', PLAN, 204],
  // tls_private_key with rsa_bits = 1024: the bits line; its RSA algorithm (post-quantum migration, info).
  ['KD-ALG-002', 'high', 'terraform:plan.json#tls_private_key.example', PLAN, 226],
  ['KD-ALG-003', 'info', 'terraform:plan.json#tls_private_key.example', PLAN, 224],
  // The for_each instance of an RSA signing key: customer_master_key_spec.
  ['KD-ALG-003', 'info', 'terraform:plan.json#aws_kms_key.signing["docs"]', PLAN, 90],
  // The state's key: a declaration's uid is its file and address (the live key keeps the ARN).
  ['KD-ROT-001', 'high', 'terraform:state.json#aws_kms_key.legacy', STATE, 19],
].map(([rule, severity, uid, file, line]) => `${rule} ${severity} ${uid} ${file}:${line}`);

describe('keydrift scan of terraform show -json plan and state files', () => {
  let out: string;
  before(async () => {
    out = await mkdtemp(path.join(os.tmpdir(), 'keydrift-terraform-'));
  });
  after(async () => {
    await rm(out, { recursive: true, force: true });
  });

  it('judges declared resources as live ones, each SARIF result on the line of the attribute judged', async () => {
    const dir = path.join(out, 'ok');
    const run = await runCli(['scan', '--config', `${FIXTURES}/keydrift.yaml`, '--format', 'json,sarif', '--out', dir, '--now', NOW]);
    assert.equal(run.code, 1, run.stderr);
    const report = assertReportsValid(dir);
    // What the scan collected, evaluate accepts (the contract every collector keeps).
    await assertEvaluateAccepts(report.inventory, report.sources);
    assert.deepEqual(report.sources.map((source) => [source.id, source.status, source.items, source.errors.length]), [['iac', 'ok', 9, 0]]);
    const sarif = JSON.parse(await readFile(path.join(dir, 'keydrift.sarif'), 'utf8')) as Log;
    const results = sarif.runs[0]!.results!.map((result) => {
      const location = result.locations![0]!.physicalLocation!;
      const uid = result.locations![0]!.logicalLocations![0]!.fullyQualifiedName;
      const finding = report.findings.find((candidate) => candidate.fingerprint === result.partialFingerprints!['primaryLocationLineHash']);
      return `${result.ruleId} ${finding?.severity} ${uid} ${location.artifactLocation!.uri}:${location.region!.startLine}`;
    });
    assert.deepEqual(results.sort(), [...EXPECTED].sort());
    assert.deepEqual((await validateSarifMultitool(path.join(dir, 'keydrift.sarif'))).errors, []);

    // Unknown values stay null: the module's key rotates, its period is known only after apply.
    const orders = report.inventory.find((item) => item.address === 'module.kms["orders"].aws_kms_key.this')!;
    assert.deepEqual(orders.rotation, { supported: true, automatic: true, periodDays: null, lastRotatedAt: null, nextRotationAt: null });
    assert.equal(orders.declared, true);
    assert.deepEqual({ file: orders.declaredIn!.file, line: orders.declaredIn!.line }, { file: PLAN, line: 49 });
    // A resource being destroyed and a data source are not declared keys.
    assert.equal(report.inventory.some((item) => item.address === 'aws_kms_key.retired'), false);
    // The tls provider's state holds the private key: only its algorithm settings are read.
    assert.doesNotMatch(JSON.stringify(report), /private_key_pem|BEGIN/);
  });

  it('reports a malformed plan by file and line, marks the source partial and still judges the other files', async () => {
    const dir = path.join(out, 'broken');
    const run = await runCli(['scan', '--config', `${FIXTURES}/keydrift-broken.yaml`, '--format', 'json,sarif', '--out', dir, '--now', NOW]);
    assert.equal(run.code, 3, run.stderr);
    const report = assertReportsValid(dir);
    const [source] = report.sources;
    assert.equal(source!.status, 'partial');
    assert.deepEqual(source!.errors.map((error) => error.code), ['terraform-json-invalid']);
    assert.match(source!.errors[0]!.message, /^test\/fixtures\/iac\/terraform\/broken\/truncated-plan\.json: not valid JSON at line 7, column 60: /);
    assert.deepEqual(report.findings.map((finding) => `${finding.ruleId} ${finding.resource.uid}`).sort(), [
      'KD-GOV-003 source:iac',
      'KD-ROT-001 terraform:state.json#aws_kms_key.legacy',
    ]);
  });
});
