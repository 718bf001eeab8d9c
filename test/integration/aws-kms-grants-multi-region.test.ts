import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CreateGrantCommand, CreateKeyCommand, EnableKeyRotationCommand, KMSClient, ReplicateKeyCommand, type GrantOperation } from '@aws-sdk/client-kms';
import type { Report } from '../../src/report/types.ts';
import { AWS_ENV } from '../support/aws.ts';
import { removeDir, tempDir } from '../support/certs.ts';
import { runCli } from '../support/cli.ts';
import { startFaultProxy, type FaultProxy, type FaultRule } from '../support/fault-proxy.ts';
import { startMoto, withoutAwsEnv, type Moto } from '../support/moto.ts';
import { assertReportsValid } from '../support/reports.ts';

// KMS grants and multi-Region keys in moto, scanned by the CLI through the fault proxy. moto's
// account is 123456789012; the partner accounts below are other accounts. Every key rotates and is
// a few days old, so the only findings are the access ones, written here by hand:
//   KD-ACC-003 (another account may use the key; high when it may decrypt), KD-ACC-002 (a policy
//   administrator given a use grant), KD-ACC-004 (material in two regions) under profile pci-dss.

const ACCOUNT = '123456789012';
const PARTNER = '444455556666';
const DAY = 86_400_000;
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

const ROOT = { Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'kms:*', Resource: '*' };
const withRoot = (...statements: object[]) => JSON.stringify({ Version: '2012-10-17', Statement: [ROOT, ...statements] });
const KEY_ADMIN = `arn:aws:iam::${ACCOUNT}:role/KeyAdmin`;

interface Scenario {
  name: string;
  policy?: string;
  grants?: { grantee: string; operations: GrantOperation[] }[];
  multiRegion?: boolean;
  replicateTo?: string;
}

const SCENARIOS: Scenario[] = [
  { name: 'partner-decrypt-grant', grants: [{ grantee: `arn:aws:iam::${PARTNER}:role/Reader`, operations: ['Decrypt', 'DescribeKey'] }] },
  { name: 'partner-encrypt-grant', grants: [{ grantee: `arn:aws:iam::${PARTNER}:role/Writer`, operations: ['Encrypt', 'GenerateDataKey'] }] },
  { name: 'own-grant', grants: [{ grantee: `arn:aws:iam::${ACCOUNT}:role/App`, operations: ['Decrypt', 'Encrypt', 'CreateGrant'] }] },
  { name: 'partner-policy', policy: withRoot({ Sid: 'PartnerDecrypt', Effect: 'Allow', Principal: { AWS: '999988887777' }, Action: ['kms:Decrypt', 'kms:DescribeKey'], Resource: '*' }) },
  {
    name: 'admin-with-grant',
    policy: withRoot({ Sid: 'Admins', Effect: 'Allow', Principal: { AWS: KEY_ADMIN }, Action: ['kms:Put*', 'kms:ScheduleKeyDeletion', 'kms:Disable*'], Resource: '*' }),
    grants: [{ grantee: KEY_ADMIN, operations: ['Decrypt'] }],
  },
  { name: 'mrk-replicated', multiRegion: true, replicateTo: 'eu-west-1' },
  { name: 'mrk-lone', multiRegion: true },
];

describe('aws-kms grants, other accounts and multi-Region keys against moto', () => {
  let moto: Moto;
  let proxy: FaultProxy;
  let dir: string;
  let seedTime: Date;
  /** scenario name → key id (a replica keeps its primary's id). */
  const keyIds = new Map<string, string>();

  before(async () => {
    moto = await startMoto();
    proxy = await startFaultProxy(moto.endpoint, []);
    dir = tempDir();
    seedTime = new Date(Math.floor(Date.now() / 1000) * 1000);
    const kms = new KMSClient({ region: 'us-east-1', endpoint: moto.endpoint, credentials });
    try {
      for (const scenario of SCENARIOS) {
        const created = await kms.send(
          new CreateKeyCommand({ Description: scenario.name, ...(scenario.policy ? { Policy: scenario.policy } : {}), ...(scenario.multiRegion ? { MultiRegion: true } : {}) }),
        );
        const keyId = created.KeyMetadata!.KeyId!;
        keyIds.set(scenario.name, keyId);
        // Before replicating: the replica starts with the primary's rotation status.
        await kms.send(new EnableKeyRotationCommand({ KeyId: keyId }));
        for (const grant of scenario.grants ?? []) {
          await kms.send(new CreateGrantCommand({ KeyId: keyId, GranteePrincipal: grant.grantee, Operations: grant.operations, Name: `${scenario.name}-grant` }));
        }
        if (scenario.replicateTo) await kms.send(new ReplicateKeyCommand({ KeyId: keyId, ReplicaRegion: scenario.replicateTo }));
      }
    } finally {
      kms.destroy();
    }
  });
  after(async () => {
    await proxy?.stop();
    await moto?.stop();
    removeDir(dir);
  });

  async function scan(options: { profile?: string; faults?: FaultRule[] } = {}): Promise<{ report: Report; code: number }> {
    proxy.setRules(options.faults ?? []);
    const config = path.join(dir, `keydrift-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(
      config,
      `version: 1\nsources:\n  - { id: kms, type: aws-kms, regions: [us-east-1, eu-west-1], endpoint: "${proxy.endpoint}" }\npolicy: { profile: ${options.profile ?? 'default'} }\n`,
    );
    const out = path.join(dir, `out-${Math.random().toString(36).slice(2)}`);
    const now = new Date(seedTime.getTime() + 3 * DAY).toISOString();
    const run = await runCli(['scan', '--config', config, '--now', now, '--out', out, '--format', 'json'], { env: { ...withoutAwsEnv(process.env), ...AWS_ENV } });
    return { report: assertReportsValid(out), code: run.code };
  }

  /** "<scenario> <region> <rule> <severity>" per finding; the source's own finding as "source <rule>". */
  function lines(report: Report): string[] {
    const names = new Map([...keyIds].map(([name, id]) => [id, name]));
    const byUid = new Map(report.inventory.map((item) => [item.uid, item]));
    return report.findings
      .map((finding) => {
        const item = byUid.get(finding.resource.uid);
        if (!item) return `source ${finding.ruleId} ${finding.severity}`;
        return `${names.get(item.evidence['KeyId'] as string) ?? item.uid} ${item.evidence['region']} ${finding.ruleId} ${finding.severity}`;
      })
      .sort();
  }
  const item = (report: Report, name: string, region = 'us-east-1') =>
    report.inventory.find((candidate) => candidate.evidence['KeyId'] === keyIds.get(name) && candidate.evidence['region'] === region)!;

  const DEFAULT_FINDINGS = [
    'admin-with-grant us-east-1 KD-ACC-002 medium', // KeyAdmin administers by policy and decrypts by grant
    'partner-decrypt-grant us-east-1 KD-ACC-003 high', // grant: Decrypt to 444455556666
    'partner-encrypt-grant us-east-1 KD-ACC-003 medium', // grant: Encrypt, GenerateDataKey only
    'partner-policy us-east-1 KD-ACC-003 high', // key policy: kms:Decrypt to 999988887777
  ];

  test('default profile: other accounts\' use from grants and the key policy, and grants that add a use to an administrator', async () => {
    const { report, code } = await scan();
    assert.equal(report.sources[0]?.status, 'ok', JSON.stringify(report.sources[0]?.errors));
    assert.equal(report.inventory.length, SCENARIOS.length + 1, 'seven keys and one replica');
    assert.deepEqual(lines(report), DEFAULT_FINDINGS);
    assert.equal(code, 1);
    assert.deepEqual(item(report, 'partner-decrypt-grant').access?.externalUse, [
      { principal: `arn:aws:iam::${PARTNER}:role/Reader`, account: PARTNER, actions: ['Decrypt'], decrypt: true, source: item(report, 'partner-decrypt-grant').access!.externalUse![0]!.source },
    ]);
    assert.match(item(report, 'partner-decrypt-grant').access!.externalUse![0]!.source, /^grant \S+$/);
    assert.deepEqual(item(report, 'own-grant').access, { public: false, adminAndUse: [], externalUse: [] });
    assert.equal(item(report, 'own-grant').evidence['grantCount'], 1);
    const partner = report.findings.find((finding) => finding.resource.uid === item(report, 'partner-policy').uid)!;
    assert.deepEqual(partner.evidence, { accounts: ['999988887777'], principals: ['arn:aws:iam::999988887777:root'], canDecrypt: true, sources: ['key policy statement PartnerDecrypt'] });
    assert.equal(report.sources[0]?.apiCalls?.['kms:ListGrants'], SCENARIOS.length + 1, 'one ListGrants per key, the replica included');
  });

  test('multi-Region: primary and replica list both regions; profile pci-dss reports them, a primary without replicas is one location', async () => {
    const { report } = await scan({ profile: 'pci-dss' });
    assert.deepEqual(lines(report), [...DEFAULT_FINDINGS, 'mrk-replicated eu-west-1 KD-ACC-004 medium', 'mrk-replicated us-east-1 KD-ACC-004 medium'].sort());
    assert.deepEqual(item(report, 'mrk-replicated').replication?.regions, ['eu-west-1', 'us-east-1']);
    assert.deepEqual(item(report, 'mrk-replicated', 'eu-west-1').replication, { multiRegion: true, role: 'replica', regions: ['eu-west-1', 'us-east-1'] });
    assert.deepEqual(item(report, 'mrk-lone').replication, { multiRegion: true, role: 'primary', regions: ['us-east-1'] });
    assert.deepEqual(item(report, 'own-grant').replication, { multiRegion: false, role: null, regions: ['us-east-1'] });
  });

  test('AccessDenied on ListGrants: the source is partial and names each key; grant-only use is unknown, the policy\'s is still reported', async () => {
    const { report, code } = await scan({ faults: [{ operation: 'ListGrants', fault: 'access-denied' }] });
    const source = report.sources[0]!;
    assert.equal(source.status, 'partial');
    assert.equal(source.errors.length, SCENARIOS.length + 1);
    assert.ok(source.errors.every((error) => error.code === 'aws-access-denied' && /^kms:ListGrants on arn:aws:kms:[a-z0-9-]+:123456789012:key\/\S+: access denied/.test(error.message)), JSON.stringify(source.errors));
    assert.deepEqual(lines(report), ['partner-policy us-east-1 KD-ACC-003 high', 'source KD-GOV-003 high']);
    assert.equal(item(report, 'partner-decrypt-grant').access?.externalUse, null, 'grants unknown: not "no other account"');
    assert.equal(item(report, 'partner-decrypt-grant').evidence['grantsCollected'], false);
    assert.equal(item(report, 'partner-policy').access?.externalUse?.length, 1);
    assert.equal(code, 1);
  });
});
