import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Log } from 'sarif';
import { runCli } from '../support/cli.ts';
import { assertSarifOnDeclaredLines } from '../support/declared-sarif.ts';
import { assertEvaluateAccepts } from '../support/evidence.ts';
import { assertReportsValid } from '../support/reports.ts';
import { validateSarifMultitool } from '../support/sarif-validate.ts';

// Terraform configuration (.tf) judged before it is applied. The fixtures under
// test/fixtures/iac/terraform/config are the providers' documented examples (aws_kms_key,
// google_kms_crypto_key, vault_transit_secret_backend_key, vault_pki_secret_backend_role,
// tls_private_key, tls_self_signed_cert, azurerm_key_vault_key), a local module called with
// for_each, a variable nobody sets, and one key whose policy is opened to everyone.

const CONFIG = 'test/fixtures/iac/terraform/config';
const NOW = '2026-11-01T00:00:00Z';

/** Written by hand from the fixtures: rule, severity, resource address, and the file:line the result points at. */
const EXPECTED = [
  // Principal "*" may decrypt: the policy attribute's line.
  ['KD-ACC-001', 'critical', 'aws#aws_kms_key.shared', 'aws/main.tf', 61],
  // RSA_3072 for signing: a quantum-vulnerable algorithm (info), on customer_master_key_spec.
  ['KD-ALG-003', 'info', 'aws#aws_kms_key.asymmetric', 'aws/main.tf', 31],
  // The for_each instance whose map entry says rotate = false: the module's enable_key_rotation line.
  ['KD-ROT-001', 'high', 'aws#module.service_keys["legacy"].aws_kms_key.this', 'modules/kms-key/main.tf', 12],
  // EC_SIGN_P384_SHA384 in version_template: the algorithm line inside the nested block.
  ['KD-ALG-003', 'info', 'gcp-vault#google_kms_crypto_key.example-asymmetric-sign-key', 'gcp-vault/main.tf', 25],
  // No rotation_period: the provider's default is no rotation. Nothing to point at but the block.
  ['KD-ROT-001', 'high', 'gcp-vault#google_kms_crypto_key.never-rotates', 'gcp-vault/main.tf', 30],
  // The documented transit key sets no auto_rotate_period: Vault's default 0 never rotates.
  ['KD-ROT-001', 'high', 'gcp-vault#vault_transit_secret_backend_key.key', 'gcp-vault/main.tf', 43],
  // The three documented TLS keys (ECDSA P384, RSA 4096, Ed25519): quantum-vulnerable, info.
  ['KD-ALG-003', 'info', 'tls-azure#tls_private_key.ecdsa-p384-example', 'tls-azure/main.tf', 6],
  ['KD-ALG-003', 'info', 'tls-azure#tls_private_key.rsa-4096-example', 'tls-azure/main.tf', 12],
  ['KD-ALG-003', 'info', 'tls-azure#tls_private_key.ed25519-example', 'tls-azure/main.tf', 18],
  // The documented Azure key may sign and decrypt (key_opts), RSA-2048 (low for a key that also encrypts).
  ['KD-ACC-005', 'medium', 'tls-azure#azurerm_key_vault_key.generated', 'tls-azure/main.tf', 38],
  ['KD-ALG-003', 'low', 'tls-azure#azurerm_key_vault_key.generated', 'tls-azure/main.tf', 41],
].map(([rule, severity, uid, file, line]) => `${rule} ${severity} terraform:config/${uid} ${CONFIG}/${file}:${line}`);

describe('keydrift scan of Terraform configuration files', () => {
  let out: string;
  before(async () => {
    out = await mkdtemp(path.join(os.tmpdir(), 'keydrift-tf-config-'));
  });
  after(async () => {
    await rm(out, { recursive: true, force: true });
  });

  it('judges the documented examples, modules and for_each instances, each result on the line that sets the value', async () => {
    const dir = path.join(out, 'examples');
    const run = await runCli(['scan', '--config', 'test/fixtures/iac/terraform/keydrift-config.yaml', '--format', 'json,sarif', '--out', dir, '--now', NOW]);
    assert.equal(run.code, 1, run.stderr);
    const report = assertReportsValid(dir);
    await assertEvaluateAccepts(report.inventory, report.sources);
    assert.deepEqual(report.sources.map((source) => [source.id, source.status, source.items, source.errors]), [['iac', 'ok', 17, []]]);
    const sarif = JSON.parse(await readFile(path.join(dir, 'keydrift.sarif'), 'utf8')) as Log;
    const results = sarif.runs[0]!.results!.map((result) => {
      const location = result.locations![0]!.physicalLocation!;
      const finding = report.findings.find((candidate) => candidate.fingerprint === result.partialFingerprints!['primaryLocationLineHash'])!;
      return `${result.ruleId} ${finding.severity} ${finding.resource.uid} ${location.artifactLocation!.uri}:${location.region!.startLine}`;
    });
    assert.deepEqual(results.sort(), [...EXPECTED].sort());
    assert.deepEqual((await validateSarifMultitool(path.join(dir, 'keydrift.sarif'))).errors, []);

    const item = (address: string) => report.inventory.find((candidate) => candidate.address === address)!;
    // A variable nobody sets: unknown, never off, so no KD-ROT-001.
    assert.deepEqual(item('aws_kms_key.decided_elsewhere').rotation, { supported: true, automatic: null, periodDays: null, lastRotatedAt: null, nextRotationAt: null });
    // for_each over a map variable through a local module: one key per entry, its alias linked by reference.
    assert.deepEqual(item('module.service_keys["payments"].aws_kms_key.this').rotation?.automatic, true);
    assert.deepEqual(item('module.service_keys["payments"].aws_kms_key.this').evidence['aliases'], ['alias/payments']);
    assert.deepEqual(item('module.service_keys["payments"].aws_kms_key.this').tags, { service: 'payments' });
    assert.deepEqual(item('aws_kms_key.example').evidence['aliases'], ['alias/my-key-alias']);
    // The module's directory is matched too, but a module called by a matched root is not a root of its own.
    assert.equal(report.inventory.filter((candidate) => candidate.address === 'aws_kms_key.this').length, 0);
    // Rotation after 60 days: expire_after P90D minus time_before_expiry P30D.
    assert.equal(item('azurerm_key_vault_key.generated').rotation?.periodDays, 60);
    // The self-signed certificate takes its key from the tls_private_key it references.
    assert.equal(item('tls_self_signed_cert.example').algorithm, 'EC-P384');
  });

  it('PR mode: a change that turns rotation off gives one KD-ROT-001 result on the enable_key_rotation line', async () => {
    const repo = path.join(out, 'repo');
    await mkdir(path.join(repo, 'infra'), { recursive: true });
    await writeFile(path.join(repo, 'keydrift.yaml'), 'version: 1\nname: pr\nsources:\n  - { id: iac, type: terraform, paths: ["infra/*.tf"] }\n');
    const main = (rotation: string) =>
      [
        'variable "environment" {',
        '  default = "prod"',
        '}',
        '',
        'resource "aws_kms_key" "orders" {',
        '  description             = "orders ${var.environment}"',
        '  deletion_window_in_days = 30',
        `  enable_key_rotation     = ${rotation}`,
        '}',
        '',
      ].join('\n');
    await writeFile(path.join(repo, 'infra', 'main.tf'), main('true'));
    const before = await runCli(['scan', '--config', 'keydrift.yaml', '--format', 'json,sarif', '--out', 'base', '--now', NOW], { cwd: repo });
    assert.equal(before.code, 0, before.stderr);
    assert.deepEqual(assertReportsValid(path.join(repo, 'base')).findings, []);

    await writeFile(path.join(repo, 'infra', 'main.tf'), main('false'));
    const changed = await runCli(['scan', '--config', 'keydrift.yaml', '--format', 'json,sarif', '--out', 'head', '--now', NOW], { cwd: repo });
    assert.equal(changed.code, 1, changed.stderr);
    const report = assertReportsValid(path.join(repo, 'head'));
    await assertSarifOnDeclaredLines(path.join(repo, 'head'), report, [{ ruleId: 'KD-ROT-001', file: 'infra/main.tf', line: 8 }]);
    const sarif = JSON.parse(await readFile(path.join(repo, 'head', 'keydrift.sarif'), 'utf8')) as Log;
    assert.deepEqual(sarif.runs[0]!.results![0]!.locations![0]!.physicalLocation!.region, { startLine: 8, startColumn: 3, endLine: 8, endColumn: 4 });
  });

  it('reports malformed HCL by file and line, marks the source partial (exit 3) and still judges the other file of the directory', async () => {
    const repo = path.join(out, 'broken');
    await mkdir(repo, { recursive: true });
    await writeFile(
      path.join(repo, 'keydrift.yaml'),
      `version: 1\nsources:\n  - { id: iac, type: terraform, paths: ["${path.resolve(CONFIG, 'broken')}/*.tf"] }\n`,
    );
    const run = await runCli(['scan', '--config', 'keydrift.yaml', '--format', 'json,sarif', '--out', 'out', '--now', NOW], { cwd: repo });
    assert.equal(run.code, 3, run.stderr);
    const report = assertReportsValid(path.join(repo, 'out'));
    const [source] = report.sources;
    assert.equal(source!.status, 'partial');
    assert.deepEqual(source!.errors.map((error) => error.code), ['terraform-hcl-invalid']);
    assert.match(source!.errors[0]!.message, /config\/broken\/main\.tf: line 8, column 1: expected "}" to close the block opened at line 5/);
    assert.deepEqual(report.inventory.map((item) => item.address), ['aws_kms_key.still_judged']);
    assert.deepEqual(report.findings.map((finding) => finding.ruleId), ['KD-GOV-003']);
  });

  it('refuses configuration in JSON syntax by name instead of skipping it', async () => {
    const repo = path.join(out, 'json');
    await mkdir(repo, { recursive: true });
    await writeFile(path.join(repo, 'keydrift.yaml'), 'version: 1\nsources:\n  - { id: iac, type: terraform, paths: ["*.tf.json"] }\n');
    await writeFile(path.join(repo, 'main.tf.json'), '{"resource": {}}');
    const run = await runCli(['scan', '--config', 'keydrift.yaml', '--format', 'json', '--out', 'out', '--now', NOW], { cwd: repo });
    assert.equal(run.code, 3, run.stderr);
    const report = assertReportsValid(path.join(repo, 'out'));
    assert.deepEqual(report.sources[0]!.errors.map((error) => error.code), ['terraform-json-configuration-unsupported']);
    assert.match(report.sources[0]!.errors[0]!.message, /main\.tf\.json: configuration in JSON syntax is not read/);
  });
});
