import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Report } from '../../src/report/types.ts';
import { declarationOf } from '../../src/collectors/registry.ts';
import { ESTATE, keyCount, NOW } from '../fixtures/gcp/estate.ts';
import { removeDir, tempDir } from '../support/certs.ts';
import { runCli } from '../support/cli.ts';
import { startGcpKmsServer, type GcpFault, type GcpKmsServer } from '../support/gcp-kms-server.ts';
import { assertEvaluateAccepts } from '../support/evidence.ts';
import { assertReportsValid } from '../support/reports.ts';

// The real @google-cloud/kms client against a gRPC server built from the protos it ships, serving
// a seeded estate of 34 keys; expected findings in test/fixtures/gcp/expected.json.

interface Expected {
  cases: Record<string, Record<string, { ruleId: string; severity: string }[]>>;
}

const expected = JSON.parse(readFileSync('test/fixtures/gcp/expected.json', 'utf8')) as Expected;
const LOCKED_RING = 'projects/acme-prod/locations/europe-west1/keyRings/locked';

// No Google credentials anywhere: the plaintext endpoint must not need ADC or the metadata server.
const ENV = { GOOGLE_APPLICATION_CREDENTIALS: '', GCE_METADATA_HOST: '127.0.0.1:9', CLOUDSDK_CONFIG: '/nonexistent' };

describe('gcp-kms against a gRPC server speaking the Cloud KMS protos', () => {
  let server: GcpKmsServer;
  let dir: string;

  before(async () => {
    server = await startGcpKmsServer(ESTATE);
    dir = tempDir();
  });
  after(async () => {
    await server?.stop();
    removeDir(dir);
  });

  async function scan(options: { profile?: string; pageSize?: number; faults?: GcpFault[]; extra?: string } = {}): Promise<{ report: Report; code: number; stderr: string }> {
    server.setFaults(options.faults ?? []);
    const config = path.join(dir, `keydrift-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(
      config,
      [
        'version: 1',
        'sources:',
        `  - { id: gcp, type: gcp-kms, projects: [acme-prod, acme-dev], locations: all, endpoint: "http://127.0.0.1:${server.port}"${options.pageSize ? `, pageSize: ${options.pageSize}` : ''}${options.extra ?? ''} }`,
        `policy: { profile: ${options.profile ?? 'default'} }`,
        'tiers:',
        '  - { tag: keydrift-tier, value: kek, tier: kek }',
        '',
      ].join('\n'),
    );
    const out = path.join(dir, `out-${Math.random().toString(36).slice(2)}`);
    const run = await runCli(['scan', '--config', config, '--now', NOW, '--out', out, '--format', 'json,sarif'], { env: ENV });
    return { report: assertReportsValid(out), code: run.code, stderr: run.stderr };
  }

  const byKey = (report: Report) =>
    report.findings
      .filter((finding) => finding.ruleId !== 'KD-GOV-003')
      .map((finding) => `${finding.resource.uid.split('/').pop()} ${finding.ruleId} ${finding.severity}`)
      .sort();
  const want = (profile: string) =>
    Object.entries(expected.cases[profile]!)
      .flatMap(([key, findings]) => findings.map((finding) => `${key} ${finding.ruleId} ${finding.severity}`))
      .sort();

  for (const profile of ['default', 'cis-gcp']) {
    test(`profile ${profile}: exactly the expected findings`, async () => {
      const { report, code } = await scan({ profile });
      assert.equal(report.sources[0]?.status, 'ok', JSON.stringify(report.sources[0]?.errors));
      assert.equal(report.inventory.length, keyCount());
      assert.ok(keyCount() >= 30);
      assert.deepEqual(byKey(report), want(profile));
      assert.equal(code, 1);
      await assertEvaluateAccepts(report.inventory, report.sources);
    });
  }

  test('mapping: versions, rotation, protection, origin, access and state', async () => {
    const { report } = await scan();
    const item = (id: string) => report.inventory.find((candidate) => candidate.uid.endsWith(`/cryptoKeys/${id}`))!;
    assert.equal(item('sym-90d').uid, 'projects/acme-prod/locations/europe-west1/keyRings/pay/cryptoKeys/sym-90d');
    assert.deepEqual(item('sym-90d').rotation, { supported: true, automatic: true, periodDays: 90, lastRotatedAt: '2026-08-20T00:00:00Z', nextRotationAt: '2026-12-15T00:00:00Z' });
    assert.deepEqual(item('sym-old-versions').versions, [
      { id: '1', state: 'enabled', createdAt: '2026-01-01T00:00:00Z', primary: false, decryptable: true, supersededAt: '2026-04-01T00:00:00Z' },
      { id: '2', state: 'enabled', createdAt: '2026-04-01T00:00:00Z', primary: false, decryptable: true, supersededAt: '2026-10-12T00:00:00Z' },
      { id: '3', state: 'enabled', createdAt: '2026-10-12T00:00:00Z', primary: true, decryptable: true, supersededAt: null },
    ]);
    assert.equal(item('sym-hsm-kek').protection, 'hsm');
    assert.equal(item('sym-hsm-kek').tier, 'kek');
    assert.equal(item('sym-external-kek').protection, 'external');
    assert.equal(item('sym-external-kek').origin, 'external');
    assert.equal(item('imported-sym').origin, 'imported');
    assert.equal(item('sign-rsa-2048').rotation?.supported, false);
    assert.equal(item('sign-ec-p256').algorithm, 'EC-P256');
    assert.equal(item('sign-ml-dsa-65').algorithm, 'ML-DSA-65');
    assert.equal(item('mac-sha1').keySize, 160);
    assert.equal(item('sym-scheduled-destruction').state, 'pending-deletion');
    assert.equal(item('sym-scheduled-destruction').deletion?.scheduledFor, '2026-11-20T00:00:00Z');
    assert.equal(item('sym-destroyed').state, 'destroyed');
    assert.equal(item('dev-gen-failed').state, 'unavailable');
    assert.deepEqual(item('sym-admin-and-use').access, { public: false, adminAndUse: ['user:alice@acme.example'] });
    assert.deepEqual(item('sym-public').evidence['publicPrincipals'], ['allUsers']);
    assert.equal(item('sign-ec-p256').location, 'acme-prod/us-central1/sign');
    // Least privilege: the permissions exercised are exactly the declared ones (README lists them),
    // less Resource Manager's, which only project discovery uses (gcp-kms-organization-discovery.test.ts).
    const kmsOperations = declarationOf('gcp-kms').operations.filter((operation) => !operation.startsWith('resourcemanager.'));
    assert.deepEqual(Object.keys(report.sources[0]!.apiCalls!).sort(), [...kmsOperations].sort());
  });

  test('pagination: page size 1 returns the same inventory as page size 1000', async () => {
    const small = await scan({ pageSize: 1 });
    const large = await scan({ pageSize: 1000 });
    const strip = (report: Report) => report.inventory.map((item) => JSON.stringify(item)).sort();
    assert.deepEqual(strip(small.report), strip(large.report));
    const rpcs = (report: Report) => Object.values(report.sources[0]!.apiCalls!).reduce((sum, count) => sum + count, 0);
    assert.ok(rpcs(small.report) > rpcs(large.report), 'page size 1 takes more calls');
    assert.ok(server.calls.some((call) => call.method === 'ListCryptoKeys' && call.pageSize === 1 && call.pageToken !== ''));
  });

  test('PERMISSION_DENIED on one key ring: the others are collected, the source is partial, KD-GOV-003 names the ring', async () => {
    const { report, code } = await scan({ faults: [{ method: 'ListCryptoKeys', resource: LOCKED_RING, code: 'PERMISSION_DENIED' }] });
    const source = report.sources[0]!;
    assert.equal(source.status, 'partial');
    assert.equal(source.errors.length, 1);
    assert.equal(source.errors[0]?.code, 'gcp-access-denied');
    assert.equal(source.errors[0]?.resource, LOCKED_RING);
    assert.match(source.errors[0]!.message, /^cloudkms\.cryptoKeys\.list on projects\/acme-prod\/locations\/europe-west1\/keyRings\/locked: PERMISSION_DENIED/);
    assert.equal(report.inventory.length, keyCount() - 2);
    const coverage = report.findings.find((finding) => finding.ruleId === 'KD-GOV-003');
    assert.match(coverage!.message, /keyRings\/locked/);
    assert.equal(code, 1);
  });

  test('RESOURCE_EXHAUSTED and UNAVAILABLE bursts are retried with backoff: nothing missing, source ok', async () => {
    const { report } = await scan({
      faults: [
        { method: 'ListCryptoKeys', code: 'RESOURCE_EXHAUSTED', times: 2 },
        { method: 'ListCryptoKeyVersions', code: 'UNAVAILABLE', times: 3 },
        { method: 'GetIamPolicy', code: 'RESOURCE_EXHAUSTED', times: 2 },
      ],
    });
    assert.equal(report.sources[0]?.status, 'ok', JSON.stringify(report.sources[0]?.errors));
    assert.equal(report.inventory.length, keyCount());
  });

  test('a call past its deadline is retried a bounded number of times, then reported with the key named', async () => {
    const key = 'projects/acme-dev/locations/global/keyRings/dev/cryptoKeys/dev-sym-old';
    server.calls.length = 0;
    const { report } = await scan({ faults: [{ method: 'GetIamPolicy', resource: key, code: 'DEADLINE_EXCEEDED', delayMs: 2000 }], extra: ', timeoutMs: 200' });
    const source = report.sources[0]!;
    assert.equal(source.status, 'partial');
    assert.equal(source.errors.length, 1);
    assert.match(source.errors[0]!.message, new RegExp(`^cloudkms\\.cryptoKeys\\.getIamPolicy on ${key.replaceAll('/', '\\/')}: DEADLINE_EXCEEDED`));
    const item = report.inventory.find((candidate) => candidate.uid === key)!;
    assert.equal(item.access, null, 'unknown access, not "private"');
    assert.equal(server.calls.filter((call) => call.method === 'GetIamPolicy' && call.resource === key).length, 6, 'six attempts, then it gives up');
  });
});
