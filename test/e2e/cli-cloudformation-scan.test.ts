import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { runCli } from '../support/cli.ts';
import { assertSarifOnDeclaredLines } from '../support/declared-sarif.ts';
import { assertEvaluateAccepts } from '../support/evidence.ts';
import type { Report } from '../../src/report/types.ts';

const FIXTURE = 'test/fixtures/iac/cloudformation';
const TEMPLATES = `${FIXTURE}/templates`;
const NOW = '2026-01-15T00:00:00Z';


// Written by hand from the templates: what a reviewer of the pull request should see, and on which line.
const EXPECTED = [
  // KeySpec: !Ref SigningKeySpec has no default: the algorithm is unknown, reported low.
  { ruleId: 'KD-ALG-001', severity: 'low', uid: 'cloudformation:templates/kms-keys.yaml#Resources.myParameterSpecKey', file: `${TEMPLATES}/kms-keys.yaml`, line: 85 },
  // KeySpec: RSA_2048 for signing: not quantum-safe.
  { ruleId: 'KD-ALG-003', severity: 'info', uid: 'cloudformation:templates/kms-keys.yaml#Resources.myAsymmetricKey', file: `${TEMPLATES}/kms-keys.yaml`, line: 64 },
  // broken.yaml cannot be read: the source is partial.
  { ruleId: 'KD-GOV-003', severity: 'high', uid: 'source:stacks', file: `${FIXTURE}/keydrift.yaml`, line: 3 },
  // EnableKeyRotation: false on a symmetric key.
  { ruleId: 'KD-ROT-001', severity: 'high', uid: 'cloudformation:templates/kms-keys.yaml#Resources.myKey', file: `${TEMPLATES}/kms-keys.yaml`, line: 30 },
  // RotationPeriodInDays: !Ref RotationDays, default 730 > 365.
  { ruleId: 'KD-ROT-002', severity: 'medium', uid: 'cloudformation:templates/kms-keys.yaml#Resources.myLongRotationKey', file: `${TEMPLATES}/kms-keys.yaml`, line: 58 },
];

test('scan of CloudFormation templates: the expected findings, each SARIF result on the line that sets the value', async (t) => {
  const out = await mkdtemp(path.join(os.tmpdir(), 'kd-cfn-'));
  t.after(() => rm(out, { recursive: true, force: true }));
  const run = await runCli(['scan', '--config', `${FIXTURE}/keydrift.yaml`, '--format', 'json,sarif', '--out', out, '--now', NOW]);
  assert.equal(run.code, 1, run.stderr);

  const report = JSON.parse(await readFile(path.join(out, 'keydrift.json'), 'utf8')) as Report;
  // What the scan collected, evaluate accepts (the contract every collector keeps).
  await assertEvaluateAccepts(report.inventory, report.sources);
  assert.deepEqual(
    report.findings.map((finding) => ({ ruleId: finding.ruleId, severity: finding.severity, uid: finding.resource.uid })),
    EXPECTED.map(({ ruleId, severity, uid }) => ({ ruleId, severity, uid })),
  );
  const [source] = report.sources;
  assert.equal(source!.status, 'partial');
  assert.deepEqual(source!.errors.map((error) => error.code), ['template-invalid']);
  assert.match(source!.errors[0]!.message, new RegExp(`^${TEMPLATES}/broken\\.yaml:6:7: `));

  await assertSarifOnDeclaredLines(out, report, EXPECTED);
});

test('a scan whose only template is malformed is incomplete: exit 3, KD-GOV-003 naming the file and line', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kd-cfn-broken-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await copyFile(`${TEMPLATES}/broken.yaml`, path.join(dir, 'broken.yaml'));
  await writeFile(path.join(dir, 'keydrift.yaml'), 'version: 1\nsources:\n  - { id: stacks, type: cloudformation, paths: ["*.yaml"] }\n');
  const run = await runCli(['scan', '--config', 'keydrift.yaml', '--format', 'json', '--out', 'reports', '--now', NOW], { cwd: dir });
  assert.equal(run.code, 3, run.stderr);
  const report = JSON.parse(await readFile(path.join(dir, 'reports', 'keydrift.json'), 'utf8')) as Report;
  assert.deepEqual(report.findings.map((finding) => finding.ruleId), ['KD-GOV-003']);
  assert.equal(report.sources[0]!.status, 'failed');
  assert.match(report.sources[0]!.errors[0]!.message, /^broken\.yaml:6:7: not a valid YAML or JSON template: /);
});
