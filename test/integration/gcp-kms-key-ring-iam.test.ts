import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Report } from '../../src/report/types.ts';
import { removeDir, tempDir } from '../support/certs.ts';
import { runCli } from '../support/cli.ts';
import { startGcpKmsServer, type GcpEstate, type GcpFault, type GcpKey, type GcpKmsServer } from '../support/gcp-kms-server.ts';
import { assertReportsValid } from '../support/reports.ts';

// A role granted on a Cloud KMS key ring applies to every key in it, so a key's effective policy is
// its own bindings plus its ring's. The real client against the project's gRPC server, with rings
// whose IAM policies say what the keys' own do not. Keys are otherwise compliant (HSM, rotating
// every 90 days, a month old), so the only findings are the access ones, written here by hand.

const NOW = '2026-11-01T00:00:00Z';
const PARENT = 'projects/acme-prod/locations/europe-west1';
const ENV = { GOOGLE_APPLICATION_CREDENTIALS: '', GCE_METADATA_HOST: '127.0.0.1:9', CLOUDSDK_CONFIG: '/nonexistent' };

function key(id: string, iamBindings?: GcpKey['iamBindings']): GcpKey {
  return {
    id,
    purpose: 'ENCRYPT_DECRYPT',
    createTime: '2026-10-01T00:00:00Z',
    rotationPeriodSeconds: 90 * 86_400,
    nextRotationTime: '2026-12-30T00:00:00Z',
    versionTemplate: { algorithm: 'GOOGLE_SYMMETRIC_ENCRYPTION', protectionLevel: 'HSM' },
    primaryVersionId: '1',
    versions: [{ id: '1', state: 'ENABLED', createTime: '2026-10-01T00:00:00Z' }],
    ...(iamBindings ? { iamBindings } : {}),
  };
}

const ESTATE: GcpEstate = {
  projects: [
    {
      id: 'acme-prod',
      locations: [
        {
          id: 'europe-west1',
          keyRings: [
            // allUsers on the ring: its key is public although the key's own policy is empty.
            { id: 'public-ring', keys: [key('inherits-public')], iamBindings: [{ role: 'roles/cloudkms.cryptoKeyEncrypterDecrypter', members: ['allUsers'] }] },
            // Cloud KMS Admin on the ring, Encrypter/Decrypter on one key: the same member both administers and uses that key.
            {
              id: 'split-duties',
              keys: [
                key('ops-uses', [{ role: 'roles/cloudkms.cryptoKeyEncrypterDecrypter', members: ['user:ops@acme.example'] }]),
                key('app-only', [{ role: 'roles/cloudkms.cryptoKeyEncrypterDecrypter', members: ['serviceAccount:app@acme-prod.iam.gserviceaccount.com'] }]),
              ],
              iamBindings: [{ role: 'roles/cloudkms.admin', members: ['user:ops@acme.example'] }],
            },
            // Nothing granted anywhere.
            { id: 'clean', keys: [key('private')] },
            // A ring whose policy the scanner may be refused: its keys' own bindings still count.
            {
              id: 'locked-iam',
              keys: [key('own-public', [{ role: 'roles/cloudkms.cryptoKeyDecrypter', members: ['allAuthenticatedUsers'] }]), key('own-private')],
            },
          ],
        },
      ],
    },
  ],
};

describe('gcp-kms judges the key ring IAM policy together with each key\'s own', () => {
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

  async function scan(faults: GcpFault[] = []): Promise<{ report: Report; code: number }> {
    server.setFaults(faults);
    server.calls.length = 0;
    const config = path.join(dir, `keydrift-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(config, `version: 1\nsources:\n  - { id: gcp, type: gcp-kms, projects: [acme-prod], locations: [europe-west1], endpoint: "http://127.0.0.1:${server.port}" }\n`);
    const out = path.join(dir, `out-${Math.random().toString(36).slice(2)}`);
    const run = await runCli(['scan', '--config', config, '--now', NOW, '--out', out, '--format', 'json'], { env: ENV });
    return { report: assertReportsValid(out), code: run.code };
  }

  const findings = (report: Report) => report.findings.map((finding) => `${finding.resource.name} ${finding.ruleId} ${finding.severity}`).sort();
  const item = (report: Report, name: string) => report.inventory.find((candidate) => candidate.name === name)!;

  test('ring bindings count: a public ring makes its key public, ring admin plus key use is admin and use', async () => {
    const { report, code } = await scan();
    assert.equal(report.sources[0]?.status, 'ok', JSON.stringify(report.sources[0]?.errors));
    assert.deepEqual(findings(report), [
      'inherits-public KD-ACC-001 critical', // allUsers on ring public-ring
      'ops-uses KD-ACC-002 medium', // roles/cloudkms.admin on the ring + Encrypter/Decrypter on the key
      'own-public KD-ACC-001 critical', // allAuthenticatedUsers on the key itself
    ]);
    assert.equal(code, 1);
    const inherited = report.findings.find((finding) => finding.resource.name === 'inherits-public')!;
    assert.equal(inherited.evidence['grantSource'], 'IAM policy on the key ring');
    assert.deepEqual(inherited.evidence['publicPrincipals'], ['allUsers']);
    assert.deepEqual(item(report, 'ops-uses').access, { public: false, adminAndUse: ['user:ops@acme.example'] });
    assert.deepEqual(item(report, 'app-only').access, { public: false, adminAndUse: [] });
    assert.deepEqual(item(report, 'private').access, { public: false, adminAndUse: [] });
    // One GetIamPolicy per ring and one per key, under the ring's own permission.
    const ringCalls = server.calls.filter((call) => call.method === 'GetIamPolicy' && !call.resource.includes('/cryptoKeys/')).map((call) => call.resource).sort();
    assert.deepEqual(ringCalls, ['clean', 'locked-iam', 'public-ring', 'split-duties'].map((ring) => `${PARENT}/keyRings/${ring}`));
    assert.equal(report.sources[0]?.apiCalls?.['cloudkms.keyRings.getIamPolicy'], 4);
  });

  test('a ring policy that cannot be read: the source is partial and names it; a key\'s own public grant is still reported, silence is unknown', async () => {
    const ring = `${PARENT}/keyRings/locked-iam`;
    const { report, code } = await scan([{ method: 'GetIamPolicy', resource: ring, code: 'PERMISSION_DENIED' }]);
    const source = report.sources[0]!;
    assert.equal(source.status, 'partial');
    assert.equal(source.errors.length, 1);
    assert.equal(source.errors[0]?.code, 'gcp-access-denied');
    assert.match(source.errors[0]!.message, new RegExp(`^cloudkms\\.keyRings\\.getIamPolicy on ${ring.replaceAll('/', '\\/')}: PERMISSION_DENIED`));
    assert.deepEqual(findings(report), [
      'inherits-public KD-ACC-001 critical',
      'ops-uses KD-ACC-002 medium',
      'own-public KD-ACC-001 critical', // known public whatever the ring says
      'gcp KD-GOV-003 high', // the source's name
    ].sort());
    assert.deepEqual(item(report, 'own-public').access, { public: true, adminAndUse: [] });
    assert.equal(item(report, 'own-public').evidence['keyRingIamCollected'], false);
    assert.equal(item(report, 'own-private').access, null, 'the ring could grant anything: unknown, not "private"');
    assert.equal(code, 1);
  });
});
