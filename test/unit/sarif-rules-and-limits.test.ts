import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { MAX_SARIF_RESULTS, toSarif } from '../../src/report/sarif.ts';
import type { Report } from '../../src/report/types.ts';
import { validateSarifSchema } from '../support/sarif-validate.ts';

const demo = JSON.parse(readFileSync(new URL('../../reports/keydrift.json', import.meta.url), 'utf8')) as Report;

test('SARIF rules link their docs, end their help with the controls, and carry framework/control tags', () => {
  const sarif = toSarif(demo);
  const rule = sarif.runs[0]!.tool.driver.rules!.find((candidate) => candidate.id === 'KD-ROT-001')!;
  assert.equal(rule.helpUri, 'https://github.com/keydrift/keydrift/blob/main/rules/KD-ROT-001.yaml');
  assert.match(rule.help!.markdown!, /\n## Controls\n\n- cis-aws 3\.6: [^\n]+\n- cis-gcp 1\.10: [^\n]+\n- pci-dss-4\.0 3\.7\.4: /);
  assert.ok((rule.properties!['tags'] as string[]).includes('pci-dss-4.0/3.7.4'));
  assert.deepEqual(validateSarifSchema(sarif), []);
});

test('each result message ends with the fix, and the concrete command with the real key id and region where the rule has one', () => {
  const sarif = toSarif(demo);
  let commands = 0;
  for (const result of sarif.runs[0]!.results!) {
    const finding = demo.findings.find((candidate) => candidate.fingerprint === result.partialFingerprints!['primaryLocationLineHash'])!;
    const { text, command } = finding.remediation;
    assert.ok(result.message.text!.endsWith(command ? `Fix: ${text} Run: ${command}` : `Fix: ${text}`), result.message.text);
    if (command) commands++;
  }
  assert.ok(commands >= 3, 'the demo\'s KD-ROT-001, KD-ROT-003 and KD-RET-002 on AWS keys carry their command');
  assert.match(sarif.runs[0]!.results!.find((result) => result.ruleId === 'KD-ROT-001')!.message.text!, /Run: aws kms enable-key-rotation --key-id arn:aws:kms:us-east-1:111122223333:key\/\S+ --rotation-period-in-days 365 --region us-east-1$/);
});

test(`above ${MAX_SARIF_RESULTS} results the most severe are kept and the run says what was left out`, () => {
  const [sample] = demo.findings;
  const severities = ['critical', 'high', 'medium', 'low', 'info'] as const;
  const findings = Array.from({ length: MAX_SARIF_RESULTS + 10 }, (_, index) => ({
    ...sample!,
    fingerprint: `fp-${index}`,
    // 10 info findings beyond the limit: exactly those are left out.
    severity: index < MAX_SARIF_RESULTS ? severities[index % 4]! : ('info' as const),
  }));
  const sarif = toSarif({ ...demo, findings });
  const run = sarif.runs[0]!;
  assert.equal(run.results!.length, MAX_SARIF_RESULTS);
  assert.equal(run.results!.some((result) => (result.properties as { severity: string }).severity === 'info'), false);
  assert.deepEqual(run.properties!['resultsLeftOut'], { total: 10, bySeverity: { info: 10 } });
  assert.match(run.invocations![0]!.toolExecutionNotifications![0]!.message.text!, /^10 of 25010 findings are left out/);
});
