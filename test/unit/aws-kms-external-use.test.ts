import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { GrantListEntry, KeyMetadata } from '@aws-sdk/client-kms';
import { accountOf, analyseKeyPolicy } from '../../src/collectors/aws/key-policy.ts';
import { analyseGrants, kmsAccess } from '../../src/collectors/aws/kms/grants.ts';
import { kmsItem, kmsReplication } from '../../src/collectors/aws/kms/map.ts';
import { validator } from '../../src/util/schemas.ts';

// Other accounts' use of a KMS key, from its key policy and its grants (KD-ACC-003), and the
// regions a multi-Region key's material lives in (KD-ACC-004). Inputs are the shapes the KMS API
// reference documents for GetKeyPolicy, ListGrants and DescribeKey.

const OWN = '111122223333';
const OTHER = '444455556666';
const ROOT = { Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${OWN}:root` }, Action: 'kms:*', Resource: '*' };
const policy = (...statements: object[]) => JSON.stringify({ Version: '2012-10-17', Statement: [ROOT, ...statements] });

test('accountOf: IAM and STS principals name their account; services and wildcards do not', () => {
  assert.equal(accountOf(`arn:aws:iam::${OTHER}:root`), OTHER);
  assert.equal(accountOf(`arn:aws:sts::${OTHER}:assumed-role/App/session`), OTHER);
  assert.equal(accountOf(`arn:aws-us-gov:iam::${OTHER}:role/App`), OTHER);
  assert.equal(accountOf(OTHER), OTHER);
  assert.equal(accountOf('dynamodb.us-east-1.amazonaws.com'), null);
  assert.equal(accountOf('arn:aws:iam::*:role/App'), null);
});

test('key policy: another account named as principal with Decrypt is external decrypt use; our own principals are not', () => {
  const result = analyseKeyPolicy(
    policy(
      { Sid: 'PartnerDecrypt', Effect: 'Allow', Principal: { AWS: [`arn:aws:iam::${OTHER}:role/Reader`, `arn:aws:iam::${OWN}:role/App`] }, Action: ['kms:Decrypt', 'kms:DescribeKey'], Resource: '*' },
      { Sid: 'PartnerEncrypt', Effect: 'Allow', Principal: { AWS: '999988887777' }, Action: ['kms:Encrypt', 'kms:GenerateDataKey*'], Resource: '*' },
    ),
    OWN,
  );
  assert.deepEqual(result.externalUse, [
    { principal: `arn:aws:iam::${OTHER}:role/Reader`, account: OTHER, actions: ['kms:Decrypt'], decrypt: true, source: 'key policy statement PartnerDecrypt' },
    { principal: 'arn:aws:iam::999988887777:root', account: '999988887777', actions: ['kms:Encrypt', 'kms:GenerateDataKey*'], decrypt: false, source: 'key policy statement PartnerEncrypt' },
  ]);
  assert.equal(result.public, false, 'named accounts are not "anyone"');
});

test('key policy: a wildcard narrowed to another account by kms:CallerAccount or aws:PrincipalArn is that account\'s use', () => {
  const byAccount = analyseKeyPolicy(policy({ Sid: 'ViaAccount', Effect: 'Allow', Principal: '*', Action: 'kms:*', Resource: '*', Condition: { StringEquals: { 'kms:CallerAccount': [OTHER, OWN] } } }), OWN);
  assert.equal(byAccount.public, false);
  assert.deepEqual(byAccount.externalUse.map((use) => [use.principal, use.actions, use.decrypt]), [[`arn:aws:iam::${OTHER}:root`, ['kms:*'], true]]);
  const byArn = analyseKeyPolicy(policy({ Sid: 'ViaArn', Effect: 'Allow', Principal: { AWS: '*' }, Action: 'kms:Verify', Resource: '*', Condition: { ArnLike: { 'aws:PrincipalArn': `arn:aws:iam::${OTHER}:role/*` } } }), OWN);
  assert.deepEqual(byArn.externalUse, [{ principal: `arn:aws:iam::${OTHER}:role/*`, account: OTHER, actions: ['kms:Verify'], decrypt: false, source: 'key policy statement ViaArn' }]);
});

test('key policy: organisation, network or service narrowing names no other account; our own account is not external', () => {
  for (const condition of [
    { StringEquals: { 'aws:PrincipalOrgID': 'o-a1b2c3d4e5' } },
    { StringEquals: { 'aws:SourceVpce': 'vpce-1a2b3c4d' } },
    { StringEquals: { 'kms:CallerAccount': OWN } },
  ]) {
    const result = analyseKeyPolicy(policy({ Effect: 'Allow', Principal: '*', Action: 'kms:Decrypt', Resource: '*', Condition: condition }), OWN);
    assert.deepEqual(result.externalUse, [], JSON.stringify(condition));
  }
  assert.deepEqual(analyseKeyPolicy(policy({ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${OTHER}:root` }, Action: 'kms:DescribeKey', Resource: '*' }), OWN).externalUse, [], 'read-only is not use');
  assert.deepEqual(analyseKeyPolicy(policy({ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${OTHER}:root` }, Action: 'kms:Decrypt', Resource: '*' }), null).externalUse, [], 'without our account nothing is foreign');
});

test('key policy: NotAction allows use, and decrypt unless the decrypting actions are excluded', () => {
  const all = analyseKeyPolicy(policy({ Sid: 'Not', Effect: 'Allow', Principal: { AWS: OTHER }, NotAction: 'kms:ScheduleKeyDeletion', Resource: '*' }), OWN);
  assert.deepEqual(all.externalUse.map((use) => [use.actions, use.decrypt]), [[['NotAction'], true]]);
  const noDecrypt = analyseKeyPolicy(policy({ Sid: 'Not', Effect: 'Allow', Principal: { AWS: OTHER }, NotAction: ['kms:Decrypt', 'kms:ReEncrypt*', 'kms:DeriveSharedSecret'], Resource: '*' }), OWN);
  assert.equal(noDecrypt.externalUse[0]?.decrypt, false);
});

const grant = (fields: Partial<GrantListEntry>): GrantListEntry => ({ KeyId: 'k', GrantId: 'g-1', CreationDate: new Date('2026-01-01T00:00:00Z'), IssuingAccount: `arn:aws:iam::${OWN}:root`, ...fields });

test('grants: a grantee of another account with Decrypt is external decrypt use; own grantees are users only', () => {
  const result = analyseGrants(
    [
      grant({ GrantId: 'g-partner', GranteePrincipal: `arn:aws:iam::${OTHER}:role/Reader`, Operations: ['Decrypt', 'DescribeKey'] }),
      grant({ GrantId: 'g-encrypt', GranteePrincipal: `arn:aws:sts::${OTHER}:assumed-role/Writer/s`, Operations: ['GenerateDataKey', 'Encrypt'] }),
      grant({ GrantId: 'g-own', GranteePrincipal: `arn:aws:iam::${OWN}:role/App`, Operations: ['Decrypt', 'CreateGrant'] }),
      grant({ GrantId: 'g-describe', GranteePrincipal: `arn:aws:iam::${OTHER}:role/Auditor`, Operations: ['DescribeKey', 'CreateGrant'] }),
      grant({ GrantId: 'g-service', GranteeServicePrincipal: 'dynamodb.amazonaws.com', Operations: ['Decrypt'] }),
      grant({ GrantId: 'g-empty' }),
    ],
    OWN,
  );
  assert.deepEqual(result.externalUse, [
    { principal: `arn:aws:iam::${OTHER}:role/Reader`, account: OTHER, actions: ['Decrypt'], decrypt: true, source: 'grant g-partner' },
    { principal: `arn:aws:sts::${OTHER}:assumed-role/Writer/s`, account: OTHER, actions: ['Encrypt', 'GenerateDataKey'], decrypt: false, source: 'grant g-encrypt' },
  ]);
  assert.deepEqual(result.users, [`arn:aws:iam::${OWN}:role/App`, `arn:aws:iam::${OTHER}:role/Reader`, `arn:aws:sts::${OTHER}:assumed-role/Writer/s`, 'dynamodb.amazonaws.com']);
});

test('access: grants add users (a policy administrator with a use grant administers and uses) and external use', () => {
  const admin = `arn:aws:iam::${OWN}:role/KeyAdmin`;
  const fromPolicy = analyseKeyPolicy(policy({ Effect: 'Allow', Principal: { AWS: admin }, Action: ['kms:Put*', 'kms:ScheduleKeyDeletion'], Resource: '*' }), OWN);
  assert.deepEqual(fromPolicy.adminAndUse, []);
  const access = kmsAccess(fromPolicy, [grant({ GrantId: 'g-admin', GranteePrincipal: admin, Operations: ['Decrypt'] }), grant({ GrantId: 'g-x', GranteePrincipal: `arn:aws:iam::${OTHER}:root`, Operations: ['Sign'] })], OWN);
  assert.deepEqual(access?.adminAndUse, [admin]);
  assert.deepEqual(access?.externalUse?.map((use) => use.source), ['grant g-x']);
  // A CreateGrant grant makes no administrator.
  const viaGrant = kmsAccess(analyseKeyPolicy(policy(), OWN), [grant({ GranteePrincipal: admin, Operations: ['Decrypt', 'CreateGrant'] })], OWN);
  assert.deepEqual(viaGrant?.adminAndUse, []);
  assert.deepEqual(viaGrant?.externalUse, []);
});

test('access: an unknown policy is unknown access; unknown grants leave external use unknown unless the policy shows some', () => {
  assert.equal(kmsAccess(null, [], OWN), null);
  assert.equal(kmsAccess(analyseKeyPolicy(policy(), OWN), null, OWN)?.externalUse, null, 'no grants read: not "nobody"');
  const shown = kmsAccess(analyseKeyPolicy(policy({ Sid: 'P', Effect: 'Allow', Principal: { AWS: OTHER }, Action: 'kms:Decrypt', Resource: '*' }), OWN), null, OWN);
  assert.equal(shown?.externalUse?.length, 1, 'the policy alone already shows another account');
});

const primaryArn = `arn:aws:kms:us-east-1:${OWN}:key/mrk-1234abcd12ab34cd56ef1234567890ab`;
const multiRegion: KeyMetadata = {
  AWSAccountId: OWN,
  KeyId: 'mrk-1234abcd12ab34cd56ef1234567890ab',
  Arn: primaryArn,
  KeyManager: 'CUSTOMER',
  KeyState: 'Enabled',
  KeySpec: 'SYMMETRIC_DEFAULT',
  KeyUsage: 'ENCRYPT_DECRYPT',
  Origin: 'AWS_KMS',
  MultiRegion: true,
  MultiRegionConfiguration: {
    MultiRegionKeyType: 'PRIMARY',
    PrimaryKey: { Arn: primaryArn, Region: 'us-east-1' },
    ReplicaKeys: [
      { Arn: primaryArn.replace('us-east-1', 'eu-west-1'), Region: 'eu-west-1' },
      { Arn: primaryArn.replace('us-east-1', 'ap-southeast-2'), Region: 'ap-southeast-2' },
    ],
  },
};

test('replication: a multi-Region key lists every region holding its material; a single-Region key its own', () => {
  assert.deepEqual(kmsReplication(multiRegion, 'us-east-1'), { multiRegion: true, role: 'primary', regions: ['ap-southeast-2', 'eu-west-1', 'us-east-1'] });
  const replica = { ...multiRegion, MultiRegionConfiguration: { ...multiRegion.MultiRegionConfiguration, MultiRegionKeyType: 'REPLICA' as const } };
  assert.deepEqual(kmsReplication(replica, 'eu-west-1'), { multiRegion: true, role: 'replica', regions: ['ap-southeast-2', 'eu-west-1', 'us-east-1'] });
  const lonePrimary = { ...multiRegion, MultiRegionConfiguration: { MultiRegionKeyType: 'PRIMARY' as const, PrimaryKey: { Arn: primaryArn, Region: 'us-east-1' }, ReplicaKeys: [] } };
  assert.deepEqual(kmsReplication(lonePrimary, 'us-east-1'), { multiRegion: true, role: 'primary', regions: ['us-east-1'] }, 'no replica yet: one region');
  assert.deepEqual(kmsReplication({ ...multiRegion, MultiRegionConfiguration: undefined }, 'us-east-1'), { multiRegion: true, role: null, regions: ['us-east-1'] });
  assert.deepEqual(kmsReplication({ ...multiRegion, MultiRegion: false, MultiRegionConfiguration: undefined }, 'us-east-1'), { multiRegion: false, role: null, regions: ['us-east-1'] });
});

test('the item carries replication, external use and the grant count, and validates', () => {
  const access = analyseKeyPolicy(policy(), OWN);
  const item = kmsItem({ metadata: multiRegion, region: 'us-east-1', sourceId: 'aws', aliases: [], rotationStatus: null, rotations: null, tags: {}, access, grants: [grant({ GranteePrincipal: `arn:aws:iam::${OTHER}:root`, Operations: ['Decrypt'] })] });
  assert.ok(validator('inventory-item')(item), JSON.stringify(validator('inventory-item').errors));
  assert.equal(item.replication?.regions.length, 3);
  assert.equal(item.access?.externalUse?.[0]?.decrypt, true);
  assert.equal(item.evidence['grantCount'], 1);
  const denied = kmsItem({ metadata: multiRegion, region: 'us-east-1', sourceId: 'aws', aliases: [], rotationStatus: null, rotations: null, tags: {}, access, grants: null });
  assert.equal(denied.evidence['grantsCollected'], false);
  assert.equal(denied.access?.externalUse, null);
  const undescribed = kmsItem({ metadata: { KeyId: 'k', AWSAccountId: OWN }, region: 'us-east-1', sourceId: 'aws', aliases: [], rotationStatus: null, rotations: null, tags: null, access: null, grants: null });
  assert.equal(undescribed.replication, null, 'DescribeKey denied: regions unknown');
  assert.equal(undescribed.evidence['grantsCollected'], undefined, 'no calls were made for a key whose manager is unknown');
});
