import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Log } from 'sarif';
import type { Report } from '../../src/report/types.ts';
import { REPO, runCli, type CliRun } from '../support/cli.ts';
import { readValidReport } from '../support/reports.ts';
import { removeDir, tempDir } from '../support/certs.ts';
import { validateSarifMultitool, validateSarifSchema } from '../support/sarif-validate.ts';

const NOW = '2026-11-01T00:00:00Z';

const assertValidReport = readValidReport;

describe('keydrift scan on the bundled demo', () => {
  let out: string;
  let run: CliRun;
  let report: Report;

  before(async () => {
    out = tempDir();
    run = await runCli(['scan', '--config', 'examples/demo/keydrift.yaml', '--now', NOW, '--out', out, '--format', 'json,sarif,md,html,csv']);
    report = assertValidReport(path.join(out, 'keydrift.json'));
  });
  after(() => removeDir(out));

  test('prints a summary on stdout, progress on stderr, and exits 1 for high findings', () => {
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stdout, /^keydrift: 22 items, 25 findings \(critical 1, high 9, medium 14, low 0, info 1\), 1 waived -> findings at or above high \(exit 1\)$/m);
    assert.match(run.stderr, /collecting demo-certs \(x509-files\)/);
    assert.doesNotMatch(run.stdout, /collecting/);
  });

  test('the findings cover the certificate and key rules, each on the resource it is about', () => {
    const found = report.findings.map((finding) => `${finding.ruleId} ${finding.severity} ${finding.resource.name}${finding.waiver ? ' (waived)' : ''}`).sort();
    assert.deepEqual(found, [
      'KD-ACC-002 medium alias/orders-data',
      'KD-ALG-001 high legacy-zmk',
      'KD-ALG-003 info alias/release-signing',
      'KD-CRT-001 high api.example.com',
      'KD-CRT-002 high payments.example.com',
      'KD-CRT-002 medium partner-b.example.org',
      'KD-CRT-002 medium status.example.com',
      'KD-CRT-003 medium intranet.example.internal (waived)',
      'KD-CRT-004 high vpn.example.internal',
      'KD-CRT-005 high gateway.partner.example.net',
      // The demo's issuing CA is a subordinate CA, and its leaves carry no CRL or OCSP location.
      ...['cdn.example.com', 'intranet.example.internal', 'partner-a.example.org', 'partner-b.example.org', 'payments.example.com', 'shop.example.com', 'status.example.com', 'vpn.example.internal'].map(
        (name) => `KD-CRT-011 medium ${name}`,
      ),
      'KD-GOV-002 medium KD-CRT-005 waiver for certs/legacy/partner-sha1.pem#*',
      'KD-HSM-001 high orders',
      'KD-RET-001 medium legacy-zmk',
      'KD-RET-002 critical alias/claims-archive-2019',
      'KD-RET-003 medium card-data',
      'KD-RET-004 high alias/byok-ledger',
      'KD-ROT-001 high alias/orders-data',
      'KD-ROT-003 high alias/orders-data',
    ]);
    assert.equal(report.summary.waived, 1);
    assert.equal(report.summary.exitCode, 1);
    assert.equal(report.scan.now, '2026-11-01T00:00:00.000Z');
  });

  test('SARIF has zero errors from ajv (SARIF 2.1.0 schema) and from the SARIF Multitool (Sarif;Ghas)', async () => {
    const file = path.join(out, 'keydrift.sarif');
    const sarif = JSON.parse(readFileSync(file, 'utf8')) as Log;
    assert.deepEqual(validateSarifSchema(sarif), []);
    const multitool = await validateSarifMultitool(file);
    assert.deepEqual(multitool.errors, []);
    const run0 = sarif.runs[0]!;
    assert.equal(run0.automationDetails?.id, 'keydrift/demo/');
    assert.equal(run0.tool.driver.rules?.length, readCatalogueSize());
    for (const result of run0.results ?? []) {
      const location = result.locations?.[0]?.physicalLocation;
      assert.ok(location?.artifactLocation?.uri && !/^[a-z]+:/i.test(location.artifactLocation.uri), 'relative file uri');
      assert.ok(location.region?.startLine && location.region.endLine && location.region.startColumn && location.region.endColumn);
      const finding = report.findings.find((f) => f.fingerprint === result.partialFingerprints?.['primaryLocationLineHash']);
      assert.ok(finding, 'primaryLocationLineHash is the JSON fingerprint');
      assert.equal(result.locations?.[0]?.logicalLocations?.[0]?.fullyQualifiedName, finding.resource.uid);
    }
    const waived = (run0.results ?? []).filter((result) => result.suppressions?.length);
    assert.equal(waived.length, 1);
    assert.equal(waived[0]?.suppressions?.[0]?.kind, 'external');
    assert.match(waived[0]?.suppressions?.[0]?.justification ?? '', /\(CHG-2291\) \(owner: pki-team@example\.com, expires 2027-03-31\)/);
    const stale = (run0.results ?? []).find((result) => result.ruleId === 'KD-GOV-002')!;
    assert.equal(stale.locations?.[0]?.physicalLocation?.artifactLocation?.uri, 'examples/demo/keydrift.yaml');
    const rule = run0.tool.driver.rules!.find((r) => r.id === 'KD-CRT-001')!;
    assert.equal(rule.properties?.['security-severity'], '8.0');
    assert.ok((rule.properties?.tags as string[]).includes('security'));
    assert.ok(rule.help?.text && rule.help.markdown && rule.shortDescription?.text && rule.fullDescription?.text);
  });

  test('certificate findings point at the certificate lines in the repository; the DER file at line 1', () => {
    const expired = report.findings.find((f) => f.ruleId === 'KD-CRT-001')!;
    assert.equal(expired.declaredAt.file, 'examples/demo/certs/web/api-expired.pem');
    const lines = readFileSync(path.join(REPO, expired.declaredAt.file), 'utf8').split('\n');
    assert.equal(lines[expired.declaredAt.region.startLine - 1], '-----BEGIN CERTIFICATE-----');
    assert.equal(lines[expired.declaredAt.region.endLine - 1], '-----END CERTIFICATE-----');
    const der = report.findings.find((f) => f.ruleId === 'KD-CRT-003')!;
    assert.equal(der.declaredAt.file, 'examples/demo/certs/legacy/intranet-5y.der');
    assert.equal(der.declaredAt.region.startLine, 1);
  });

  test('Markdown has counts by severity and by rule, top findings and sources', () => {
    const md = readFileSync(path.join(out, 'keydrift.md'), 'utf8');
    assert.match(md, /\| high \| 9 \|/);
    assert.match(md, /\| KD-CRT-002 \| Certificate expires soon \| 3 \|/);
    assert.match(md, /## Top findings/);
    assert.match(md, /\| `demo-certs` \| `x509-files` \| ok \| 14 \|/);
  });

  test('evaluate re-derives exactly the same findings from the report alone', async () => {
    const again = tempDir();
    try {
      const rerun = await runCli(['evaluate', '--inventory', path.join(out, 'keydrift.json'), '--now', report.scan.now, '--out', again, '--format', 'json']);
      assert.equal(rerun.code, 1, rerun.stderr);
      const derived = assertValidReport(path.join(again, 'keydrift.json'));
      assert.deepEqual(derived.findings, report.findings);
      assert.equal(derived.scan.inventoryDigest, report.scan.inventoryDigest);
      assert.equal(derived.scan.policyDigest, report.scan.policyDigest);
    } finally {
      removeDir(again);
    }
  });

  test('--baseline marks every finding unchanged against the same evidence, and new ones as new', async () => {
    const again = tempDir();
    try {
      const rerun = await runCli(['scan', '--config', 'examples/demo/keydrift.yaml', '--now', NOW, '--out', again, '--format', 'json', '--baseline', path.join(out, 'keydrift.json')]);
      assert.equal(rerun.code, 1, rerun.stderr);
      const compared = assertValidReport(path.join(again, 'keydrift.json'));
      assert.deepEqual(new Set(compared.findings.map((finding) => finding.baselineState)), new Set(['unchanged']));
      assert.equal(compared.summary.new, 0);
      assert.equal(compared.summary.fixed, 0);
      const later = await runCli(['scan', '--config', 'examples/demo/keydrift.yaml', '--now', '2026-12-29T00:00:00Z', '--out', again, '--format', 'json', '--baseline', path.join(out, 'keydrift.json')]);
      const laterReport = assertValidReport(path.join(again, 'keydrift.json'));
      assert.equal(later.code, 1);
      // by late December the shop certificate (notAfter 2026-12-30) is expiring: a new finding
      assert.ok(laterReport.findings.some((finding) => finding.resource.name === 'shop.example.com' && finding.baselineState === 'new'));
      assert.ok(laterReport.summary.new > 0);
      assert.ok(laterReport.summary.fixed > 0); // the certificates that expired in between no longer "expire soon"
    } finally {
      removeDir(again);
    }
  });

  test('report re-renders a saved JSON report in other formats', async () => {
    const again = tempDir();
    try {
      const rerun = await runCli(['report', '--from', path.join(out, 'keydrift.json'), '--format', 'md,csv', '--out', again]);
      assert.equal(rerun.code, 0, rerun.stderr);
      assert.equal(readFileSync(path.join(again, 'keydrift.md'), 'utf8'), readFileSync(path.join(out, 'keydrift.md'), 'utf8'));
      assert.equal(readFileSync(path.join(again, 'keydrift.csv'), 'utf8').split('\r\n').length, 26 + 2);
    } finally {
      removeDir(again);
    }
  });
});

test('the committed demo report is reproduced by "keydrift evaluate --inventory reports/keydrift.json"', async () => {
  const committed = assertValidReport(path.join(REPO, 'reports/keydrift.json'));
  const out = tempDir();
  try {
    const run = await runCli(['evaluate', '--inventory', 'reports/keydrift.json', '--now', committed.scan.now, '--out', out, '--format', 'json']);
    assert.equal(run.code, committed.summary.exitCode, run.stderr);
    const derived = assertValidReport(path.join(out, 'keydrift.json'));
    assert.deepEqual(derived.findings, committed.findings);
    assert.deepEqual(derived.summary, committed.summary);
  } finally {
    removeDir(out);
  }
});

function readCatalogueSize(): number {
  return readdirSync(path.join(REPO, 'rules')).filter((name) => /^KD-[A-Z]{3}-\d{3}\.yaml$/.test(name)).length;
}

