import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ACMClient, ImportCertificateCommand } from '@aws-sdk/client-acm';
import { CreateKeyCommand, EnableKeyRotationCommand, KMSClient } from '@aws-sdk/client-kms';
import {
  CloseAccountCommand,
  CreateAccountCommand,
  CreateOrganizationalUnitCommand,
  CreateOrganizationCommand,
  ListRootsCommand,
  MoveAccountCommand,
  OrganizationsClient,
} from '@aws-sdk/client-organizations';
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { kmsCollector } from '../../src/collectors/aws/kms/collector.ts';
import type { InventoryItem } from '../../src/inventory/types.ts';
import type { Report } from '../../src/report/types.ts';
import { accountKey, inShard } from '../../src/shard/shard.ts';
import { AWS_ENV } from '../support/aws.ts';
import { makeCert, removeDir, tempDir } from '../support/certs.ts';
import { runCli } from '../support/cli.ts';
import { quietContext } from '../support/collect.ts';
import { startFaultProxy, type FaultProxy, type FaultRule } from '../support/fault-proxy.ts';
import { startMoto, withoutAwsEnv, type Moto } from '../support/moto.ts';
import { assertReportsValid } from '../support/reports.ts';

// An AWS organization in moto: the management account and 20 member accounts, some in OUs (one
// nested), one closed. Keys are created in every account through an assumed role, which moto
// attributes to the role's account, as AWS does. The CLI scans the organization through a fault
// proxy that denies AssumeRole of one member's role the way STS does (403 AccessDenied).

const MANAGEMENT = '123456789012';
const ROLE = 'keydrift-audit';
const REGIONS = ['us-east-1', 'eu-west-1'] as const;
const base = { accessKeyId: 'test', secretAccessKey: 'test' };

interface Organization {
  rootId: string;
  /** Member account ids in creation order. */
  members: string[];
  units: { prod: string; prodEu: string; sandbox: string };
  /** Every account (the management one too) -> the ARNs of its keys. */
  keys: Map<string, Set<string>>;
  /** Accounts -> their ACM certificate ARNs. */
  certificates: Map<string, Set<string>>;
}

describe('aws-kms and aws-acm discover the accounts of an AWS organization', () => {
  let moto: Moto;
  let proxy: FaultProxy;
  let dir: string;
  let org: Organization;
  let denied: string;
  let closed: string;

  before(async () => {
    moto = await startMoto();
    proxy = await startFaultProxy(moto.endpoint, [], { principalArn: `arn:aws:iam::${MANAGEMENT}:user/scanner` });
    dir = tempDir();
    org = await seedOrganization(moto.endpoint, dir);
    closed = org.members[19]!;
    denied = org.members[3]!;
  });
  after(async () => {
    await proxy?.stop();
    await moto?.stop();
    removeDir(dir);
  });

  const roleOf = (account: string) => `arn:aws:iam::${account}:role/${ROLE}`;
  const accountOf = (uid: string) => uid.split(':')[4]!;
  const denyRole = (account: string): FaultRule => ({ operation: 'AssumeRole', match: (params) => params['RoleArn'] === roleOf(account), fault: 'access-denied' });

  async function scan(accounts: string, rules: FaultRule[], extra: string[] = [], sources = ['aws-kms']): Promise<{ report: Report; code: number; stderr: string; text: string }> {
    proxy.setRules(rules);
    const config = path.join(dir, `org-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(
      config,
      [
        'version: 1',
        'sources:',
        ...sources.map(
          (type) => `  - { id: org-${type.slice(4)}, type: ${type}, regions: [${REGIONS.join(', ')}], accounts: ${accounts}, roleName: ${ROLE}, endpoint: "${proxy.endpoint}", concurrency: 4 }`,
        ),
        '',
      ].join('\n'),
    );
    const out = path.join(dir, `out-${Math.random().toString(36).slice(2)}`);
    const run = await runCli(['scan', '--config', config, '--out', out, '--format', 'json', ...extra], { env: { ...withoutAwsEnv(process.env), ...AWS_ENV } });
    let report: Report;
    try {
      report = assertReportsValid(out);
    } catch (error) {
      throw new Error(`keydrift scan exited ${run.code} without a valid report: ${(error as Error).message}\n${run.stderr}`);
    }
    return { report, code: run.code, stderr: run.stderr, text: readFileSync(path.join(out, 'keydrift.json'), 'utf8') };
  }

  const keysOf = (accounts: Iterable<string>) => [...accounts].flatMap((account) => [...org.keys.get(account)!]).sort();

  test('moto attributes keys made with assumed-role credentials to the role\'s account', () => {
    for (const [account, keys] of org.keys) {
      assert.ok(keys.size >= 2, `${account} has keys`);
      for (const arn of keys) assert.equal(accountOf(arn), account);
    }
  });

  test('20 members + management, one closed, one role denied: every key of the other 19 accounts, the denied account named, KD-GOV-003, exit 3', async () => {
    const { report, code, stderr, text } = await scan('organization', [denyRole(denied)], [], ['aws-kms', 'aws-acm']);
    const collected = [MANAGEMENT, ...org.members].filter((account) => account !== denied && account !== closed);
    assert.equal(collected.length, 19);

    const keys = report.inventory.filter((item) => item.provider === 'aws-kms');
    assert.deepEqual(new Set(keys.map((item) => accountOf(item.uid))), new Set(collected), 'items from exactly the 19 accounts');
    assert.deepEqual(keys.map((item) => item.uid).sort(), keysOf(collected), 'every key of each, in both regions');
    const certificates = report.inventory.filter((item) => item.provider === 'aws-acm').map((item) => item.uid).sort();
    assert.deepEqual(certificates, collected.flatMap((account) => [...(org.certificates.get(account) ?? [])]).sort(), 'aws-acm: the same accounts');

    for (const id of ['org-kms', 'org-acm']) {
      const source = report.sources.find((candidate) => candidate.id === id)!;
      assert.equal(source.status, 'partial', id);
      assert.equal(source.errors.length, 1, JSON.stringify(source.errors));
      const [error] = source.errors;
      assert.equal(error!.code, 'aws-account-access-denied');
      assert.ok(error!.message.startsWith(`account ${denied}: not collected: sts:AssumeRole on ${roleOf(denied)}: access denied (AccessDenied`), error!.message);
      assert.equal(error!.resource, roleOf(denied));
      // One AssumeRole per active account (the denied one included), none for the closed account;
      // two ListAccounts pages of at most 20 for 21 accounts; no OU was walked.
      assert.equal(source.apiCalls!['sts:AssumeRole'], 20);
      assert.equal(source.apiCalls!['organizations:ListAccounts'], 2);
      assert.equal(source.apiCalls!['organizations:ListAccountsForParent'], undefined);
      assert.equal(source.apiCalls!['organizations:ListOrganizationalUnitsForParent'], undefined);
    }
    const assumed = proxy.calls.filter((call) => call.operation === 'AssumeRole').map((call) => call.params!['RoleArn'] as string);
    assert.ok(!assumed.includes(roleOf(closed)), 'the closed account is not entered');
    assert.ok(assumed.every((arn) => /:role\/keydrift-audit$/.test(arn)), 'only the configured role is assumed');
    assert.ok(proxy.calls.filter((call) => call.operation === 'AssumeRole').every((call) => call.params!['RoleSessionName'] === 'keydrift-org-kms' || call.params!['RoleSessionName'] === 'keydrift-org-acm'));
    assert.match(stderr, new RegExp(`not active, skipped: ${closed} \\(SUSPENDED\\)`));

    const coverage = report.findings.filter((finding) => finding.ruleId === 'KD-GOV-003');
    assert.deepEqual(coverage.map((finding) => finding.resource.uid).sort(), ['source:org-acm', 'source:org-kms']);
    assert.ok(coverage.every((finding) => finding.message.includes(denied)), coverage.map((finding) => finding.message).join('\n'));
    assert.deepEqual(
      report.findings.filter((finding) => finding.ruleId !== 'KD-GOV-003' && ['critical', 'high'].includes(finding.severity)).map((finding) => `${finding.ruleId} ${finding.resource.uid}`),
      [],
      'the seeded keys and certificates raise nothing at the threshold',
    );
    assert.equal(code, 3);
    assert.doesNotMatch(text, /ASIA[A-Z0-9]{16}/, 'no session credential in the report');
  });

  test('include and exclude by OU and by account id: exactly the selected accounts, each OU walked once', async () => {
    const loose = org.members[15]!; // directly under the root
    const prodMember = org.members[1]!;
    const accounts = `{ organization: true, include: [${org.units.prod}, '${loose}'], exclude: [${org.units.prodEu}, '${prodMember}'] }`;
    const { report, code } = await scan(accounts, []);
    // members 0-4 sit in prod, 5-7 in prod/prod-eu: prod's subtree, less prod-eu's and one account, plus the loose one.
    const expected = [org.members[0]!, org.members[2]!, org.members[3]!, org.members[4]!, loose];
    const source = report.sources[0]!;
    assert.equal(source.status, 'ok', JSON.stringify(source.errors));
    assert.deepEqual(new Set(report.inventory.map((item) => accountOf(item.uid))), new Set(expected));
    assert.deepEqual(report.inventory.map((item) => item.uid).sort(), keysOf(expected));
    assert.equal(source.apiCalls!['sts:AssumeRole'], expected.length);
    assert.equal(source.apiCalls!['organizations:ListAccountsForParent'], 2, 'prod and prod-eu, each once');
    assert.equal(source.apiCalls!['organizations:ListOrganizationalUnitsForParent'], 2);
    assert.equal(source.apiCalls!['organizations:ListRoots'], undefined);
    assert.equal(code, 0);
  });

  test('the root id selects the whole organization; excluding an OU takes its accounts out', async () => {
    const { report } = await scan(`{ organization: true, include: [${org.rootId}], exclude: [${org.units.sandbox}, '${denied}'] }`, []);
    const sandbox = org.members.slice(8, 12);
    const expected = [MANAGEMENT, ...org.members].filter((account) => account !== closed && account !== denied && !sandbox.includes(account));
    assert.deepEqual(report.inventory.map((item) => item.uid).sort(), keysOf(expected));
    assert.equal(report.sources[0]!.status, 'ok', JSON.stringify(report.sources[0]!.errors));
    assert.equal(report.sources[0]!.apiCalls!['organizations:ListRoots'], 1);
  });

  test('ListAccounts denied: the source fails with a clear error and no account is entered', async () => {
    const before = proxy.calls.length;
    const { report, code } = await scan('organization', [{ operation: 'ListAccounts', fault: 'access-denied' }]);
    const source = report.sources[0]!;
    assert.equal(source.status, 'failed');
    assert.equal(source.errors.length, 1);
    assert.equal(source.errors[0]!.code, 'aws-organization-access-denied');
    assert.match(source.errors[0]!.message, /^organizations:ListAccounts on the organization: access denied \(AccessDeniedException: .*\); the organization's accounts are unknown, so none was scanned/);
    assert.equal(report.inventory.length, 0);
    assert.ok(!proxy.calls.slice(before).some((call) => call.operation === 'AssumeRole'));
    assert.equal(code, 3);
  });

  test('selectors that cannot be resolved: an unknown OU to include is reported and the rest scanned; one to exclude stops the source', async () => {
    const missingUnit = `${org.units.prod.slice(0, org.units.prod.lastIndexOf('-'))}-zzzzzzzz`;
    const loose = org.members[16]!;
    const included = await scan(`{ organization: true, include: [${missingUnit}, '${loose}', '999999999999'] }`, []);
    const source = included.report.sources[0]!;
    assert.equal(source.status, 'partial');
    assert.deepEqual(included.report.inventory.map((item) => item.uid).sort(), keysOf([loose]));
    assert.deepEqual(source.errors.map((error) => error.code).sort(), ['aws-organization-error', 'aws-organization-unknown-account']);
    assert.match(source.errors.find((error) => error.resource === missingUnit)!.message, new RegExp(`^accounts.include ${missingUnit}: organizations:ListAccountsForParent on ${missingUnit}: failed \\(ParentNotFoundException`));
    assert.match(source.errors.find((error) => error.resource === '999999999999')!.message, /not an account of the organization/);

    const excluded = await scan(`{ organization: true, exclude: [${missingUnit}] }`, []);
    assert.equal(excluded.report.sources[0]!.status, 'failed');
    assert.equal(excluded.report.inventory.length, 0);
    assert.match(excluded.report.sources[0]!.errors[0]!.message, /^accounts.exclude .*; nothing was scanned rather than an excluded account$/);
  });

  test('with a shard, only the accounts of that shard are entered', async () => {
    proxy.setRules([]);
    for (const key of Object.keys(process.env)) if (key.startsWith('AWS_')) delete process.env[key];
    Object.assign(process.env, AWS_ENV);
    const shard = { index: 2, count: 3 };
    const ctx = { ...quietContext(), shard };
    const before = proxy.calls.length;
    const items: InventoryItem[] = [];
    const source = { id: 'sharded', type: 'aws-kms', regions: ['us-east-1'], accounts: 'organization', roleName: ROLE, endpoint: proxy.endpoint };
    for await (const item of kmsCollector.collect(source, ctx)) items.push(item);
    const mine = [MANAGEMENT, ...org.members].filter((account) => account !== closed && inShard(accountKey(account), shard));
    assert.ok(mine.length > 0 && mine.length < 20, `shard 2/3 holds ${mine.length} accounts`);
    const assumed = proxy.calls.slice(before).filter((call) => call.operation === 'AssumeRole').map((call) => accountOf(call.params!['RoleArn'] as string));
    assert.deepEqual(assumed.sort(), [...mine].sort());
    assert.deepEqual(new Set(items.map((item) => accountOf(item.uid))), new Set(mine));
    assert.deepEqual(ctx.errors, []);
  });
});

/** The organization, its OUs and accounts, and keys (and a few certificates) in every account. */
async function seedOrganization(endpoint: string, dir: string): Promise<Organization> {
  const client = new OrganizationsClient({ region: 'us-east-1', endpoint, credentials: base });
  try {
    await client.send(new CreateOrganizationCommand({ FeatureSet: 'ALL' }));
    const rootId = (await client.send(new ListRootsCommand({}))).Roots![0]!.Id!;
    const unit = async (name: string, parent: string) => (await client.send(new CreateOrganizationalUnitCommand({ ParentId: parent, Name: name }))).OrganizationalUnit!.Id!;
    const prod = await unit('prod', rootId);
    const prodEu = await unit('prod-eu', prod);
    const sandbox = await unit('sandbox', rootId);
    const members: string[] = [];
    for (let i = 0; i < 20; i++) {
      const created = await client.send(new CreateAccountCommand({ AccountName: `member-${i}`, Email: `member-${i}@example.com` }));
      members.push(created.CreateAccountStatus!.AccountId!);
    }
    const placement = (i: number) => (i < 5 ? prod : i < 8 ? prodEu : i < 12 ? sandbox : null);
    for (const [i, account] of members.entries()) {
      const destination = placement(i);
      if (destination) await client.send(new MoveAccountCommand({ AccountId: account, SourceParentId: rootId, DestinationParentId: destination }));
    }
    await client.send(new CloseAccountCommand({ AccountId: members[19]! }));

    const keys = new Map<string, Set<string>>();
    const certificates = new Map<string, Set<string>>();
    const cert = makeCert(dir, { cn: 'org.example.com', key: 'rsa:2048', notBefore: new Date(Date.now() - 86_400_000).toISOString(), notAfter: new Date(Date.now() + 200 * 86_400_000).toISOString() });
    for (const [i, account] of [MANAGEMENT, ...members].entries()) {
      const credentials =
        account === MANAGEMENT
          ? base
          : fromTemporaryCredentials({
              params: { RoleArn: `arn:aws:iam::${account}:role/OrganizationAccountAccessRole`, RoleSessionName: 'seed' },
              masterCredentials: base,
              clientConfig: { region: 'us-east-1', endpoint },
            });
      const arns = new Set<string>();
      for (const region of REGIONS) {
        const kms = new KMSClient({ region, endpoint, credentials });
        try {
          // Symmetric keys with rotation on: compliant, so only coverage can decide the exit code.
          for (let n = 0; n < (region === 'us-east-1' && i % 3 === 0 ? 2 : 1); n++) {
            const key = (await kms.send(new CreateKeyCommand({ Description: `member key ${n}` }))).KeyMetadata!;
            await kms.send(new EnableKeyRotationCommand({ KeyId: key.KeyId! }));
            arns.add(key.Arn!);
          }
        } finally {
          kms.destroy();
        }
      }
      keys.set(account, arns);
      if (i % 5 === 1 || account === members[3]) {
        const acm = new ACMClient({ region: 'us-east-1', endpoint, credentials });
        try {
          const imported = await acm.send(new ImportCertificateCommand({ Certificate: Buffer.from(cert.certPem), PrivateKey: Buffer.from(cert.keyPem) }));
          certificates.set(account, new Set([imported.CertificateArn!]));
        } finally {
          acm.destroy();
        }
      }
    }
    return { rootId, members, units: { prod, prodEu, sandbox }, keys, certificates };
  } finally {
    client.destroy();
  }
}
