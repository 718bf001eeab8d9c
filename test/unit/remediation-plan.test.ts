import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { effectivePolicy } from '../../src/config/settings.ts';
import type { Finding } from '../../src/findings/types.ts';
import { baseItem, type InventoryItem } from '../../src/inventory/types.ts';
import { buildPlan, buildRotationPlan, planDigest, PlanFileError, PlanTamperedError, readPlanFile, reportSourceOf } from '../../src/remediate/plan.ts';
import { REMEDIATIONS } from '../../src/remediate/registry.ts';
import type { Plan } from '../../src/remediate/types.ts';
import type { Report } from '../../src/report/types.ts';
import { catalogue } from '../../src/rules/catalogue.ts';

// The plan builder on its own: which findings become actions, which are listed and why, and which
// plan files apply refuses. Provider behaviour is proven against the emulators in test/integration.

const dir = mkdtempSync(path.join(tmpdir(), 'keydrift-plan-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function awsKey(name: string, overrides: Partial<InventoryItem> = {}): InventoryItem {
  const id = `${name}-0000-0000-0000-000000000000`;
  return baseItem({
    uid: `arn:aws:kms:eu-west-1:111122223333:key/${id}`,
    kind: 'key',
    provider: 'aws-kms',
    sourceId: 'prod-kms',
    name,
    location: '111122223333/eu-west-1',
    algorithm: 'AES-256',
    managedBy: 'customer',
    rotation: { supported: true, automatic: false, periodDays: null, lastRotatedAt: null, nextRotationAt: null },
    evidence: { KeyId: id, region: 'eu-west-1', rotationCount: 0 },
    ...overrides,
  });
}

function finding(ruleId: string, item: InventoryItem, extra: Partial<Finding> = {}): Finding {
  return {
    fingerprint: `${ruleId}-${item.name}`.padEnd(32, '0').slice(0, 32),
    ruleId,
    severity: 'high',
    title: ruleId,
    message: ruleId,
    resource: { uid: item.uid, name: item.name, provider: item.provider, sourceId: item.sourceId, location: item.location, kind: item.kind } as Finding['resource'],
    evidence: {},
    remediation: { text: '', automatic: true },
    declaredAt: { file: 'keydrift.yaml', region: { startLine: 1 } } as Finding['declaredAt'],
    ...extra,
  };
}

function report(items: InventoryItem[], findings: Finding[]): Report {
  return {
    inventory: items,
    findings,
    scan: { now: '2026-11-29T00:00:00Z', policyDigest: 'sha256:policy', configName: 'unit', policy: effectivePolicy({}) },
  } as unknown as Report;
}

const ALL = [{ rule: 'KD-*' }];
const NOW = new Date('2026-11-29T00:00:00Z');

test('one action per allowed finding with a fix; every other finding listed with its reason', () => {
  const off = awsKey('off');
  const waived = awsKey('waived');
  const gone = awsKey('gone');
  const hsm = { ...awsKey('pkcs'), provider: 'pkcs11' as InventoryItem['provider'], uid: 'pkcs11:token/one' };
  const plan = buildPlan(
    reportSourceOf(
      report(
        [off, waived, gone, hsm],
        [
          finding('KD-ROT-001', off),
          finding('KD-ROT-001', waived, { waiver: { rule: 'KD-ROT-001', resource: waived.uid, reason: 'r', owner: 'o', expires: '2027-01-01' } }),
          finding('KD-ROT-001', gone, { baselineState: 'absent' }),
          finding('KD-HSM-001', hsm),
          finding('KD-GOV-001', off),
        ],
      ),
    ),
    ALL,
    NOW,
  );
  assert.deepEqual(plan.actions.map((action) => `${action.rule} ${action.resource.name}`), ['KD-ROT-001 off']);
  assert.deepEqual(
    plan.notPlanned.map((left) => `${left.rule} ${left.resource} ${left.reason}`),
    [`KD-ROT-001 ${waived.uid} waived until 2027-01-01`, `KD-HSM-001 ${hsm.uid} no automatic fix`, `KD-GOV-001 ${off.uid} no automatic fix`],
  );
  assert.equal(plan.digest, planDigest(plan));
});

test('remediation.allow globs narrow by rule, source and tier; nothing is allowed without entries', () => {
  const kek = awsKey('kek', { tier: 'kek' });
  const plain = awsKey('plain');
  const source = reportSourceOf(report([kek, plain], [finding('KD-ROT-001', kek), finding('KD-ROT-001', plain)]));
  const names = (allow: Parameters<typeof buildPlan>[1]) => buildPlan(source, allow, NOW).actions.map((action) => action.resource.name);
  assert.deepEqual(names([]), []);
  assert.deepEqual(names([{ rule: 'KD-ROT-*', tier: 'k*' }]), ['kek']);
  assert.deepEqual(names([{ rule: 'KD-ROT-001', source: 'prod-*' }]), ['kek', 'plain']);
  assert.deepEqual(names([{ rule: 'KD-ROT-001', source: 'staging-*' }]), []);
  assert.deepEqual(names([{ rule: 'KD-RET-*' }]), []);
});

test('two findings that ask for the same rotation of one key make one action', () => {
  const old = awsKey('old', { rotation: { supported: true, automatic: true, periodDays: 365, lastRotatedAt: '2020-01-01T00:00:00Z', nextRotationAt: '2021-01-01T00:00:00Z' } });
  const plan = buildPlan(reportSourceOf(report([old], [finding('KD-ROT-003', old), finding('KD-ROT-004', old)])), ALL, NOW);
  assert.equal(plan.actions.length, 1);
  assert.equal(plan.actions[0]!.kind, 'rotate');
  assert.match(plan.notPlanned[0]!.reason, /already planned for this key/);
});

test('rotate-now plans every matching key and lists the ones that cannot rotate', () => {
  const plan = buildRotationPlan([awsKey('a1'), awsKey('a2'), awsKey('b1', { state: 'disabled' }), awsKey('c1')], '*/a*-*', 'INC-1', NOW);
  assert.deepEqual(plan.actions.map((action) => action.resource.name), ['a1', 'a2']);
  assert.equal(plan.reason, 'INC-1');
  assert.equal(plan.purpose, 'rotate-now');
  assert.deepEqual(buildRotationPlan([awsKey('b1', { state: 'disabled' })], 'b1', 'x', NOW).notPlanned.map((left) => left.reason), ['AWS rotates only an enabled key (this one is disabled)']);
});

function writePlan(name: string, plan: unknown): string {
  const file = path.join(dir, name);
  writeFileSync(file, JSON.stringify(plan));
  return file;
}

test('apply refuses a plan edited after planning, and a re-sealed plan whose shape is not a plan', async () => {
  const key = awsKey('off');
  const plan = buildPlan(reportSourceOf(report([key], [finding('KD-ROT-001', key)])), ALL, NOW);
  assert.deepEqual(await readPlanFile(writePlan('ok.json', plan)), plan);

  const edited = structuredClone(plan);
  edited.actions[0]!.calls[0]!.params['RotationPeriodInDays'] = 2560;
  await assert.rejects(readPlanFile(writePlan('edited.json', edited)), (error: Error) => error instanceof PlanTamperedError && /does not match its digest/.test(error.message));

  const reseal = (changed: Plan) => ({ ...changed, digest: planDigest(changed) });
  const destructive = structuredClone(plan);
  destructive.actions[0]!.destructive = true;
  await assert.rejects(readPlanFile(writePlan('destructive.json', reseal(destructive))), (error: Error) => error instanceof PlanFileError && /actions\[0\]: a destructive action in a plan made without --allow-destructive/.test(error.message));
  const noCalls = structuredClone(plan);
  noCalls.actions[0]!.calls = [];
  await assert.rejects(readPlanFile(writePlan('no-calls.json', reseal(noCalls))), /actions\[0\]\.calls: must be a non-empty array/);
  await assert.rejects(readPlanFile(writePlan('not-plan.json', { kind: 'report' })), /not a keydrift remediation plan/);
});

test('a rule is marked automatic in rules/ exactly when some provider declares a fix for it', () => {
  const fixed = new Set(REMEDIATIONS.flatMap((declaration) => declaration.rules));
  const automatic = [...catalogue().values()].filter((rule) => rule.remediation.automatic).map((rule) => rule.id);
  assert.deepEqual(automatic.sort(), [...fixed].sort());
  for (const declaration of REMEDIATIONS) {
    for (const rule of declaration.destructiveRules) assert.ok(declaration.rules.includes(rule), `${declaration.provider}: ${rule} is destructive but not a rule it fixes`);
  }
});
