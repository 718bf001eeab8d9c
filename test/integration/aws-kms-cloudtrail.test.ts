import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CreateKeyCommand, DisableKeyCommand, EnableKeyCommand, KMSClient, ScheduleKeyDeletionCommand, CancelKeyDeletionCommand } from '@aws-sdk/client-kms';
import type { InventoryItem } from '../../src/inventory/types.ts';
import type { Report } from '../../src/report/types.ts';
import { AWS_ENV } from '../support/aws.ts';
import { removeDir, tempDir } from '../support/certs.ts';
import { runCli } from '../support/cli.ts';
import { startCloudTrailHistory, type CloudTrailHistory } from '../support/cloudtrail-history.ts';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.ts';
import { startMoto, withoutAwsEnv, type Moto } from '../support/moto.ts';
import { assertReportsValid } from '../support/reports.ts';

// KD-RET-001 from a collector: aws-kms with `cloudTrail` reads when each disabled or
// pending-deletion key entered its state from CloudTrail's event history. moto 5.2.5 does not
// implement LookupEvents (HTTP 500) and records no events, so the keys are created and changed in
// moto through test/support/cloudtrail-history.ts, which records the KMS calls (dated by its clock)
// and answers LookupEvents from them; the fault proxy in front of it denies the lookup on demand.

const DAY = 86_400_000;

interface Scenario {
  name: string;
  /** KMS calls in order, each `days` before the seed time. */
  calls: { op: 'DisableKey' | 'EnableKey' | 'ScheduleKeyDeletion' | 'CancelKeyDeletion'; days: number }[];
  region?: string;
}

const SCENARIOS: Scenario[] = [
  { name: 'enabled', calls: [] },
  { name: 'disabled-10d', calls: [{ op: 'DisableKey', days: 10 }] },
  { name: 'disabled-31d', calls: [{ op: 'DisableKey', days: 31 }] },
  // Older than the 90-day history: the event is out of the window, stateSince stays unknown.
  { name: 'disabled-120d', calls: [{ op: 'DisableKey', days: 120 }] },
  // Disabled, enabled again, disabled again: the state began with the last DisableKey.
  { name: 'disabled-again-20d', calls: [{ op: 'DisableKey', days: 80 }, { op: 'EnableKey', days: 60 }, { op: 'DisableKey', days: 20 }] },
  // CancelKeyDeletion leaves the key disabled: the state began with the cancel.
  { name: 'deletion-cancelled-40d', calls: [{ op: 'ScheduleKeyDeletion', days: 50 }, { op: 'CancelKeyDeletion', days: 40 }] },
  { name: 'pending-deletion-3d', calls: [{ op: 'ScheduleKeyDeletion', days: 3 }] },
  // A second region with only an enabled key: no lookup is made there.
  { name: 'eu-enabled', calls: [], region: 'eu-west-1' },
];

describe('aws-kms stateSince from CloudTrail LookupEvents (moto + an event-history stub)', () => {
  let moto: Moto;
  let history: CloudTrailHistory;
  let proxy: FaultProxy;
  let dir: string;
  let seed: number;
  const arns = new Map<string, string>();

  before(async () => {
    moto = await startMoto();
    history = await startCloudTrailHistory(moto.endpoint);
    proxy = await startFaultProxy(history.endpoint, []);
    dir = tempDir();
    seed = Math.floor(Date.now() / 1000) * 1000;
    for (const scenario of SCENARIOS) {
      const kms = new KMSClient({ region: scenario.region ?? 'us-east-1', endpoint: history.endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
      try {
        const created = await kms.send(new CreateKeyCommand({ Description: scenario.name, Tags: [{ TagKey: 'scenario', TagValue: scenario.name }] }));
        const keyId = created.KeyMetadata!.KeyId!;
        arns.set(scenario.name, created.KeyMetadata!.Arn!);
        for (const call of scenario.calls) {
          history.clock = () => seed - call.days * DAY;
          if (call.op === 'DisableKey') await kms.send(new DisableKeyCommand({ KeyId: keyId }));
          if (call.op === 'EnableKey') await kms.send(new EnableKeyCommand({ KeyId: keyId }));
          if (call.op === 'ScheduleKeyDeletion') await kms.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 30 }));
          if (call.op === 'CancelKeyDeletion') await kms.send(new CancelKeyDeletionCommand({ KeyId: keyId }));
        }
      } finally {
        kms.destroy();
      }
    }
    // A DisableKey that AccessDenied refused is logged too, and changed nothing.
    history.record({ name: 'EnableKey', time: seed - 5 * DAY, keyArn: arns.get('disabled-31d')!, keyId: arns.get('disabled-31d')!, errorCode: 'AccessDeniedException' });
  });
  after(async () => {
    await proxy?.stop();
    await history?.stop();
    await moto?.stop();
    removeDir(dir);
  });

  async function scan(options: { cloudTrail?: string; days?: number; settings?: string; baseline?: string; failOn?: string } = {}): Promise<{ report: Report; file: string; code: number }> {
    const config = path.join(dir, `keydrift-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(
      config,
      [
        'version: 1',
        'sources:',
        `  - { id: kms, type: aws-kms, regions: [us-east-1, eu-west-1], endpoint: "${proxy.endpoint}"${options.cloudTrail ? `, cloudTrail: ${options.cloudTrail}` : ''} }`,
        ...(options.settings ? [`policy: { settings: ${options.settings} }`] : []),
        '',
      ].join('\n'),
    );
    const out = path.join(dir, `out-${Math.random().toString(36).slice(2)}`);
    const now = new Date(seed + (options.days ?? 0) * DAY).toISOString();
    const run = await runCli(['scan', '--config', config, '--now', now, '--out', out, '--format', 'json', ...(options.baseline ? ['--baseline', options.baseline] : []), ...(options.failOn ? ['--fail-on', options.failOn] : [])], {
      env: { ...withoutAwsEnv(process.env), ...AWS_ENV },
    });
    return { report: assertReportsValid(out), file: path.join(out, 'keydrift.json'), code: run.code };
  }

  const item = (report: Report, name: string): InventoryItem => report.inventory.find((candidate) => candidate.tags['scenario'] === name)!;
  const ago = (days: number) => new Date(seed - days * DAY).toISOString().replace('.000Z', 'Z');
  const retired = (report: Report) =>
    report.findings
      .filter((finding) => finding.ruleId === 'KD-RET-001' && finding.baselineState !== 'absent')
      .map((finding) => `${report.inventory.find((candidate) => candidate.uid === finding.resource.uid)!.tags['scenario']} ${finding.severity} ${String(finding.evidence['disabledSinceSource'])}`)
      .sort();

  test('without cloudTrail no lookup is made and stateSince stays unknown', async () => {
    const { report } = await scan({ settings: '{ retirement: { disabledMaxDays: 30 } }' });
    assert.equal(report.sources[0]?.apiCalls?.['cloudtrail:LookupEvents'], undefined);
    assert.equal(history.lookups.length, 0);
    assert.ok(report.inventory.every((candidate) => candidate.stateSince === null));
    assert.deepEqual(retired(report), []);
  });

  test('cloudTrail: true dates each disabled and pending-deletion key by the event that began its state', async () => {
    const { report } = await scan({ cloudTrail: 'true', settings: '{ retirement: { disabledMaxDays: 30 } }' });
    const source = report.sources[0]!;
    assert.equal(source.status, 'ok', JSON.stringify(source.errors));
    // One page per state-changing event name, in us-east-1 only (eu-west-1 has no disabled key).
    assert.equal(source.apiCalls?.['cloudtrail:LookupEvents'], 4);
    assert.deepEqual(history.lookups.map((lookup) => lookup.LookupAttributes?.[0]?.AttributeValue), ['DisableKey', 'EnableKey', 'ScheduleKeyDeletion', 'CancelKeyDeletion']);
    assert.ok(history.lookups.every((lookup) => lookup.EndTime === seed / 1000 && lookup.StartTime === seed / 1000 - 90 * 86_400 && lookup.MaxResults === 50));
    const since = Object.fromEntries(SCENARIOS.map((scenario) => [scenario.name, item(report, scenario.name).stateSince]));
    assert.deepEqual(since, {
      enabled: null,
      'disabled-10d': ago(10),
      'disabled-31d': ago(31),
      'disabled-120d': null,
      'disabled-again-20d': ago(20),
      'deletion-cancelled-40d': ago(40),
      'pending-deletion-3d': ago(3),
      'eu-enabled': null,
    });
    assert.equal(item(report, 'disabled-31d').evidence['stateSinceSource'], 'cloudtrail');
    assert.equal((item(report, 'deletion-cancelled-40d').evidence['stateSinceEvent'] as { name: string }).name, 'CancelKeyDeletion');
    // Disabled for more than disabledMaxDays (30) per CloudTrail: KD-RET-001 (Prowler's kms_cmk_are_used case).
    assert.deepEqual(retired(report), ['deletion-cancelled-40d medium cloudtrail', 'disabled-31d medium cloudtrail']);
  });

  test('the first-seen state outlives CloudTrail\'s 90 days when each scan takes the previous report as baseline', async () => {
    history.lookups.length = 0;
    const first = await scan({ cloudTrail: 'true' });
    assert.deepEqual(retired(first.report), [], 'nothing is disabled for more than 90 days yet');
    // 70 days later the DisableKey events of disabled-31d and deletion-cancelled-40d are out of the window.
    const later = await scan({ cloudTrail: 'true', days: 70, baseline: first.file });
    assert.equal(item(later.report, 'disabled-31d').stateSince, ago(31));
    assert.equal(item(later.report, 'disabled-31d').evidence['stateSinceSource'], 'baseline');
    // Still inside the window: CloudTrail's date wins.
    assert.equal(item(later.report, 'disabled-again-20d').evidence['stateSinceSource'], 'cloudtrail');
    // Never dated by CloudTrail: first seen disabled by the baseline scan.
    assert.equal(item(later.report, 'disabled-120d').stateSince, ago(0));
    assert.deepEqual(retired(later.report), ['deletion-cancelled-40d medium baseline', 'disabled-31d medium baseline']);
  });

  test('pages are bounded by maxPages: events beyond them leave stateSince unknown, never guessed', async () => {
    const filler = arns.get('enabled')!;
    const extra = Array.from({ length: 60 }, (_, index) => ({ name: 'DisableKey', time: seed - DAY - index * 60_000, keyArn: filler, keyId: filler }));
    for (const event of extra) history.record(event);
    try {
      history.lookups.length = 0;
      const { report } = await scan({ cloudTrail: '{ maxPages: 1 }' });
      assert.equal(report.sources[0]?.apiCalls?.['cloudtrail:LookupEvents'], 4);
      // The first DisableKey page holds only the 50 newest (the filler's): older events are not read.
      assert.equal(item(report, 'disabled-31d').stateSince, null);
      assert.equal(item(report, 'disabled-10d').stateSince, null);
      const unbounded = await scan({ cloudTrail: 'true' });
      assert.equal(unbounded.report.sources[0]?.apiCalls?.['cloudtrail:LookupEvents'], 5);
      assert.equal(item(unbounded.report, 'disabled-31d').stateSince, ago(31));
    } finally {
      history.events.splice(history.events.length - extra.length, extra.length);
    }
  });

  test('a denied lookup leaves stateSince unknown and the source partial, naming the call; every key is still reported', async () => {
    proxy.setRules([{ operation: 'LookupEvents', fault: 'access-denied' }]);
    try {
      const { report, code } = await scan({ cloudTrail: 'true', settings: '{ retirement: { disabledMaxDays: 30 } }', failOn: 'critical' });
      const source = report.sources[0]!;
      assert.equal(source.status, 'partial');
      assert.equal(source.errors.length, 1, JSON.stringify(source.errors));
      assert.equal(source.errors[0]!.code, 'aws-access-denied');
      assert.match(source.errors[0]!.message, /^cloudtrail:LookupEvents on us-east-1: access denied \(AccessDeniedException: .*not authorized to perform: LookupEvents/);
      assert.equal(report.inventory.length, SCENARIOS.length);
      assert.ok(report.inventory.every((candidate) => candidate.stateSince === null));
      assert.deepEqual(retired(report), []);
      assert.ok(report.findings.some((finding) => finding.ruleId === 'KD-GOV-003'));
      assert.equal(code, 3, 'incomplete: nothing critical, one source partial');
    } finally {
      proxy.setRules([]);
    }
  });
});
