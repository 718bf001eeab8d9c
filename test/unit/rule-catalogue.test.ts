import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { effectivePolicy } from '../../src/config/settings.ts';
import { PolicyEngine } from '../../src/engine/engine.ts';
import { assembleFindings, UnknownRuleError } from '../../src/findings/assemble.ts';
import { loadEvidence } from '../../src/inventory/file.ts';
import { catalogue, renderMessage } from '../../src/rules/catalogue.ts';
import { CATALOGUE_REGO, findingPackages, generatedRego, MAIN_REGO } from '../../scripts/gen-rego.ts';

const POLICY_DIR = 'policies/keydrift';

// The rule sources, tests and generated files aside: the only Rego a contributor writes for a rule.
function ruleRego(): Map<string, string> {
  const files = new Map<string, string>();
  for (const entry of readdirSync(POLICY_DIR, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.rego') || entry.name.endsWith('_test.rego')) continue;
    const file = path.join(entry.parentPath, entry.name);
    if (![CATALOGUE_REGO, MAIN_REGO].includes(path.resolve(file))) files.set(file, readFileSync(file, 'utf8'));
  }
  return files;
}

/** Each `lib.rule_finding("KD-…"` / `lib.rule_finding_at("KD-…", item, "<level>"` call in the rule Rego. */
function regoCalls(): { id: string; level: string | null; file: string }[] {
  const calls: { id: string; level: string | null; file: string }[] = [];
  for (const [file, text] of ruleRego()) {
    for (const [, at, id, literal] of text.matchAll(/lib\.rule_finding(_at)?\("(KD-[A-Z]{3}-\d{3})",[^,]+,\s*("[a-z0-9-]+")?/g)) {
      // null: a level computed by the rule (the Rego unit tests prove each one).
      const level = !at ? 'default' : literal ? (JSON.parse(literal) as string) : null;
      calls.push({ id: id!, level, file });
    }
  }
  return calls;
}

test('the catalogue is one valid entry per rule id, numbered without gaps in each domain', () => {
  const rules = catalogue();
  const files = readdirSync('rules').filter((name) => name.endsWith('.yaml'));
  assert.deepEqual([...rules.keys()].sort(), files.map((name) => name.slice(0, -'.yaml'.length)).sort(), 'one entry per rules/<id>.yaml');
  const byCode = new Map<string, number[]>();
  for (const rule of rules.values()) {
    const [, code, number] = /^KD-([A-Z]{3})-(\d{3})$/.exec(rule.id)!;
    byCode.set(code!, [...(byCode.get(code!) ?? []), Number(number)]);
    assert.ok(rule.tags.includes('security'), `${rule.id} tags`);
    assert.ok(rule.help.length > 200, `${rule.id} help is substantial`);
    assert.ok(rule.controls.length > 0 || rule.status === 'reserved', `${rule.id} has control mappings`);
    if (rule.status !== 'reserved') {
      assert.ok(rule.controls.some((c) => c.framework === 'iso-27001-2022' && c.id === 'A.8.24'), `${rule.id} maps ISO/IEC 27001:2022 A.8.24`);
      assert.match(rule.help, /```/, `${rule.id} help has a concrete (CLI or Terraform) remediation snippet`);
    }
  }
  // Ids are never reused or renumbered, so a domain's ids run 001..n.
  for (const [code, numbers] of byCode) {
    assert.deepEqual(numbers.sort((a, b) => a - b), numbers.map((_, index) => index + 1), `KD-${code}-* ids have a gap`);
  }
});

test('the catalogue severities are the documented defaults, and every level a rule declares is one the Rego picks', () => {
  const rules = catalogue();
  // docs/rule-semantics.md writes a rule's severities as <default>[/<level severity>...].
  const semantics = readFileSync('docs/rule-semantics.md', 'utf8');
  const documented = [...semantics.matchAll(/^\| (KD-[A-Z]{3}-\d{3}) ([a-z/]+) \|/gm)];
  assert.ok(documented.length > 0, 'docs/rule-semantics.md has rule rows');
  for (const [, id, severities] of documented) {
    const rule = rules.get(id!);
    assert.ok(rule, `docs/rule-semantics.md documents ${id}, which has no entry`);
    assert.equal(severities, [rule.severity, ...Object.values(rule.severityLevels ?? {})].join('/'), `${id}: docs/rule-semantics.md vs rules/${id}.yaml`);
  }
  const calls = regoCalls();
  for (const call of calls) {
    const rule = rules.get(call.id)!;
    if (call.level !== null) {
      assert.ok(call.level === 'default' || call.level in (rule.severityLevels ?? {}), `${call.file}: ${call.id} has no severity level "${call.level}" in rules/${call.id}.yaml`);
    }
  }
  for (const rule of rules.values()) {
    const rego = [...ruleRego().values()].filter((text) => text.includes(`"${rule.id}"`)).join('\n');
    for (const level of Object.keys(rule.severityLevels ?? {})) {
      assert.ok(rego.includes(`"${level}"`), `rules/${rule.id}.yaml: severityLevels.${level} is never picked by the Rego`);
    }
  }
});

test('severities live in rules/ only: every built-in rule builds its finding with lib.rule_finding', () => {
  for (const [file, text] of ruleRego()) {
    if (file.endsWith(path.join('lib', 'lib.rego'))) continue;
    assert.doesNotMatch(text, /"severity"\s*:/, `${file} writes a severity literal`);
    assert.doesNotMatch(text, /lib\.finding\(/, `${file} passes an explicit severity (lib.finding): use lib.rule_finding`);
  }
});

test('the implemented rules are exactly the ones the Rego emits, each in the package of its domain', () => {
  const emitted = new Set(regoCalls().map((call) => call.id));
  const implemented = [...catalogue().values()].filter((rule) => rule.status === 'implemented');
  assert.deepEqual([...emitted].sort(), implemented.map((rule) => rule.id).sort());
  for (const call of regoCalls()) {
    const rule = catalogue().get(call.id)!;
    assert.match(readFileSync(call.file, 'utf8'), new RegExp(`^package keydrift\\.${rule.domain}$`, 'm'), `${call.id} is emitted outside package keydrift.${rule.domain}`);
  }
  const packages = findingPackages();
  for (const rule of implemented) assert.ok(packages.includes(`keydrift.${rule.domain}`), `main.rego does not reach keydrift.${rule.domain}`);
});

test('a severity level named default, or one that repeats the default, is rejected naming the file and field', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'keydrift-rules-'));
  try {
    const entry = readFileSync('rules/KD-CRT-002.yaml', 'utf8');
    assert.match(entry, /^severityLevels:\n {2}fail: high$/m);
    writeFileSync(path.join(dir, 'KD-CRT-002.yaml'), entry.replace('  fail: high', '  fail: medium'));
    assert.throws(() => catalogue(`${dir}/`), /rules\/KD-CRT-002\.yaml: severityLevels\.fail: repeats the default severity medium/);
    writeFileSync(path.join(dir, 'KD-CRT-002.yaml'), entry.replace('  fail: high', '  default: high'));
    assert.throws(() => catalogue(`${dir}/`), /rules\/KD-CRT-002\.yaml: severityLevels\.default: the level "default" is the entry's severity/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the generated Rego (rule catalogue, entrypoint) is what rules/ and the packages produce', () => {
  for (const [file, text] of generatedRego()) {
    assert.equal(readFileSync(file, 'utf8'), text, `${path.relative(process.cwd(), file)} is stale: run npm run docs`);
  }
});

test('every rule that fires on the fixture estate has an entry, and its message has no unfilled placeholder', async () => {
  const { items, sources } = await loadEvidence('test/fixtures/certificate-estate.json');
  const engine = await PolicyEngine.load();
  for (const profile of ['default', 'public-tls'] as const) {
    const raw = engine.evaluate({ items, sources, now: new Date('2026-11-01T00:00:00Z'), policy: effectivePolicy({ policy: { profile } }) });
    const findings = assembleFindings(raw, items, sources, 'keydrift.yaml');
    for (const finding of findings) {
      assert.doesNotMatch(finding.message, /\{[A-Za-z.]+\}/, `${finding.ruleId}: ${finding.message}`);
      const rule = catalogue().get(finding.ruleId)!;
      assert.equal(rule.status, 'implemented', `${finding.ruleId} fires but its entry says ${rule.status}`);
      for (const key of Object.keys(finding.evidence)) {
        assert.ok(rule.evidence.some((entry) => entry.key === key), `${finding.ruleId}: evidence key ${key} is not documented`);
      }
    }
  }
});

test('a rule that fires without a catalogue entry stops the run', () => {
  assert.throws(
    () => assembleFindings([{ rule: 'KD-XYZ-999', uid: 'u', severity: 'high', evidence: {} }], [], [], 'keydrift.yaml'),
    (error) => error instanceof UnknownRuleError && /KD-XYZ-999 fired but has no entry in rules\//.test(error.message),
  );
});

test('messages fill name, uid, location and evidence placeholders', () => {
  const text = renderMessage('{name} at {location}: {evidence.daysLeft} days ({evidence.missing})', {
    name: 'api', uid: 'u', location: 'certs/api.pem', evidence: { daysLeft: 4 },
  });
  assert.equal(text, 'api at certs/api.pem: 4 days ({evidence.missing})');
  const unset = renderMessage('{name} (expires: {evidence.expiresAt})', { name: 'k', uid: 'u', location: 'l', evidence: { expiresAt: null } });
  assert.equal(unset, 'k (expires: not set)', 'a null value never leaves template syntax in a report');
});

test('the README rule table is generated from the catalogue and up to date', () => {
  const readme = readFileSync('README.md', 'utf8');
  for (const rule of catalogue().values()) {
    assert.ok(readme.includes(`| ${rule.id} | ${rule.severity} | ${rule.title} |`), `README lacks ${rule.id}: run npm run docs`);
  }
});

test('no message leaves an unfilled placeholder, even when every evidence value is null', () => {
  for (const rule of catalogue().values()) {
    const evidence = Object.fromEntries(rule.evidence.map((entry) => [entry.key, null]));
    const message = renderMessage(rule.message, { name: 'n', uid: 'u', location: 'l', evidence });
    assert.doesNotMatch(message, /\{[A-Za-z0-9_.]+\}/, `${rule.id}: ${message}`);
    assert.doesNotMatch(message, /\bundefined\b|\bnull\b|NaN/, `${rule.id}: ${message}`);
  }
});

test('a rule\'s fix command is filled from the finding and its item, or left out when a value is unknown or not one shell word', async () => {
  const { fixCommand } = await import('../../src/rules/catalogue.ts');
  const rule = catalogue().get('KD-ROT-001')!;
  const arn = 'arn:aws:kms:eu-west-1:111122223333:key/1234';
  const values = { name: 'alias/a', uid: arn, location: '111122223333/eu-west-1', evidence: { maxDays: 365 }, region: 'eu-west-1' };
  assert.equal(fixCommand(rule, 'aws-kms', values), `aws kms enable-key-rotation --key-id ${arn} --rotation-period-in-days 365 --region eu-west-1`);
  assert.equal(fixCommand(rule, 'aws-kms', { ...values, evidence: { maxDays: null } }), null, 'unknown: no command with a blank in it');
  assert.equal(fixCommand(rule, 'aws-kms', { ...values, uid: `${arn}; rm -rf /` }), null, 'a value that is not one shell word');
  assert.equal(fixCommand(rule, 'pkcs11', values), null, 'no command for this provider');
  assert.equal(
    fixCommand(rule, 'vault-transit', { ...values, item: { location: 'team/transit', name: 'orders' } }),
    'vault write team/transit/keys/orders/config auto_rotate_period=365d',
  );
});
