import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { KeyManagementServiceClient, type protos } from '@google-cloud/kms';
import { gaxGrpcPath, projectGrpcPath, startGcpKmsServer, type GcpEstate, type GcpKmsServer } from '../support/gcp-kms-server.ts';

// The test server of test/support/gcp-kms-server.ts, driven by the real @google-cloud/kms client
// (KeyManagementServiceClient over google-gax's gRPC transport), so that what the server sends is what
// the client decodes, and what the client retries is what google-gax's retry settings say.
//
// The client reaches an insecure loopback server without Application Default Credentials and without
// the GCE metadata server when given:
//   apiEndpoint + port   the server address (a custom endpoint: no mTLS endpoint switching);
//   sslCreds             insecure channel credentials from the @grpc/grpc-js copy google-gax loads:
//                        GrpcClient._getCredentials returns them as they are, so no auth client is
//                        ever asked for request headers;
//   universeDomain       createStub always asks auth.getUniverseDomain(); with the option set it
//                        answers from its options, without it GoogleAuth.getClient() runs the ADC
//                        search, which ends by probing the metadata server (shown by the last test).
// Neither authClient nor GOOGLE_APPLICATION_CREDENTIALS is needed. To prove it, the metadata server is
// pointed at a local counter (GCE_METADATA_HOST) and the gcloud config directory at an empty one.

const P = 'p';
const GLOBAL = `projects/${P}/locations/global`;
const RING = `${GLOBAL}/keyRings/ring-a`;
const KEY_SYM = `${RING}/cryptoKeys/sym`;
const KEY_SIGN = `${RING}/cryptoKeys/sign-hsm`;
const KEY_MAC = `${RING}/cryptoKeys/mac`;
const US = `projects/${P}/locations/us-central1`;

const ESTATE: GcpEstate = {
  projects: [
    {
      id: P,
      locations: [
        {
          id: 'global',
          keyRings: [
            {
              id: 'ring-a',
              createTime: '2024-03-01T09:00:00Z',
              keys: [
                {
                  id: 'sym',
                  purpose: 'ENCRYPT_DECRYPT',
                  createTime: '2024-03-01T10:00:00.123456789Z',
                  rotationPeriodSeconds: 90 * 86400,
                  nextRotationTime: '2026-12-01T00:00:00Z',
                  labels: { team: 'payments', env: 'prod' },
                  versionTemplate: { algorithm: 'GOOGLE_SYMMETRIC_ENCRYPTION', protectionLevel: 'SOFTWARE' },
                  primaryVersionId: '2',
                  versions: [
                    { id: '1', state: 'DESTROYED', createTime: '2024-03-01T10:00:00Z', destroyEventTime: '2025-01-10T00:00:00Z' },
                    { id: '2', state: 'ENABLED', createTime: '2024-09-01T10:00:00Z' },
                    { id: '3', state: 'DESTROY_SCHEDULED', createTime: '2025-02-01T10:00:00Z', destroyTime: '2026-12-15T00:00:00Z' },
                  ],
                  iamBindings: [
                    { role: 'roles/cloudkms.cryptoKeyEncrypterDecrypter', members: ['serviceAccount:app@p.iam.gserviceaccount.com'] },
                    { role: 'roles/cloudkms.admin', members: ['user:alice@example.com', 'allUsers'] },
                  ],
                },
                {
                  id: 'sign-hsm',
                  purpose: 'ASYMMETRIC_SIGN',
                  createTime: '2024-04-01T00:00:00Z',
                  destroyScheduledDurationSeconds: 24 * 3600,
                  versionTemplate: { algorithm: 'RSA_SIGN_PSS_2048_SHA256', protectionLevel: 'HSM' },
                  versions: [{ id: '1', state: 'ENABLED', createTime: '2024-04-01T00:00:00Z' }],
                },
                {
                  id: 'mac',
                  purpose: 'MAC',
                  createTime: '2024-05-01T00:00:00Z',
                  versionTemplate: { algorithm: 'HMAC_SHA256', protectionLevel: 'SOFTWARE' },
                  versions: [{ id: '1', state: 'DISABLED', createTime: '2024-05-01T00:00:00Z' }],
                },
              ],
            },
          ],
        },
        {
          id: 'us-central1',
          keyRings: [
            {
              id: 'ring-us',
              keys: [
                {
                  id: 'ec',
                  purpose: 'ASYMMETRIC_SIGN',
                  createTime: '2025-01-01T00:00:00Z',
                  versionTemplate: { algorithm: 'EC_SIGN_P256_SHA256', protectionLevel: 'SOFTWARE' },
                  versions: [{ id: '1', state: 'ENABLED', createTime: '2025-01-01T00:00:00Z' }],
                },
              ],
            },
          ],
        },
        { id: 'europe-west1', keyRings: [] },
      ],
    },
  ],
};

interface GrpcError extends Error {
  code: number;
  details: string;
  reason?: string;
  domain?: string;
  errorInfoMetadata?: Record<string, string>;
}

async function rejection(promise: Promise<unknown>): Promise<GrpcError> {
  try {
    await promise;
  } catch (error) {
    return error as GrpcError;
  }
  assert.fail('expected the call to fail');
}

type Location = Awaited<ReturnType<KeyManagementServiceClient['getLocation']>>;
type ListCryptoKeysRequest = protos.google.cloud.kms.v1.IListCryptoKeysRequest;
// getIamPolicy's .d.ts asks for the request class (with toJSON); a plain object is what it sends.
type GetIamPolicyRequest = Parameters<KeyManagementServiceClient['getIamPolicy']>[0];
function iamRequest(resource: string): GetIamPolicyRequest {
  return { resource } as GetIamPolicyRequest;
}

function names(items: { name?: string | null }[]): string[] {
  return items.map((item) => item.name ?? '');
}

describe('gcp-kms-server driven by the real @google-cloud/kms client', () => {
  let server: GcpKmsServer;
  let client: KeyManagementServiceClient;
  let metadata: http.Server;
  let metadataHits: string[];
  let gcloudConfig: string;
  const savedEnv = { ...process.env };

  function newClient(extra: Record<string, unknown> = { universeDomain: 'googleapis.com' }): KeyManagementServiceClient {
    return new KeyManagementServiceClient({
      apiEndpoint: '127.0.0.1',
      port: server.port,
      sslCreds: grpc.credentials.createInsecure(),
      projectId: P,
      ...extra,
    });
  }

  before(async () => {
    metadataHits = [];
    metadata = http.createServer((req, res) => {
      metadataHits.push(req.url ?? '');
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => metadata.listen(0, '127.0.0.1', resolve));
    const metadataHost = `127.0.0.1:${(metadata.address() as net.AddressInfo).port}`;
    gcloudConfig = mkdtempSync(path.join(tmpdir(), 'keydrift-gcloud-'));
    for (const name of Object.keys(process.env)) {
      if (name.startsWith('GOOGLE_') || name.startsWith('GCE_') || name.startsWith('CLOUDSDK_') || name === 'METADATA_SERVER_DETECTION') delete process.env[name];
    }
    process.env['GCE_METADATA_HOST'] = metadataHost;
    process.env['GCE_METADATA_IP'] = metadataHost;
    process.env['CLOUDSDK_CONFIG'] = gcloudConfig;

    server = await startGcpKmsServer(ESTATE);
    client = newClient();
  });

  after(async () => {
    await client?.close();
    await server?.stop();
    await new Promise<void>((resolve) => (metadata ? metadata.close(() => resolve()) : resolve()));
    rmSync(gcloudConfig, { recursive: true, force: true });
    for (const name of Object.keys(process.env)) if (!(name in savedEnv)) delete process.env[name];
    Object.assign(process.env, savedEnv);
  });

  test('the client and this test use the one @grpc/grpc-js google-gax loads', () => {
    assert.equal(gaxGrpcPath(), projectGrpcPath());
  });

  test('listLocationsAsync and getLocation (the Locations mixin)', async () => {
    const locations = [];
    for await (const location of client.listLocationsAsync({ name: `projects/${P}` }, { autoPaginate: false })) locations.push(location);
    assert.deepEqual(names(locations), [GLOBAL, US, `projects/${P}/locations/europe-west1`]);
    const us = locations[1];
    assert.equal(us?.locationId, 'us-central1');
    assert.equal(us?.displayName, 'Iowa');
    // google.protobuf.Any keeps its snake_case names in the client's objects; value: LocationMetadata
    // {hsm_available: true, ekm_available: true}.
    assert.equal(us?.metadata?.type_url, 'type.googleapis.com/google.cloud.kms.v1.LocationMetadata');
    assert.deepEqual([...(us?.metadata?.value ?? [])], [0x08, 0x01, 0x10, 0x01]);
    // getLocation resolves to [Location] like every other unary call; its .d.ts says Location.
    const [one] = (await client.getLocation({ name: GLOBAL })) as unknown as [Location];
    assert.equal(one.name, GLOBAL);
    assert.equal(one.displayName, 'Global');
    const err = await rejection(client.getLocation({ name: `projects/${P}/locations/mars-north1` }));
    assert.equal(err.code, grpc.status.NOT_FOUND);
  });

  test('listKeyRings: names, createTime as a Timestamp, total_size', async () => {
    const [rings, next, response] = await client.listKeyRings({ parent: GLOBAL }, { autoPaginate: false });
    assert.deepEqual(names(rings), [RING]);
    assert.equal(next, null);
    assert.equal(response.nextPageToken, '');
    assert.equal(response.totalSize, 1);
    assert.deepEqual(rings[0]?.createTime, { seconds: String(Date.parse('2024-03-01T09:00:00Z') / 1000), nanos: 0 });
    const [empty] = await client.listKeyRings({ parent: `projects/${P}/locations/europe-west1` });
    assert.deepEqual(empty, []);
    const err = await rejection(client.listKeyRings({ parent: `projects/nope/locations/global` }));
    assert.equal(err.code, grpc.status.NOT_FOUND);
    assert.equal(err.details, 'Project projects/nope not found.');
  });

  test('listCryptoKeys: pageSize 1 and 1000, autoPaginate false and the async iterator, give the same keys', async () => {
    const before = server.calls.length;
    const paged: string[] = [];
    const tokens: string[] = [];
    let request: ListCryptoKeysRequest | null = { parent: RING, pageSize: 1 };
    while (request !== null) {
      const [keys, nextRequest, response]: [protos.google.cloud.kms.v1.ICryptoKey[], ListCryptoKeysRequest | null, protos.google.cloud.kms.v1.IListCryptoKeysResponse] =
        await client.listCryptoKeys(request, { autoPaginate: false });
      assert.equal(keys.length, 1);
      assert.equal(response.totalSize, 3);
      tokens.push(response.nextPageToken ?? '');
      paged.push(...names(keys));
      request = nextRequest;
    }
    assert.equal(tokens.at(-1), '');
    assert.equal(new Set(tokens).size, tokens.length);
    assert.equal(server.calls.length - before, 3);

    const [all, , whole] = await client.listCryptoKeys({ parent: RING, pageSize: 1000 }, { autoPaginate: false });
    assert.equal(whole.nextPageToken, '');
    const iterated: string[] = [];
    // The *Async iterators always page by hand; passing autoPaginate: false spares the warning google-gax
    // emits otherwise ("Autopaginate will always be set to false in Async paging methods").
    for await (const key of client.listCryptoKeysAsync({ parent: RING, pageSize: 1 }, { autoPaginate: false })) iterated.push(key.name ?? '');
    // autoPaginate (the default) follows next_page_token to the end; google-gax warns once per process
    // that a pageSize without autoPaginate: false still returns every result.
    const [autoPaginated] = await client.listCryptoKeys({ parent: RING, pageSize: 2 });

    const expected = [KEY_SYM, KEY_SIGN, KEY_MAC];
    assert.deepEqual(paged, expected);
    assert.deepEqual(names(all), expected);
    assert.deepEqual(iterated, expected);
    assert.deepEqual(names(autoPaginated), expected);
    const listCalls = server.calls.slice(before).filter((c) => c.method === 'ListCryptoKeys');
    assert.deepEqual(
      listCalls.map((c) => c.pageSize),
      [1, 1, 1, 1000, 1, 1, 1, 2, 2],
    );
  });

  test('listCryptoKeys: the CryptoKey fields the real API returns', async () => {
    const [keys] = await client.listCryptoKeys({ parent: RING });
    const [sym, sign, mac] = keys;
    assert.ok(sym && sign && mac);
    assert.equal(sym.purpose, 'ENCRYPT_DECRYPT');
    assert.deepEqual(sym.createTime, { seconds: String(Date.parse('2024-03-01T10:00:00Z') / 1000), nanos: 123456789 });
    assert.deepEqual(sym.rotationPeriod, { seconds: String(90 * 86400), nanos: 0 });
    assert.equal((sym as { rotationSchedule?: string }).rotationSchedule, 'rotationPeriod');
    assert.deepEqual(sym.nextRotationTime, { seconds: String(Date.parse('2026-12-01T00:00:00Z') / 1000), nanos: 0 });
    assert.deepEqual(sym.labels, { team: 'payments', env: 'prod' });
    assert.deepEqual(sym.versionTemplate, { protectionLevel: 'SOFTWARE', algorithm: 'GOOGLE_SYMMETRIC_ENCRYPTION' });
    assert.deepEqual(sym.destroyScheduledDuration, { seconds: String(30 * 86400), nanos: 0 });
    assert.equal(sym.primary?.name, `${KEY_SYM}/cryptoKeyVersions/2`);
    assert.equal(sym.primary?.state, 'ENABLED');
    assert.equal(sym.primary?.algorithm, 'GOOGLE_SYMMETRIC_ENCRYPTION');
    assert.equal(sym.primary?.protectionLevel, 'SOFTWARE');
    assert.equal(sign.primary, null, 'no primary on an ASYMMETRIC_SIGN key');
    assert.equal(sign.rotationPeriod, undefined, 'an unset oneof member is absent, not null, with oneofs: true');
    assert.equal((sign as { rotationSchedule?: string }).rotationSchedule, undefined);
    assert.deepEqual(sign.destroyScheduledDuration, { seconds: '86400', nanos: 0 });
    assert.deepEqual(sign.versionTemplate, { protectionLevel: 'HSM', algorithm: 'RSA_SIGN_PSS_2048_SHA256' });
    assert.equal(mac.purpose, 'MAC');
    assert.deepEqual(mac.labels, {});

    const [one] = await client.getCryptoKey({ name: KEY_SYM });
    assert.equal(one.name, KEY_SYM);
    assert.equal(one.primary?.name, `${KEY_SYM}/cryptoKeyVersions/2`);
    const [ring] = await client.getKeyRing({ name: RING });
    assert.equal(ring.name, RING);
  });

  test('listCryptoKeyVersions: every version, DESTROYED included; view FULL adds HSM attestation', async () => {
    const [versions] = await client.listCryptoKeyVersions({ parent: KEY_SYM });
    assert.deepEqual(
      versions.map((v) => [v.name, v.state]),
      [
        [`${KEY_SYM}/cryptoKeyVersions/1`, 'DESTROYED'],
        [`${KEY_SYM}/cryptoKeyVersions/2`, 'ENABLED'],
        [`${KEY_SYM}/cryptoKeyVersions/3`, 'DESTROY_SCHEDULED'],
      ],
    );
    assert.deepEqual(versions[0]?.destroyEventTime, { seconds: String(Date.parse('2025-01-10T00:00:00Z') / 1000), nanos: 0 });
    assert.equal(versions[0]?.destroyTime, null);
    assert.deepEqual(versions[2]?.destroyTime, { seconds: String(Date.parse('2026-12-15T00:00:00Z') / 1000), nanos: 0 });
    assert.deepEqual(versions[1]?.generateTime, versions[1]?.createTime);

    const [basic] = await client.listCryptoKeyVersions({ parent: KEY_SIGN });
    assert.equal(basic[0]?.attestation, null);
    assert.equal(basic[0]?.protectionLevel, 'HSM');
    const [full] = await client.listCryptoKeyVersions({ parent: KEY_SIGN, view: 'FULL' });
    assert.equal(full[0]?.attestation?.format, 'CAVIUM_V2_COMPRESSED');
    const [version] = await client.getCryptoKeyVersion({ name: `${KEY_SIGN}/cryptoKeyVersions/1` });
    assert.equal(version.algorithm, 'RSA_SIGN_PSS_2048_SHA256');

    const err = await rejection(client.listCryptoKeyVersions({ parent: `${RING}/cryptoKeys/gone` }));
    assert.equal(err.code, grpc.status.NOT_FOUND);
    assert.equal(err.details, `CryptoKey ${RING}/cryptoKeys/gone not found.`);
  });

  test('getIamPolicy (the IAMPolicy mixin): bindings on a key, none on a ring', async () => {
    const [policy] = await client.getIamPolicy(iamRequest(KEY_SYM));
    assert.equal(policy.version, 1);
    assert.deepEqual(
      policy.bindings?.map((b) => [b.role, b.members]),
      [
        ['roles/cloudkms.cryptoKeyEncrypterDecrypter', ['serviceAccount:app@p.iam.gserviceaccount.com']],
        ['roles/cloudkms.admin', ['user:alice@example.com', 'allUsers']],
      ],
    );
    assert.ok(Buffer.isBuffer(policy.etag) && policy.etag.length === 8);
    const [empty] = await client.getIamPolicy(iamRequest(RING));
    assert.deepEqual(empty.bindings, []);
    assert.equal(Buffer.from(empty.etag as Uint8Array).toString('base64'), 'ACAB');
    const err = await rejection(client.getIamPolicy(iamRequest(`${RING}/cryptoKeys/gone`)));
    assert.equal(err.code, grpc.status.NOT_FOUND);
  });

  test('PERMISSION_DENIED surfaces as code 7 with the real message and ErrorInfo, not retried', async () => {
    server.setFaults([{ method: 'ListCryptoKeys', resource: RING, code: 'PERMISSION_DENIED' }]);
    try {
      const before = server.calls.length;
      const err = await rejection(client.listCryptoKeys({ parent: RING }));
      assert.equal(err.code, 7);
      assert.equal(err.details, `Permission 'cloudkms.cryptoKeys.list' denied on resource '${RING}' (or it may not exist).`);
      assert.equal(err.reason, 'IAM_PERMISSION_DENIED');
      assert.equal(err.domain, 'iam.googleapis.com');
      assert.deepEqual(err.errorInfoMetadata, { permission: 'cloudkms.cryptoKeys.list', resource: RING });
      assert.deepEqual(server.calls.slice(before), [{ method: 'ListCryptoKeys', resource: RING, pageSize: 0, pageToken: '', fault: 'PERMISSION_DENIED' }]);
      // Another parent is not matched.
      const [usRings] = await client.listKeyRings({ parent: US });
      assert.equal(usRings.length, 1);

      server.setFaults([{ method: 'GetIamPolicy', resource: KEY_SYM, code: 'PERMISSION_DENIED' }]);
      const iamErr = await rejection(client.getIamPolicy(iamRequest(KEY_SYM)));
      assert.equal(iamErr.code, 7);
      assert.equal(iamErr.details, `Permission 'cloudkms.cryptoKeys.getIamPolicy' denied on resource '${KEY_SYM}' (or it may not exist).`);
    } finally {
      server.setFaults([]);
    }
  });

  test('RESOURCE_EXHAUSTED (times 1) is not retried by the client: code 8 surfaces, the next call succeeds', async () => {
    server.setFaults([{ method: 'ListCryptoKeys', resource: RING, code: 'RESOURCE_EXHAUSTED', times: 1 }]);
    try {
      const before = server.calls.length;
      const err = await rejection(client.listCryptoKeys({ parent: RING }));
      assert.equal(err.code, grpc.status.RESOURCE_EXHAUSTED);
      assert.match(err.details, /^Quota exceeded for quota metric 'Read requests' and limit 'Read requests per minute' of service 'cloudkms\.googleapis\.com'/);
      assert.equal(err.reason, 'RATE_LIMIT_EXCEEDED');
      assert.equal(server.calls.length - before, 1, 'google-gax does not retry RESOURCE_EXHAUSTED for ListCryptoKeys');
      const [keys] = await client.listCryptoKeys({ parent: RING });
      assert.equal(keys.length, 3);
    } finally {
      server.setFaults([]);
    }
  });

  test('UNAVAILABLE (times 1) is retried by the client for the KMS List/Get methods, but not for the mixins', async () => {
    server.setFaults([{ method: 'ListCryptoKeys', resource: RING, code: 'UNAVAILABLE', times: 1 }]);
    try {
      const before = server.calls.length;
      const [keys] = await client.listCryptoKeys({ parent: RING });
      assert.equal(keys.length, 3);
      assert.deepEqual(
        server.calls.slice(before).map((c) => c.fault ?? 'ok'),
        ['UNAVAILABLE', 'ok'],
      );

      server.setFaults([{ method: 'ListLocations', code: 'UNAVAILABLE', times: 1 }]);
      const err = await rejection((async () => {
        for await (const location of client.listLocationsAsync({ name: `projects/${P}` }, { autoPaginate: false })) void location;
      })());
      assert.equal(err.code, grpc.status.UNAVAILABLE, 'ListLocations is non_idempotent in google-gax: not retried');
    } finally {
      server.setFaults([]);
    }
  });

  test('a delay longer than the per-call timeout surfaces as DEADLINE_EXCEEDED', async () => {
    server.setFaults([{ method: 'ListCryptoKeyVersions', resource: KEY_SYM, code: 'UNAVAILABLE', times: 1, delayMs: 2000 }]);
    try {
      const before = server.calls.length;
      const started = performance.now();
      const err = await rejection(client.listCryptoKeyVersions({ parent: KEY_SYM }, { timeout: 300 }));
      const elapsed = performance.now() - started;
      assert.equal(err.code, grpc.status.DEADLINE_EXCEEDED);
      assert.ok(elapsed >= 250 && elapsed < 1500, `failed after ${elapsed.toFixed(0)} ms`);
      assert.equal(server.calls.length - before, 1, 'the per-call timeout is also the total retry budget: no second attempt');
    } finally {
      server.setFaults([]);
    }
  });

  test('an invalid page token is INVALID_ARGUMENT; unimplemented methods are UNIMPLEMENTED', async () => {
    const bad = await rejection(client.listCryptoKeys({ parent: RING, pageToken: 'not-a-token' }, { autoPaginate: false }));
    assert.equal(bad.code, grpc.status.INVALID_ARGUMENT);
    const [, next] = await client.listCryptoKeys({ parent: RING, pageSize: 1 }, { autoPaginate: false });
    assert.ok(next?.pageToken);
    const foreign = await rejection(client.listCryptoKeyVersions({ parent: KEY_SYM, pageToken: next.pageToken }, { autoPaginate: false }));
    assert.equal(foreign.code, grpc.status.INVALID_ARGUMENT, 'a token is only good for the method and parent that issued it');
    const unimplemented = await rejection(client.encrypt({ name: KEY_SYM, plaintext: Buffer.from('x') }));
    assert.equal(unimplemented.code, grpc.status.UNIMPLEMENTED);
  });

  test('setEstate replaces the estate and rejects what the real API never returns', async () => {
    assert.throws(
      () => server.setEstate({ projects: [{ id: P, locations: [{ id: 'global', keyRings: [{ id: 'r', keys: [{ id: 'k', purpose: 'MAC', createTime: '2024-01-01T00:00:00Z', versionTemplate: { algorithm: 'HMAC_SHA999', protectionLevel: 'SOFTWARE' }, versions: [] }] }] }] }] }),
      /unknown algorithm HMAC_SHA999/,
    );
    server.setEstate({ projects: [{ id: P, locations: [{ id: 'global', keyRings: [] }] }] });
    try {
      const [rings] = await client.listKeyRings({ parent: GLOBAL });
      assert.deepEqual(rings, []);
    } finally {
      server.setEstate(ESTATE);
    }
  });

  // Last: gcp-metadata caches whether a metadata server answered, process-wide.
  test('no ADC lookup, no metadata server probe; without universeDomain the client does probe', async () => {
    assert.deepEqual(metadataHits, [], 'the configured client never consulted the metadata server');
    assert.equal((client.auth as unknown as { cachedCredential: unknown }).cachedCredential, null, 'GoogleAuth never built a credential');

    const probing = newClient({});
    try {
      const [rings] = await probing.listKeyRings({ parent: GLOBAL });
      assert.equal(rings.length, 1, 'the call still goes through: the failed ADC lookup is swallowed');
      assert.ok(metadataHits.length > 0, 'without universeDomain, GoogleAuth.getClient() probed the metadata server');
    } finally {
      await probing.close();
    }
  });
});
