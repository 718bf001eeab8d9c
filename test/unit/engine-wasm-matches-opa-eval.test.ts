import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { effectivePolicy } from '../../src/config/settings.ts';
import { compareFindings, PolicyEngine } from '../../src/engine/engine.ts';
import { policyData, policyItem, policySources } from '../../src/engine/input.ts';
import { runOpa } from '../../src/engine/opa-cli.ts';
import type { RawFinding } from '../../src/findings/types.ts';
import { loadEvidence } from '../../src/inventory/file.ts';
import type { Profile } from '../../src/config/types.ts';
import { removeDir, tempDir } from '../support/certs.ts';

// The same evidence through the committed wasm bundle and through `opa eval` on the Rego source
// must give identical findings: proof that the wasm build (and its capabilities) changes nothing.

const FIXTURE = 'test/fixtures/certificate-estate.json';
const NOW = new Date('2026-11-01T00:00:00Z');

describe('wasm engine and opa eval agree', () => {
  let dir: string;
  let engine: PolicyEngine;

  before(async () => {
    dir = tempDir();
    engine = await PolicyEngine.load(undefined, 7); // a small batch size, so batching is exercised too
  });
  after(() => removeDir(dir));

  for (const profile of ['default', 'public-tls'] as Profile[]) {
    test(`profile ${profile}: identical findings, every implemented rule covered`, async () => {
      const { items, sources } = await loadEvidence(FIXTURE);
      const policy = effectivePolicy({ policy: { profile, tierSettings: { tls: { expiry: { warnDays: 60 } } } } });
      const wasm = engine.evaluate({ items, sources, now: NOW, policy });

      const input = {
        now: NOW.toISOString(),
        now_s: Math.floor(NOW.getTime() / 1000),
        items: items.map(policyItem),
        sources: policySources(sources),
      };
      writeFileSync(path.join(dir, 'input.json'), JSON.stringify(input));
      writeFileSync(path.join(dir, 'data.json'), JSON.stringify(policyData(policy)));
      const run = runOpa([
        'eval', '--format', 'json', '--data', 'policies/keydrift', '--data', path.join(dir, 'data.json'),
        '--input', path.join(dir, 'input.json'), 'data.keydrift.main.findings',
      ]);
      assert.equal(run.status, 0, run.stderr);
      const evaluated = JSON.parse(run.stdout) as { result: { expressions: { value: RawFinding[] }[] }[] };
      const viaOpa = [...evaluated.result[0]!.expressions[0]!.value].sort(compareFindings);

      assert.deepEqual(wasm, viaOpa);
      const rules = new Set(wasm.map((finding) => finding.rule));
      for (const rule of ['KD-CRT-001', 'KD-CRT-002', 'KD-CRT-003', 'KD-CRT-004', 'KD-CRT-005', 'KD-GOV-003']) {
        assert.ok(rules.has(rule), `${rule} does not fire on the fixture estate`);
      }
    });
  }
});
