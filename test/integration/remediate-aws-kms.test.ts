import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import {
  CreateKeyCommand,
  DisableKeyCommand,
  EnableKeyRotationCommand,
  GetKeyRotationStatusCommand,
  KMSClient,
  ListKeyRotationsCommand,
  ScheduleKeyDeletionCommand,
} from '@aws-sdk/client-kms';
import { awsKmsRemediation } from '../../src/remediate/aws-kms/declaration.ts';
import type { Plan } from '../../src/remediate/types.ts';
import type { Report } from '../../src/report/types.ts';
import { removeDir, tempDir } from '../support/certs.ts';
import { runCli, type CliRun } from '../support/cli.ts';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.ts';
import { startMoto, withoutAwsEnv, type Moto } from '../support/moto.ts';
import { assertReportsValid } from '../support/reports.ts';

// keydrift remediate plan/apply/rollback/rotate-now against moto, with real @aws-sdk clients,
// through the fault proxy. moto 5.2.5 ignores RotationPeriodInDays (EnableKeyRotation drops it,
// GetKeyRotationStatus never returns it), so the proxy keeps the period each EnableKeyRotation
// sent and echoes it back the way AWS does (`rotationPeriods`): the period assertions are on the
// requests the SDK sent; rotation on/off, deletion state and rotations are moto's own.

// Credentials moto accepts; the canary must never reach a plan, a log, an output line or an error.
const CANARY = 'canary-secret-Zq81xWvT0pLmN4';
const ENV = { AWS_ACCESS_KEY_ID: 'AKIDCANARYKEYID', AWS_SECRET_ACCESS_KEY: CANARY, AWS_REGION: 'us-east-1' };
const REGION = 'us-east-1';
const ALLOW = ['remediation:', '  allow:', '    - { rule: KD-ROT-001 }', '    - { rule: KD-ROT-002 }', '    - { rule: "KD-RET-*", source: "prod-*" }'];
const WRITES = new Set(awsKmsRemediation.operations.filter((operation) => operation.access === 'write').map((operation) => operation.name.replace(/^kms:/, '')));

interface Estate {
  moto: Moto;
  proxy: FaultProxy;
  dir: string;
  kms: KMSClient;
  keys: { rotationOff: string; kekRotationOff: string; tooLong: string; legalHold: string; disabled: string };
  config(remediation: boolean): string;
  cli(args: string[]): Promise<CliRun>;
  /** The operations the proxy saw while `run` ran. */
  observe(run: () => Promise<CliRun>): Promise<{ run: CliRun; operations: string[] }>;
  stop(): Promise<void>;
}

async function seededEstate(): Promise<Estate> {
  const moto = await startMoto();
  const proxy = await startFaultProxy(moto.endpoint, [], { rotationPeriods: true });
  const dir = tempDir();
  const kms = new KMSClient({ region: REGION, endpoint: proxy.endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  const stop = async () => {
    kms.destroy();
    await proxy.stop();
    await moto.stop();
    removeDir(dir);
  };
  try {
    return await seed(moto, proxy, dir, kms, stop);
  } catch (error) {
    await stop();
    throw error;
  }
}

async function seed(moto: Moto, proxy: FaultProxy, dir: string, kms: KMSClient, stop: () => Promise<void>): Promise<Estate> {
  const create = async (name: string, tags: Record<string, string> = {}) =>
    (await kms.send(new CreateKeyCommand({ Description: name, Tags: Object.entries({ scenario: name, owner: 'team', ...tags }).map(([TagKey, TagValue]) => ({ TagKey, TagValue })) }))).KeyMetadata!.Arn!;
  const rotationOff = await create('rotation-off');
  const kekRotationOff = await create('kek-rotation-off', { 'keydrift-tier': 'kek' });
  const tooLong = await create('period-2000-days');
  await kms.send(new EnableKeyRotationCommand({ KeyId: tooLong, RotationPeriodInDays: 2000 }));
  const legalHold = await create('legal-hold-pending-deletion', { 'legal-hold': 'case-7731' });
  await kms.send(new ScheduleKeyDeletionCommand({ KeyId: idOf(legalHold), PendingWindowInDays: 30 }));
  const disabled = await create('disabled-forgotten');
  await kms.send(new EnableKeyRotationCommand({ KeyId: disabled, RotationPeriodInDays: 365 }));
  await kms.send(new DisableKeyCommand({ KeyId: idOf(disabled) }));
  proxy.calls.length = 0;
  const config = (remediation: boolean) => {
    const file = path.join(dir, remediation ? 'keydrift.yaml' : 'no-remediation.yaml');
    writeFileSync(
      file,
      [
        'version: 1',
        'name: remediate-moto',
        'sources:',
        `  - { id: prod-kms, type: aws-kms, regions: [${REGION}], endpoint: "${proxy.endpoint}" }`,
        'tiers:',
        '  - { tag: keydrift-tier, value: kek, tier: kek }',
        'policy:',
        '  tierSettings:',
        '    kek: { rotation: { maxDays: 180 } }',
        ...(remediation ? ALLOW : []),
        '',
      ].join('\n'),
    );
    return file;
  };
  const cli = (args: string[]) => runCli(args, { env: { ...withoutAwsEnv(process.env), ...ENV } });
  return {
    moto,
    proxy,
    dir,
    kms,
    keys: { rotationOff, kekRotationOff, tooLong, legalHold, disabled },
    config,
    cli,
    async observe(run) {
      const from = proxy.calls.length;
      const finished = await run();
      return { run: finished, operations: proxy.calls.slice(from).map((call) => call.operation) };
    },
    stop,
  };
}

const idOf = (arn: string) => arn.split('/').pop()!;
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const FIXED_RULES = ['KD-ROT-001', 'KD-ROT-002', 'KD-RET-002'];

async function scanReport(estate: Estate, config: string): Promise<Report> {
  const out = path.join(estate.dir, `scan-${Math.random().toString(36).slice(2)}`);
  const run = await estate.cli(['scan', '--config', config, '--out', out, '--format', 'json']);
  assert.ok(run.code === 0 || run.code === 1, run.stderr);
  return assertReportsValid(out);
}

function fixable(report: Report): string[] {
  return report.findings
    .filter((finding) => FIXED_RULES.includes(finding.ruleId))
    .map((finding) => `${finding.ruleId} ${finding.resource.uid}`)
    .sort();
}

function readPlan(file: string): Plan {
  return JSON.parse(readFileSync(file, 'utf8')) as Plan;
}

interface LogLine {
  id: string;
  actor: string;
  resource: string;
  result: { status: string; detail?: string };
}

function readLog(file: string): LogLine[] {
  return readFileSync(file, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as LogLine);
}

function assertNoCanary(...texts: string[]): void {
  for (const text of texts) assert.ok(!text.includes(CANARY), `the AWS secret key leaked: ${text.slice(0, 200)}`);
}

async function rotationPeriod(estate: Estate, key: string): Promise<number | null> {
  const status = await estate.kms.send(new GetKeyRotationStatusCommand({ KeyId: key }));
  return status.KeyRotationEnabled ? (status.RotationPeriodInDays ?? null) : null;
}

test('plan then apply fixes every KD-ROT-001, KD-ROT-002 and KD-RET-002 finding with read, write, read back; a second apply changes nothing', async () => {
  const estate = await seededEstate();
  try {
    const config = estate.config(true);
    const { keys } = estate;
    const before = await scanReport(estate, config);
    assert.deepEqual(fixable(before), [`KD-RET-002 ${keys.legalHold}`, `KD-ROT-001 ${keys.kekRotationOff}`, `KD-ROT-001 ${keys.rotationOff}`, `KD-ROT-002 ${keys.tooLong}`].sort());

    const planFile = path.join(estate.dir, 'plan.json');
    const planned = await estate.cli(['remediate', 'plan', '--config', config, '--plan', planFile]);
    assert.equal(planned.code, 0, planned.stderr);
    const plan = readPlan(planFile);
    const byKey = new Map(plan.actions.map((action) => [action.resource.uid, action]));
    assert.equal(plan.actions.length, 4);
    assert.equal(plan.purpose, 'findings');
    assert.deepEqual(byKey.get(keys.rotationOff)!.calls, [{ operation: 'kms:EnableKeyRotation', params: { region: REGION, KeyId: idOf(keys.rotationOff), RotationPeriodInDays: 365 } }]);
    assert.deepEqual(byKey.get(keys.rotationOff)!.before, { rotationAutomatic: false });
    // The kek tier allows 180 days; the default 365.
    assert.equal(byKey.get(keys.kekRotationOff)!.calls[0]!.params['RotationPeriodInDays'], 180);
    assert.deepEqual(byKey.get(keys.tooLong)!.before, { rotationAutomatic: true, rotationPeriodDays: 2000 });
    assert.deepEqual(byKey.get(keys.tooLong)!.after, { rotationAutomatic: true, rotationPeriodDays: 365 });
    const cancel = byKey.get(keys.legalHold)!;
    assert.deepEqual(cancel.calls.map((call) => call.operation), ['kms:CancelKeyDeletion']);
    assert.equal(cancel.before.state, 'pending-deletion');
    assert.ok(cancel.before.deletionScheduledFor);
    assert.deepEqual(cancel.after, { state: 'disabled', deletionScheduledFor: null });
    assert.match(cancel.notes.join(' '), /Disabled after its deletion is cancelled/);
    assert.ok(plan.actions.every((action) => action.fingerprint && action.reversible === (action !== cancel) && action.destructive === false));
    assert.ok(plan.digest.startsWith('sha256:'));
    assert.equal(plan.report!.from, 'scan');
    assert.match(plan.report!.digest, /^sha256:[0-9a-f]{64}$/);
    // Every other finding is listed as not planned, never dropped.
    const accounted = new Set([...plan.actions.map((action) => action.fingerprint), ...plan.notPlanned.map((left) => left.fingerprint)]);
    for (const finding of before.findings) assert.ok(accounted.has(finding.fingerprint), `${finding.ruleId} ${finding.resource.uid} is neither planned nor listed`);
    assert.ok(plan.notPlanned.every((left) => !FIXED_RULES.includes(left.rule)));
    assert.match(planned.stdout, /4 action\(s\):/);
    for (const action of plan.actions) assert.ok(planned.stdout.includes(`${action.id} ${action.rule} ${action.resource.uid}`));

    const logFile = path.join(estate.dir, 'audit.jsonl');
    const { run: applied, operations } = await estate.observe(() => estate.cli(['remediate', 'apply', planFile, '--config', config, '--actor', 'ops-test', '--audit-log', logFile]));
    assert.equal(applied.code, 0, applied.stdout + applied.stderr);
    for (const action of plan.actions) assert.ok(applied.stdout.includes(`applied  ${action.id} ${action.rule} ${action.resource.uid}`), applied.stdout);
    // Read, write, read back: three calls per action.
    assert.equal(operations.length, 3 * plan.actions.length, operations.join(' '));
    // The period the SDK sent, per key (moto itself does not keep it).
    const enables = estate.proxy.calls.filter((call) => call.operation === 'EnableKeyRotation');
    assert.deepEqual(enables.map((call) => `${idOf(call.key!)} ${String(call.params!['RotationPeriodInDays'])}`).sort(), [`${idOf(keys.rotationOff)} 365`, `${idOf(keys.kekRotationOff)} 180`, `${idOf(keys.tooLong)} 365`].sort());
    const log = readLog(logFile);
    assert.deepEqual(log.map((entry) => `${entry.actor} ${entry.result.status}`), Array(4).fill('ops-test applied'));
    assert.equal((await estate.cli(['audit', 'verify', logFile])).code, 0);

    const after = await scanReport(estate, config);
    assert.deepEqual(fixable(after), []);
    assert.equal(after.inventory.find((item) => item.uid === keys.legalHold)!.state, 'disabled');

    const { run: again, operations: rerunCalls } = await estate.observe(() => estate.cli(['remediate', 'apply', planFile, '--config', config, '--audit-log', logFile]));
    assert.equal(again.code, 0, again.stdout + again.stderr);
    for (const action of plan.actions) assert.ok(again.stdout.includes(`skipped  ${action.id} ${action.rule} ${action.resource.uid}: already right`), again.stdout);
    assert.match(again.stdout, /0 applied, 4 already right/);
    assert.equal(rerunCalls.filter((operation) => WRITES.has(operation)).length, 0, 'the second apply wrote nothing');
    assert.equal(rerunCalls.length, plan.actions.length, 'one read per action');
    assert.deepEqual(readLog(logFile).slice(4).map((entry) => entry.result.status), Array(4).fill('skipped'));

    assertNoCanary(planned.stdout, planned.stderr, readFileSync(planFile, 'utf8'), applied.stdout, applied.stderr, again.stdout, again.stderr, readFileSync(logFile, 'utf8'));
  } finally {
    await estate.stop();
  }
});

test('an injected deny, throttling and 5xx fail only their own action, named; a rerun of the plan completes it; one log entry per attempt', async () => {
  const estate = await seededEstate();
  try {
    const config = estate.config(true);
    const { keys } = estate;
    const planFile = path.join(estate.dir, 'plan.json');
    assert.equal((await estate.cli(['remediate', 'plan', '--config', config, '--plan', planFile])).code, 0);
    const plan = readPlan(planFile);
    const onKey = (key: string) => (body: Record<string, unknown>) => idOf(String(body['KeyId'])) === idOf(key);
    estate.proxy.setRules([
      { operation: 'EnableKeyRotation', match: onKey(keys.rotationOff), fault: 'access-denied' },
      // More throttling and 5xx answers than the SDK's retries absorb.
      { operation: 'EnableKeyRotation', match: onKey(keys.tooLong), fault: 'throttle' },
      { operation: 'CancelKeyDeletion', match: onKey(keys.legalHold), fault: 'server-error' },
    ]);
    const logFile = path.join(estate.dir, 'audit.jsonl');
    // Fewer retries than the default, so the persistent throttling and 5xx give up sooner.
    const failed = await runCli(['remediate', 'apply', planFile, '--config', config, '--audit-log', logFile], { env: { ...withoutAwsEnv(process.env), ...ENV, AWS_MAX_ATTEMPTS: '3' } });
    assert.equal(failed.code, 1, failed.stdout + failed.stderr);
    const line = (key: string) => failed.stdout.split('\n').find((candidate) => candidate.includes(key)) ?? '';
    assert.match(line(keys.rotationOff), new RegExp(`^failed .*source "prod-kms", ${escape(keys.rotationOff)}: kms:EnableKeyRotation failed: AccessDeniedException: .*not authorized to perform: kms:EnableKeyRotation`));
    assert.match(line(keys.tooLong), /^failed .*kms:EnableKeyRotation failed: ThrottlingException/);
    assert.equal(estate.proxy.calls.filter((call) => call.operation === 'EnableKeyRotation' && call.fault === 'throttle').length, 3, 'throttling was retried, boundedly');
    assert.match(line(keys.legalHold), /^failed .*kms:CancelKeyDeletion failed: KMSInternalException/);
    assert.match(line(keys.kekRotationOff), /^applied /);
    assert.match(failed.stdout, /1 applied, 0 already right, 0 changed since planning, 3 failed \(exit 1\)/);
    assert.equal(await rotationPeriod(estate, keys.kekRotationOff), 180);

    estate.proxy.setRules([]);
    const rerun = await estate.cli(['remediate', 'apply', planFile, '--config', config, '--audit-log', logFile]);
    assert.equal(rerun.code, 0, rerun.stdout + rerun.stderr);
    assert.match(rerun.stdout, /3 applied, 1 already right/);
    assert.equal(await rotationPeriod(estate, keys.rotationOff), 365);
    assert.equal(await rotationPeriod(estate, keys.tooLong), 365);
    const log = readLog(logFile);
    assert.equal(log.length, 2 * plan.actions.length, 'one entry per action per attempt');
    assert.deepEqual(log.slice(0, 4).map((entry) => entry.result.status).sort(), ['applied', 'failed', 'failed', 'failed']);
    const denied = log.find((entry) => entry.resource === keys.rotationOff && entry.result.status === 'failed')!;
    assert.match(denied.result.detail!, /AccessDeniedException/);
    assert.equal((await estate.cli(['audit', 'verify', logFile])).code, 0);
    assertNoCanary(failed.stdout, failed.stderr, rerun.stdout, readFileSync(logFile, 'utf8'));
  } finally {
    await estate.stop();
  }
});

test('a key changed between plan and apply is skipped as stale (exit 3) and keeps its newer setting', async () => {
  const estate = await seededEstate();
  try {
    const config = estate.config(true);
    const { keys } = estate;
    const report = await scanReport(estate, config);
    const reportFile = path.join(estate.dir, 'report.json');
    writeFileSync(reportFile, JSON.stringify(report));
    const planFile = path.join(estate.dir, 'plan.json');
    const planned = await estate.cli(['remediate', 'plan', '--config', config, '--from', reportFile, '--plan', planFile]);
    assert.equal(planned.code, 0, planned.stderr);
    const plan = readPlan(planFile);
    assert.ok(plan.report!.from.endsWith('report.json'));
    assert.equal(plan.actions.length, 4);

    // Someone turns rotation on with 200 days after the plan was made.
    await estate.kms.send(new EnableKeyRotationCommand({ KeyId: keys.rotationOff, RotationPeriodInDays: 200 }));
    estate.proxy.calls.length = 0;

    const applied = await estate.cli(['remediate', 'apply', planFile, '--config', config, '--concurrency', '2', '--audit-log', path.join(estate.dir, 'audit.jsonl')]);
    assert.equal(applied.code, 3, applied.stdout + applied.stderr);
    const stale = plan.actions.find((action) => action.resource.uid === keys.rotationOff)!;
    assert.match(applied.stdout, new RegExp(`skipped  ${stale.id} KD-ROT-001 \\S+: changed since planning \\(rotationAutomatic: expected false, found true\\)`));
    for (const action of plan.actions.filter((candidate) => candidate !== stale)) assert.ok(applied.stdout.includes(`applied  ${action.id}`), applied.stdout);
    assert.ok(!estate.proxy.calls.some((call) => call.operation === 'EnableKeyRotation' && idOf(call.key!) === idOf(keys.rotationOff)), 'the stale key was not written');
    assert.equal(await rotationPeriod(estate, keys.rotationOff), 200);
  } finally {
    await estate.stop();
  }
});

test('a plan edited after planning is refused with exit 2 and nothing is written; no remediation section plans nothing', async () => {
  const estate = await seededEstate();
  try {
    const config = estate.config(true);
    const planFile = path.join(estate.dir, 'plan.json');
    assert.equal((await estate.cli(['remediate', 'plan', '--config', config, '--plan', planFile])).code, 0);
    const plan = readPlan(planFile);
    plan.actions[0]!.calls[0]!.params['RotationPeriodInDays'] = 2560;
    const tampered = path.join(estate.dir, 'tampered.json');
    writeFileSync(tampered, JSON.stringify(plan, null, 2));
    estate.proxy.calls.length = 0;
    const refused = await estate.cli(['remediate', 'apply', tampered, '--config', config, '--audit-log', path.join(estate.dir, 'audit.jsonl')]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /tampered\.json: the plan's content does not match its digest/);
    assert.equal(refused.stdout, '');
    assert.deepEqual(estate.proxy.calls, []);

    const none = path.join(estate.dir, 'none.json');
    const planned = await estate.cli(['remediate', 'plan', '--config', estate.config(false), '--plan', none]);
    assert.equal(planned.code, 0, planned.stderr);
    const empty = readPlan(none);
    assert.deepEqual(empty.actions, []);
    assert.deepEqual(empty.notPlanned.filter((left) => FIXED_RULES.includes(left.rule)).map((left) => left.reason), Array(4).fill('not allowed by remediation.allow'));
    assert.match(planned.stdout, /0 action\(s\):/);
    assertNoCanary(refused.stderr, planned.stdout, readFileSync(none, 'utf8'));
  } finally {
    await estate.stop();
  }
});

test('rollback puts the rotation settings back (a rescan shows the findings again), lists what it cannot undo, and a second rollback does nothing', async () => {
  const estate = await seededEstate();
  try {
    const config = estate.config(true);
    const { keys } = estate;
    const planFile = path.join(estate.dir, 'plan.json');
    assert.equal((await estate.cli(['remediate', 'plan', '--config', config, '--plan', planFile])).code, 0);
    const logFile = path.join(estate.dir, 'audit.jsonl');
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const signKey = path.join(estate.dir, 'sign.pem');
    const verifyKey = path.join(estate.dir, 'verify.pem');
    writeFileSync(signKey, privateKey.export({ type: 'pkcs8', format: 'pem' }));
    writeFileSync(verifyKey, publicKey.export({ type: 'spki', format: 'pem' }));
    assert.equal((await estate.cli(['remediate', 'apply', planFile, '--config', config, '--audit-log', logFile, '--sign-key', signKey])).code, 0);
    assert.deepEqual(fixable(await scanReport(estate, config)), []);
    assert.equal((await estate.cli(['audit', 'verify', logFile, '--public-key', verifyKey])).code, 0, 'apply signed the head it appended');

    const { run: rolled, operations } = await estate.observe(() => estate.cli(['remediate', 'rollback', logFile, '--config', config, '--actor', 'ops-test', '--sign-key', signKey]));
    assert.equal(rolled.code, 0, rolled.stdout + rolled.stderr);
    assert.match(rolled.stdout, /3 action\(s\):/);
    assert.match(rolled.stdout, new RegExp(`KD-RET-002 ${escape(keys.legalHold)}: entry [0-9a-f-]+: a cancelled deletion is not scheduled again`));
    assert.match(rolled.stdout, /3 rolled back, 0 already right/);
    assert.ok(operations.includes('DisableKeyRotation') && operations.includes('EnableKeyRotation'));
    const after = await scanReport(estate, config);
    assert.deepEqual(fixable(after), [`KD-ROT-001 ${keys.kekRotationOff}`, `KD-ROT-001 ${keys.rotationOff}`, `KD-ROT-002 ${keys.tooLong}`].sort());
    assert.equal(await rotationPeriod(estate, keys.tooLong), 2000);
    const log = readLog(logFile);
    assert.deepEqual(log.slice(4).map((entry) => `${entry.actor} ${entry.result.status}`), Array(3).fill('ops-test rolled-back'));
    const verified = await estate.cli(['audit', 'verify', logFile, '--public-key', verifyKey]);
    assert.equal(verified.code, 0, verified.stdout);
    assert.match(verified.stdout, /7 entries, chain intact, signature valid/);

    const again = await estate.cli(['remediate', 'rollback', logFile, '--config', config]);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.match(again.stdout, /nothing to roll back/);
    assert.equal(readLog(logFile).length, 7);

    const unknown = await estate.cli(['remediate', 'rollback', logFile, '--config', config, '--entry', 'no-such-entry']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /no entry with id "no-such-entry"/);
  } finally {
    await estate.stop();
  }
});

test('a destructive fix needs both remediation.allow and --allow-destructive; with both it schedules the deletion and states the data impact', async () => {
  const estate = await seededEstate();
  try {
    const config = estate.config(true);
    const { keys } = estate;
    // AWS does not say when a key was disabled, so KD-RET-001 cannot fire on a live AWS scan: the
    // finding is added to a real report of this estate, the way an auditor's evidence would carry it.
    const report = await scanReport(estate, config);
    const template = report.findings.find((finding) => finding.resource.uid === keys.disabled) ?? report.findings[0]!;
    const item = report.inventory.find((candidate) => candidate.uid === keys.disabled)!;
    report.findings.push({
      ...template,
      ruleId: 'KD-RET-001',
      fingerprint: 'f'.repeat(32),
      resource: { ...template.resource, uid: item.uid, name: item.name, location: item.location, provider: item.provider, sourceId: item.sourceId },
      evidence: { disabledSince: '2025-01-01T00:00:00Z', disabledDays: 700, maxDays: 90 },
    });
    const reportFile = path.join(estate.dir, 'report.json');
    writeFileSync(reportFile, JSON.stringify(report));
    const destructive = (plan: Plan) => plan.actions.filter((action) => action.destructive);

    const withoutFlag = path.join(estate.dir, 'no-flag.json');
    const first = await estate.cli(['remediate', 'plan', '--config', config, '--from', reportFile, '--plan', withoutFlag]);
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual(destructive(readPlan(withoutFlag)), []);
    assert.match(readPlan(withoutFlag).notPlanned.find((left) => left.rule === 'KD-RET-001')!.reason, /--allow-destructive/);

    const withoutAllow = path.join(estate.dir, 'no-allow.json');
    assert.equal((await estate.cli(['remediate', 'plan', '--config', estate.config(false), '--from', reportFile, '--plan', withoutAllow, '--allow-destructive'])).code, 0);
    assert.deepEqual(readPlan(withoutAllow).actions, []);

    const both = path.join(estate.dir, 'both.json');
    const planned = await estate.cli(['remediate', 'plan', '--config', config, '--from', reportFile, '--plan', both, '--allow-destructive']);
    assert.equal(planned.code, 0, planned.stderr);
    const [action] = destructive(readPlan(both));
    assert.ok(action);
    assert.deepEqual(action.calls, [{ operation: 'kms:ScheduleKeyDeletion', params: { region: REGION, KeyId: idOf(keys.disabled), PendingWindowInDays: 30 } }]);
    assert.match(action.dataImpact!, /can no longer be decrypted/);
    assert.match(planned.stdout, /DESTRUCTIVE/);
    assert.match(planned.stdout, /data impact: /);

    const logFile = path.join(estate.dir, 'audit.jsonl');
    const applied = await estate.cli(['remediate', 'apply', both, '--config', config, '--audit-log', logFile]);
    assert.equal(applied.code, 0, applied.stdout + applied.stderr);
    assert.equal((await scanReport(estate, config)).inventory.find((candidate) => candidate.uid === keys.disabled)!.state, 'pending-deletion');
    const entry = readLog(logFile).find((candidate) => candidate.resource === keys.disabled)!;
    const rolled = await estate.cli(['remediate', 'rollback', logFile, '--config', config, '--entry', entry.id]);
    assert.equal(rolled.code, 0, rolled.stdout + rolled.stderr);
    assert.equal((await scanReport(estate, config)).inventory.find((candidate) => candidate.uid === keys.disabled)!.state, 'disabled');
  } finally {
    await estate.stop();
  }
});

test('rotate-now without --yes changes nothing; with --yes it rotates every matching key and reports its new version', async () => {
  const estate = await seededEstate();
  try {
    const config = estate.config(false);
    const { keys } = estate;
    const rotations = async (key: string) => (await estate.kms.send(new ListKeyRotationsCommand({ KeyId: key }))).Rotations?.length ?? 0;
    const dry = await estate.observe(() => estate.cli(['remediate', 'rotate-now', '--config', config, '--resource', `*${idOf(keys.rotationOff)}`, '--reason', 'INC-4411 key exposure']));
    assert.equal(dry.run.code, 0, dry.run.stdout + dry.run.stderr);
    assert.match(dry.run.stdout, /1 action\(s\):/);
    assert.match(dry.run.stdout, /nothing changed: rerun with --yes/);
    assert.ok(!dry.operations.some((operation) => WRITES.has(operation)));
    assert.equal(await rotations(keys.rotationOff), 0);

    const logFile = path.join(estate.dir, 'audit.jsonl');
    // Every key of the source: the pending-deletion and disabled ones are listed, not rotated.
    const wet = await estate.observe(() => estate.cli(['remediate', 'rotate-now', '--config', config, '--resource', 'arn:aws:kms:*', '--reason', 'INC-4411 key exposure', '--yes', '--audit-log', logFile]));
    assert.equal(wet.run.code, 0, wet.run.stdout + wet.run.stderr);
    for (const key of [keys.rotationOff, keys.kekRotationOff, keys.tooLong]) {
      assert.match(wet.run.stdout, new RegExp(`applied  [0-9a-f]{16} rotate-now ${escape(key)}: rotated, primary version 0 → 1`));
      assert.equal(await rotations(key), 1);
    }
    assert.match(wet.run.stdout, new RegExp(`${escape(keys.legalHold)}: AWS rotates only an enabled key \\(this one is pending-deletion\\)`));
    assert.equal(wet.operations.filter((operation) => operation === 'RotateKeyOnDemand').length, 3);
    const log = readLog(logFile) as (LogLine & { reason: { text: string } })[];
    assert.deepEqual(log.map((entry) => `${entry.result.status} ${entry.reason.text}`), Array(3).fill('applied INC-4411 key exposure'));
    const rollback = await estate.cli(['remediate', 'rollback', logFile, '--config', config]);
    assert.match(rollback.stdout, /a rotation cannot be undone/);
    assert.match(rollback.stdout, /nothing to roll back/);
  } finally {
    await estate.stop();
  }
});

test('the AWS KMS remediation declares exactly the calls its runs make', async () => {
  const estate = await seededEstate();
  try {
    const config = estate.config(true);
    const seen = new Set<string>();
    const record = async (run: () => Promise<CliRun>) => (await estate.observe(run)).operations.forEach((operation) => seen.add(operation));
    const planFile = path.join(estate.dir, 'plan.json');
    assert.equal((await estate.cli(['remediate', 'plan', '--config', config, '--plan', planFile])).code, 0);
    const logFile = path.join(estate.dir, 'audit.jsonl');
    await record(() => estate.cli(['remediate', 'apply', planFile, '--config', config, '--audit-log', logFile]));
    await record(() => estate.cli(['remediate', 'rollback', logFile, '--config', config]));
    const rotationPlan = path.join(estate.dir, 'rotate.json');
    assert.equal((await estate.cli(['remediate', 'rotate-now', '--config', config, '--resource', `*${idOf(estate.keys.tooLong)}`, '--reason', 'test', '--plan', rotationPlan])).code, 0);
    // The rotation plan's actions, applied as a plan, so no collection calls mix in.
    await record(() => estate.cli(['remediate', 'apply', rotationPlan, '--config', config, '--audit-log', logFile]));
    const declared = awsKmsRemediation.operations.map((operation) => operation.name.replace(/^kms:/, ''));
    for (const operation of seen) assert.ok(declared.includes(operation), `${operation} is called but not declared`);
    // ScheduleKeyDeletion is exercised by the destructive test above.
    assert.deepEqual(declared.filter((operation) => !seen.has(operation)).sort(), ['ScheduleKeyDeletion']);
  } finally {
    await estate.stop();
  }
});
