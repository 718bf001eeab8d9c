import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, describe, test } from 'node:test';
import { effectivePolicy } from '../../src/config/settings.ts';
import type { Config } from '../../src/config/types.ts';
import { PolicyEngine } from '../../src/engine/engine.ts';
import { loadEvidence } from '../../src/inventory/file.ts';
import type { InventoryItem } from '../../src/inventory/types.ts';
import type { SourceStatus } from '../../src/model/source.ts';

// test/fixtures/key-estate: 122 keys and certificates in every provider's shape, and the findings
// expected under each profile, written by hand from docs/rule-semantics.md (an independent oracle).

interface ExpectedFinding {
  ruleId: string;
  uid: string;
  severity: string;
  why?: string;
}

interface Expected {
  now: string;
  /**
   * A case lists its findings, or names the case it differs from by one setting, the findings that
   * setting adds and (for a finding whose severity it changes) the ones it removes.
   */
  cases: Record<string, ExpectedFinding[] | { base: string; add: ExpectedFinding[]; remove?: ExpectedFinding[] }>;
}

const expected = JSON.parse(readFileSync('test/fixtures/key-estate/expected.json', 'utf8')) as Expected;

const CASES: Record<string, Pick<Config, 'policy'>> = {
  default: { policy: { profile: 'default' } },
  'public-tls': { policy: { profile: 'public-tls' } },
  'cis-gcp': { policy: { profile: 'cis-gcp' } },
  'default+requiredTags': { policy: { profile: 'default', settings: { governance: { requiredTags: ['owner'] } } } },
  'default+multiRegionDenied': { policy: { profile: 'default', settings: { access: { allowMultiRegion: false } } } },
  // Tier archive: data its keys protect must stay secret 10 years, with NIST IR 8547's 2035 disallowance.
  'default+archiveSecrecy': {
    policy: { profile: 'default', tierSettings: { archive: { algorithms: { secrecyYears: 10 }, pqc: { disallowedAfter: '2035-12-31' } } } },
  },
};

function expectedOf(name: string): ExpectedFinding[] {
  const entry = expected.cases[name]!;
  if (Array.isArray(entry)) return entry;
  const key = (finding: ExpectedFinding) => `${finding.ruleId} ${finding.severity} ${finding.uid}`;
  const removed = new Set((entry.remove ?? []).map(key));
  const base = expectedOf(entry.base);
  for (const finding of entry.remove ?? []) assert.ok(base.some((kept) => key(kept) === key(finding)), `${name} removes ${key(finding)}, which ${entry.base} lacks`);
  return [...base.filter((finding) => !removed.has(key(finding))), ...entry.add];
}

describe('the key estate yields exactly the expected findings, per profile', () => {
  let engine: PolicyEngine;
  let items: InventoryItem[];
  let sources: SourceStatus[];

  before(async () => {
    engine = await PolicyEngine.load();
    ({ items, sources } = await loadEvidence('test/fixtures/key-estate/inventory.json'));
  });

  test('the estate has at least 60 items in all eight providers', () => {
    assert.ok(items.length >= 60);
    assert.deepEqual(
      [...new Set(items.map((item) => item.provider))].sort(),
      ['aws-acm', 'aws-kms', 'gcp-kms', 'pkcs11', 'tls-endpoint', 'vault-pki', 'vault-transit', 'x509-file'],
    );
  });

  for (const [name, config] of Object.entries(CASES)) {
    test(name, () => {
      const found = engine
        .evaluate({ items, sources, now: new Date(expected.now), policy: effectivePolicy(config) })
        .map((finding) => `${finding.rule} ${finding.severity} ${finding.uid}`)
        .sort();
      const want = expectedOf(name).map((finding) => `${finding.ruleId} ${finding.severity} ${finding.uid}`).sort();
      assert.deepEqual(found, want);
    });
  }
});
