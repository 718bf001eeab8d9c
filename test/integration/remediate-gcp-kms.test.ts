import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { KeyManagementServiceClient } from '@google-cloud/kms';
import { createClient } from '../../src/collectors/gcp-kms/collector.ts';
import { applyPlan } from '../../src/remediate/apply.ts';
import { gcpKmsRemediation } from '../../src/remediate/gcp-kms/declaration.ts';
import { buildPlan, reportSourceOf } from '../../src/remediate/plan.ts';
import type { Plan } from '../../src/remediate/types.ts';
import type { Report } from '../../src/report/types.ts';
import { removeDir, tempDir } from '../support/certs.ts';
import { runCli, type CliRun } from '../support/cli.ts';
import { startGcpKmsServer, type GcpEstate, type GcpKey, type GcpKmsServer } from '../support/gcp-kms-server.ts';
import { assertReportsValid } from '../support/reports.ts';

// keydrift remediate plan/apply/rollback/rotate-now against the Cloud KMS test gRPC server
// (test/support/gcp-kms-server.ts), driven by the CLI with the real @google-cloud/kms client. The
// estate is seeded relative to the real clock, because the plan schedules the first automatic
// rotation from it. What the service did is read back from the server (snapshot(), a rescan) and
// from the requests it recorded (`calls`).

// No Google credentials anywhere: the plaintext endpoint must not need ADC or the metadata server.
const ENV = { GOOGLE_APPLICATION_CREDENTIALS: '', GCE_METADATA_HOST: '127.0.0.1:9', CLOUDSDK_CONFIG: '/nonexistent' };
const PROJECT = 'acme-prod';
const RING = `projects/${PROJECT}/locations/europe-west1/keyRings/ops`;
const key = (id: string) => `${RING}/cryptoKeys/${id}`;
const KEYS = {
  rotationOff: key('rotation-off'),
  kekRotationOff: key('kek-rotation-off'),
  tooLong: key('period-730-days'),
  legalHold: key('legal-hold'),
  oldVersions: key('old-versions'),
  retired: key('retired'),
  overdue: key('rotation-overdue'),
  incident: key('incident'),
  signer: key('signer'),
};
const DAY_MS = 86_400_000;
const FIXED_RULES = ['KD-ROT-001', 'KD-ROT-002', 'KD-RET-002'];
const BASE_ALLOW = ['KD-ROT-001', 'KD-ROT-002', 'KD-RET-002'];
const DECLARED = gcpKmsRemediation.operations.map((operation) => operation.name);
const WRITES = new Set(gcpKmsRemediation.operations.filter((operation) => operation.access === 'write').map((operation) => operation.name));
/** Every RPC the server saw while remediation runs ran (plan files applied, rollbacks), across the tests. */
const remediationRpcs = new Set<string>();

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const ago = (days: number) => iso(Date.now() - days * DAY_MS);
const ahead = (days: number) => iso(Date.now() + days * DAY_MS);
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function sym(id: string, created: string, extra: Partial<GcpKey> = {}): GcpKey {
  return {
    id,
    purpose: 'ENCRYPT_DECRYPT',
    createTime: created,
    versionTemplate: { algorithm: 'GOOGLE_SYMMETRIC_ENCRYPTION', protectionLevel: 'SOFTWARE' },
    primaryVersionId: '1',
    versions: [{ id: '1', state: 'ENABLED', createTime: created }],
    labels: { owner: 'payments' },
    ...extra,
  };
}

/** A fresh estate, seeded around the real clock. */
function estate(): GcpEstate {
  const keys: GcpKey[] = [
    sym('rotation-off', ago(30)),
    sym('kek-rotation-off', ago(30), { labels: { owner: 'payments', 'keydrift-tier': 'kek' } }),
    sym('period-730-days', ago(60), { rotationPeriodSeconds: 730 * 86_400, nextRotationTime: ahead(300) }),
    {
      ...sym('legal-hold', ago(100), { labels: { owner: 'payments', 'legal-hold': 'case-7731' } }),
      primaryVersionId: undefined,
      versions: [
        { id: '1', state: 'DESTROY_SCHEDULED', createTime: ago(100), destroyTime: ahead(20) },
        { id: '2', state: 'DESTROY_SCHEDULED', createTime: ago(50), destroyTime: ahead(25) },
      ],
    },
    {
      ...sym('old-versions', ago(300), { rotationPeriodSeconds: 90 * 86_400, nextRotationTime: ahead(20) }),
      primaryVersionId: '3',
      versions: [
        { id: '1', state: 'ENABLED', createTime: ago(300) },
        { id: '2', state: 'ENABLED', createTime: ago(200) },
        { id: '3', state: 'ENABLED', createTime: ago(100) },
      ],
    },
    {
      ...sym('retired', ago(400)),
      primaryVersionId: '2',
      destroyScheduledDurationSeconds: 7 * 86_400,
      versions: [
        { id: '1', state: 'DISABLED', createTime: ago(400) },
        { id: '2', state: 'DISABLED', createTime: ago(200) },
      ],
    },
    sym('rotation-overdue', ago(110), { rotationPeriodSeconds: 90 * 86_400, nextRotationTime: ago(20) }),
    sym('incident', ago(30), { rotationPeriodSeconds: 90 * 86_400, nextRotationTime: ahead(60) }),
    {
      id: 'signer',
      purpose: 'ASYMMETRIC_SIGN',
      createTime: ago(30),
      versionTemplate: { algorithm: 'EC_SIGN_P256_SHA256', protectionLevel: 'SOFTWARE' },
      versions: [{ id: '1', state: 'ENABLED', createTime: ago(30) }],
      labels: { owner: 'payments' },
    },
  ];
  return { projects: [{ id: PROJECT, locations: [{ id: 'europe-west1', keyRings: [{ id: 'ops', keys }] }] }] };
}

interface LogLine {
  id: string;
  actor: string;
  resource: string;
  action: string;
  result: { status: string; detail?: string };
}

function readLog(file: string): LogLine[] {
  return readFileSync(file, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as LogLine);
}

function readPlan(file: string): Plan {
  return JSON.parse(readFileSync(file, 'utf8')) as Plan;
}

function fixable(report: Report, rules = FIXED_RULES): string[] {
  return report.findings
    .filter((finding) => rules.includes(finding.ruleId))
    .map((finding) => `${finding.ruleId} ${finding.resource.uid}`)
    .sort();
}

describe('keydrift remediate on Google Cloud KMS (test gRPC server, real client)', () => {
  let server: GcpKmsServer;
  let dir: string;

  before(async () => {
    server = await startGcpKmsServer(estate());
    dir = tempDir();
  });
  after(async () => {
    await server?.stop();
    removeDir(dir);
  });

  const fresh = () => {
    server.setEstate(estate());
    server.setFaults([]);
    server.calls.length = 0;
  };

  function config(allow: readonly string[] = BASE_ALLOW, name = `keydrift-${Math.random().toString(36).slice(2)}.yaml`): string {
    const file = path.join(dir, name);
    writeFileSync(
      file,
      [
        'version: 1',
        'name: remediate-gcp',
        'sources:',
        `  - { id: gcp-prod, type: gcp-kms, projects: [${PROJECT}], locations: [europe-west1], endpoint: "http://127.0.0.1:${server.port}", timeoutMs: 5000 }`,
        'tiers:',
        '  - { tag: keydrift-tier, value: kek, tier: kek }',
        'policy:',
        '  tierSettings:',
        '    kek: { rotation: { maxDays: 180 } }',
        ...(allow.length > 0 ? ['remediation:', '  allow:', ...allow.map((rule) => `    - { rule: "${rule}" }`)] : []),
        '',
      ].join('\n'),
    );
    return file;
  }

  const cli = (args: string[]) => runCli(args, { env: ENV });

  /** Runs `run` and returns the RPCs the server saw meanwhile; `remediation` runs feed the least-privilege check. */
  async function observe(run: () => Promise<CliRun>, remediation = true): Promise<{ run: CliRun; rpcs: { method: string; resource: string }[] }> {
    const from = server.calls.length;
    const finished = await run();
    const rpcs = server.calls.slice(from).map((call) => ({ method: call.method, resource: call.resource }));
    if (remediation) for (const rpc of rpcs) remediationRpcs.add(rpc.method);
    return { run: finished, rpcs };
  }

  async function scanReport(configFile: string): Promise<Report> {
    const out = path.join(dir, `scan-${Math.random().toString(36).slice(2)}`);
    const run = await cli(['scan', '--config', configFile, '--out', out, '--format', 'json']);
    assert.ok(run.code === 0 || run.code === 1, run.stderr);
    const report = assertReportsValid(out);
    assert.equal(report.sources[0]?.status, 'ok', JSON.stringify(report.sources[0]?.errors));
    return report;
  }

  async function plan(configFile: string, extra: string[] = []): Promise<{ plan: Plan; file: string; run: CliRun }> {
    const file = path.join(dir, `plan-${Math.random().toString(36).slice(2)}.json`);
    const run = await cli(['remediate', 'plan', '--config', configFile, '--plan', file, ...extra]);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    return { plan: readPlan(file), file, run };
  }

  const keyOf = (id: string): GcpKey => {
    const found = server.snapshot().projects[0]!.locations[0]!.keyRings[0]!.keys.find((candidate) => candidate.id === id.split('/').pop());
    assert.ok(found, id);
    return found;
  };
  const versionStates = (id: string) => keyOf(id).versions.map((version) => `${version.id}=${version.state}`).join(',');

  test('the test server writes as Cloud KMS does, driven by the real client: updates, new versions, primary, disable, destroy, restore', async () => {
    fresh();
    const client: KeyManagementServiceClient = createClient({ id: 'direct', type: 'gcp-kms', projects: [PROJECT], endpoint: `http://127.0.0.1:${server.port}` });
    const reject = async (promise: Promise<unknown>): Promise<{ code: number; details: string }> => {
      try {
        await promise;
      } catch (error) {
        return error as { code: number; details: string };
      }
      assert.fail('expected the call to fail');
    };
    try {
      const seeded = estate();
      // UpdateCryptoKey: both fields set, then both cleared by a mask naming them and a key omitting them.
      const next = ahead(10);
      const [updated] = await client.updateCryptoKey({
        cryptoKey: { name: KEYS.rotationOff, rotationPeriod: { seconds: 30 * 86_400 }, nextRotationTime: { seconds: Date.parse(next) / 1000 } },
        updateMask: { paths: ['rotation_period', 'next_rotation_time'] },
      });
      assert.deepEqual(updated.rotationPeriod, { seconds: String(30 * 86_400), nanos: 0 });
      assert.equal(keyOf(KEYS.rotationOff).nextRotationTime, next);
      const [listed] = await client.listCryptoKeys({ parent: RING });
      assert.deepEqual(listed.find((candidate) => candidate.name === KEYS.rotationOff)?.rotationPeriod, { seconds: String(30 * 86_400), nanos: 0 }, 'a later list shows the change');
      await client.updateCryptoKey({ cryptoKey: { name: KEYS.rotationOff }, updateMask: { paths: ['rotation_period', 'next_rotation_time'] } });
      const [cleared] = await client.getCryptoKey({ name: KEYS.rotationOff });
      assert.equal(cleared.rotationPeriod, undefined);
      assert.equal(cleared.nextRotationTime, null);
      // What the API refuses, with nothing changed.
      const refusals = [
        await reject(client.updateCryptoKey({ cryptoKey: { name: KEYS.rotationOff, rotationPeriod: { seconds: 30 * 86_400 } }, updateMask: { paths: ['rotation_period'] } })),
        await reject(client.updateCryptoKey({ cryptoKey: { name: KEYS.rotationOff, rotationPeriod: { seconds: 3600 }, nextRotationTime: { seconds: 2e9 } }, updateMask: { paths: ['rotation_period', 'next_rotation_time'] } })),
        await reject(client.updateCryptoKey({ cryptoKey: { name: KEYS.signer, rotationPeriod: { seconds: 30 * 86_400 }, nextRotationTime: { seconds: 2e9 } }, updateMask: { paths: ['rotation_period', 'next_rotation_time'] } })),
        await reject(client.updateCryptoKey({ cryptoKey: { name: KEYS.rotationOff, purpose: 'MAC' }, updateMask: { paths: ['purpose'] } })),
        await reject(client.updateCryptoKey({ cryptoKey: { name: KEYS.rotationOff }, updateMask: { paths: [] } })),
      ];
      assert.deepEqual(refusals.map((error) => error.code), [3, 3, 3, 3, 3], JSON.stringify(refusals));
      assert.match(refusals[0]!.details, /If rotation_period is set, next_rotation_time must also be set/);
      assert.equal(keyOf(KEYS.rotationOff).rotationPeriodSeconds, undefined);
      const missing = await reject(client.updateCryptoKey({ cryptoKey: { name: key('gone') }, updateMask: { paths: ['rotation_period'] } }));
      assert.equal(missing.code, 5);

      // CreateCryptoKeyVersion: the next id, ENABLED, now; not primary until UpdateCryptoKeyPrimaryVersion.
      const before = Date.now() - 1000;
      const [created] = await client.createCryptoKeyVersion({ parent: KEYS.oldVersions, cryptoKeyVersion: {} });
      assert.equal(created.name, `${KEYS.oldVersions}/cryptoKeyVersions/4`);
      assert.equal(created.state, 'ENABLED');
      assert.equal(created.algorithm, 'GOOGLE_SYMMETRIC_ENCRYPTION');
      assert.ok(Number(created.createTime?.seconds) * 1000 >= before);
      assert.equal(keyOf(KEYS.oldVersions).primaryVersionId, '3');
      const [primary] = await client.updateCryptoKeyPrimaryVersion({ name: KEYS.oldVersions, cryptoKeyVersionId: '4' });
      assert.equal(primary.primary?.name, `${KEYS.oldVersions}/cryptoKeyVersions/4`);
      const [signerVersion] = await client.createCryptoKeyVersion({ parent: KEYS.signer, cryptoKeyVersion: {} });
      assert.equal(signerVersion.name, `${KEYS.signer}/cryptoKeyVersions/2`);
      assert.equal((await reject(client.updateCryptoKeyPrimaryVersion({ name: KEYS.signer, cryptoKeyVersionId: '2' }))).code, 9, 'not an ENCRYPT_DECRYPT key');
      assert.equal((await reject(client.updateCryptoKeyPrimaryVersion({ name: KEYS.retired, cryptoKeyVersionId: '1' }))).code, 9, 'a DISABLED version');
      assert.equal((await reject(client.updateCryptoKeyPrimaryVersion({ name: KEYS.oldVersions, cryptoKeyVersionId: '9' }))).code, 5);

      // UpdateCryptoKeyVersion: ENABLED <-> DISABLED only.
      const [disabled] = await client.updateCryptoKeyVersion({ cryptoKeyVersion: { name: `${KEYS.oldVersions}/cryptoKeyVersions/1`, state: 'DISABLED' }, updateMask: { paths: ['state'] } });
      assert.equal(disabled.state, 'DISABLED');
      assert.equal(
        (await reject(client.updateCryptoKeyVersion({ cryptoKeyVersion: { name: `${KEYS.oldVersions}/cryptoKeyVersions/1`, state: 'DESTROYED' }, updateMask: { paths: ['state'] } }))).code,
        3,
      );
      assert.equal(
        (await reject(client.updateCryptoKeyVersion({ cryptoKeyVersion: { name: `${KEYS.legalHold}/cryptoKeyVersions/1`, state: 'ENABLED' }, updateMask: { paths: ['state'] } }))).code,
        9,
        'a version scheduled for destruction is restored, not enabled',
      );

      // DestroyCryptoKeyVersion: DESTROY_SCHEDULED, destroy_time = now + the key's destroy_scheduled_duration (7 days here).
      const [scheduled] = await client.destroyCryptoKeyVersion({ name: `${KEYS.retired}/cryptoKeyVersions/1` });
      assert.equal(scheduled.state, 'DESTROY_SCHEDULED');
      const destroyAt = Number(scheduled.destroyTime?.seconds) * 1000;
      assert.ok(Math.abs(destroyAt - (Date.now() + 7 * DAY_MS)) < 60_000, `destroy time ${iso(destroyAt)}`);
      assert.equal((await reject(client.destroyCryptoKeyVersion({ name: `${KEYS.retired}/cryptoKeyVersions/1` }))).code, 9);
      // RestoreCryptoKeyVersion: DESTROY_SCHEDULED -> DISABLED, destroy_time cleared; otherwise FAILED_PRECONDITION.
      const [restored] = await client.restoreCryptoKeyVersion({ name: `${KEYS.retired}/cryptoKeyVersions/1` });
      assert.equal(restored.state, 'DISABLED');
      assert.equal(restored.destroyTime, null);
      assert.equal((await reject(client.restoreCryptoKeyVersion({ name: `${KEYS.retired}/cryptoKeyVersions/1` }))).code, 9);

      // Faults apply to writes too, before anything changes; the message names the permission.
      server.setFaults([{ method: 'UpdateCryptoKeyVersion', resource: `${KEYS.oldVersions}/cryptoKeyVersions/2`, code: 'PERMISSION_DENIED' }]);
      const denied = await reject(client.updateCryptoKeyVersion({ cryptoKeyVersion: { name: `${KEYS.oldVersions}/cryptoKeyVersions/2`, state: 'DISABLED' }, updateMask: { paths: ['state'] } }));
      assert.equal(denied.code, 7);
      assert.equal(denied.details, `Permission 'cloudkms.cryptoKeyVersions.update' denied on resource '${KEYS.oldVersions}/cryptoKeyVersions/2' (or it may not exist).`);
      assert.equal(versionStates(KEYS.oldVersions), '1=DISABLED,2=ENABLED,3=ENABLED,4=ENABLED');
      assert.deepEqual(server.calls.at(-1), { method: 'UpdateCryptoKeyVersion', resource: `${KEYS.oldVersions}/cryptoKeyVersions/2`, updateMask: ['state'], fault: 'PERMISSION_DENIED' });
      server.setFaults([]);

      // The estate the test passed in is the server's copy's starting point, never changed itself.
      const untouched = estate();
      assert.deepEqual(
        seeded.projects[0]!.locations[0]!.keyRings[0]!.keys.map((candidate) => candidate.versions.length),
        untouched.projects[0]!.locations[0]!.keyRings[0]!.keys.map((candidate) => candidate.versions.length),
      );
    } finally {
      await client.close();
    }
  });

  test('plan then apply fixes every KD-ROT-001, KD-ROT-002 and KD-RET-002 finding (read, write, read back); a rescan shows them gone; a second apply writes nothing', async () => {
    fresh();
    const configFile = config();
    const before = await scanReport(configFile);
    assert.deepEqual(fixable(before), [`KD-RET-002 ${KEYS.legalHold}`, `KD-ROT-001 ${KEYS.kekRotationOff}`, `KD-ROT-001 ${KEYS.rotationOff}`, `KD-ROT-002 ${KEYS.tooLong}`].sort());

    const { plan: planned, file: planFile, run: planRun } = await plan(configFile);
    assert.equal(planned.actions.length, 4, planRun.stdout);
    const byKey = new Map(planned.actions.map((action) => [action.resource.uid, action]));
    const off = byKey.get(KEYS.rotationOff)!;
    const firstRotation = iso(Date.parse(keyOf(KEYS.rotationOff).createTime) + 365 * DAY_MS);
    assert.deepEqual(off.calls, [
      { operation: 'UpdateCryptoKey', params: { name: KEYS.rotationOff, updateMask: 'rotation_period,next_rotation_time', rotationPeriodSeconds: 365 * 86_400, nextRotationTime: firstRotation } },
    ]);
    assert.deepEqual(off.before, { rotationAutomatic: false, rotationPeriodDays: null, nextRotationAt: null });
    assert.deepEqual(off.after, { rotationAutomatic: true, rotationPeriodDays: 365, nextRotationAt: firstRotation });
    // The kek tier allows 180 days.
    assert.equal(byKey.get(KEYS.kekRotationOff)!.calls[0]!.params['rotationPeriodSeconds'], 180 * 86_400);
    assert.deepEqual(byKey.get(KEYS.tooLong)!.before, { rotationAutomatic: true, rotationPeriodDays: 730, nextRotationAt: keyOf(KEYS.tooLong).nextRotationTime });
    assert.equal(byKey.get(KEYS.tooLong)!.after.rotationPeriodDays, 365);
    const restore = byKey.get(KEYS.legalHold)!;
    assert.deepEqual(restore.calls, [
      { operation: 'RestoreCryptoKeyVersion', params: { name: `${KEYS.legalHold}/cryptoKeyVersions/1` } },
      { operation: 'RestoreCryptoKeyVersion', params: { name: `${KEYS.legalHold}/cryptoKeyVersions/2` } },
    ]);
    assert.deepEqual(restore.before, { state: 'pending-deletion', deletionScheduledFor: keyOf(KEYS.legalHold).versions[1]!.destroyTime, versionState: '1=DESTROY_SCHEDULED,2=DESTROY_SCHEDULED' });
    assert.deepEqual(restore.after, { state: 'disabled', deletionScheduledFor: null, versionState: '1=DISABLED,2=DISABLED' });
    assert.ok(planned.actions.every((action) => action.provider === 'gcp-kms' && action.destructive === false && action.reversible === (action !== restore)));
    const accounted = new Set([...planned.actions.map((action) => action.fingerprint), ...planned.notPlanned.map((left) => left.fingerprint)]);
    for (const finding of before.findings) assert.ok(accounted.has(finding.fingerprint), `${finding.ruleId} ${finding.resource.uid} is neither planned nor listed`);

    const logFile = path.join(dir, 'apply-a.jsonl');
    const { run: applied, rpcs } = await observe(() => cli(['remediate', 'apply', planFile, '--config', configFile, '--actor', 'ops-test', '--audit-log', logFile]));
    assert.equal(applied.code, 0, applied.stdout + applied.stderr);
    for (const action of planned.actions) assert.ok(applied.stdout.includes(`applied  ${action.id} ${action.rule} ${action.resource.uid}`), applied.stdout);
    // One read, the writes, one read back: GetCryptoKey for schedules, ListCryptoKeyVersions for versions.
    assert.deepEqual(
      rpcs.filter((rpc) => rpc.resource.startsWith(KEYS.rotationOff)).map((rpc) => rpc.method),
      ['GetCryptoKey', 'UpdateCryptoKey', 'GetCryptoKey'],
    );
    assert.deepEqual(
      rpcs.filter((rpc) => rpc.resource.startsWith(KEYS.legalHold)).map((rpc) => rpc.method),
      ['ListCryptoKeyVersions', 'RestoreCryptoKeyVersion', 'RestoreCryptoKeyVersion', 'ListCryptoKeyVersions'],
    );
    assert.equal(rpcs.length, 3 * 3 + 4);
    assert.equal(keyOf(KEYS.rotationOff).rotationPeriodSeconds, 365 * 86_400);
    assert.equal(keyOf(KEYS.rotationOff).nextRotationTime, firstRotation);
    assert.equal(keyOf(KEYS.kekRotationOff).rotationPeriodSeconds, 180 * 86_400);
    assert.equal(keyOf(KEYS.tooLong).rotationPeriodSeconds, 365 * 86_400);
    assert.equal(versionStates(KEYS.legalHold), '1=DISABLED,2=DISABLED');
    assert.deepEqual(readLog(logFile).map((entry) => `${entry.actor} ${entry.result.status}`), Array(4).fill('ops-test applied'));
    assert.equal((await cli(['audit', 'verify', logFile])).code, 0);

    const rescanned = await scanReport(configFile);
    assert.deepEqual(fixable(rescanned), []);
    const legalHold = rescanned.inventory.find((item) => item.uid === KEYS.legalHold)!;
    assert.equal(legalHold.state, 'disabled');
    assert.equal(legalHold.deletion, null);
    assert.deepEqual(rescanned.inventory.find((item) => item.uid === KEYS.rotationOff)!.rotation, {
      supported: true,
      automatic: true,
      periodDays: 365,
      lastRotatedAt: keyOf(KEYS.rotationOff).versions[0]!.createTime,
      nextRotationAt: firstRotation,
    });

    const { run: again, rpcs: rerun } = await observe(() => cli(['remediate', 'apply', planFile, '--config', configFile, '--audit-log', logFile]));
    assert.equal(again.code, 0, again.stdout + again.stderr);
    for (const action of planned.actions) assert.ok(again.stdout.includes(`skipped  ${action.id} ${action.rule} ${action.resource.uid}: already right`), again.stdout);
    assert.match(again.stdout, /0 applied, 4 already right/);
    assert.deepEqual(rerun.filter((rpc) => WRITES.has(rpc.method)), [], 'the second apply wrote nothing');
    assert.equal(rerun.length, planned.actions.length, 'one read per action');
    assert.deepEqual(readLog(logFile).slice(4).map((entry) => entry.result.status), Array(4).fill('skipped'));
  });

  test('a denied write fails only its own action, naming the call and the key; a throttled one is retried; a rerun of the plan completes it', async () => {
    fresh();
    const configFile = config();
    const { plan: planned, file: planFile } = await plan(configFile);
    server.setFaults([
      { method: 'UpdateCryptoKey', resource: KEYS.rotationOff, code: 'PERMISSION_DENIED' },
      // Fewer than the executor's attempts: absorbed by its backoff.
      { method: 'UpdateCryptoKey', resource: KEYS.tooLong, code: 'RESOURCE_EXHAUSTED', times: 2 },
      { method: 'GetCryptoKey', resource: KEYS.kekRotationOff, code: 'UNAVAILABLE', times: 1 },
    ]);
    const logFile = path.join(dir, 'apply-b.jsonl');
    const { run: failed, rpcs } = await observe(() => cli(['remediate', 'apply', planFile, '--config', configFile, '--audit-log', logFile]));
    assert.equal(failed.code, 1, failed.stdout + failed.stderr);
    const line = (uid: string) => failed.stdout.split('\n').find((candidate) => candidate.includes(` ${uid}`)) ?? '';
    assert.match(
      line(KEYS.rotationOff),
      new RegExp(
        `^failed +[0-9a-f]{16} KD-ROT-001 ${escape(KEYS.rotationOff)}: source "gcp-prod", ${escape(KEYS.rotationOff)}: UpdateCryptoKey failed: PERMISSION_DENIED: Permission 'cloudkms\\.cryptoKeys\\.update' denied on resource '${escape(KEYS.rotationOff)}'`,
      ),
    );
    for (const uid of [KEYS.tooLong, KEYS.kekRotationOff, KEYS.legalHold]) assert.match(line(uid), /^applied /, failed.stdout);
    assert.match(failed.stdout, /3 applied, 0 already right, 0 changed since planning, 1 failed \(exit 1\)/);
    assert.equal(rpcs.filter((rpc) => rpc.method === 'UpdateCryptoKey' && rpc.resource === KEYS.tooLong).length, 3, 'two throttled attempts, then the write');
    assert.equal(rpcs.filter((rpc) => rpc.method === 'UpdateCryptoKey' && rpc.resource === KEYS.rotationOff).length, 1, 'a denial is not retried');
    assert.equal(keyOf(KEYS.rotationOff).rotationPeriodSeconds, undefined);
    assert.equal(keyOf(KEYS.tooLong).rotationPeriodSeconds, 365 * 86_400);

    server.setFaults([]);
    const { run: rerun } = await observe(() => cli(['remediate', 'apply', planFile, '--config', configFile, '--audit-log', logFile]));
    assert.equal(rerun.code, 0, rerun.stdout + rerun.stderr);
    assert.match(rerun.stdout, /1 applied, 3 already right/);
    assert.equal(keyOf(KEYS.rotationOff).rotationPeriodSeconds, 365 * 86_400);
    const log = readLog(logFile);
    assert.equal(log.length, 2 * planned.actions.length, 'one entry per action per attempt');
    const denied = log.find((entry) => entry.resource === KEYS.rotationOff && entry.result.status === 'failed')!;
    assert.match(denied.result.detail!, /UpdateCryptoKey failed: PERMISSION_DENIED/);
    assert.equal((await cli(['audit', 'verify', logFile])).code, 0);
  });

  test('a key changed between plan and apply is skipped as changed since planning (exit 3) and keeps its newer schedule', async () => {
    fresh();
    const configFile = config();
    const report = await scanReport(configFile);
    const reportFile = path.join(dir, 'report-c.json');
    writeFileSync(reportFile, JSON.stringify(report));
    const { plan: planned, file: planFile } = await plan(configFile, ['--from', reportFile]);
    assert.equal(planned.actions.length, 4);

    // Someone sets the period to 200 days after the plan was made.
    const client = createClient({ id: 'direct', type: 'gcp-kms', projects: [PROJECT], endpoint: `http://127.0.0.1:${server.port}` });
    try {
      await client.updateCryptoKey({
        cryptoKey: { name: KEYS.tooLong, rotationPeriod: { seconds: 200 * 86_400 }, nextRotationTime: { seconds: Math.floor(Date.now() / 1000) + 100 * 86_400 } },
        updateMask: { paths: ['rotation_period', 'next_rotation_time'] },
      });
    } finally {
      await client.close();
    }
    const { run: applied, rpcs } = await observe(() => cli(['remediate', 'apply', planFile, '--config', configFile, '--audit-log', path.join(dir, 'apply-c.jsonl')]));
    assert.equal(applied.code, 3, applied.stdout + applied.stderr);
    const stale = planned.actions.find((action) => action.resource.uid === KEYS.tooLong)!;
    assert.match(applied.stdout, new RegExp(`skipped  ${stale.id} KD-ROT-002 \\S+: changed since planning \\(rotationPeriodDays: expected 730, found 200; nextRotationAt: expected "[^"]+", found "[^"]+"\\): not applied`));
    for (const action of planned.actions.filter((candidate) => candidate !== stale)) assert.ok(applied.stdout.includes(`applied  ${action.id}`), applied.stdout);
    assert.deepEqual(rpcs.filter((rpc) => rpc.resource === KEYS.tooLong).map((rpc) => rpc.method), ['GetCryptoKey'], 'the stale key was read, not written');
    assert.equal(keyOf(KEYS.tooLong).rotationPeriodSeconds, 200 * 86_400);
  });

  test('destructive fixes (KD-RET-003 disable, KD-RET-001 destroy) need both remediation.allow and --allow-destructive; with both they state the data impact, apply, and roll back', async () => {
    fresh();
    const destructiveAllow = [...BASE_ALLOW, 'KD-RET-001', 'KD-RET-003'];
    const report = await scanReport(config(destructiveAllow));
    assert.deepEqual(fixable(report, ['KD-RET-003']), [`KD-RET-003 ${KEYS.oldVersions}`]);
    assert.deepEqual(report.findings.find((finding) => finding.ruleId === 'KD-RET-003')!.evidence['decryptableVersions'], ['1', '2']);
    // Cloud KMS does not say when a key was disabled, so KD-RET-001 cannot fire on a live scan: the
    // finding is added to a real report of this estate, the way an auditor's evidence would carry it.
    const template = report.findings.find((finding) => finding.resource.uid === KEYS.retired) ?? report.findings[0]!;
    const item = report.inventory.find((candidate) => candidate.uid === KEYS.retired)!;
    assert.equal(item.state, 'disabled');
    report.findings.push({
      ...template,
      ruleId: 'KD-RET-001',
      fingerprint: 'e'.repeat(32),
      resource: { ...template.resource, uid: item.uid, name: item.name, location: item.location, provider: item.provider, sourceId: item.sourceId },
      evidence: { disabledSince: ago(300), disabledDays: 300, maxDays: 90 },
    });
    const reportFile = path.join(dir, 'report-d.json');
    writeFileSync(reportFile, JSON.stringify(report));
    const destructive = (candidate: Plan) => candidate.actions.filter((action) => action.destructive);

    const noFlag = await plan(config(destructiveAllow), ['--from', reportFile]);
    assert.deepEqual(destructive(noFlag.plan), []);
    for (const rule of ['KD-RET-001', 'KD-RET-003']) assert.match(noFlag.plan.notPlanned.find((left) => left.rule === rule)!.reason, /--allow-destructive/);

    const noAllow = await plan(config(BASE_ALLOW), ['--from', reportFile, '--allow-destructive']);
    assert.deepEqual(destructive(noAllow.plan), []);
    for (const rule of ['KD-RET-001', 'KD-RET-003']) assert.equal(noAllow.plan.notPlanned.find((left) => left.rule === rule)!.reason, 'not allowed by remediation.allow');

    const configFile = config(destructiveAllow);
    const both = await plan(configFile, ['--from', reportFile, '--allow-destructive']);
    const disable = both.plan.actions.find((action) => action.rule === 'KD-RET-003')!;
    const destroy = both.plan.actions.find((action) => action.rule === 'KD-RET-001')!;
    assert.ok(disable.destructive && destroy.destructive);
    assert.deepEqual(disable.calls, [
      { operation: 'UpdateCryptoKeyVersion', params: { name: `${KEYS.oldVersions}/cryptoKeyVersions/1`, updateMask: 'state', state: 'DISABLED' } },
      { operation: 'UpdateCryptoKeyVersion', params: { name: `${KEYS.oldVersions}/cryptoKeyVersions/2`, updateMask: 'state', state: 'DISABLED' } },
    ]);
    assert.match(disable.dataImpact!, /data encrypted under version\(s\) 1, 2 of .*old-versions cannot be decrypted while they are disabled/);
    assert.deepEqual(destroy.calls.map((call) => `${call.operation} ${String(call.params['name']).split('/').pop()}`), ['DestroyCryptoKeyVersion 1', 'DestroyCryptoKeyVersion 2']);
    assert.match(destroy.dataImpact!, /after 7 days Cloud KMS destroys the material of version\(s\) 1, 2: everything encrypted under .*retired with them can no longer be decrypted/);
    assert.match(both.run.stdout, /DESTRUCTIVE/);
    assert.match(both.run.stdout, /data impact: /);

    const logFile = path.join(dir, 'apply-d.jsonl');
    const { run: applied } = await observe(() => cli(['remediate', 'apply', both.file, '--config', configFile, '--audit-log', logFile]));
    assert.equal(applied.code, 0, applied.stdout + applied.stderr);
    assert.equal(versionStates(KEYS.oldVersions), '1=DISABLED,2=DISABLED,3=ENABLED');
    assert.equal(versionStates(KEYS.retired), '1=DESTROY_SCHEDULED,2=DESTROY_SCHEDULED');
    const rescanned = await scanReport(configFile);
    assert.deepEqual(fixable(rescanned, ['KD-RET-003']), []);
    assert.equal(rescanned.inventory.find((candidate) => candidate.uid === KEYS.retired)!.state, 'pending-deletion');

    const entries = readLog(logFile).filter((entry) => entry.resource === KEYS.oldVersions || entry.resource === KEYS.retired);
    assert.equal(entries.length, 2);
    for (const entry of entries) {
      const { run: rolled } = await observe(() => cli(['remediate', 'rollback', logFile, '--config', configFile, '--entry', entry.id]));
      assert.equal(rolled.code, 0, rolled.stdout + rolled.stderr);
    }
    assert.equal(versionStates(KEYS.oldVersions), '1=ENABLED,2=ENABLED,3=ENABLED');
    assert.equal(versionStates(KEYS.retired), '1=DISABLED,2=DISABLED');
    assert.ok(keyOf(KEYS.retired).versions.every((version) => version.destroyTime === undefined));
    const restored = await scanReport(configFile);
    assert.deepEqual(fixable(restored, ['KD-RET-003']), [`KD-RET-003 ${KEYS.oldVersions}`]);
    assert.equal(restored.inventory.find((candidate) => candidate.uid === KEYS.retired)!.state, 'disabled');
  });

  test('rollback puts the rotation schedules back (a rescan shows KD-ROT-001 and KD-ROT-002 again) and lists the restore it does not undo', async () => {
    fresh();
    const configFile = config();
    const original = { period: keyOf(KEYS.tooLong).rotationPeriodSeconds, next: keyOf(KEYS.tooLong).nextRotationTime };
    const { file: planFile } = await plan(configFile);
    const logFile = path.join(dir, 'apply-e.jsonl');
    assert.equal((await observe(() => cli(['remediate', 'apply', planFile, '--config', configFile, '--audit-log', logFile]))).run.code, 0);
    assert.deepEqual(fixable(await scanReport(configFile)), []);

    const { run: rolled, rpcs } = await observe(() => cli(['remediate', 'rollback', logFile, '--config', configFile, '--actor', 'ops-test']));
    assert.equal(rolled.code, 0, rolled.stdout + rolled.stderr);
    assert.match(rolled.stdout, /3 action\(s\):/);
    assert.match(rolled.stdout, new RegExp(`KD-RET-002 ${escape(KEYS.legalHold)}: entry [0-9a-f-]+: a restored version is not scheduled for destruction again`));
    assert.match(rolled.stdout, /3 rolled back, 0 already right/);
    assert.deepEqual([...new Set(rpcs.filter((rpc) => WRITES.has(rpc.method)).map((rpc) => rpc.method))], ['UpdateCryptoKey']);
    const after = await scanReport(configFile);
    assert.deepEqual(fixable(after), [`KD-ROT-001 ${KEYS.kekRotationOff}`, `KD-ROT-001 ${KEYS.rotationOff}`, `KD-ROT-002 ${KEYS.tooLong}`].sort());
    assert.equal(keyOf(KEYS.rotationOff).rotationPeriodSeconds, undefined);
    assert.equal(keyOf(KEYS.rotationOff).nextRotationTime, undefined);
    assert.deepEqual({ period: keyOf(KEYS.tooLong).rotationPeriodSeconds, next: keyOf(KEYS.tooLong).nextRotationTime }, original);
    assert.equal(versionStates(KEYS.legalHold), '1=DISABLED,2=DISABLED', 'the legal hold restore stays');
    assert.deepEqual(readLog(logFile).slice(4).map((entry) => `${entry.actor} ${entry.result.status}`), Array(3).fill('ops-test rolled-back'));
    assert.equal((await cli(['audit', 'verify', logFile])).code, 0);
    const again = await cli(['remediate', 'rollback', logFile, '--config', configFile]);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.match(again.stdout, /nothing to roll back/);
  });

  test('rotate-now without --yes changes nothing; with --yes a symmetric key gets a new primary version and a signing key a new version, each reported', async () => {
    fresh();
    const configFile = config([]);
    const dry = await observe(() => cli(['remediate', 'rotate-now', '--config', configFile, '--resource', 'incident', '--reason', 'INC-4411 key exposure']), false);
    assert.equal(dry.run.code, 0, dry.run.stdout + dry.run.stderr);
    assert.match(dry.run.stdout, /1 action\(s\):/);
    assert.match(dry.run.stdout, /nothing changed: rerun with --yes/);
    assert.deepEqual(dry.rpcs.filter((rpc) => WRITES.has(rpc.method)), []);
    assert.equal(versionStates(KEYS.incident), '1=ENABLED');

    const logFile = path.join(dir, 'rotate-f.jsonl');
    const wet = await observe(() => cli(['remediate', 'rotate-now', '--config', configFile, '--resource', '*/keyRings/ops/cryptoKeys/*', '--reason', 'INC-4411 key exposure', '--yes', '--audit-log', logFile]), false);
    assert.equal(wet.run.code, 0, wet.run.stdout + wet.run.stderr);
    for (const rpc of wet.rpcs) if (WRITES.has(rpc.method)) remediationRpcs.add(rpc.method);
    assert.match(wet.run.stdout, new RegExp(`applied  [0-9a-f]{16} rotate-now ${escape(KEYS.incident)}: rotated, primary version 1 → 2`));
    assert.match(wet.run.stdout, new RegExp(`applied  [0-9a-f]{16} rotate-now ${escape(KEYS.signer)}: rotated, primary version 1 → 2`));
    assert.match(wet.run.stdout, new RegExp(`applied  [0-9a-f]{16} rotate-now ${escape(KEYS.oldVersions)}: rotated, primary version 3 → 4`));
    assert.equal(keyOf(KEYS.incident).primaryVersionId, '2');
    assert.equal(versionStates(KEYS.incident), '1=ENABLED,2=ENABLED');
    assert.equal(versionStates(KEYS.signer), '1=ENABLED,2=ENABLED');
    assert.equal(keyOf(KEYS.signer).primaryVersionId, undefined, 'a signing key has no primary');
    assert.match(wet.run.stdout, new RegExp(`${escape(KEYS.retired)}: only an enabled key is rotated \\(this one is disabled\\)`));
    assert.match(wet.run.stdout, new RegExp(`${escape(KEYS.legalHold)}: only an enabled key is rotated \\(this one is pending-deletion\\)`));
    const incident = wet.rpcs.filter((rpc) => rpc.resource === KEYS.incident && rpc.method !== 'ListCryptoKeyVersions' && rpc.method !== 'GetIamPolicy').map((rpc) => rpc.method);
    assert.deepEqual(incident, ['GetCryptoKey', 'CreateCryptoKeyVersion', 'UpdateCryptoKeyPrimaryVersion', 'GetCryptoKey']);
    const log = readLog(logFile) as (LogLine & { reason: { text: string } })[];
    assert.ok(log.length >= 3 && log.every((entry) => entry.result.status === 'applied' && entry.reason.text === 'INC-4411 key exposure'));
    const rollback = await cli(['remediate', 'rollback', logFile, '--config', configFile]);
    assert.match(rollback.stdout, /a rotation cannot be undone/);
    assert.match(rollback.stdout, /nothing to roll back/);
  });

  test('KD-ROT-004: the overdue schedule is moved on and the key rotated; a CreateCryptoKeyVersion that may have happened is not retried', async () => {
    fresh();
    const configFile = config(['KD-ROT-003', 'KD-ROT-004']);
    const { plan: planned, file: planFile } = await plan(configFile);
    const action = planned.actions.find((candidate) => candidate.resource.uid === KEYS.overdue)!;
    assert.equal(action.rule, 'KD-ROT-004');
    assert.deepEqual(action.calls.map((call) => call.operation), ['UpdateCryptoKey', 'CreateCryptoKeyVersion', 'UpdateCryptoKeyPrimaryVersion']);
    const next = Date.parse(String(action.calls[0]!.params['nextRotationTime']));
    assert.ok(next > Date.now() + DAY_MS - 60_000 && next <= Date.now() + 91 * DAY_MS, 'moved past now by whole periods');
    assert.equal((next - Date.parse(keyOf(KEYS.overdue).nextRotationTime!)) % (90 * DAY_MS), 0);

    server.setFaults([{ method: 'CreateCryptoKeyVersion', resource: KEYS.overdue, code: 'UNAVAILABLE', times: 1 }]);
    const logFile = path.join(dir, 'apply-g.jsonl');
    const { run: failed, rpcs } = await observe(() => cli(['remediate', 'apply', planFile, '--config', configFile, '--audit-log', logFile]));
    assert.equal(failed.code, 1, failed.stdout + failed.stderr);
    assert.match(failed.stdout, /CreateCryptoKeyVersion failed: UNAVAILABLE/);
    assert.equal(rpcs.filter((rpc) => rpc.method === 'CreateCryptoKeyVersion').length, 1, 'not retried: it may have created a version');

    server.setFaults([]);
    const { run: rerun } = await observe(() => cli(['remediate', 'apply', planFile, '--config', configFile, '--audit-log', logFile]));
    assert.equal(rerun.code, 0, rerun.stdout + rerun.stderr);
    assert.match(rerun.stdout, new RegExp(`applied  ${action.id} KD-ROT-004 ${escape(KEYS.overdue)}: rotated, primary version 1 → 2`));
    assert.equal(keyOf(KEYS.overdue).primaryVersionId, '2');
    assert.deepEqual(fixable(await scanReport(configFile), ['KD-ROT-003', 'KD-ROT-004']), []);
  });

  test('in process: each call has the source deadline and is retried when it runs out; apiCalls counts every attempt by RPC', async () => {
    fresh();
    const report = await scanReport(config());
    const planned = buildPlan(reportSourceOf(report), [{ rule: 'KD-ROT-001' }], new Date());
    const action = planned.actions.find((candidate) => candidate.resource.uid === KEYS.rotationOff)!;
    const only = { ...planned, actions: [action] };
    const source = { id: 'gcp-prod', type: 'gcp-kms', projects: [PROJECT], locations: ['europe-west1'], endpoint: `http://127.0.0.1:${server.port}`, timeoutMs: 300 };
    // The first read is held back past the 300 ms deadline: DEADLINE_EXCEEDED, then a second attempt.
    server.setFaults([{ method: 'GetCryptoKey', resource: KEYS.rotationOff, code: 'UNAVAILABLE', times: 1, delayMs: 2000 }]);
    server.calls.length = 0;
    const started = performance.now();
    const outcome = await applyPlan(only, { sources: [source], baseDir: dir });
    assert.ok(performance.now() - started < 5000);
    assert.deepEqual(outcome.results.map((result) => result.status), ['applied'], JSON.stringify(outcome.results));
    assert.deepEqual(outcome.apiCalls, { GetCryptoKey: 3, UpdateCryptoKey: 1 });
    assert.deepEqual(server.calls.map((call) => call.method), ['GetCryptoKey', 'GetCryptoKey', 'UpdateCryptoKey', 'GetCryptoKey']);
    for (const call of server.calls) remediationRpcs.add(call.method);
  });

  // Last: it reads what the runs above made the server do.
  test('the RPCs of every remediation run are declared operations, and every declared write was exercised', () => {
    assert.ok(remediationRpcs.size > 0);
    for (const method of remediationRpcs) assert.ok(DECLARED.includes(method), `${method} is called but not declared`);
    assert.deepEqual(DECLARED.filter((operation) => !remediationRpcs.has(operation)), []);
    assert.deepEqual(
      gcpKmsRemediation.operations.map((operation) => `${operation.name} ${operation.access} ${operation.permission}`),
      [
        'GetCryptoKey read cloudkms.cryptoKeys.get',
        'ListCryptoKeyVersions read cloudkms.cryptoKeyVersions.list',
        'UpdateCryptoKey write cloudkms.cryptoKeys.update',
        'CreateCryptoKeyVersion write cloudkms.cryptoKeyVersions.create',
        'UpdateCryptoKeyPrimaryVersion write cloudkms.cryptoKeys.update',
        'UpdateCryptoKeyVersion write cloudkms.cryptoKeyVersions.update',
        'DestroyCryptoKeyVersion write cloudkms.cryptoKeyVersions.destroy',
        'RestoreCryptoKeyVersion write cloudkms.cryptoKeyVersions.restore',
      ],
    );
  });
});
