import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import type net from 'node:net';
import { test } from 'node:test';
import { callAwsJson, signV4 } from '../../src/collectors/aws/kms/cloudtrail-client.ts';
import { describeFailure } from '../../src/collectors/aws/errors.ts';

// The one hand-signed AWS call (CloudTrail LookupEvents): Signature Version 4 as AWS documents it,
// and the retry/error behaviour the SDK clients have, against a loopback server.

const EXAMPLE = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };

test('signV4 reproduces the AWS General Reference example (IAM ListUsers, 2015-08-30T12:36:00Z)', () => {
  const headers = signV4(
    {
      method: 'GET',
      url: new URL('https://iam.amazonaws.com/?Version=2010-05-08&Action=ListUsers'),
      headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8' },
      body: '',
    },
    EXAMPLE,
    'us-east-1',
    'iam',
    new Date('2015-08-30T12:36:00Z'),
  );
  assert.equal(
    headers['authorization'],
    'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7',
  );
  assert.equal(headers['x-amz-date'], '20150830T123600Z');
});

test('signV4 signs a JSON 1.1 POST with a session token as the AWS SDK for JavaScript does', () => {
  // Expected value produced by @smithy/signature-v4 5.7.5 (the SDK's signer) for the same request.
  const body = JSON.stringify({ MaxResults: 50 });
  const headers = signV4(
    {
      method: 'POST',
      url: new URL('https://cloudtrail.eu-west-1.amazonaws.com/'),
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'CloudTrail_20131101.LookupEvents',
        'x-amz-content-sha256': createHash('sha256').update(body).digest('hex'),
      },
      body,
    },
    { ...EXAMPLE, sessionToken: 'TOKEN' },
    'eu-west-1',
    'cloudtrail',
    new Date('2026-05-01T10:20:30Z'),
  );
  assert.equal(headers['x-amz-security-token'], 'TOKEN');
  assert.equal(
    headers['authorization'],
    'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260501/eu-west-1/cloudtrail/aws4_request, SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token;x-amz-target, Signature=5c29a1440e19911ba2cf5365230e3b160e03f637c2a75ca80f2f0d62905ba079',
  );
});

async function server(answers: { status: number; body: unknown; type?: string }[]): Promise<{ endpoint: string; requests: { target: string; auth: string; body: string }[]; close(): Promise<void> }> {
  const requests: { target: string; auth: string; body: string }[] = [];
  const http_ = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      requests.push({ target: String(request.headers['x-amz-target']), auth: String(request.headers['authorization']), body: Buffer.concat(chunks).toString('utf8') });
      const answer = answers[Math.min(requests.length - 1, answers.length - 1)]!;
      const text = JSON.stringify(answer.body);
      response.writeHead(answer.status, { 'content-type': 'application/x-amz-json-1.1', ...(answer.type ? { 'x-amzn-ErrorType': answer.type } : {}) });
      response.end(text);
    });
  });
  await new Promise<void>((resolve) => http_.listen(0, '127.0.0.1', () => resolve()));
  return {
    endpoint: `http://127.0.0.1:${(http_.address() as net.AddressInfo).port}`,
    requests,
    close: () => new Promise((resolve) => http_.close(() => resolve())),
  };
}

const options = (endpoint: string, attempts = 3) => ({
  region: 'us-east-1',
  endpoint,
  service: 'cloudtrail',
  target: 'CloudTrail_20131101.LookupEvents',
  credentials: async () => ({ accessKeyId: 'AKIDTEST', secretAccessKey: 'not-a-real-secret-value' }),
  timeoutMs: 5_000,
  attempts,
  signal: new AbortController().signal,
});

test('callAwsJson retries throttling, then returns the parsed answer of a signed request', async () => {
  const backend = await server([
    { status: 400, body: { __type: 'com.amazonaws.cloudtrail.v20131101#ThrottlingException', message: 'Rate exceeded' } },
    { status: 200, body: { Events: [], NextToken: 'abc' } },
  ]);
  try {
    const answer = await callAwsJson<{ NextToken: string }>(options(backend.endpoint), { MaxResults: 50 });
    assert.equal(answer.NextToken, 'abc');
    assert.equal(backend.requests.length, 2);
    assert.equal(backend.requests[0]!.target, 'CloudTrail_20131101.LookupEvents');
    assert.equal(backend.requests[0]!.body, '{"MaxResults":50}');
    assert.match(backend.requests[0]!.auth, /^AWS4-HMAC-SHA256 Credential=AKIDTEST\/\d{8}\/us-east-1\/cloudtrail\/aws4_request, /);
  } finally {
    await backend.close();
  }
});

test('callAwsJson throws AccessDenied at once, as the SDK names it, without the secret', async () => {
  const backend = await server([{ status: 400, body: { __type: 'AccessDeniedException', message: 'User: arn:aws:iam::111122223333:user/scanner is not authorized to perform: cloudtrail:LookupEvents' } }]);
  try {
    const error = await callAwsJson(options(backend.endpoint), {}).then(
      () => assert.fail('no error'),
      (thrown: unknown) => thrown,
    );
    assert.equal(backend.requests.length, 1);
    const failure = describeFailure('cloudtrail:LookupEvents', 'us-east-1', error);
    assert.equal(failure.code, 'aws-access-denied');
    assert.match(failure.message, /^cloudtrail:LookupEvents on us-east-1: access denied \(AccessDeniedException: User: /);
    assert.doesNotMatch(JSON.stringify(failure), /not-a-real-secret-value/);
  } finally {
    await backend.close();
  }
});

test('callAwsJson gives up on a persistent 5xx after its attempts, naming the status', async () => {
  const backend = await server([{ status: 500, body: 'not json', type: 'InternalFailure' }]);
  try {
    await assert.rejects(callAwsJson(options(backend.endpoint, 2), {}), (error: Error) => error.name === 'InternalFailure');
    assert.equal(backend.requests.length, 2);
  } finally {
    await backend.close();
  }
});
