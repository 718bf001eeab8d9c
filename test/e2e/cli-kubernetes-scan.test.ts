import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { runCli } from '../support/cli.ts';
import { assertSarifOnDeclaredLines } from '../support/declared-sarif.ts';
import { assertEvaluateAccepts } from '../support/evidence.ts';
import type { Report } from '../../src/report/types.ts';

const FIXTURE = 'test/fixtures/iac/kubernetes';
const MANIFESTS = `${FIXTURE}/manifests`;
// After 2026-03-15: public-tls allows leaf certificates 200 days.
const NOW = '2026-06-01T00:00:00Z';


// Written by hand from the manifests: what a reviewer of the pull request should see, and on which line.
// Not here: example-com (90 days, RSA 2048), sandbox-ca (ten years, but a CA), acme-crt (a year asked of
// an ACME server, which decides the validity itself) and every object that is not cert-manager's.
const EXPECTED = [
  // duration: 8760h, 365 days > 200.
  { ruleId: 'KD-CRT-003', severity: 'medium', uid: 'kubernetes:manifests/certificates.yaml#Certificate/sandbox/billing-api', file: `${MANIFESTS}/certificates.yaml`, line: 44 },
  // Helm-rendered duration: 17520h0m0s, 730 days.
  { ruleId: 'KD-CRT-003', severity: 'medium', uid: 'kubernetes:manifests/helm/rendered.yaml#Certificate/release-name-shop-tls', file: `${MANIFESTS}/helm/rendered.yaml`, line: 29 },
  // privateKey.size: 1024 with algorithm RSA.
  { ruleId: 'KD-CRT-004', severity: 'high', uid: 'kubernetes:manifests/certificates.yaml#Certificate/sandbox/legacy-meter', file: `${MANIFESTS}/certificates.yaml`, line: 65 },
  // broken/broken.yaml is not YAML: the source is partial.
  { ruleId: 'KD-GOV-003', severity: 'high', uid: 'source:cluster', file: `${FIXTURE}/keydrift.yaml`, line: 3 },
];

test('scan of cert-manager manifests: the expected findings, each SARIF result on the line that sets the value', async (t) => {
  const out = await mkdtemp(path.join(os.tmpdir(), 'kd-k8s-'));
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
  assert.deepEqual(report.findings[0]!.evidence, { duration: '8760h', validityDays: 365, maxValidityDays: 200, limitSource: 'cab-forum-schedule' });
  assert.deepEqual(report.findings[2]!.evidence, { keyType: 'rsa', keySize: 1024, minBits: 2048, minBitsFrom: null, judgedAt: 'now' });
  const [source] = report.sources;
  assert.equal(source!.status, 'partial');
  assert.deepEqual(source!.errors.map((error) => error.code), ['manifest-invalid']);
  assert.match(source!.errors[0]!.message, new RegExp(`^${MANIFESTS}/broken/broken\\.yaml:7:3: not valid YAML: `));

  await assertSarifOnDeclaredLines(out, report, EXPECTED);
});

test('a scan whose only manifest is malformed is incomplete: exit 3, KD-GOV-003 naming the file and line', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kd-k8s-broken-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await copyFile(`${MANIFESTS}/broken/broken.yaml`, path.join(dir, 'broken.yaml'));
  await writeFile(path.join(dir, 'keydrift.yaml'), 'version: 1\nsources:\n  - { id: cluster, type: kubernetes, paths: ["*.yaml"] }\n');
  const run = await runCli(['scan', '--config', 'keydrift.yaml', '--format', 'json', '--out', 'reports', '--now', NOW], { cwd: dir });
  assert.equal(run.code, 3, run.stderr);
  const report = JSON.parse(await readFile(path.join(dir, 'reports', 'keydrift.json'), 'utf8')) as Report;
  assert.deepEqual(report.findings.map((finding) => finding.ruleId), ['KD-GOV-003']);
  assert.equal(report.sources[0]!.status, 'failed');
  assert.match(report.sources[0]!.errors[0]!.message, /^broken\.yaml:7:3: not valid YAML: /);
});
