import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { InventoryItem } from '../../src/inventory/types.ts';
import type { Report } from '../../src/report/types.ts';
import { removeDir, tempDir } from '../support/certs.ts';
import { runCli } from '../support/cli.ts';
import { startGcpKmsServer, type GcpEstate, type GcpKey, type GcpKmsServer } from '../support/gcp-kms-server.ts';
import { assertReportsValid } from '../support/reports.ts';

// Cloud KMS deletes versions, never keys: one version in DESTROY_SCHEDULED on an otherwise enabled
// key is a scheduled deletion (KD-RET-002 under a legal hold, KD-RET-006 without one), and the
// version's destroy_time (DestroyCryptoKeyVersion's moment + the key's destroy_scheduled_duration)
// dates a pending-deletion key's state, destroy_event_time a destroyed one's. Served by the
// project's Cloud KMS gRPC server, scanned by the CLI.

const NOW = '2026-11-01T00:00:00Z';
const DAY = 86_400;
const SYM = { algorithm: 'GOOGLE_SYMMETRIC_ENCRYPTION', protectionLevel: 'HSM' as const };
const ROTATING = { rotationPeriodSeconds: 90 * DAY, nextRotationTime: '2026-12-01T00:00:00Z' };

function key(id: string, extra: Partial<GcpKey>): GcpKey {
  return { id, purpose: 'ENCRYPT_DECRYPT', createTime: '2026-01-01T00:00:00Z', versionTemplate: SYM, versions: [], ...extra };
}

const ESTATE: GcpEstate = {
  projects: [
    {
      id: 'acme-retire',
      locations: [
        {
          id: 'europe-west1',
          keyRings: [
            {
              id: 'app',
              keys: [
                key('version-scheduled-under-hold', {
                  ...ROTATING,
                  labels: { 'legal-hold': 'case-2026-17' },
                  destroyScheduledDurationSeconds: 7 * DAY,
                  primaryVersionId: '2',
                  versions: [
                    { id: '1', state: 'DESTROY_SCHEDULED', createTime: '2026-06-01T00:00:00Z', destroyTime: '2026-11-05T00:00:00Z' },
                    { id: '2', state: 'ENABLED', createTime: '2026-09-01T00:00:00Z' },
                  ],
                }),
                key('version-scheduled-hold-released', {
                  ...ROTATING,
                  labels: { 'legal-hold': 'Released' },
                  destroyScheduledDurationSeconds: 7 * DAY,
                  primaryVersionId: '2',
                  versions: [
                    { id: '1', state: 'DESTROY_SCHEDULED', createTime: '2026-06-01T00:00:00Z', destroyTime: '2026-11-05T00:00:00Z' },
                    { id: '2', state: 'ENABLED', createTime: '2026-09-01T00:00:00Z' },
                  ],
                }),
                key('all-versions-scheduled', {
                  destroyScheduledDurationSeconds: 30 * DAY,
                  versions: [
                    { id: '1', state: 'DESTROY_SCHEDULED', createTime: '2026-02-01T00:00:00Z', destroyTime: '2026-11-20T00:00:00Z' },
                    { id: '2', state: 'DESTROY_SCHEDULED', createTime: '2026-05-01T00:00:00Z', destroyTime: '2026-11-25T00:00:00Z' },
                  ],
                }),
                key('destroyed', {
                  versions: [{ id: '1', state: 'DESTROYED', createTime: '2025-01-01T00:00:00Z', destroyEventTime: '2025-06-01T00:00:00Z' }],
                }),
                key('disabled', { primaryVersionId: '1', versions: [{ id: '1', state: 'DISABLED', createTime: '2026-01-01T00:00:00Z' }] }),
              ],
            },
          ],
        },
      ],
    },
  ],
};

const ENV = { GOOGLE_APPLICATION_CREDENTIALS: '', GCE_METADATA_HOST: '127.0.0.1:9', CLOUDSDK_CONFIG: '/nonexistent' };

describe('gcp-kms deletions and state dates from the Cloud KMS gRPC server', () => {
  let server: GcpKmsServer;
  let dir: string;
  let report: Report;

  before(async () => {
    server = await startGcpKmsServer(ESTATE);
    dir = tempDir();
    const config = path.join(dir, 'keydrift.yaml');
    writeFileSync(config, `version: 1\nsources:\n  - { id: gcp, type: gcp-kms, projects: [acme-retire], locations: [europe-west1], endpoint: "http://127.0.0.1:${server.port}" }\n`);
    const out = path.join(dir, 'out');
    await runCli(['scan', '--config', config, '--now', NOW, '--out', out, '--format', 'json'], { env: ENV });
    report = assertReportsValid(out);
  });
  after(async () => {
    await server?.stop();
    removeDir(dir);
  });

  const item = (id: string): InventoryItem => report.inventory.find((candidate) => candidate.name === id)!;

  test('one DESTROY_SCHEDULED version of an enabled key is a scheduled deletion', () => {
    assert.equal(report.sources[0]?.status, 'ok', JSON.stringify(report.sources[0]?.errors));
    const held = item('version-scheduled-under-hold');
    assert.equal(held.state, 'enabled');
    assert.deepEqual(held.deletion, { scheduledFor: '2026-11-05T00:00:00Z' });
    assert.deepEqual(held.evidence['destroyScheduled'], [{ version: '1', destroyTime: '2026-11-05T00:00:00Z' }]);
    assert.equal(item('all-versions-scheduled').deletion?.scheduledFor, '2026-11-25T00:00:00Z', 'the latest destroy time: when everything scheduled is gone');
    assert.equal(item('disabled').deletion, null);
  });

  test('retirement findings: the hold is KD-RET-002, a released hold or none is KD-RET-006', () => {
    const retirement = report.findings
      .filter((finding) => finding.ruleId.startsWith('KD-RET-'))
      .map((finding) => `${finding.resource.uid.split('/').pop()} ${finding.ruleId} ${finding.severity}`)
      .sort();
    assert.deepEqual(retirement, ['all-versions-scheduled KD-RET-006 low', 'version-scheduled-hold-released KD-RET-006 low', 'version-scheduled-under-hold KD-RET-002 critical']);
    const critical = report.findings.find((finding) => finding.ruleId === 'KD-RET-002')!;
    assert.deepEqual(critical.evidence, { legalHoldTag: 'legal-hold', legalHoldValue: 'case-2026-17', scheduledFor: '2026-11-05T00:00:00Z' });
  });

  test('stateSince: destroy_time minus the destroy-scheduled duration, destroy_event_time, else unknown', () => {
    // The last live version was scheduled when v2's 2026-11-25 destroy time was set, 30 days earlier.
    assert.equal(item('all-versions-scheduled').state, 'pending-deletion');
    assert.equal(item('all-versions-scheduled').stateSince, '2026-10-26T00:00:00Z');
    assert.equal(item('all-versions-scheduled').evidence['stateSinceSource'], 'gcp-destroy-time');
    assert.equal(item('destroyed').state, 'destroyed');
    assert.equal(item('destroyed').stateSince, '2025-06-01T00:00:00Z');
    assert.equal(item('destroyed').evidence['stateSinceSource'], 'gcp-destroy-event-time');
    // Cloud KMS records no time for disabling or enabling a version.
    assert.equal(item('disabled').stateSince, null);
    assert.equal(item('version-scheduled-under-hold').stateSince, null);
  });
});
