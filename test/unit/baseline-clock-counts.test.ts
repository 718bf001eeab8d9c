import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareWithBaseline } from '../../src/findings/baseline.ts';
import type { Finding } from '../../src/findings/types.ts';

const finding = (ruleId: string, severity: Finding['severity'], evidence: Record<string, unknown>): Finding => ({
  fingerprint: `fp-${ruleId}`,
  ruleId,
  severity,
  title: 't',
  message: 'm',
  resource: { uid: 'u', kind: 'certificate', provider: 'x509-file', name: 'n', location: 'l', sourceId: 's' },
  evidence,
  remediation: { text: 'r', automatic: false },
  declaredAt: { file: 'keydrift.yaml', region: { startLine: 1, startColumn: 1, endLine: 1, endColumn: 2 } },
});

const state = (previous: Finding, current: Finding) => compareWithBaseline([current], { findings: [previous], inventory: [] }, [])
  .findings[0]!.baselineState;

test('a finding whose only change is a count that moves with the clock is unchanged, not updated', () => {
  const notAfter = '2026-12-01T00:00:00Z';
  // KD-CRT-002: daysLeft drops every night; the certificate is the same.
  assert.equal(state(finding('KD-CRT-002', 'medium', { notAfter, daysLeft: 20, warnDays: 30, failDays: 7 }), finding('KD-CRT-002', 'medium', { notAfter, daysLeft: 19, warnDays: 30, failDays: 7 })), 'unchanged');
  // The same count crossing into another severity, or another fact changing, is an update.
  assert.equal(state(finding('KD-CRT-002', 'medium', { notAfter, daysLeft: 8 }), finding('KD-CRT-002', 'high', { notAfter, daysLeft: 7 })), 'updated');
  assert.equal(state(finding('KD-CRT-002', 'medium', { notAfter, daysLeft: 20 }), finding('KD-CRT-002', 'medium', { notAfter: '2026-12-02T00:00:00Z', daysLeft: 21 })), 'updated');
  // KD-ROT-003: the material's age, likewise; its cryptoperiod limit is not a clock count.
  assert.equal(state(finding('KD-ROT-003', 'high', { ageDays: 400, maxDays: 365 }), finding('KD-ROT-003', 'high', { ageDays: 401, maxDays: 365 })), 'unchanged');
  assert.equal(state(finding('KD-ROT-003', 'high', { ageDays: 400, maxDays: 365 }), finding('KD-ROT-003', 'high', { ageDays: 401, maxDays: 90 })), 'updated');
});
