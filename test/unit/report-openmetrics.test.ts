import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { SEVERITIES } from '../../src/model/severity.ts';
import { labelValue, toOpenMetrics } from '../../src/report/openmetrics.ts';
import type { Report } from '../../src/report/types.ts';
import { parseOpenMetrics, type ParsedFamily } from '../support/report-validators.ts';

// toOpenMetrics writes an exposition that a real OpenMetrics parser (prometheus-client's, provisioned)
// reads back to exactly what the report says, whatever characters the report's names hold.

const DEMO = JSON.parse(readFileSync(new URL('../../reports/keydrift.json', import.meta.url), 'utf8')) as Report;

function parsed(text: string): Map<string, ParsedFamily> {
  const result = parseOpenMetrics(text);
  assert.ok('families' in result, `the parser rejected the exposition: ${'error' in result ? result.error : ''}\n${text}`);
  return new Map(result.families.map((family) => [family.name, family]));
}

function family(families: Map<string, ParsedFamily>, name: string): ParsedFamily {
  const found = families.get(name);
  assert.ok(found, `no family ${name}`);
  return found;
}

function sum(found: ParsedFamily, where: (labels: Record<string, string>) => boolean = () => true): number {
  return found.samples.filter((sample) => where(sample.labels)).reduce((total, sample) => total + Number(sample.value), 0);
}

function itemValue(found: ParsedFamily, name: string): number {
  const samples = found.samples.filter((sample) => sample.labels['name'] === name);
  assert.equal(samples.length, 1, `one ${found.name} sample for ${name}`);
  return Number(samples[0]!.value);
}

test('the demo exposition parses as OpenMetrics and says what the report says', () => {
  const text = toOpenMetrics(DEMO);
  assert.ok(text.endsWith('\n# EOF\n'));
  const families = parsed(text);
  for (const found of families.values()) {
    assert.equal(found.type, 'gauge', found.name);
    assert.ok(found.help.length > 0, `${found.name} has HELP`);
    for (const sample of found.samples) {
      assert.equal(sample.timestamp, null, 'no sample timestamps: the textfile collector rejects them');
      assert.equal(sample.labels['config'], 'demo');
    }
  }
  assert.equal(family(families, 'keydrift_key_material_age_days').unit, 'days');
  assert.equal(family(families, 'keydrift_scan_timestamp_seconds').unit, 'seconds');

  assert.equal(sum(family(families, 'keydrift_scan_timestamp_seconds')), Date.parse(DEMO.scan.now) / 1000);
  assert.equal(sum(family(families, 'keydrift_scan_compliant')), DEMO.summary.compliant ? 1 : 0);
  assert.equal(sum(family(families, 'keydrift_scan_items')), DEMO.summary.items);

  const findings = family(families, 'keydrift_findings');
  const bySeverity = family(families, 'keydrift_findings_by_severity');
  assert.deepEqual(
    bySeverity.samples.map((sample) => sample.labels['severity']),
    [...SEVERITIES],
  );
  for (const severity of SEVERITIES) {
    assert.equal(sum(findings, (labels) => labels['severity'] === severity), DEMO.summary.findings[severity], severity);
    assert.equal(sum(bySeverity, (labels) => labels['severity'] === severity), DEMO.summary.findings[severity], severity);
  }
  assert.equal(sum(findings, (labels) => labels['rule'] === 'KD-CRT-011'), DEMO.findings.filter((finding) => finding.ruleId === 'KD-CRT-011').length);
  assert.equal(sum(family(families, 'keydrift_findings_waived')), DEMO.summary.waived);
  assert.deepEqual(
    family(families, 'keydrift_findings_waived').samples.map((sample) => sample.labels),
    [{ config: 'demo', rule: 'KD-CRT-003', severity: 'medium' }],
  );

  const status = family(families, 'keydrift_source_status');
  assert.deepEqual(
    status.samples.map((sample) => [sample.labels['source'], sample.labels['status'], sample.value]),
    DEMO.sources.map((source) => [source.id, source.status, 1]),
  );
  const items = family(families, 'keydrift_source_items');
  for (const source of DEMO.sources) assert.equal(sum(items, (labels) => labels['source'] === source.id), source.items);

  // scan.now is 2026-11-01T00:00Z: api.example.com expired on 2026-10-15 (17 days before), alias/byok-ledger's
  // imported material expires on 2026-11-06T10:00Z (5 days 10 hours after).
  const expiry = family(families, 'keydrift_item_days_to_expiry');
  assert.equal(itemValue(expiry, 'api.example.com'), -17);
  assert.equal(itemValue(expiry, 'payments.example.com'), 4);
  assert.equal(itemValue(expiry, 'alias/byok-ledger'), 5.417);
  assert.equal(expiry.samples.length, DEMO.inventory.filter((item) => item.expiresAt ?? item.certificate?.notAfter).length);
  const api = expiry.samples.find((sample) => sample.labels['name'] === 'api.example.com')!;
  const apiItem = DEMO.inventory.find((item) => item.name === 'api.example.com')!;
  assert.deepEqual(api.labels, { config: 'demo', uid: apiItem.uid, name: apiItem.name, provider: 'x509-file', source: 'demo-certs', kind: 'certificate', tier: '', location: apiItem.location });

  // alias/aws/s3 last rotated 2026-05-19T14:03:11Z (rotation beats createdAt); a 365-day period.
  const age = family(families, 'keydrift_key_material_age_days');
  assert.equal(itemValue(age, 'alias/aws/s3'), Math.round(((Date.parse(DEMO.scan.now) - Date.parse('2026-05-19T14:03:11Z')) / 86_400_000) * 1000) / 1000);
  assert.equal(age.samples.length, DEMO.inventory.filter((item) => item.kind === 'key').length);
  assert.ok(age.samples.every((sample) => sample.labels['kind'] === 'key'));
  const period = family(families, 'keydrift_key_rotation_period_days');
  assert.equal(itemValue(period, 'alias/aws/s3'), 365);
  assert.equal(itemValue(period, 'orders'), 30);
  assert.equal(period.samples.length, DEMO.inventory.filter((item) => typeof item.rotation?.periodDays === 'number').length);
});

const HOSTILE = [
  'quote " and backslash \\ and \\" escaped-looking',
  'line one\nline two\n',
  '"} 1\n# EOF\nkeydrift_findings{rule="forged"} 999',
  'trailing backslash \\',
  'unicode: café 鍵 🔑 مفتاح ‮rtl',
  '\\n literal backslash-n',
];

function hostileReport(): Report {
  const report = structuredClone(DEMO);
  report.scan.configName = 'config "prod"\\eu\n';
  report.sources[0]!.id = HOSTILE[2]!;
  report.inventory.forEach((item, index) => {
    item.name = HOSTILE[index % HOSTILE.length]!;
    item.location = `${HOSTILE[(index + 1) % HOSTILE.length]!} ${index}`;
    item.tier = index % 2 === 0 ? HOSTILE[(index + 3) % HOSTILE.length]! : null;
  });
  const waived = report.findings.find((finding) => finding.waiver)!;
  waived.ruleId = 'KD-"forged"\\\n';
  return report;
}

test('hostile label values (quotes, backslashes, newlines, unicode, injected lines) round-trip through the parser', () => {
  const report = hostileReport();
  const text = toOpenMetrics(report);
  const families = parsed(text);
  // Nothing injected: the same families and sample counts as the demo.
  const demo = parsed(toOpenMetrics(DEMO));
  assert.deepEqual(
    [...families.values()].map((found) => [found.name, found.samples.length]),
    [...demo.values()].map((found) => [found.name, found.samples.length]),
  );
  assert.equal(text.match(/^# EOF$/gm)?.length, 1);
  for (const found of families.values()) for (const sample of found.samples) assert.equal(sample.labels['config'], report.scan.configName);

  const expiry = family(families, 'keydrift_item_days_to_expiry');
  const expected = report.inventory.filter((item) => item.expiresAt ?? item.certificate?.notAfter);
  assert.deepEqual(
    expiry.samples.map((sample) => [sample.labels['uid'], sample.labels['name'], sample.labels['location'], sample.labels['tier']]),
    expected.map((item) => [item.uid, item.name, item.location, item.tier ?? '']),
  );
  assert.deepEqual(
    family(families, 'keydrift_source_status').samples.map((sample) => sample.labels['source']),
    report.sources.map((source) => source.id),
  );
  assert.deepEqual(family(families, 'keydrift_findings_waived').samples[0]!.labels['rule'], 'KD-"forged"\\\n');
  assert.equal(sum(family(families, 'keydrift_findings')), sum(demo.get('keydrift_findings')!));
});

test('characters the exposition cannot escape become U+FFFD instead of breaking lines', () => {
  const report = structuredClone(DEMO);
  const names = ['carriage\rreturn', 'tab\tand\u0000nul', 'line\u2028separator\u2029', 'lone \uD83D surrogate', 'del\u007F c1\u0085'];
  report.inventory.slice(0, names.length).forEach((item, index) => (item.name = names[index]!));
  const families = parsed(toOpenMetrics(report));
  assert.deepEqual(
    family(families, 'keydrift_item_days_to_expiry').samples.slice(0, names.length).map((sample) => sample.labels['name']),
    ['carriage\uFFFDreturn', 'tab\uFFFDand\uFFFDnul', 'line\uFFFDseparator\uFFFD', 'lone \uFFFD surrogate', 'del\uFFFD c1\uFFFD'],
  );
  assert.equal(labelValue('a"b\\c\nd'), 'a\\"b\\\\c\\nd');
});

test('the parser is strict enough to catch a broken exposition, so a clean parse is not vacuous', () => {
  const text = toOpenMetrics(DEMO);
  const broken: [string, RegExp][] = [
    [text.replace('# EOF\n', ''), /Missing # EOF/],
    [text.replace('name="api.example.com"', 'name="api."example.com"'), /Invalid labels/],
    [text.replace('# UNIT keydrift_key_material_age_days days', '# UNIT keydrift_key_material_age_days seconds'), /Unit does not match metric name/],
    [text.replace('keydrift_scan_items{config="demo"} 22', 'keydrift_scan_items{config="demo"} 22\n'), /Received blank line/],
  ];
  for (const [variant, reason] of broken) {
    const result = parseOpenMetrics(variant);
    assert.ok('error' in result, `accepted:\n${variant}`);
    assert.match(result.error, reason);
  }
});

test('a report without a valid scan.now is refused rather than rendered with a made-up clock', () => {
  assert.throws(() => toOpenMetrics({ ...DEMO, scan: { ...DEMO.scan, now: '' } }), /no valid scan\.now/);
});
