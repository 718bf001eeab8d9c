import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { GetKeyRotationStatusCommand, KMSClient, type KeyMetadata } from '@aws-sdk/client-kms';
import { analyseKeyPolicy } from '../../src/collectors/aws/key-policy.ts';
import { kmsAlgorithm, kmsItem, kmsRotation, rotationSupported } from '../../src/collectors/aws/kms/map.ts';
import { validator } from '../../src/util/schemas.ts';

// Neither moto nor local-kms returns RotationPeriodInDays or NextRotationDate, so the mapper is
// tested with the response of the AWS KMS API reference (GetKeyRotationStatus, Example), served
// over HTTP and parsed by the real SDK client.
const API_REFERENCE_RESPONSE = {
  KeyId: '1234abcd-12ab-34cd-56ef-1234567890ab',
  KeyRotationEnabled: true,
  NextRotationDate: 1712330087.757,
  OnDemandRotationStartDate: 1709374296.564,
  RotationPeriodInDays: 365,
};

const symmetric: KeyMetadata = {
  AWSAccountId: '111122223333',
  KeyId: '1234abcd-12ab-34cd-56ef-1234567890ab',
  Arn: 'arn:aws:kms:us-east-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
  CreationDate: new Date('2023-01-01T00:00:00Z'),
  Enabled: true,
  KeyUsage: 'ENCRYPT_DECRYPT',
  KeyState: 'Enabled',
  Origin: 'AWS_KMS',
  KeyManager: 'CUSTOMER',
  KeySpec: 'SYMMETRIC_DEFAULT',
  MultiRegion: false,
};

test('GetKeyRotationStatus as the API reference shows it maps period, next rotation and state', async () => {
  const server = http.createServer((request, response) => {
    request.resume();
    response.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
    response.end(JSON.stringify(API_REFERENCE_RESPONSE));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const client = new KMSClient({
      region: 'us-east-2',
      endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    const status = await client.send(new GetKeyRotationStatusCommand({ KeyId: symmetric.KeyId }));
    client.destroy();
    const rotation = kmsRotation({ metadata: symmetric, rotationStatus: status, rotations: [{ RotationDate: new Date('2024-03-02T10:11:36Z'), RotationType: 'ON_DEMAND' }] });
    assert.deepEqual(rotation, {
      supported: true,
      automatic: true,
      periodDays: 365,
      lastRotatedAt: '2024-03-02T10:11:36Z',
      nextRotationAt: '2024-04-05T15:14:47.757Z',
    });
    const item = kmsItem({ metadata: symmetric, region: 'us-east-2', sourceId: 'aws', aliases: ['alias/b', 'alias/a'], rotationStatus: status, rotations: [], tags: { env: 'prod' }, access: null });
    assert.ok(validator('inventory-item')(item));
    assert.equal(item.name, 'alias/a');
    assert.equal(item.evidence['RotationPeriodInDays'], 365);
    assert.equal(item.rotation?.lastRotatedAt, null, 'no rotation yet');
  } finally {
    server.close();
  }
});

test('unknown rotation stays unknown: a denied call is null, not "off"', () => {
  const rotation = kmsRotation({ metadata: symmetric, rotationStatus: null, rotations: null });
  assert.equal(rotation.automatic, null);
  assert.equal(rotation.lastRotatedAt, null);
  assert.equal(rotation.supported, true);
});

test('rotation is supported only for customer symmetric encryption keys with KMS-generated material', () => {
  assert.equal(rotationSupported(symmetric), true);
  assert.equal(rotationSupported({ ...symmetric, KeyUsage: undefined }), true, 'SYMMETRIC_DEFAULT implies ENCRYPT_DECRYPT');
  assert.equal(rotationSupported({ ...symmetric, KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' }), false);
  assert.equal(rotationSupported({ ...symmetric, KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' }), false);
  assert.equal(rotationSupported({ ...symmetric, Origin: 'EXTERNAL' }), false);
  assert.equal(rotationSupported({ ...symmetric, Origin: 'AWS_CLOUDHSM' }), false);
  assert.equal(rotationSupported({ ...symmetric, KeyManager: 'AWS' }), false);
  const managed = kmsItem({ metadata: { ...symmetric, KeyManager: 'AWS' }, region: 'us-east-2', sourceId: 'aws', aliases: ['alias/aws/s3'], rotationStatus: null, rotations: null, tags: null, access: null });
  assert.equal(managed.managedBy, 'provider');
  assert.equal(managed.rotation?.automatic, true);
});

test('every KMS key spec maps to a canonical algorithm', () => {
  const specs: Record<string, string> = {
    SYMMETRIC_DEFAULT: 'AES-256', RSA_2048: 'RSA-2048', RSA_3072: 'RSA-3072', RSA_4096: 'RSA-4096',
    ECC_NIST_P256: 'EC-P256', ECC_NIST_P384: 'EC-P384', ECC_NIST_P521: 'EC-P521', ECC_SECG_P256K1: 'EC-secp256k1',
    ECC_NIST_EDWARDS25519: 'Ed25519', SM2: 'SM2', HMAC_224: 'HMAC-SHA224', HMAC_256: 'HMAC-SHA256',
    HMAC_384: 'HMAC-SHA384', HMAC_512: 'HMAC-SHA512', ML_DSA_44: 'ML-DSA-44', ML_DSA_65: 'ML-DSA-65', ML_DSA_87: 'ML-DSA-87',
  };
  for (const [spec, algorithm] of Object.entries(specs)) assert.equal(kmsAlgorithm(spec, 'us-east-1').algorithm, algorithm, spec);
  assert.equal(kmsAlgorithm('SYMMETRIC_DEFAULT', 'cn-north-1').algorithm, 'SM4-128');
  assert.equal(kmsAlgorithm('FUTURE_SPEC', 'us-east-1').algorithm, 'UNKNOWN:FUTURE_SPEC');
  assert.equal(kmsAlgorithm('HMAC_224', 'us-east-1').keySize, 224);
});

const ROOT = { Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::111122223333:root' }, Action: 'kms:*', Resource: '*' };
const policy = (...statements: object[]) => JSON.stringify({ Version: '2012-10-17', Statement: [ROOT, ...statements] });

test('key policy: the default policy is neither public nor a separation-of-duties problem', () => {
  assert.deepEqual(analyseKeyPolicy(policy(), '111122223333'), { public: false, publicPrincipals: [], publicActions: [], publicGrantSource: null, adminAndUse: [], administrators: [], externalUse: [] });
});

test('key policy: a wildcard principal is public unless a positive condition pins the caller', () => {
  const open = analyseKeyPolicy(policy({ Sid: 'Open', Effect: 'Allow', Principal: { AWS: '*' }, Action: ['kms:Decrypt', 'kms:DescribeKey'], Resource: '*' }), '111122223333');
  assert.equal(open.public, true);
  assert.deepEqual(open.publicActions, ['kms:Decrypt'], 'read-only actions are not listed');
  assert.equal(open.publicGrantSource, 'key policy statement Open');
  for (const condition of [
    { StringEquals: { 'kms:CallerAccount': '111122223333' } },
    { StringEquals: { 'aws:PrincipalOrgID': 'o-abc123' } },
    { ArnLike: { 'aws:SourceArn': 'arn:aws:s3:::bucket' } },
    { StringEquals: { 'kms:ViaService': 'ec2.us-east-1.amazonaws.com', 'kms:CallerAccount': '111122223333' } },
  ]) {
    assert.equal(analyseKeyPolicy(policy({ Effect: 'Allow', Principal: '*', Action: 'kms:*', Resource: '*', Condition: condition }), null).public, false, JSON.stringify(condition));
  }
  for (const condition of [
    { StringNotEquals: { 'kms:CallerAccount': '111122223333' } },
    { StringLike: { 'aws:PrincipalOrgID': '*' } },
    { StringEquals: { 'kms:ViaService': 'ec2.us-east-1.amazonaws.com' } },
    { StringEqualsIfExists: { 'aws:SourceAccount': '111122223333' } },
  ]) {
    assert.equal(analyseKeyPolicy(policy({ Effect: 'Allow', Principal: { AWS: ['*'] }, Action: 'kms:Encrypt', Resource: '*', Condition: condition }), null).public, true, JSON.stringify(condition));
  }
  assert.equal(analyseKeyPolicy(policy({ Effect: 'Allow', NotPrincipal: { AWS: 'arn:aws:iam::1:root' }, Action: 'kms:Decrypt', Resource: '*' }), null).public, true);
  assert.equal(analyseKeyPolicy(policy({ Effect: 'Allow', Principal: '*', Action: ['kms:DescribeKey', 'kms:GetKeyPolicy'], Resource: '*' }), null).public, false, 'read-only is not use');
  assert.equal(analyseKeyPolicy(policy({ Effect: 'Deny', Principal: '*', Action: 'kms:*', Resource: '*' }), null).public, false);
});

test('key policy: principals holding both admin and use rights, wildcards included', () => {
  const admin = 'arn:aws:iam::111122223333:role/KeyAdmin';
  const app = 'arn:aws:iam::111122223333:role/App';
  const both = 'arn:aws:iam::111122223333:role/Operator';
  const result = analyseKeyPolicy(
    policy(
      { Effect: 'Allow', Principal: { AWS: [admin, both] }, Action: ['kms:Create*', 'kms:Put*', 'kms:ScheduleKeyDeletion'], Resource: '*' },
      { Effect: 'Allow', Principal: { AWS: [app, both] }, Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey*'], Resource: '*' },
      { Effect: 'Allow', Principal: { AWS: '444455556666' }, Action: 'kms:*', Resource: '*' },
    ),
    '111122223333',
  );
  assert.deepEqual(result.adminAndUse, [both, 'arn:aws:iam::444455556666:root'], 'another account with kms:* counts; our own root delegates to IAM');
});
