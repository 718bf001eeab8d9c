import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, parseConfig } from '../../src/config/load.ts';
import { effectivePolicy } from '../../src/config/settings.ts';

function problems(text: string): string[] {
  try {
    parseConfig(text, 'keydrift.yaml');
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.problems;
  }
  assert.fail('expected a ConfigError');
}

const VALID = `version: 1
sources:
  - { id: prod-aws, type: aws-kms, regions: [us-east-1, eu-west-1] }
  - id: certs
    type: x509-files
    paths: ["certs/**/*.pem"]
policy:
  profile: public-tls
  settings: { expiry: { warnDays: 45 } }
  tierSettings: { kek: { rotation: { maxDays: 90 } } }
tiers:
  - { tag: keydrift-tier, value: kek, tier: kek }
waivers:
  - { rule: KD-ROT-001, resource: "arn:aws:kms:*:key/1234*", reason: "migration", owner: "platform", expires: 2027-01-31 }
report: { formats: [json, sarif, md], outDir: reports, failOn: high }
`;

test('a valid config parses with source regions for SARIF locations', () => {
  const config = parseConfig(VALID, 'keydrift.yaml');
  assert.equal(config.name, 'keydrift');
  assert.equal(config.sources.length, 2);
  assert.deepEqual(config.regions['prod-aws'], { startLine: 3, startColumn: 5, endLine: 3, endColumn: 69 });
  assert.equal(config.regions['certs']?.startLine, 4);
  assert.equal(config.regions['certs']?.endLine, 6);
  assert.equal(config.waivers?.[0]?.expires, '2027-01-31');
});

test('profile, settings and tier settings merge in that order', () => {
  const policy = effectivePolicy(parseConfig(VALID, 'keydrift.yaml'));
  assert.equal(policy.profile, 'public-tls');
  assert.equal(policy.settings.expiry.warnDays, 45);
  assert.equal(policy.settings.expiry.failDays, 7);
  assert.equal(policy.settings.certificates.validitySchedule.length, 3);
  assert.equal(policy.tierSettings['kek']?.rotation.maxDays, 90);
  assert.equal(policy.tierSettings['kek']?.expiry.warnDays, 45);
});

test('an unknown source type names the file, line, field and the accepted types', () => {
  const [problem, ...rest] = problems('version: 1\nsources:\n  - id: a\n    type: aws-kmss\n');
  assert.deepEqual(rest, []);
  assert.match(problem!, /^keydrift\.yaml:3:5: sources\[0\]: unknown type "aws-kmss" \(did you mean "aws-kms"\?\); expected one of aws-kms, aws-acm, gcp-kms, vault, pkcs11, x509-files, tls, snapshot, terraform, cloudformation, kubernetes$/);
});

test('malformed YAML is reported with its position', () => {
  const [problem] = problems('version: 1\nsources:\n  - id: a\n   type: [x509-files\n');
  assert.match(problem!, /^keydrift\.yaml:\d+:\d+: invalid YAML: /);
});

test('a missing required field and an unknown field are both reported at their lines', () => {
  const found = problems('version: 1\nsources:\n  - id: certs\n    type: x509-files\n    path: certs\n');
  assert.ok(found.some((line) => /^keydrift\.yaml:3:5: sources\[0\]: missing required field "paths"$/.test(line)), found.join('\n'));
  assert.ok(found.some((line) => /^keydrift\.yaml:3:5: sources\[0\]: unknown field "path"$/.test(line)), found.join('\n'));
});

test('wrong types and values name the field and what was expected', () => {
  const found = problems('version: 2\nsources: []\nreport: { failOn: severe }\n');
  assert.ok(found.some((line) => line === 'keydrift.yaml:1:10: version: must be 1'), found.join('\n'));
  assert.ok(found.some((line) => line.startsWith('keydrift.yaml:3:19: report.failOn: must be one of "critical"')), found.join('\n'));
});

test('duplicate source ids are rejected', () => {
  const [problem] = problems('version: 1\nsources:\n  - { id: a, type: tls, endpoints: ["x:443"] }\n  - { id: a, type: tls, endpoints: ["y:443"] }\n');
  assert.match(problem!, /^keydrift\.yaml:4:5: sources\[1\]\.id: "a" is already used by sources\[0\]/);
});

test('a waiver without an owner or with an impossible date is rejected', () => {
  const found = problems('version: 1\nsources: []\nwaivers:\n  - { rule: KD-CRT-001, resource: "*", reason: r, expires: 2027-02-31 }\n');
  assert.ok(found.some((line) => /waivers\[0\]: missing required field "owner"/.test(line)), found.join('\n'));
  for (const expires of ['2027-13-01', '2027-02-31']) {
    const [date] = problems(`version: 1\nsources: []\nwaivers:\n  - { rule: KD-CRT-001, resource: "*", reason: r, owner: o, expires: ${expires} }\n`);
    assert.match(date!, new RegExp(`waivers\\[0\\]\\.expires: "${expires}" is not a real date`));
  }
});

test('a config that is not a mapping is rejected', () => {
  const [problem] = problems('- just\n- a list\n');
  assert.match(problem!, /must be a YAML mapping/);
});

test('semantic checks: failDays above warnDays, a drift scope naming no source', () => {
  const found = problems(`version: 1
sources:
  - { id: aws-prod, type: aws-kms, regions: [us-east-1] }
policy:
  settings: { expiry: { warnDays: 7, failDays: 30 } }
  tierSettings:
    tls: { expiry: { warnDays: 10, failDays: 3 } }
drift:
  managedAsCode:
    - { source: aws-prd }
    - { source: "aws-*" }
`);
  assert.deepEqual(found, [
    'keydrift.yaml:5:48: policy.settings.expiry.failDays: 30 is above warnDays (7): a certificate would fail before it is warned about; failDays must be at most warnDays',
    'keydrift.yaml:10:17: drift.managedAsCode[0].source: "aws-prd" names no source (did you mean "aws-prod"?); sources are aws-prod',
  ]);
});

test('a waiver naming no built-in rule is an error that suggests the rule meant; custom and glob rules are left alone', async () => {
  const { unknownWaiverRules } = await import('../../src/rules/catalogue.ts');
  const config = parseConfig(
    `version: 1
sources:
  - { id: certs, type: x509-files, paths: ["*.pem"] }
waivers:
  - { rule: KD-ROT-01, resource: "*", reason: "r", owner: "o", expires: 2027-01-31 }
  - { rule: "KD-ROT-*", resource: "*", reason: "r", owner: "o", expires: 2027-01-31 }
  - { rule: ACME-001, resource: "*", reason: "r", owner: "o", expires: 2027-01-31 }
  - { rule: "KD-XYZ-*", resource: "*", reason: "r", owner: "o", expires: 2027-01-31 }
`,
    'keydrift.yaml',
  );
  assert.deepEqual(unknownWaiverRules(config.waivers ?? []), [
    'keydrift.yaml:5:5: waivers[0].rule: "KD-ROT-01" names no rule (did you mean "KD-ROT-001"?), so it would waive nothing',
    'keydrift.yaml:8:5: waivers[3].rule: "KD-XYZ-*" names no rule, so it would waive nothing',
  ]);
});
