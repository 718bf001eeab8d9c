import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { transitItem, type TransitKeyData, type VaultLocation } from '../../src/collectors/vault/map.ts';
import { effectivePolicy } from '../../src/config/settings.ts';
import type { RemediationAllow } from '../../src/config/types.ts';
import { PolicyEngine } from '../../src/engine/engine.ts';
import type { InventoryItem } from '../../src/inventory/types.ts';
import { evaluateEvidence } from '../../src/pipeline.ts';
import { buildPlan, buildRotationPlan, reportSourceOf } from '../../src/remediate/plan.ts';
import type { Finding } from '../../src/findings/types.ts';
import type { LoggedChange, Plan, PlannedAction } from '../../src/remediate/types.ts';
import { planVaultTransitFix, planVaultTransitRollback, READ_KEY, ROTATE, UPDATE_CONFIG, vaultTransitRemediation } from '../../src/remediate/vault-transit/declaration.ts';
import { stateOf } from '../../src/remediate/vault-transit/executor.ts';
import type { Report } from '../../src/report/types.ts';

// What `keydrift remediate plan` proposes for Vault transit keys: items mapped by the collector's
// own mapper from Vault's key-read answers, judged by the built-in policies, planned by plan.ts.

const DAY_S = 86_400;
const SEEDED = Date.parse('2025-01-01T00:00:00Z') / 1000;
const NOW = new Date((SEEDED + 100 * DAY_S) * 1000);
const LOCATION: VaultLocation = { address: 'https://vault.example:8200', namespace: null, mount: 'transit', sourceId: 'vault' };
const uid = (name: string) => `https://vault.example:8200/v1/transit/keys/${name}`;

function key(name: string, data: TransitKeyData, location = LOCATION): InventoryItem {
  const versions = data.latest_version ?? 1;
  const keys = Object.fromEntries(Array.from({ length: versions }, (_, index) => [String(index + 1), SEEDED + index]));
  return transitItem(location, name, { type: 'aes256-gcm96', keys, latest_version: versions, min_decryption_version: 1, min_encryption_version: 0, auto_rotate_period: 0, ...data });
}

const ESTATE: InventoryItem[] = [
  key('rotation-off', {}),
  key('signing-off', { type: 'ed25519' }),
  key('period-400-days', { auto_rotate_period: 9600 * 3600 }),
  key('yearly', { auto_rotate_period: 8760 * 3600 }),
  key('old-versions', { auto_rotate_period: 8760 * 3600, latest_version: 4 }),
  key('old-versions-min-encryption', { auto_rotate_period: 8760 * 3600, latest_version: 4, min_encryption_version: 2 }),
];
const ROTATION_ALLOW: RemediationAllow[] = [{ rule: 'KD-ROT-001' }, { rule: 'KD-ROT-002' }];
const ALL_ALLOW: RemediationAllow[] = [...ROTATION_ALLOW, { rule: 'KD-RET-003', source: 'vault' }];

describe('vault-transit remediation plans', () => {
  let report: Report;

  before(async () => {
    report = await evaluateEvidence({
      items: ESTATE,
      sources: [{ id: 'vault', type: 'vault', status: 'ok', items: ESTATE.length, errors: [] }],
      now: NOW,
      // Signing keys may live 180 days: the allowed period is the purpose's, not the default 365.
      policy: effectivePolicy({ policy: { settings: { rotation: { purposeMaxDays: { sign: 180 } } } } }),
      failOn: 'high',
      configName: 'unit',
      configDigest: null,
      startedAt: NOW,
      fallbackFile: 'keydrift.yaml',
      engine: await PolicyEngine.load(),
    });
  });

  const plan = (allow: RemediationAllow[], allowDestructive = false): Plan => buildPlan(reportSourceOf(report), allow, NOW, { allowDestructive });
  const actionOn = (planned: Plan, name: string, rule: string): PlannedAction | undefined =>
    planned.actions.find((action) => action.resource.uid === uid(name) && action.rule === rule);
  const findingOn = (name: string, rule: string): Finding => {
    const finding = report.findings.find((candidate) => candidate.resource.uid === uid(name) && candidate.ruleId === rule);
    assert.ok(finding, `${rule} on ${name}: ${report.findings.map((each) => `${each.ruleId} ${each.resource.name}`).join(', ')}`);
    return finding;
  };

  test('KD-ROT-001: auto_rotate_period set to the allowed days in whole hours, before and after as a rescan reads them', () => {
    const planned = plan(ROTATION_ALLOW);
    const off = actionOn(planned, 'rotation-off', 'KD-ROT-001')!;
    assert.deepEqual(off.calls, [{ operation: UPDATE_CONFIG, params: { mount: 'transit', name: 'rotation-off', auto_rotate_period: '8760h' } }]);
    assert.deepEqual(off.before, { rotationAutomatic: false, rotationPeriodDays: null });
    assert.deepEqual(off.after, { rotationAutomatic: true, rotationPeriodDays: 365 });
    assert.equal(off.kind, 'set');
    assert.equal(off.reversible, true);
    assert.equal(off.destructive, false);
    assert.equal(off.provider, 'vault-transit');
    assert.equal(off.fingerprint, findingOn('rotation-off', 'KD-ROT-001').fingerprint);
    // The purpose's cryptoperiod: 180 days for a signing key.
    assert.equal(actionOn(planned, 'signing-off', 'KD-ROT-001')!.calls[0]!.params['auto_rotate_period'], '4320h');
    assert.deepEqual(actionOn(planned, 'signing-off', 'KD-ROT-001')!.after, { rotationAutomatic: true, rotationPeriodDays: 180 });
  });

  test('KD-ROT-002: a 400-day period is shortened to 365 days; keys already within the policy get no action', () => {
    const planned = plan(ROTATION_ALLOW);
    const long = actionOn(planned, 'period-400-days', 'KD-ROT-002')!;
    assert.deepEqual(long.calls[0]!.params, { mount: 'transit', name: 'period-400-days', auto_rotate_period: '8760h' });
    assert.deepEqual(long.before, { rotationAutomatic: true, rotationPeriodDays: 400 });
    assert.deepEqual(long.after, { rotationAutomatic: true, rotationPeriodDays: 365 });
    assert.match(long.summary, /from 400 to 365 days/);
    assert.ok(!planned.actions.some((action) => action.resource.uid === uid('yearly')));
    assert.deepEqual(planned.actions.map((action) => action.resource.name).sort(), ['period-400-days', 'rotation-off', 'signing-off']);
  });

  test('KD-RET-003 is not planned without --allow-destructive, nor without a remediation.allow entry', () => {
    const withoutFlag = plan(ALL_ALLOW, false);
    assert.ok(!withoutFlag.actions.some((action) => action.rule === 'KD-RET-003'));
    const refused = withoutFlag.notPlanned.find((left) => left.rule === 'KD-RET-003' && left.resource === uid('old-versions'))!;
    assert.match(refused.reason, /--allow-destructive/);
    const withoutAllow = plan(ROTATION_ALLOW, true);
    assert.ok(!withoutAllow.actions.some((action) => action.rule === 'KD-RET-003'));
    assert.equal(withoutAllow.notPlanned.find((left) => left.rule === 'KD-RET-003' && left.resource === uid('old-versions'))!.reason, 'not allowed by remediation.allow');
  });

  test('KD-RET-003 with both opt-ins: min_decryption_version raised past every version the finding names, with its data impact', () => {
    const finding = findingOn('old-versions', 'KD-RET-003');
    assert.deepEqual(finding.evidence['decryptableVersions'], ['1', '2', '3']);
    const planned = plan(ALL_ALLOW, true);
    const raise = actionOn(planned, 'old-versions', 'KD-RET-003')!;
    assert.deepEqual(raise.calls, [{ operation: UPDATE_CONFIG, params: { mount: 'transit', name: 'old-versions', min_decryption_version: 4 } }]);
    assert.deepEqual(raise.before, { minDecryptionVersion: 1 });
    assert.deepEqual(raise.after, { minDecryptionVersion: 4 });
    assert.equal(raise.destructive, true);
    assert.equal(raise.reversible, true);
    assert.match(raise.dataImpact!, /versions 1 to 3 .*stop being decryptable/);
    assert.match(raise.dataImpact!, /rewrap them first \(POST transit\/rewrap\/old-versions\)/);
    // Vault refuses a min_decryption_version above a non-zero min_encryption_version: listed, not planned.
    const conflict = planned.notPlanned.find((left) => left.resource === uid('old-versions-min-encryption') && left.rule === 'KD-RET-003')!;
    assert.match(conflict.reason, /min_encryption_version is 2; Vault refuses a min_decryption_version above it \(4\)/);
  });

  test('the new min_decryption_version never passes latest_version', () => {
    const item = key('odd', { latest_version: 3 });
    const finding = { ...findingOn('old-versions', 'KD-RET-003'), evidence: { versionId: '2', decryptableVersions: ['2', '7'] } };
    const proposal = planVaultTransitFix({ finding, item, policy: report.scan.policy });
    assert.ok(proposal.ok);
    assert.deepEqual(proposal.action.after, { minDecryptionVersion: 3 });
  });

  test('managed keys cannot rotate; KD-RET-001 and KD-RET-002 do not apply to transit keys: each says why', () => {
    const managed = key('in-hsm', { type: 'managed_key', managed_key_name: 'hsm-1' });
    const base = findingOn('rotation-off', 'KD-ROT-001');
    const ask = (item: InventoryItem, ruleId: string) => planVaultTransitFix({ finding: { ...base, ruleId }, item, policy: report.scan.policy });
    for (const rule of ['KD-ROT-001', 'KD-ROT-002', 'KD-ROT-003']) {
      const answer = ask(managed, rule);
      assert.ok(!answer.ok && /managed_key .*cannot rotate/.test(answer.reason), `${rule}: ${JSON.stringify(answer)}`);
    }
    const disabled = ask(ESTATE[0]!, 'KD-RET-001');
    assert.ok(!disabled.ok && /no disabled state/.test(disabled.reason));
    const hold = ask(ESTATE[0]!, 'KD-RET-002');
    assert.ok(!hold.ok && /no deletion schedule/.test(hold.reason));
    const rotation = buildRotationPlan([managed], '*in-hsm', 'INC-1', NOW);
    assert.deepEqual(rotation.actions, []);
    assert.match(rotation.notPlanned[0]!.reason, /cannot rotate/);
  });

  test('KD-ROT-003 and rotate-now rotate: verified by latest_version moving on, irreversible', () => {
    const rotation = buildRotationPlan(ESTATE, '*/old-versions', 'INC-7 exposure', NOW);
    assert.equal(rotation.actions.length, 1);
    const [action] = rotation.actions;
    assert.equal(action!.kind, 'rotate');
    assert.deepEqual(action!.calls, [{ operation: ROTATE, params: { mount: 'transit', name: 'old-versions' } }]);
    assert.deepEqual(action!.before, { primaryVersion: '4' });
    assert.equal(action!.reversible, false);
    const stale = planVaultTransitFix({ finding: { ...findingOn('rotation-off', 'KD-ROT-001'), ruleId: 'KD-ROT-003' }, item: ESTATE[0]!, policy: report.scan.policy });
    assert.ok(stale.ok && stale.action.kind === 'rotate' && stale.action.before.primaryVersion === '1');
  });

  test('a namespaced key keeps its namespace in the planned call', () => {
    const item = key('tenant-key', {}, { ...LOCATION, namespace: 'team-a' });
    assert.equal(item.uid, 'https://vault.example:8200/v1/team-a/transit/keys/tenant-key');
    const proposal = planVaultTransitFix({ finding: findingOn('rotation-off', 'KD-ROT-001'), item, policy: report.scan.policy });
    assert.ok(proposal.ok);
    assert.deepEqual(proposal.action.calls[0]!.params, { mount: 'transit', name: 'tenant-key', namespace: 'team-a', auto_rotate_period: '8760h' });
  });

  test('rollback: auto_rotate_period back to off or to the observed period; min_decryption_version lowered again; a rotation is irreversible', () => {
    const planned = plan(ALL_ALLOW, true);
    const change = (action: PlannedAction, observed: LoggedChange['observed'], verified: LoggedChange['verified']): LoggedChange => ({ entryId: 'e1', action, observed, verified });
    const off = planVaultTransitRollback(change(actionOn(planned, 'rotation-off', 'KD-ROT-001')!, { rotationAutomatic: false, rotationPeriodDays: null, primaryVersion: '1', minDecryptionVersion: 1 }, { rotationAutomatic: true, rotationPeriodDays: 365 }));
    assert.ok(off.ok);
    assert.deepEqual(off.action.calls, [{ operation: UPDATE_CONFIG, params: { mount: 'transit', name: 'rotation-off', auto_rotate_period: 0 } }]);
    assert.deepEqual(off.action.before, { rotationAutomatic: true, rotationPeriodDays: 365 });
    assert.deepEqual(off.action.after, { rotationAutomatic: false, rotationPeriodDays: null });

    const long = actionOn(planned, 'period-400-days', 'KD-ROT-002')!;
    const back = planVaultTransitRollback(change(long, { rotationAutomatic: true, rotationPeriodDays: 400 }, { rotationAutomatic: true, rotationPeriodDays: 365 }));
    assert.ok(back.ok);
    assert.equal(back.action.calls[0]!.params['auto_rotate_period'], '9600h');
    assert.deepEqual(back.action.after, { rotationAutomatic: true, rotationPeriodDays: 400 });
    // A period of whole hours that is not whole days (100h reads as 4.17 days) comes back exactly.
    const hours = planVaultTransitRollback(change(long, { rotationAutomatic: true, rotationPeriodDays: stateOf({ auto_rotate_period: '100h' }).rotationPeriodDays! }, { rotationAutomatic: true, rotationPeriodDays: 365 }));
    assert.ok(hours.ok && hours.action.calls[0]!.params['auto_rotate_period'] === '100h');

    const raise = actionOn(planned, 'old-versions', 'KD-RET-003')!;
    const lower = planVaultTransitRollback(change(raise, { minDecryptionVersion: 1 }, { minDecryptionVersion: 4 }));
    assert.ok(lower.ok);
    assert.deepEqual(lower.action.calls[0]!.params, { mount: 'transit', name: 'old-versions', min_decryption_version: 1 });
    assert.deepEqual(lower.action.before, { minDecryptionVersion: 4 });
    assert.deepEqual(lower.action.after, { minDecryptionVersion: 1 });
    assert.equal(lower.action.destructive, false);

    const rotate = buildRotationPlan(ESTATE, '*/yearly', 'INC', NOW).actions[0]!;
    const undo = planVaultTransitRollback(change(rotate, { primaryVersion: '1' }, { primaryVersion: '2' }));
    assert.ok(!undo.ok && /cannot be undone/.test(undo.reason));
  });

  test('a read reports the rotation period with the collector\'s rounding, so apply compares what a rescan sees', () => {
    for (const period of ['1h', '90m', '100h', '720h', '8760h', '9600h', 31_536_000, 0]) {
      const data: TransitKeyData = { type: 'aes256-gcm96', keys: { '1': SEEDED }, latest_version: 1, min_decryption_version: 1, auto_rotate_period: period };
      const item = transitItem(LOCATION, 'k', data);
      const read = stateOf(data);
      assert.equal(read.rotationAutomatic, item.rotation!.automatic, String(period));
      assert.equal(read.rotationPeriodDays, item.rotation!.periodDays, String(period));
      assert.equal(read.primaryVersion, '1');
      assert.equal(read.minDecryptionVersion, 1);
    }
  });

  test('the declared operations are the calls plans name, with Vault policy paths a generator can write as HCL', () => {
    assert.deepEqual(
      vaultTransitRemediation.operations.map((operation) => `${operation.name} ${operation.access} ${operation.permission}`),
      [`${READ_KEY} read read <transit>/keys/+`, `${UPDATE_CONFIG} write update <transit>/keys/+/config`, `${ROTATE} write update <transit>/keys/+/rotate`],
    );
    const declared = new Set(vaultTransitRemediation.operations.map((operation) => operation.name));
    const planned = [...plan(ALL_ALLOW, true).actions, ...buildRotationPlan(ESTATE, '*', 'INC', NOW).actions];
    for (const action of planned) for (const call of action.calls) assert.ok(declared.has(call.operation), call.operation);
    assert.deepEqual(vaultTransitRemediation.destructiveRules, ['KD-RET-003']);
  });
});
