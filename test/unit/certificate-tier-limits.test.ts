import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { effectivePolicy } from '../../src/config/settings.ts';
import type { Config } from '../../src/config/types.ts';
import { PolicyEngine } from '../../src/engine/engine.ts';
import { baseItem, type InventoryItem } from '../../src/inventory/types.ts';

// Issue 14: a tier (or policy.settings) that states its own certificates.maxValidityDays is held
// to that limit, not to public-tls's CA/B Forum schedule; docs/rule-semantics.md, "Tier limits".

const NOW = new Date('2026-11-01T00:00:00Z');

function leaf(name: string, tier: string | null, days: number): InventoryItem {
  const notBefore = '2026-04-01T00:00:00Z';
  const notAfter = new Date(Date.parse(notBefore) + days * 86_400_000 - 1000).toISOString().replace('.000Z', 'Z');
  return baseItem({
    uid: `certs/${name}.pem#sha256:${name}`,
    kind: 'certificate',
    provider: 'x509-file',
    sourceId: 'files',
    name,
    location: `certs/${name}.pem`,
    algorithm: 'EC-P256',
    keyType: 'ec',
    keySize: 256,
    curve: 'P-256',
    tier,
    createdAt: notBefore,
    expiresAt: notAfter,
    certificate: {
      subject: `CN=${name}`,
      issuer: 'CN=Private CA',
      serialNumber: name,
      notBefore,
      notAfter,
      signatureAlgorithm: 'ECDSA-SHA256',
      fingerprintSha256: '0'.repeat(64),
      selfSigned: false,
      isCA: false,
      sans: [`DNS:${name}`],
    },
    evidence: {},
  });
}

describe('a certificate validity limit set for a tier or the config replaces the inherited schedule', () => {
  let engine: PolicyEngine;
  before(async () => {
    engine = await PolicyEngine.load();
  });

  const limits = (policy: Config['policy'], items: InventoryItem[]) =>
    Object.fromEntries(
      engine
        .evaluate({ items, sources: [], now: NOW, policy: effectivePolicy({ policy }) })
        .filter((finding) => finding.rule === 'KD-CRT-003')
        .map((finding) => [items.find((item) => item.uid === finding.uid)!.name, `${finding.evidence['maxValidityDays']} ${finding.evidence['limitSource']}`]),
    );

  test('under public-tls a private-PKI tier with its own maxValidityDays is held to that, other certificates to the schedule', () => {
    const policy = { profile: 'public-tls' as const, tierSettings: { 'private-pki': { certificates: { maxValidityDays: 825 } } } };
    // 300 days issued 2026-04-01: over the 200-day step, under the tier's 825
    assert.deepEqual(limits(policy, [leaf('internal', 'private-pki', 300), leaf('public', null, 300), leaf('internal-long', 'private-pki', 900)]), {
      public: '200 cab-forum-schedule',
      'internal-long': '825 settings',
    });
  });

  test('a tier that gives a schedule of its own keeps it', () => {
    const policy = {
      profile: 'public-tls' as const,
      tierSettings: { strict: { certificates: { maxValidityDays: 825, validitySchedule: [{ from: '2026-01-01', maxDays: 90 }] } } },
    };
    assert.deepEqual(limits(policy, [leaf('strict', 'strict', 120)]), { strict: '90 cab-forum-schedule' });
  });

  test('a tier that changes other certificate settings still inherits the schedule', () => {
    const policy = { profile: 'public-tls' as const, tierSettings: { curves: { certificates: { allowedCurves: [] } } } };
    assert.deepEqual(limits(policy, [leaf('other', 'curves', 300)]), { other: '200 cab-forum-schedule' });
  });

  test('policy.settings.certificates.maxValidityDays replaces the profile schedule for the whole scan', () => {
    const policy = { profile: 'public-tls' as const, settings: { certificates: { maxValidityDays: 500 } } };
    assert.deepEqual(limits(policy, [leaf('mid', null, 300), leaf('long', null, 600)]), { long: '500 settings' });
    assert.deepEqual(effectivePolicy({ policy }).settings.certificates.validitySchedule, []);
    assert.equal(effectivePolicy({ policy: { profile: 'public-tls' } }).settings.certificates.validitySchedule.length, 3);
  });
});
