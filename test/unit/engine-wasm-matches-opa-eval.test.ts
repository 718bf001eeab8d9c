import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { effectivePolicy } from '../../src/config/settings.ts';
import { compareFindings, PolicyEngine } from '../../src/engine/engine.ts';
import { policyData, policyItem, policySources, policyWaivers } from '../../src/engine/input.ts';
import { catalogue } from '../../src/rules/catalogue.ts';
import { runOpa } from '../../src/engine/opa-cli.ts';
import type { RawFinding } from '../../src/findings/types.ts';
import { loadEvidence } from '../../src/inventory/file.ts';
import type { Profile } from '../../src/model/profile.ts';
import { removeDir, tempDir } from '../support/certs.ts';

// The same evidence through the committed wasm bundle and through `opa eval` on the Rego source
// must give identical findings: proof that the wasm build (and its capabilities) changes nothing.

// drift-estate: keys declared in a state and the live account (one period changed, one key being
// deleted, one undeclared), for KD-DRF-001..003.
const FIXTURES = ['test/fixtures/certificate-estate.json', 'test/fixtures/key-estate/inventory.json', 'test/fixtures/drift-estate.json'];
const NOW = new Date('2026-11-01T00:00:00Z');

describe('wasm engine and opa eval agree', () => {
  let dir: string;
  let engine: PolicyEngine;
  const covered = new Set<string>();

  before(async () => {
    dir = tempDir();
    engine = await PolicyEngine.load(undefined, 7); // a small batch size, so batching is exercised too
  });
  after(() => removeDir(dir));

  // pci-dss: the only profile that turns on KD-ACC-004 (access.allowMultiRegion false).
  for (const profile of ['default', 'public-tls', 'cis-gcp', 'nist-800-57', 'pci-dss'] as Profile[]) {
    test(`profile ${profile}: identical findings, every implemented rule covered`, async () => {
      const loaded = await Promise.all(FIXTURES.map((file) => loadEvidence(file)));
      const items = loaded.flatMap((evidence) => evidence.items);
      const sources = loaded.flatMap((evidence) => evidence.sources);
      const policy = effectivePolicy({
        policy: { profile, settings: { governance: { requiredTags: ['owner'] } }, tierSettings: { tls: { expiry: { warnDays: 60 } } } },
        waivers: [
          { rule: 'KD-ROT-001', resource: 'arn:aws:kms:*', reason: 'r', owner: 'o', expires: '2026-10-01' },
          { rule: 'KD-CRT-*', resource: '*', reason: 'r', owner: 'o', expires: '2027-01-01' },
        ],
        drift: { managedAsCode: [{ source: 'aws-drift' }] },
      });
      const wasm = engine.evaluate({ items, sources, now: NOW, policy });

      const input = {
        now: NOW.toISOString(),
        now_s: Math.floor(NOW.getTime() / 1000),
        items: items.map(policyItem),
        sources: policySources(sources),
        waivers: policyWaivers(policy.waivers),
      };
      writeFileSync(path.join(dir, 'input.json'), JSON.stringify(input));
      // Without items the certificate rules build their index in Rego (what is compared here); the
      // drift rules always read the engine's index, so opa eval gets the same one.
      writeFileSync(path.join(dir, 'data.json'), JSON.stringify({ ...policyData(policy), driftIndex: policyData(policy, items, sources)['driftIndex'] }));
      const run = runOpa([
        'eval', '--format', 'json', '--data', 'policies/keydrift', '--data', path.join(dir, 'data.json'),
        '--input', path.join(dir, 'input.json'), 'data.keydrift.main.findings',
      ]);
      assert.equal(run.status, 0, run.stderr);
      const evaluated = JSON.parse(run.stdout) as { result: { expressions: { value: RawFinding[] }[] }[] };
      const viaOpa = [...evaluated.result[0]!.expressions[0]!.value].sort(compareFindings);

      assert.deepEqual(wasm, viaOpa);
      for (const finding of wasm) covered.add(finding.rule);
    });
  }

  test('together the profiles exercise every implemented rule in both engines', () => {
    const implemented = [...catalogue().values()].filter((rule) => rule.status === 'implemented').map((rule) => rule.id);
    for (const rule of implemented) assert.ok(covered.has(rule), `${rule} does not fire on the fixture estates`);
  });
});
