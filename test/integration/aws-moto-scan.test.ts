import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ORGANIZATION_OPERATIONS } from '../../src/collectors/aws/source-schema.ts';
import { declarationOf } from '../../src/collectors/registry.ts';
import type { Report } from '../../src/report/types.ts';
import { KMS_SCENARIOS, REGIONS, seedAwsEstate } from '../fixtures/aws/estate.ts';
import { AWS_ENV, expectedFindings, scenarioFindings } from '../support/aws.ts';
import { removeDir, tempDir } from '../support/certs.ts';
import { runCli } from '../support/cli.ts';
import { startMoto, withoutAwsEnv, type Moto } from '../support/moto.ts';
import { assertEvaluateAccepts } from '../support/evidence.ts';
import { assertReportsValid } from '../support/reports.ts';

const KMS_OPERATIONS = declarationOf('aws-kms').operations;
const ACM_OPERATIONS = declarationOf('aws-acm').operations;

// A seeded moto (40 KMS keys in two regions, 10 ACM certificates) scanned by the CLI as a process,
// with real @aws-sdk clients pointed at it. Expected findings: test/fixtures/aws/expected.json.

const DAY = 86_400_000;

describe('aws-kms and aws-acm against a seeded moto', () => {
  let moto: Moto;
  let dir: string;
  let seedTime: Date;
  let config: string;

  before(async () => {
    moto = await startMoto();
    dir = tempDir();
    seedTime = new Date(Math.floor(Date.now() / 1000) * 1000);
    await seedAwsEstate({ endpoint: moto.endpoint, certDir: dir, seedTime });
    config = path.join(dir, 'keydrift.yaml');
    writeFileSync(
      config,
      [
        'version: 1',
        'name: aws-moto',
        'sources:',
        `  - { id: prod-kms, type: aws-kms, regions: [us-east-1, eu-west-1], endpoint: "${moto.endpoint}" }`,
        `  - { id: prod-acm, type: aws-acm, regions: [us-east-1, eu-west-1], endpoint: "${moto.endpoint}" }`,
        'tiers:',
        '  - { tag: keydrift-tier, value: kek, tier: kek }',
        '',
      ].join('\n'),
    );
  });
  after(async () => {
    await moto?.stop();
    removeDir(dir);
  });

  async function scan(clock: '+30d' | '+400d', extra: string[] = [], configFile = config): Promise<{ report: Report; stderr: string; code: number }> {
    const now = new Date(seedTime.getTime() + (clock === '+30d' ? 30 : 400) * DAY).toISOString();
    const out = path.join(dir, `out-${clock}-${Math.random().toString(36).slice(2)}`);
    const run = await runCli(['scan', '--config', configFile, '--now', now, '--out', out, '--format', 'json,sarif', ...extra], {
      env: { ...withoutAwsEnv(process.env), ...AWS_ENV },
    });
    return { report: assertReportsValid(out), stderr: run.stderr, code: run.code };
  }

  test('the estate has 40 KMS keys and 10 ACM certificates in two regions, all collected', async () => {
    const { report } = await scan('+30d');
    const keys = report.inventory.filter((item) => item.provider === 'aws-kms' && item.tags['scenario']);
    const certificates = report.inventory.filter((item) => item.provider === 'aws-acm');
    assert.equal(keys.length, KMS_SCENARIOS.length * REGIONS.length);
    assert.equal(keys.length, 40);
    assert.equal(certificates.length, 10);
    assert.deepEqual(report.sources.map((source) => `${source.id} ${source.status}`), ['prod-kms ok', 'prod-acm ok']);
    await assertEvaluateAccepts(report.inventory, report.sources);
  });

  for (const clock of ['+30d', '+400d'] as const) {
    test(`at seed time ${clock} the findings are exactly the expected ones`, async () => {
      const { report, code } = await scan(clock);
      assert.deepEqual(scenarioFindings(report), expectedFindings(clock));
      assert.equal(code, 1);
    });
  }

  test('mapping: algorithms, rotation, tags, tiers, policies and certificates come through', async () => {
    const { report } = await scan('+30d');
    const item = (scenario: string, region = 'us-east-1') =>
      report.inventory.find((candidate) => candidate.tags['scenario'] === scenario && candidate.evidence['region'] === region)!;
    assert.equal(item('sym-rotation-off').name, 'alias/sym-rotation-off');
    assert.deepEqual(item('sym-rotation-off').rotation, { supported: true, automatic: false, periodDays: null, lastRotatedAt: null, nextRotationAt: null });
    assert.equal(item('sym-on-demand-rotated').rotation?.lastRotatedAt?.slice(0, 10), seedTime.toISOString().slice(0, 10));
    assert.equal(item('rsa-2048-sign').algorithm, 'RSA-2048');
    assert.equal(item('rsa-2048-sign').purpose, 'sign');
    assert.equal(item('rsa-2048-sign').rotation?.supported, false);
    assert.equal(item('ecc-secp256k1-sign').algorithm, 'EC-secp256k1');
    assert.equal(item('hmac-224').algorithm, 'HMAC-SHA224');
    assert.equal(item('tier-kek-rotating', 'eu-west-1').tier, 'kek');
    assert.equal(item('pending-deletion-plain').state, 'pending-deletion');
    assert.ok(item('pending-deletion-plain').deletion?.scheduledFor);
    assert.equal(item('disabled-sym').state, 'disabled');
    assert.deepEqual(item('admin-and-use').access?.adminAndUse, ['arn:aws:iam::123456789012:role/KeyOperator']);
    assert.equal(item('org-restricted-policy').access?.public, false);
    assert.match(item('public-policy').uid, /^arn:aws:kms:us-east-1:123456789012:key\//);
    const sha1 = report.inventory.find((candidate) => candidate.tags['scenario'] === 'acm-sha1')!;
    assert.equal(sha1.certificate?.signatureAlgorithm, 'RSA-SHA1');
    assert.equal(sha1.evidence['Type'], 'IMPORTED');
    assert.match(sha1.uid, /^arn:aws:acm:us-east-1:123456789012:certificate\//);
    const p384 = report.inventory.find((candidate) => candidate.tags['scenario'] === 'acm-ec-p384')!;
    assert.equal(p384.algorithm, 'EC-P384');
  });

  test('least privilege: every call made is a declared read-only action, at most 6 calls per key', async () => {
    const { report } = await scan('+30d');
    const kms = report.sources.find((source) => source.id === 'prod-kms')!;
    const acm = report.sources.find((source) => source.id === 'prod-acm')!;
    for (const [operation] of Object.entries({ ...kms.apiCalls, ...acm.apiCalls })) {
      assert.ok([...KMS_OPERATIONS, ...ACM_OPERATIONS].includes(operation as never), `${operation} is not declared`);
      assert.match(operation, /^[a-z0-9]+:(List|Describe|Get)/, `${operation} is not read-only`);
    }
    // Every declared KMS action but region discovery, the opt-in CloudTrail lookup
    // (aws-kms-cloudtrail.test.ts) and organization discovery (aws-organization-discovery.test.ts)
    // is exercised by this estate.
    const singleAccount = (operation: string) => operation !== 'ec2:DescribeRegions' && !ORGANIZATION_OPERATIONS.includes(operation as never);
    assert.deepEqual(Object.keys(kms.apiCalls!).sort(), KMS_OPERATIONS.filter((operation) => singleAccount(operation) && operation !== 'cloudtrail:LookupEvents').sort());
    assert.deepEqual(Object.keys(acm.apiCalls!).sort(), ACM_OPERATIONS.filter(singleAccount).sort());
    const keyCount = report.inventory.filter((item) => item.provider === 'aws-kms').length;
    const calls = Object.values(kms.apiCalls!).reduce((sum, count) => sum + count, 0);
    // DescribeKey, GetKeyPolicy, ListResourceTags, ListGrants, and for a rotating key GetKeyRotationStatus and ListKeyRotations.
    assert.ok(calls / keyCount <= 6, `${calls} calls for ${keyCount} keys`);
  });

  test('regions: all discovers the enabled regions with EC2 and finds the same keys', async () => {
    const allConfig = path.join(dir, 'all-regions.yaml');
    writeFileSync(allConfig, `version: 1\nsources:\n  - { id: prod-kms, type: aws-kms, regions: all, endpoint: "${moto.endpoint}" }\n`);
    const { report } = await scan('+30d', [], allConfig);
    const source = report.sources[0]!;
    assert.equal(source.status, 'ok', JSON.stringify(source.errors));
    assert.equal(source.apiCalls!['ec2:DescribeRegions'], 1);
    assert.ok(source.apiCalls!['kms:ListKeys']! > 2, 'more than the two seeded regions were listed');
    assert.equal(report.inventory.filter((item) => item.tags['scenario']).length, 40);
  });

  test('roleArn: the role is assumed through STS and the scan sees the same account', async () => {
    const roleConfig = path.join(dir, 'role.yaml');
    writeFileSync(
      roleConfig,
      `version: 1\nsources:\n  - { id: prod-kms, type: aws-kms, regions: [us-east-1], roleArn: "arn:aws:iam::123456789012:role/keydrift-scan", endpoint: "${moto.endpoint}" }\n`,
    );
    const { report } = await scan('+30d', [], roleConfig);
    assert.equal(report.sources[0]?.status, 'ok', JSON.stringify(report.sources[0]?.errors));
    assert.equal(report.inventory.filter((item) => item.tags['scenario']).length, 20);
  });
});
