import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { Finding } from '../../src/findings/types.ts';
import { OCSF_VERSION, toOcsf, type OcsfDetectionFinding } from '../../src/report/ocsf.ts';
import type { Report } from '../../src/report/types.ts';
import { validateOcsf } from '../support/report-validators.ts';

// toOcsf renders OCSF Detection Findings (class 2004) that the published OCSF schema accepts: each
// event is validated offline against the JSON Schema generated from the schema server's export of
// the version and profiles the event names (ocsf-json-schema, provisioned), where every closed
// object rejects an attribute the version does not define.

const DEMO = JSON.parse(readFileSync(new URL('../../reports/keydrift.json', import.meta.url), 'utf8')) as Report;
const SEVERITY_ID = { critical: 5, high: 4, medium: 3, low: 2, info: 1 } as const;
const BASELINE_NOW = '2026-10-31T00:00:00.000Z';

function events(report: Report): OcsfDetectionFinding[] {
  const text = toOcsf(report);
  assert.ok(text.endsWith('\n'));
  return JSON.parse(text) as OcsfDetectionFinding[];
}

function byRuleAndName(list: readonly Finding[], ruleId: string, name: string): Finding {
  const found = list.find((finding) => finding.ruleId === ruleId && finding.resource.name === name);
  assert.ok(found, `${ruleId} on ${name}`);
  return found;
}

/**
 * The demo report as a run with --baseline would write it: one finding new, one updated, one fixed
 * since the baseline (absent), the rest unchanged; plus findings on a declared Terraform key, on a
 * source and from a custom rule, the shapes the demo lacks.
 */
function baselineReport(): Report {
  const report = structuredClone(DEMO);
  const states = new Map<string, Finding['baselineState']>([
    [byRuleAndName(report.findings, 'KD-ACC-002', 'alias/orders-data').fingerprint, 'new'],
    [byRuleAndName(report.findings, 'KD-ROT-001', 'alias/orders-data').fingerprint, 'updated'],
  ]);
  const fixed = byRuleAndName(report.findings, 'KD-ALG-001', 'legacy-zmk');
  const findings: Finding[] = report.findings.filter((finding) => finding !== fixed).map((finding) => ({ ...finding, baselineState: states.get(finding.fingerprint) ?? 'unchanged' }));
  findings.push({ ...fixed, baselineState: 'absent' });
  const template = byRuleAndName(report.findings, 'KD-ROT-001', 'alias/orders-data');
  findings.push(
    {
      ...template,
      fingerprint: 'd'.repeat(32),
      resource: { uid: 'aws_kms_key.payments', kind: 'key', provider: 'aws-kms', name: 'payments', location: 'infra/kms.tf', sourceId: 'iac' },
      declaredAt: { file: 'infra/kms.tf', region: { startLine: 3, startColumn: 1, endLine: 9, endColumn: 2 } },
      baselineState: 'new',
    },
    {
      ...template,
      fingerprint: 'e'.repeat(32),
      ruleId: 'KD-GOV-003',
      severity: 'high',
      title: 'Source not fully collected',
      message: 'Source prod-aws was not fully collected: AccessDenied on kms:ListKeys in eu-west-1.',
      resource: { uid: 'prod-aws', kind: 'source', provider: 'aws-kms', name: 'prod-aws', location: 'keydrift.yaml', sourceId: 'prod-aws' },
      evidence: { status: 'partial', errors: 1 },
      baselineState: 'unchanged',
    },
    {
      ...template,
      fingerprint: 'f'.repeat(32),
      ruleId: 'ACME-001',
      severity: 'low',
      title: 'Keys carry an owner tag',
      message: 'Key alias/orders-data has no cost-centre tag.',
      evidence: {},
      baselineState: 'unchanged',
    },
  );
  report.scan.customRules = {
    'ACME-001': { title: 'Keys carry an owner tag', severity: 'low', description: 'Every key names its cost centre.', controls: [{ framework: 'acme-policy', id: 'KM-7' }] },
  };
  report.findings = findings;
  report.drift = { baselineNow: BASELINE_NOW, added: [], removed: [], changed: [] };
  return report;
}

function eventFor(list: readonly OcsfDetectionFinding[], fingerprint: string): OcsfDetectionFinding {
  const found = list.find((event) => event.finding_info['uid'] === fingerprint);
  assert.ok(found, `no event for ${fingerprint}`);
  return found;
}

test('the demo report renders one Detection Finding per finding that the published OCSF schema accepts', () => {
  const rendered = events(DEMO);
  assert.deepEqual(validateOcsf(rendered), []);
  assert.equal(rendered.length, DEMO.findings.length);
  const time = Date.parse(DEMO.scan.now);
  DEMO.findings.forEach((finding, index) => {
    const event = rendered[index]!;
    assert.equal(event.class_uid, 2004);
    assert.equal(event.category_uid, 2);
    assert.equal(event.type_uid, 200401);
    assert.equal(event.activity_id, 1);
    assert.equal(event.time, time);
    assert.equal(event.severity_id, SEVERITY_ID[finding.severity]);
    assert.equal(event.metadata['version'], OCSF_VERSION);
    assert.deepEqual(event.metadata['product'], { name: 'keydrift', vendor_name: 'keydrift', version: DEMO.tool.version });
    assert.equal(event.finding_info['uid'], finding.fingerprint);
    assert.equal(event.finding_info['title'], finding.title);
    assert.equal(event.finding_info['desc'], finding.message);
    assert.deepEqual(event.finding_info['types'], [finding.ruleId]);
    assert.equal(event.resources[0]!['uid'], finding.resource.uid);
    assert.equal(event.resources[0]!['type'], finding.resource.kind);
    assert.deepEqual((event['remediation'] as { desc: string }).desc, finding.remediation.text);
    assert.equal(event.unmapped['rule'], finding.ruleId);
    assert.deepEqual(event.unmapped['evidence'], finding.evidence);
    // Without a baseline nothing was resolved and nothing is known to be first seen now.
    assert.equal(event.finding_info['first_seen_time'], undefined);
  });
  assert.equal(rendered.filter((event) => event.status_id === 3 && event.status === 'Suppressed').length, DEMO.summary.waived);
  assert.equal(rendered.filter((event) => event.status_id === 1 && event.status === 'New').length, DEMO.findings.length - DEMO.summary.waived);
  // --fail-on high: the unwaived critical and high findings are the alerts.
  assert.equal(rendered.filter((event) => event['is_alert'] === true).length, DEMO.summary.findings.critical + DEMO.summary.findings.high);
  assert.equal(new Set(rendered.map((event) => event.metadata['uid'])).size, rendered.length, 'event uids are unique');
  assert.equal(toOcsf(DEMO), toOcsf(structuredClone(DEMO)), 'the same report renders the same events');
});

test('cloud resources carry the cloud profile with provider, account and region read from their identifiers; others none', () => {
  const rendered = events(DEMO);
  const aws = eventFor(rendered, byRuleAndName(DEMO.findings, 'KD-RET-004', 'alias/byok-ledger').fingerprint);
  assert.deepEqual(aws.metadata['profiles'], ['cloud']);
  assert.deepEqual(aws['cloud'], { provider: 'AWS', region: 'eu-west-1', cloud_partition: 'aws', account: { uid: '111122223333', type_id: 10, type: 'AWS Account' } });
  assert.equal(aws.resources[0]!['region'], 'eu-west-1');
  const gcp = rendered.find((event) => event.resources[0]!['name'] === 'card-data');
  assert.ok(gcp, 'a finding on the GCP key');
  assert.deepEqual(gcp['cloud'], { provider: 'GCP', region: 'europe-west1', account: { uid: 'example-prod', type_id: 11, type: 'GCP Project' } });
  const file = rendered.find((event) => (event.resources[0]!['data'] as { provider: string }).provider === 'x509-file');
  assert.ok(file, 'a finding on a certificate file');
  assert.deepEqual(file.metadata['profiles'], []);
  assert.equal(file['cloud'], undefined);
  assert.equal(file.resources[0]!['region'], undefined);
});

test('a waived finding is Suppressed with its waiver, a fixed one Resolved (Close), and the report still validates', () => {
  const report = baselineReport();
  const rendered = events(report);
  assert.deepEqual(validateOcsf(rendered), []);
  const time = Date.parse(report.scan.now);

  const waived = report.findings.find((finding) => finding.waiver)!;
  const suppressed = eventFor(rendered, waived.fingerprint);
  assert.equal(suppressed.status_id, 3);
  assert.equal(suppressed.status, 'Suppressed');
  assert.equal(suppressed['is_alert'], false);
  assert.match(String(suppressed['status_detail']), /^Waived: Replaced by the 2027 internal CA rollout/);
  assert.deepEqual(suppressed.unmapped['waiver'], waived.waiver);

  const resolved = eventFor(rendered, byRuleAndName(report.findings, 'KD-ALG-001', 'legacy-zmk').fingerprint);
  assert.equal(resolved.status_id, 4);
  assert.equal(resolved.status, 'Resolved');
  assert.equal(resolved.activity_id, 3);
  assert.equal(resolved.type_uid, 200403);
  assert.equal(resolved.type_name, 'Detection Finding: Close');
  assert.equal(resolved['is_alert'], false);
  assert.equal(resolved.finding_info['last_seen_time'], Date.parse(BASELINE_NOW));
  assert.equal(resolved.unmapped['baseline_state'], 'absent');

  const added = eventFor(rendered, byRuleAndName(report.findings, 'KD-ACC-002', 'alias/orders-data').fingerprint);
  assert.equal(added.status_id, 1);
  assert.equal(added.finding_info['first_seen_time'], time);
  assert.equal(added.finding_info['last_seen_time'], time);

  const updated = eventFor(rendered, byRuleAndName(report.findings, 'KD-ROT-001', 'alias/orders-data').fingerprint);
  assert.equal(updated.activity_id, 2);
  assert.equal(updated.type_uid, 200402);
  assert.equal(updated.finding_info['first_seen_time'], undefined);
});

test('declared, source and custom-rule findings validate; an AWS resource without an ARN gets the provider alone', () => {
  const rendered = events(baselineReport());
  assert.deepEqual(validateOcsf(rendered), []);
  const declared = eventFor(rendered, 'd'.repeat(32));
  assert.deepEqual(declared['cloud'], { provider: 'AWS' });
  assert.deepEqual(declared.resources[0], { uid: 'aws_kms_key.payments', name: 'payments', type: 'key', data: { provider: 'aws-kms', sourceId: 'iac', location: 'infra/kms.tf' } });
  const source = eventFor(rendered, 'e'.repeat(32));
  assert.equal(source.resources[0]!['type'], 'source');
  assert.equal(source['is_alert'], true);
  const custom = eventFor(rendered, 'f'.repeat(32));
  assert.deepEqual(custom.unmapped['controls'], [{ framework: 'acme-policy', id: 'KM-7', title: '', verified: false }]);
  assert.equal((custom.finding_info['analytic'] as { category: string }).category, 'custom');
});

test('the validator rejects what the OCSF schema rejects, so a clean result is not vacuous', () => {
  const rendered = events(DEMO);
  const aws = structuredClone(rendered.find((event) => event['cloud'] !== undefined)!);
  aws.metadata['profiles'] = [];
  const broken = [...structuredClone(rendered.filter((event) => event['cloud'] === undefined).slice(0, 4)), aws];
  broken[0]!['finding'] = { uid: 'x' };
  broken[1]!.severity_id = 7;
  delete broken[2]!.finding_info['uid'];
  (broken[3] as unknown as { time: string }).time = DEMO.scan.now;
  const errors = validateOcsf(broken);
  const expect = (pattern: RegExp) => assert.ok(errors.some((error) => pattern.test(error)), `${pattern} in ${JSON.stringify(errors, null, 2)}`);
  expect(/^event 0: \/: Additional properties are not allowed \('finding' was unexpected\)/);
  expect(/^event 1: \/severity_id: 7 is not one of/);
  expect(/^event 2: \/finding_info: 'uid' is a required property/);
  expect(/^event 3: \/time: '2026-11-01T00:00:00.000Z' is not of type 'integer'/);
  // The cloud attributes belong to the cloud profile: without it they are unknown attributes.
  expect(/^event 4: \/: Additional properties are not allowed \('cloud' was unexpected\)/);
  expect(/^event 4: \/resources\/0: Additional properties are not allowed \('cloud_partition', 'region' were unexpected\)/);
  assert.equal(errors.length, 6, JSON.stringify(errors, null, 2));
});

test('a report without a valid scan.now is refused rather than rendered with a made-up time', () => {
  assert.throws(() => toOcsf({ ...DEMO, scan: { ...DEMO.scan, now: 'yesterday' } }), /no valid scan\.now/);
});
