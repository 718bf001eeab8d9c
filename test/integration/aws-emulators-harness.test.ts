import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CreateKeyCommand, DescribeKeyCommand, KMSClient, ListKeysCommand } from '@aws-sdk/client-kms';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.ts';
import { startLocalKms, type LocalKms } from '../support/local-kms.ts';
import { httpRequest, startMoto, type Moto } from '../support/moto.ts';

// Proves the AWS test harness with the real SDK: moto and local-kms start, answer and reset, and
// the fault proxy's faults reach the SDK as the real service's would.

function kms(endpoint: string): KMSClient {
  return new KMSClient({
    region: 'us-east-1',
    endpoint,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    // The SDK's defaults, pinned so that AWS_MAX_ATTEMPTS or a profile cannot change the retry counts.
    maxAttempts: 3,
    retryMode: 'standard',
  });
}

async function keyIds(client: KMSClient): Promise<string[]> {
  const { Keys = [] } = await client.send(new ListKeysCommand({}));
  return Keys.map((key) => key.KeyId ?? '');
}

describe('moto', () => {
  let moto: Moto;
  let startMs: number;

  before(async () => {
    const started = performance.now();
    moto = await startMoto();
    startMs = performance.now() - started;
  });

  after(async () => {
    await moto?.stop();
  });

  test('answers KMS CreateKey and ListKeys, and reset() empties it', async (t) => {
    t.diagnostic(`moto started in ${Math.round(startMs)} ms on ${moto.endpoint}`);
    const client = kms(moto.endpoint);
    const { KeyMetadata } = await client.send(new CreateKeyCommand({ Description: 'harness' }));
    assert.match(KeyMetadata?.Arn ?? '', /^arn:aws:kms:us-east-1:\d{12}:key\//);
    assert.deepEqual(await keyIds(client), [KeyMetadata?.KeyId]);
    await moto.reset();
    assert.deepEqual(await keyIds(client), []);
    client.destroy();
  });
});

describe('local-kms', () => {
  let localKms: LocalKms;
  let startMs: number;

  before(async () => {
    const started = performance.now();
    localKms = await startLocalKms({ region: 'eu-central-1', accountId: '444455556666' });
    startMs = performance.now() - started;
  });

  after(async () => {
    await localKms?.stop();
  });

  test('answers KMS CreateKey and ListKeys, with ARNs in the region and account it was given', async (t) => {
    t.diagnostic(`local-kms started in ${Math.round(startMs)} ms on ${localKms.endpoint}`);
    const client = kms(localKms.endpoint);
    assert.deepEqual(await keyIds(client), []);
    const { KeyMetadata } = await client.send(new CreateKeyCommand({ Description: 'harness' }));
    assert.match(KeyMetadata?.Arn ?? '', /^arn:aws:kms:eu-central-1:444455556666:key\//);
    assert.deepEqual(await keyIds(client), [KeyMetadata?.KeyId]);
    client.destroy();
  });

  test('a second instance starts empty (each has its own data directory)', async () => {
    const other = await startLocalKms();
    try {
      const client = kms(other.endpoint);
      assert.deepEqual(await keyIds(client), []);
      client.destroy();
    } finally {
      await other.stop();
    }
  });
});

describe('fault proxy in front of moto', () => {
  let moto: Moto;
  let proxy: FaultProxy;
  let denied: string;
  let deniedArn: string;
  let allowed: string;

  before(async () => {
    moto = await startMoto();
    proxy = await startFaultProxy(moto.endpoint, []);
    const direct = kms(moto.endpoint);
    const deniedKey = (await direct.send(new CreateKeyCommand({ Description: 'denied' }))).KeyMetadata;
    denied = deniedKey?.KeyId ?? '';
    deniedArn = deniedKey?.Arn ?? '';
    allowed = (await direct.send(new CreateKeyCommand({ Description: 'allowed' }))).KeyMetadata?.KeyId ?? '';
    direct.destroy();
  });

  after(async () => {
    await proxy?.stop();
    await moto?.stop();
  });

  /** What the proxy saw, without the request parameters (asserted on elsewhere). */
  function callsSince(start: number) {
    return proxy.calls.slice(start).map(({ params: _params, ...call }) => call);
  }

  test('access-denied on DescribeKey for one key: AccessDeniedException at once, other keys pass', async () => {
    proxy.setRules([{ operation: 'DescribeKey', match: (body) => body['KeyId'] === denied, fault: 'access-denied' }]);
    const start = proxy.calls.length;
    const client = kms(proxy.endpoint);
    const error = await client.send(new DescribeKeyCommand({ KeyId: denied })).then(
      () => assert.fail('DescribeKey of the denied key succeeded'),
      (caught: unknown) => caught as { name: string; message: string; $fault: string; $metadata: { httpStatusCode?: number; attempts?: number } },
    );
    assert.equal(error.name, 'AccessDeniedException');
    assert.equal(error.$fault, 'client');
    assert.equal(error.$metadata.httpStatusCode, 400);
    assert.equal(error.$metadata.attempts, 1);
    assert.equal(
      error.message,
      `User: arn:aws:iam::111122223333:user/scanner is not authorized to perform: kms:DescribeKey on resource: ${deniedArn} because no identity-based policy allows the kms:DescribeKey action`,
    );
    const { KeyMetadata } = await client.send(new DescribeKeyCommand({ KeyId: allowed }));
    assert.equal(KeyMetadata?.KeyId, allowed);
    assert.deepEqual(callsSince(start), [
      { operation: 'DescribeKey', key: denied, fault: 'access-denied' },
      { operation: 'DescribeKey', key: allowed },
    ]);
    client.destroy();
  });

  test('throttle times=2: the SDK retries and the third attempt succeeds', async () => {
    proxy.setRules([{ operation: 'ListKeys', fault: 'throttle', times: 2 }]);
    const start = proxy.calls.length;
    const client = kms(proxy.endpoint);
    const output = await client.send(new ListKeysCommand({}));
    assert.equal(output.$metadata.attempts, 3);
    assert.equal(output.Keys?.length, 2);
    assert.deepEqual(callsSince(start), [
      { operation: 'ListKeys', fault: 'throttle' },
      { operation: 'ListKeys', fault: 'throttle' },
      { operation: 'ListKeys' },
    ]);
    client.destroy();
  });

  test('server-error times=1: a 500 the SDK retries as transient', async () => {
    proxy.setRules([{ operation: 'DescribeKey', fault: 'server-error', times: 1 }]);
    const start = proxy.calls.length;
    const client = kms(proxy.endpoint);
    const output = await client.send(new DescribeKeyCommand({ KeyId: allowed }));
    assert.equal(output.$metadata.attempts, 2);
    assert.deepEqual(callsSince(start), [
      { operation: 'DescribeKey', key: allowed, fault: 'server-error' },
      { operation: 'DescribeKey', key: allowed },
    ]);
    client.destroy();
  });

  test('reset: a network error (ECONNRESET) after the SDK has made all its attempts', async () => {
    proxy.setRules([{ operation: 'DescribeKey', fault: 'reset' }]);
    const start = proxy.calls.length;
    const client = kms(proxy.endpoint);
    const error = await client.send(new DescribeKeyCommand({ KeyId: allowed })).then(
      () => assert.fail('DescribeKey through a resetting proxy succeeded'),
      (caught: unknown) => caught as { code?: string; $metadata?: { attempts?: number } },
    );
    assert.equal(error.code, 'ECONNRESET');
    assert.equal(error.$metadata?.attempts, 3);
    assert.deepEqual(callsSince(start), Array.from({ length: 3 }, () => ({ operation: 'DescribeKey', key: allowed, fault: 'reset' })));
    client.destroy();
  });

  test('query-protocol requests (STS) are faulted by their Action, as STS answers, and otherwise forwarded', async () => {
    const request = () =>
      httpRequest(`${proxy.endpoint}/`, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8',
          Authorization: 'AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=0',
        },
        body: 'Action=GetCallerIdentity&Version=2011-06-15',
      });
    proxy.setRules([{ operation: 'GetCallerIdentity', fault: 'access-denied' }]);
    const start = proxy.calls.length;
    const denied = await request();
    assert.equal(denied.status, 403);
    assert.match(denied.body, /<Code>AccessDenied<\/Code>/);
    proxy.setRules([]);
    const forwarded = await request();
    assert.equal(forwarded.status, 200);
    assert.match(forwarded.body, /<GetCallerIdentityResult>/);
    assert.deepEqual(callsSince(start), [{ operation: 'GetCallerIdentity', fault: 'access-denied' }, { operation: 'GetCallerIdentity' }]);
  });
});

describe('missing emulators', () => {
  test('startMoto and startLocalKms fail (never skip) and say to run the provisioning', async () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'keydrift-no-tools-'));
    const saved = process.env['KEYDRIFT_TOOLS_DIR'];
    process.env['KEYDRIFT_TOOLS_DIR'] = empty;
    try {
      await assert.rejects(startMoto(), { message: `moto not found at ${path.join(empty, 'moto-5.2.5')}: run "npm run provision"` });
      await assert.rejects(startLocalKms(), /^Error: local-kms not found at .*: run "npm run provision"$/);
    } finally {
      if (saved === undefined) delete process.env['KEYDRIFT_TOOLS_DIR'];
      else process.env['KEYDRIFT_TOOLS_DIR'] = saved;
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
