import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { effectivePolicy } from '../../src/config/settings.ts';
import { PolicyEngine } from '../../src/engine/engine.ts';
import { assembleFindings, UnknownRuleError } from '../../src/findings/assemble.ts';
import { loadEvidence } from '../../src/inventory/file.ts';
import { catalogue, renderMessage } from '../../src/rules/catalogue.ts';

// Every rule id of CONTRACT section 4 (KD-DRF-001..003 reserved) has a schema-valid entry.
const CONTRACT_RULES = [
  'KD-ROT-001', 'KD-ROT-002', 'KD-ROT-003', 'KD-ROT-004',
  'KD-ALG-001', 'KD-ALG-002', 'KD-ALG-003',
  'KD-RET-001', 'KD-RET-002', 'KD-RET-003', 'KD-RET-004', 'KD-RET-005',
  'KD-CRT-001', 'KD-CRT-002', 'KD-CRT-003', 'KD-CRT-004', 'KD-CRT-005', 'KD-CRT-006', 'KD-CRT-007',
  'KD-HSM-001', 'KD-HSM-002', 'KD-ACC-001', 'KD-ACC-002',
  'KD-GOV-001', 'KD-GOV-002', 'KD-GOV-003',
  'KD-DRF-001', 'KD-DRF-002', 'KD-DRF-003',
];

test('the catalogue has exactly one valid entry per contract rule id', () => {
  const rules = catalogue();
  assert.deepEqual([...rules.keys()].sort(), [...CONTRACT_RULES].sort());
  for (const rule of rules.values()) {
    assert.ok(rule.tags.includes('security'), `${rule.id} tags`);
    assert.ok(rule.help.length > 200, `${rule.id} help is substantial`);
    assert.ok(rule.controls.length > 0 || rule.status === 'reserved', `${rule.id} has control mappings`);
    if (rule.status !== 'reserved') {
      assert.ok(rule.controls.some((c) => c.framework === 'iso-27001-2022' && c.id === 'A.8.24'), `${rule.id} maps ISO/IEC 27001:2022 A.8.24`);
      assert.match(rule.help, /```/, `${rule.id} help has a concrete (CLI or Terraform) remediation snippet`);
    }
  }
});

test('the catalogue severities are the contract defaults', () => {
  const rules = catalogue();
  const expected: Record<string, string> = {
    'KD-ROT-001': 'high', 'KD-ROT-002': 'medium', 'KD-ROT-003': 'high', 'KD-ROT-004': 'high',
    'KD-ALG-001': 'high', 'KD-ALG-002': 'high', 'KD-ALG-003': 'info',
    'KD-RET-001': 'medium', 'KD-RET-002': 'critical', 'KD-RET-003': 'medium', 'KD-RET-004': 'medium', 'KD-RET-005': 'high',
    'KD-CRT-001': 'high', 'KD-CRT-002': 'medium', 'KD-CRT-003': 'medium', 'KD-CRT-004': 'high', 'KD-CRT-005': 'high',
    'KD-CRT-006': 'high', 'KD-CRT-007': 'high',
    'KD-HSM-001': 'high', 'KD-HSM-002': 'medium', 'KD-ACC-001': 'critical', 'KD-ACC-002': 'medium',
    'KD-GOV-001': 'low', 'KD-GOV-002': 'medium', 'KD-GOV-003': 'high',
  };
  for (const [id, severity] of Object.entries(expected)) assert.equal(rules.get(id)?.severity, severity, id);
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
