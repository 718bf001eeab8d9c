import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Waiver } from '../../src/config/types.ts';
import { applyWaivers } from '../../src/findings/waivers.ts';
import { globMatches } from '../../src/util/glob-matches.ts';
import type { Finding } from '../../src/findings/types.ts';

function finding(ruleId: string, uid: string): Finding {
  return {
    fingerprint: 'f'.repeat(32),
    ruleId,
    severity: 'high',
    title: 't',
    message: 'm',
    resource: { uid, kind: 'key', provider: 'aws-kms', name: 'n', location: 'l', sourceId: 's' },
    evidence: {},
    remediation: { text: 'r', automatic: false },
    declaredAt: { file: 'keydrift.yaml', region: { startLine: 1, startColumn: 1, endLine: 1, endColumn: 2 } },
  };
}

const waiver = (overrides: Partial<Waiver>): Waiver => ({
  rule: 'KD-ROT-001',
  resource: 'arn:aws:kms:*:key/1234*',
  reason: 'migration',
  owner: 'platform',
  expires: '2027-01-31',
  ...overrides,
});

test('resource globs: * crosses ":" and "/", ? is one character, everything else is literal', () => {
  assert.ok(globMatches('arn:aws:kms:*:key/1234*', 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd'));
  assert.ok(!globMatches('arn:aws:kms:*:key/1234*', 'arn:aws:kms:eu-west-1:111122223333:key/9999'));
  assert.ok(globMatches('certs/web/?.pem#*', 'certs/web/a.pem#sha256:00'));
  assert.ok(!globMatches('certs/web/a.pem', 'certs/web/aXpem'));
  assert.ok(globMatches('(prod)+[1]', '(prod)+[1]'));
});

// The timeout only turns a hang (the old regular expression took minutes) into a failure.
test('a glob with many * against a long non-matching uid is decided at once (no backtracking blow-up)', { timeout: 60_000 }, () => {
  // As a regular expression this pattern takes minutes: every `.*` retries every split of the uid.
  const glob = `${'*a'.repeat(40)}*b`;
  const uid = 'a'.repeat(5_000);
  assert.equal(globMatches(glob, uid), false);
  assert.equal(globMatches(glob, `${uid}b`), true);
  const applied = applyWaivers([finding('KD-ROT-001', uid)], [waiver({ rule: '*', resource: glob })], new Date('2026-11-01T00:00:00Z'));
  assert.equal(applied[0]?.waiver, undefined);
});

test('a waiver suppresses matching findings until the end of its expiry day (UTC)', () => {
  const findings = [finding('KD-ROT-001', 'arn:aws:kms:us-east-1:1:key/1234-a'), finding('KD-ROT-003', 'arn:aws:kms:us-east-1:1:key/1234-a')];
  const lastSecond = applyWaivers(findings, [waiver({})], new Date('2027-01-31T23:59:59Z'));
  assert.equal(lastSecond[0]?.waiver?.owner, 'platform');
  assert.equal(lastSecond[1]?.waiver, undefined, 'another rule on the same key is not waived');
  const expired = applyWaivers(findings, [waiver({})], new Date('2027-02-01T00:00:00Z'));
  assert.equal(expired[0]?.waiver, undefined);
});

test('rule globs and exact timestamps', () => {
  const findings = [finding('KD-ROT-003', 'k1'), finding('KD-ALG-001', 'k1')];
  const waived = applyWaivers(findings, [waiver({ rule: 'KD-ROT-*', resource: 'k1', expires: '2026-11-01T12:00:00Z' })], new Date('2026-11-01T11:59:59Z'));
  assert.deepEqual(waived.map((f) => Boolean(f.waiver)), [true, false]);
  const late = applyWaivers(findings, [waiver({ rule: 'KD-ROT-*', resource: 'k1', expires: '2026-11-01T12:00:00Z' })], new Date('2026-11-01T12:00:01Z'));
  assert.deepEqual(late.map((f) => Boolean(f.waiver)), [false, false]);
});

test('the waiver recorded on a finding never carries its config location', () => {
  const [waived] = applyWaivers([finding('KD-ROT-001', 'arn:aws:kms:x:key/1234')], [waiver({ declaredAt: { file: 'k.yaml', region: { startLine: 3, startColumn: 1, endLine: 4, endColumn: 2 } } })], new Date('2026-11-01T00:00:00Z'));
  assert.deepEqual(Object.keys(waived!.waiver!).sort(), ['expires', 'owner', 'reason', 'resource', 'rule']);
});
