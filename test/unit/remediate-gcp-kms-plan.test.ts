import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { gcpItem, type GcpCryptoKey, type GcpCryptoKeyVersion } from '../../src/collectors/gcp-kms/map.ts';
import { effectivePolicy } from '../../src/config/settings.ts';
import type { Finding } from '../../src/findings/types.ts';
import type { InventoryItem } from '../../src/inventory/types.ts';
import { evaluateEvidence, loadPolicies, type LoadedPolicies } from '../../src/pipeline.ts';
import {
  firstRotationTime,
  formatVersionStates,
  gcpKmsRemediation,
  parseVersionStates,
  planGcpKmsRollback,
  planGcpKmsRotation,
} from '../../src/remediate/gcp-kms/declaration.ts';
import { buildPlan, reportSourceOf } from '../../src/remediate/plan.ts';
import type { LoggedChange, Plan, PlannedAction } from '../../src/remediate/types.ts';
import type { Report } from '../../src/report/types.ts';

// Plans for Google Cloud KMS keys, from items mapped by the collector's own mapping (gcpItem) and
// findings the built-in policies really raise on them (evaluateEvidence), through plan.ts.

const DAY = 86_400;
const RING = 'projects/acme/locations/europe-west1/keyRings/ops';
const POLICY = effectivePolicy({ policy: { tierSettings: { kek: { rotation: { maxDays: 180 } } } } });
const nowS = () => Math.floor(Date.now() / 1000);
const at = (secondsAgo: number) => ({ seconds: String(nowS() - secondsAgo), nanos: 0 });
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

function version(keyId: string, id: string, createdDaysAgo: number, state = 'ENABLED', extra: Partial<GcpCryptoKeyVersion> = {}): GcpCryptoKeyVersion {
  return { name: `${RING}/cryptoKeys/${keyId}/cryptoKeyVersions/${id}`, state, createTime: at(createdDaysAgo * DAY), algorithm: 'GOOGLE_SYMMETRIC_ENCRYPTION', protectionLevel: 'SOFTWARE', ...extra };
}

/** A key as the client returns it, and its versions; the first version is primary unless said otherwise. */
function gcpKey(id: string, createdDaysAgo: number, extra: Partial<GcpCryptoKey> = {}, versions = [version(id, '1', createdDaysAgo)], tier: string | null = null): InventoryItem {
  const key: GcpCryptoKey = {
    name: `${RING}/cryptoKeys/${id}`,
    purpose: 'ENCRYPT_DECRYPT',
    createTime: at(createdDaysAgo * DAY),
    versionTemplate: { algorithm: 'GOOGLE_SYMMETRIC_ENCRYPTION', protectionLevel: 'SOFTWARE' },
    primary: versions[0] ?? null,
    destroyScheduledDuration: { seconds: String(30 * DAY) },
    ...extra,
  };
  return { ...gcpItem({ key, sourceId: 'gcp', versions, bindings: [] }), tier };
}

const rotating = (periodDays: number, nextInDays: number): Partial<GcpCryptoKey> => ({
  rotationPeriod: { seconds: String(periodDays * DAY) },
  nextRotationTime: { seconds: String(nowS() + nextInDays * DAY) },
});

const uid = (id: string) => `${RING}/cryptoKeys/${id}`;

describe('Google Cloud KMS remediation plans', () => {
  let policies: LoadedPolicies;
  before(async () => {
    policies = await loadPolicies([]);
  });

  async function report(items: InventoryItem[]): Promise<Report> {
    return evaluateEvidence({
      items,
      sources: [{ id: 'gcp', type: 'gcp-kms', status: 'ok', items: items.length, errors: [] }],
      now: new Date(),
      policy: POLICY,
      policies,
      failOn: 'high',
      configName: 'unit',
      configDigest: null,
      startedAt: new Date(),
      fallbackFile: 'keydrift.yaml',
    });
  }

  const allow = (...rules: string[]) => rules.map((rule) => ({ rule }));
  const actionFor = (plan: Plan, key: string, rule: string): PlannedAction => {
    const found = plan.actions.find((action) => action.resource.uid === uid(key) && action.rule === rule);
    assert.ok(found, `no ${rule} action for ${key}: ${JSON.stringify(plan.notPlanned)}`);
    return found;
  };
  const reasonFor = (plan: Plan, key: string, rule: string): string => plan.notPlanned.find((left) => left.resource === uid(key) && left.rule === rule)?.reason ?? '(planned)';

  test('KD-ROT-001 and KD-ROT-002: one UpdateCryptoKey with the allowed period and the first rotation one period after the current material', async () => {
    const items = [gcpKey('off', 30), gcpKey('kek-off', 30, {}, undefined, 'kek'), gcpKey('too-long', 60, rotating(730, 300)), gcpKey('off-old-material', 400)];
    const built = buildPlan(reportSourceOf(await report(items)), allow('KD-ROT-001', 'KD-ROT-002'), new Date());
    const off = actionFor(built, 'off', 'KD-ROT-001');
    const firstAt = iso(Date.parse(items[0]!.createdAt!) + 365 * DAY * 1000);
    assert.deepEqual(off.calls, [{ operation: 'UpdateCryptoKey', params: { name: uid('off'), updateMask: 'rotation_period,next_rotation_time', rotationPeriodSeconds: 365 * DAY, nextRotationTime: firstAt } }]);
    assert.deepEqual(off.before, { rotationAutomatic: false, rotationPeriodDays: null, nextRotationAt: null });
    assert.deepEqual(off.after, { rotationAutomatic: true, rotationPeriodDays: 365, nextRotationAt: firstAt });
    assert.equal(off.kind, 'set');
    assert.equal(off.reversible, true);
    assert.equal(off.destructive, false);
    assert.equal(actionFor(built, 'kek-off', 'KD-ROT-001').calls[0]!.params['rotationPeriodSeconds'], 180 * DAY, 'the kek tier allows 180 days');

    const tooLong = actionFor(built, 'too-long', 'KD-ROT-002');
    assert.deepEqual(tooLong.before, { rotationAutomatic: true, rotationPeriodDays: 730, nextRotationAt: items[2]!.rotation!.nextRotationAt });
    assert.equal(tooLong.after.rotationPeriodDays, 365);
    assert.match(tooLong.summary, /shorten the rotation period from 730 to 365 days/);

    // Material older than a period: the first rotation is a day from planning, on a whole second.
    const stale = Date.parse(String(actionFor(built, 'off-old-material', 'KD-ROT-001').calls[0]!.params['nextRotationTime']));
    assert.ok(Math.abs(stale - (Date.now() + DAY * 1000)) < 60_000);
    assert.equal(stale % 1000, 0);
    assert.equal(firstRotationTime(items[3]!, 365, Date.parse('2030-01-01T00:00:00.750Z')), '2030-01-02T00:00:00Z');
  });

  test('rotation settings are refused, with the reason, for keys Cloud KMS does not rotate automatically', () => {
    const finding = (ruleId: string, item: InventoryItem): Finding =>
      ({ ruleId, fingerprint: '0'.repeat(32), evidence: {}, resource: { uid: item.uid, kind: 'key', provider: 'gcp-kms', name: item.name, location: item.location, sourceId: 'gcp' } }) as unknown as Finding;
    const signer = gcpKey('signer', 30, { purpose: 'ASYMMETRIC_SIGN', primary: null, versionTemplate: { algorithm: 'EC_SIGN_P256_SHA256', protectionLevel: 'SOFTWARE' } });
    const external = gcpKey('ext', 30, { versionTemplate: { algorithm: 'EXTERNAL_SYMMETRIC_ENCRYPTION', protectionLevel: 'EXTERNAL' } }, [version('ext', '1', 30, 'ENABLED', { protectionLevel: 'EXTERNAL' })]);
    const imported = gcpKey('imp', 30, { importOnly: true }, [version('imp', '1', 30, 'ENABLED', { importJob: `${RING}/importJobs/j` })]);
    const plan = (rule: string, item: InventoryItem) => gcpKmsRemediation.plan({ finding: finding(rule, item), item, policy: POLICY });
    assert.deepEqual(plan('KD-ROT-001', signer), { ok: false, reason: 'Cloud KMS rotates automatically only ENCRYPT_DECRYPT keys (this one is ASYMMETRIC_SIGN)' });
    assert.match((plan('KD-ROT-001', external) as { reason: string }).reason, /external key manager/);
    assert.match((plan('KD-ROT-001', imported) as { reason: string }).reason, /imported/);
    assert.match((plan('KD-ROT-003', signer) as { reason: string }).reason, /has no primary version.*rotate-now/);
    assert.match((plan('KD-CRT-001', signer) as { reason: string }).reason, /no automatic fix/);
    assert.match((gcpKmsRemediation.planRotation(external) as { reason: string }).reason, /external key manager/);
  });

  test('KD-RET-002: every version scheduled for destruction is restored; irreversible, not destructive', async () => {
    const item = gcpKey('held', 100, { primary: null, labels: { 'legal-hold': 'case-1' } }, [
      version('held', '1', 100, 'DESTROY_SCHEDULED', { destroyTime: { seconds: String(nowS() + 20 * DAY) } }),
      version('held', '2', 50, 'DESTROY_SCHEDULED', { destroyTime: { seconds: String(nowS() + 25 * DAY) } }),
      version('held', '3', 40, 'DESTROYED', { destroyEventTime: at(DAY) }),
    ]);
    const built = buildPlan(reportSourceOf(await report([item])), allow('KD-RET-002'), new Date());
    const restore = actionFor(built, 'held', 'KD-RET-002');
    assert.deepEqual(restore.calls.map((call) => `${call.operation} ${String(call.params['name'])}`), [
      `RestoreCryptoKeyVersion ${uid('held')}/cryptoKeyVersions/1`,
      `RestoreCryptoKeyVersion ${uid('held')}/cryptoKeyVersions/2`,
    ]);
    assert.deepEqual(restore.before, { state: 'pending-deletion', deletionScheduledFor: item.deletion!.scheduledFor, versionState: '1=DESTROY_SCHEDULED,2=DESTROY_SCHEDULED' });
    assert.deepEqual(restore.after, { state: 'disabled', deletionScheduledFor: null, versionState: '1=DISABLED,2=DISABLED' });
    assert.equal(restore.reversible, false);
    assert.equal(restore.destructive, false);
    assert.match(restore.notes.join(' '), /DISABLED/);
  });

  test('KD-RET-003 and KD-RET-001 are destructive: planned only with the allow entry and --allow-destructive, with the data impact stated', async () => {
    const old = gcpKey('old', 300, rotating(90, 20), [version('old', '3', 100), version('old', '1', 300), version('old', '2', 200)]);
    const retired = gcpKey('retired', 400, { destroyScheduledDuration: { seconds: String(7 * DAY) } }, [version('retired', '2', 200, 'DISABLED'), version('retired', '1', 400, 'DISABLED'), version('retired', '0', 500, 'DESTROYED')]);
    const evaluated = await report([old, retired]);
    // A disabled key's age in that state is not known to Cloud KMS: the finding is added as evidence would carry it.
    const template = evaluated.findings[0]!;
    evaluated.findings.push({ ...template, ruleId: 'KD-RET-001', fingerprint: 'f'.repeat(32), resource: { ...template.resource, uid: retired.uid, name: retired.name }, evidence: { disabledDays: 300, maxDays: 90 } });
    const source = reportSourceOf(evaluated);

    const noFlag = buildPlan(source, allow('KD-RET-001', 'KD-RET-003'), new Date());
    assert.match(reasonFor(noFlag, 'old', 'KD-RET-003'), /--allow-destructive/);
    assert.match(reasonFor(noFlag, 'retired', 'KD-RET-001'), /--allow-destructive/);
    const noAllow = buildPlan(source, allow('KD-ROT-001'), new Date(), { allowDestructive: true });
    assert.equal(reasonFor(noAllow, 'old', 'KD-RET-003'), 'not allowed by remediation.allow');
    assert.equal(reasonFor(noAllow, 'retired', 'KD-RET-001'), 'not allowed by remediation.allow');

    const both = buildPlan(source, allow('KD-RET-001', 'KD-RET-003'), new Date(), { allowDestructive: true });
    const disable = actionFor(both, 'old', 'KD-RET-003');
    assert.deepEqual(disable.calls, [
      { operation: 'UpdateCryptoKeyVersion', params: { name: `${uid('old')}/cryptoKeyVersions/1`, updateMask: 'state', state: 'DISABLED' } },
      { operation: 'UpdateCryptoKeyVersion', params: { name: `${uid('old')}/cryptoKeyVersions/2`, updateMask: 'state', state: 'DISABLED' } },
    ]);
    assert.deepEqual(disable.before, { versionState: '1=ENABLED,2=ENABLED' });
    assert.deepEqual(disable.after, { versionState: '1=DISABLED,2=DISABLED' });
    assert.equal(disable.destructive, true);
    assert.equal(disable.reversible, true);
    assert.match(disable.dataImpact!, /version\(s\) 1, 2 of .*\/old cannot be decrypted while they are disabled \(re-encrypt it under the primary version 3 first\)/);

    const destroy = actionFor(both, 'retired', 'KD-RET-001');
    assert.deepEqual(destroy.calls.map((call) => `${call.operation} ${String(call.params['name']).split('/').pop()}`), ['DestroyCryptoKeyVersion 1', 'DestroyCryptoKeyVersion 2']);
    assert.deepEqual(destroy.before, { state: 'disabled', deletionScheduledFor: null, versionState: '1=DISABLED,2=DISABLED' });
    assert.deepEqual(destroy.after, { versionState: '1=DESTROY_SCHEDULED,2=DESTROY_SCHEDULED', state: 'pending-deletion' });
    assert.match(destroy.dataImpact!, /^after 7 days Cloud KMS destroys the material of version\(s\) 1, 2: everything encrypted under .*retired with them can no longer be decrypted$/);
  });

  test('rotation: a new primary version on ENCRYPT_DECRYPT keys (an overdue schedule moved on first), a new version on signing keys; KD-ROT-003 and KD-ROT-004 on one key are one action', async () => {
    const overdue = gcpKey('overdue', 500, rotating(90, -20), [version('overdue', '1', 500)]);
    const built = buildPlan(reportSourceOf(await report([overdue])), allow('KD-ROT-003', 'KD-ROT-004'), new Date());
    assert.equal(built.actions.length, 1);
    const other = built.actions[0]!.rule === 'KD-ROT-003' ? 'KD-ROT-004' : 'KD-ROT-003';
    assert.equal(reasonFor(built, 'overdue', other), 'the same change is already planned for this key by another finding');
    const [rotation] = built.actions;
    assert.equal(rotation!.kind, 'rotate');
    assert.deepEqual(rotation!.before, { primaryVersion: '1' });
    assert.deepEqual(rotation!.calls.map((call) => call.operation), ['UpdateCryptoKey', 'CreateCryptoKeyVersion', 'UpdateCryptoKeyPrimaryVersion']);
    assert.deepEqual(rotation!.calls[2]!.params, { name: uid('overdue'), cryptoKeyVersionIdFrom: 'CreateCryptoKeyVersion' });
    const next = Date.parse(String(rotation!.calls[0]!.params['nextRotationTime']));
    const due = Date.parse(overdue.rotation!.nextRotationAt!);
    assert.equal((next - due) % (90 * DAY * 1000), 0, 'moved on by whole periods');
    assert.ok(next > Date.now() + DAY * 1000 - 5000 && next < Date.now() + 92 * DAY * 1000);
    assert.equal(rotation!.reversible, false);

    const current = planGcpKmsRotation(gcpKey('fresh', 10, rotating(90, 80)));
    assert.ok(current.ok);
    assert.deepEqual(current.action.calls.map((call) => call.operation), ['CreateCryptoKeyVersion', 'UpdateCryptoKeyPrimaryVersion'], 'a schedule on time is left alone');

    const signer = gcpKey('signer', 30, { purpose: 'ASYMMETRIC_SIGN', primary: null, versionTemplate: { algorithm: 'EC_SIGN_P256_SHA256', protectionLevel: 'SOFTWARE' } }, [version('signer', '9', 20), version('signer', '10', 10)]);
    const signing = planGcpKmsRotation(signer);
    assert.ok(signing.ok);
    assert.deepEqual(signing.action.calls, [{ operation: 'CreateCryptoKeyVersion', params: { parent: uid('signer') } }]);
    assert.deepEqual(signing.action.before, { primaryVersion: '10' }, 'the newest version, numerically');
    assert.match(signing.action.summary, /no primary version/);

    const disabled = gcpKey('disabled', 30, {}, [version('disabled', '1', 30, 'DISABLED')]);
    assert.deepEqual(planGcpKmsRotation(disabled), { ok: false, reason: 'only an enabled key is rotated (this one is disabled)' });
  });

  test('rollback: the schedule put back (or cleared), versions enabled or restored again; rotations and legal-hold restores are not undone', () => {
    const name = uid('k');
    const change = (action: Partial<PlannedAction>, observed: LoggedChange['observed'], verified: LoggedChange['verified']): LoggedChange => ({
      entryId: 'e1',
      action: { id: 'a', provider: 'gcp-kms', sourceId: 'gcp', resource: { uid: name, name: 'k', location: 'l' }, rule: 'r', fingerprint: '', kind: 'set', summary: '', calls: [], before: {}, after: {}, reversible: true, destructive: false, notes: [], ...action },
      observed,
      verified,
    });
    const schedule = { operation: 'UpdateCryptoKey', params: { name, updateMask: 'rotation_period,next_rotation_time', rotationPeriodSeconds: 365 * DAY, nextRotationTime: '2027-01-01T00:00:00Z' } };
    const applied = { rotationAutomatic: true, rotationPeriodDays: 365, nextRotationAt: '2027-01-01T00:00:00Z' };

    const off = planGcpKmsRollback(change({ calls: [schedule] }, { rotationAutomatic: false, rotationPeriodDays: null, nextRotationAt: null }, applied));
    assert.ok(off.ok);
    assert.deepEqual(off.action.calls, [{ operation: 'UpdateCryptoKey', params: { name, updateMask: 'rotation_period,next_rotation_time' } }], 'fields the mask names and the key omits are cleared');
    assert.deepEqual(off.action.before, applied);
    assert.deepEqual(off.action.after, { rotationAutomatic: false, rotationPeriodDays: null, nextRotationAt: null });

    const back = planGcpKmsRollback(change({ calls: [schedule] }, { rotationAutomatic: true, rotationPeriodDays: 730, nextRotationAt: '2027-06-01T00:00:00Z' }, applied));
    assert.ok(back.ok);
    assert.deepEqual(back.action.calls[0]!.params, { name, updateMask: 'rotation_period,next_rotation_time', rotationPeriodSeconds: 730 * DAY, nextRotationTime: '2027-06-01T00:00:00Z' });

    const v = (id: string) => `${name}/cryptoKeyVersions/${id}`;
    const disabled = planGcpKmsRollback(
      change(
        { calls: ['1', '2'].map((id) => ({ operation: 'UpdateCryptoKeyVersion', params: { name: v(id), updateMask: 'state', state: 'DISABLED' } })) },
        { versionState: '1=ENABLED,2=ENABLED' },
        { versionState: '1=DISABLED,2=DISABLED' },
      ),
    );
    assert.ok(disabled.ok);
    assert.deepEqual(disabled.action.calls.map((call) => `${String(call.params['name']).split('/').pop()} ${String(call.params['state'])}`), ['1 ENABLED', '2 ENABLED']);
    assert.deepEqual(disabled.action.after, { versionState: '1=ENABLED,2=ENABLED' });

    const destroyed = planGcpKmsRollback(
      change(
        { calls: ['1', '2'].map((id) => ({ operation: 'DestroyCryptoKeyVersion', params: { name: v(id) } })) },
        { state: 'enabled', deletionScheduledFor: null, versionState: '1=DISABLED,2=ENABLED' },
        { state: 'pending-deletion', deletionScheduledFor: '2027-01-01T00:00:00Z', versionState: '1=DESTROY_SCHEDULED,2=DESTROY_SCHEDULED' },
      ),
    );
    assert.ok(destroyed.ok);
    assert.deepEqual(destroyed.action.calls.map((call) => `${call.operation} ${String(call.params['name']).split('/').pop()}`), ['RestoreCryptoKeyVersion 1', 'RestoreCryptoKeyVersion 2', 'UpdateCryptoKeyVersion 2']);
    assert.deepEqual(destroyed.action.before, { versionState: '1=DESTROY_SCHEDULED,2=DESTROY_SCHEDULED' });
    assert.deepEqual(destroyed.action.after, { versionState: '1=DISABLED,2=ENABLED', state: 'enabled', deletionScheduledFor: null });
    assert.match(destroyed.action.notes.join(' '), /only before the destroy time \(2027-01-01T00:00:00Z\)/);

    const rotated = planGcpKmsRollback(change({ kind: 'rotate', calls: [{ operation: 'CreateCryptoKeyVersion', params: { parent: name } }] }, {}, {}));
    assert.deepEqual(rotated, { ok: false, reason: 'a rotation cannot be undone (the new version stays; the earlier ones still decrypt)' });
    const restored = planGcpKmsRollback(change({ calls: [{ operation: 'RestoreCryptoKeyVersion', params: { name: v('1') } }] }, {}, {}));
    assert.equal(restored.ok, false);
    assert.match((restored as { reason: string }).reason, /not scheduled for destruction again/);
  });

  test('version states are one comparable value, ordered by version number', () => {
    const text = formatVersionStates([
      ['10', 'ENABLED'],
      ['2', 'DISABLED'],
      ['1', 'DESTROY_SCHEDULED'],
    ]);
    assert.equal(text, '1=DESTROY_SCHEDULED,2=DISABLED,10=ENABLED');
    assert.deepEqual([...parseVersionStates(text)], [
      ['1', 'DESTROY_SCHEDULED'],
      ['2', 'DISABLED'],
      ['10', 'ENABLED'],
    ]);
    assert.deepEqual([...parseVersionStates(null)], []);
  });
});
