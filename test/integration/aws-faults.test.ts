import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Report } from '../../src/report/types.ts';
import { KMS_SCENARIOS, seedKms } from '../fixtures/aws/estate.ts';
import { removeDir, tempDir } from '../support/certs.ts';
import { runCli } from '../support/cli.ts';
import { startFaultProxy, type FaultProxy, type FaultRule } from '../support/fault-proxy.ts';
import { startMoto, withoutAwsEnv, type Moto } from '../support/moto.ts';
import { assertReportsValid } from '../support/reports.ts';
import { AWS_ENV } from '../support/aws.ts';

// A loopback proxy in front of moto injects AccessDenied, throttling bursts, 500s and connection
// resets. Whatever happens, the scan finishes, no key is missing unless its source says so, and
// the source status and KD-GOV-003 tell the truth.

describe('aws-kms under injected faults', () => {
  let moto: Moto;
  let proxy: FaultProxy;
  let dir: string;
  const KEYS_PER_REGION = KMS_SCENARIOS.length;

  before(async () => {
    moto = await startMoto();
    dir = tempDir();
    await seedKms(moto.endpoint, 'us-east-1');
    await seedKms(moto.endpoint, 'eu-west-1');
    proxy = await startFaultProxy(moto.endpoint, []);
  });
  after(async () => {
    await proxy?.stop();
    await moto?.stop();
    removeDir(dir);
  });

  async function scanWith(rules: FaultRule[], regions = '[us-east-1, eu-west-1]', env: Record<string, string> = {}): Promise<{ report: Report; stderr: string; code: number }> {
    proxy.setRules(rules);
    const config = path.join(dir, 'keydrift.yaml');
    writeFileSync(config, `version: 1\nsources:\n  - { id: kms, type: aws-kms, regions: ${regions}, endpoint: "${proxy.endpoint}", concurrency: 8 }\n`);
    const out = path.join(dir, `out-${Math.random().toString(36).slice(2)}`);
    const run = await runCli(['scan', '--config', config, '--out', out, '--format', 'json', '--fail-on', 'critical'], {
      env: { ...withoutAwsEnv(process.env), ...AWS_ENV, ...env },
    });
    return { report: assertReportsValid(out), stderr: run.stderr, code: run.code };
  }

  test('baseline: without faults every key is collected and the source is ok', async () => {
    const { report, code } = await scanWith([]);
    assert.equal(report.inventory.length, 2 * KEYS_PER_REGION);
    assert.equal(report.sources[0]?.status, 'ok');
    assert.equal(code, 1, 'the estate has a critical finding (public key)');
  });

  test('AccessDenied on DescribeKey for one key: the key is still in the inventory, the source is partial and names call and key', async () => {
    const { report } = await scanWith([]);
    const victim = report.inventory.find((item) => item.tags['scenario'] === 'sym-rotation-off' && item.evidence['region'] === 'us-east-1')!;
    const keyId = victim.evidence['KeyId'] as string;
    const faulted = await scanWith([{ operation: 'DescribeKey', match: (body) => body['KeyId'] === keyId, fault: 'access-denied' }]);
    assert.equal(faulted.report.inventory.length, 2 * KEYS_PER_REGION, 'nothing dropped');
    const same = faulted.report.inventory.find((item) => item.uid === victim.uid);
    assert.ok(same, 'the denied key keeps its uid');
    assert.equal(same.state, 'unavailable');
    const source = faulted.report.sources[0]!;
    assert.equal(source.status, 'partial');
    assert.equal(source.errors.length, 1);
    assert.equal(source.errors[0]?.code, 'aws-access-denied');
    assert.match(source.errors[0]!.message, new RegExp(`^kms:DescribeKey on ${victim.uid.replaceAll('/', '\\/')}: access denied \\(AccessDeniedException`));
    const coverage = faulted.report.findings.find((finding) => finding.ruleId === 'KD-GOV-003');
    assert.equal(coverage?.resource.uid, 'source:kms');
    assert.match(coverage!.message, /kms:DescribeKey/);
    assert.equal(faulted.code, 1);
  });

  test('AccessDenied on GetKeyPolicy everywhere: access is unknown (null), not "not public"', async () => {
    const { report } = await scanWith([{ operation: 'GetKeyPolicy', fault: 'access-denied' }]);
    const customerKeys = report.inventory.filter((item) => item.managedBy === 'customer');
    assert.equal(customerKeys.length, 2 * KEYS_PER_REGION);
    assert.ok(customerKeys.every((item) => item.access === null));
    assert.equal(report.sources[0]?.status, 'partial');
    assert.equal(report.sources[0]?.errors.length, 2 * KEYS_PER_REGION);
    assert.ok(!report.findings.some((finding) => finding.ruleId === 'KD-ACC-001'), 'unknown access is not judged');
  });

  test('throttling bursts and 500s are retried with backoff: complete inventory, source ok', async () => {
    const { report } = await scanWith([
      { operation: 'ListKeys', fault: 'throttle', times: 2 },
      { operation: 'DescribeKey', fault: 'throttle', times: 6 },
      { operation: 'ListResourceTags', fault: 'server-error', times: 4 },
      { operation: 'GetKeyPolicy', fault: 'reset', times: 2 },
    ]);
    assert.equal(report.sources[0]?.status, 'ok', JSON.stringify(report.sources[0]?.errors));
    assert.equal(report.inventory.length, 2 * KEYS_PER_REGION);
    assert.equal(proxy.calls.filter((call) => call.fault === 'throttle').length, 8);
    assert.equal(proxy.calls.filter((call) => call.fault === 'server-error').length, 4);
  });

  test('throttling that never stops: bounded retries (AWS_MAX_ATTEMPTS honoured), the key is kept and named', async () => {
    const { report: clean } = await scanWith([], '[eu-west-1]');
    const victim = clean.inventory.find((item) => item.tags['scenario'] === 'sym-rotation-on')!;
    const keyId = victim.evidence['KeyId'] as string;
    proxy.calls.length = 0;
    const { report } = await scanWith([{ operation: 'GetKeyRotationStatus', match: (body) => body['KeyId'] === keyId, fault: 'throttle' }], '[eu-west-1]', { AWS_MAX_ATTEMPTS: '3' });
    assert.equal(report.inventory.length, KEYS_PER_REGION);
    const source = report.sources[0]!;
    assert.equal(source.status, 'partial');
    assert.equal(source.errors.length, 1);
    assert.equal(source.errors[0]?.code, 'aws-throttled');
    assert.match(source.errors[0]!.message, new RegExp(`^kms:GetKeyRotationStatus on ${victim.uid.replaceAll('/', '\\/')}: still throttled after retries`));
    assert.equal(proxy.calls.filter((call) => call.fault === 'throttle').length, 3, 'three attempts, then it gives up');
    assert.equal(report.inventory.find((item) => item.uid === victim.uid)?.rotation?.automatic, null, 'unknown stays unknown');
  });

  test('a region that cannot be reached is reported as failed; the other region is still collected', async () => {
    // The first ListKeys goes to us-east-1: every attempt of it is reset.
    const { report, code } = await scanWith([{ operation: 'ListKeys', fault: 'reset', times: 8 }]);
    const source = report.sources[0]!;
    assert.equal(source.status, 'partial');
    assert.equal(source.errors.length, 1);
    assert.equal(source.errors[0]?.code, 'aws-region-unreachable');
    assert.match(source.errors[0]!.message, /^kms:ListKeys on us-east-1: endpoint unreachable/);
    assert.equal(report.inventory.length, KEYS_PER_REGION);
    assert.ok(report.inventory.every((item) => item.evidence['region'] === 'eu-west-1'));
    assert.ok(report.findings.some((finding) => finding.ruleId === 'KD-GOV-003'));
    assert.equal(code, 1);
  });

  test('access denied on ListKeys in every region: the source failed, exit 3, never an empty pass', async () => {
    const { report, code } = await scanWith([{ operation: 'ListKeys', fault: 'access-denied' }]);
    assert.equal(report.sources[0]?.status, 'failed');
    assert.equal(report.inventory.length, 0);
    assert.equal(report.sources[0]?.errors.map((error) => error.code).join(), 'aws-region-access-denied,aws-region-access-denied');
    assert.equal(report.summary.compliant, false);
    assert.equal(code, 3);
  });

});
