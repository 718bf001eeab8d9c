import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gcpKmsCollector } from '../../src/collectors/gcp-kms/collector.ts';
import { declarationOf } from '../../src/collectors/registry.ts';
import type { InventoryItem } from '../../src/inventory/types.ts';
import type { Report } from '../../src/report/types.ts';
import { inShard, projectKey } from '../../src/shard/shard.ts';
import {
  ACTIVE_PROJECTS,
  DELETED_PROJECT,
  DENIED_PROJECT,
  ENGINEERING,
  ESTATE,
  FINANCE,
  keyOf,
  NOW,
  ORGANIZATION,
  ORGANIZATION_ID,
  PLATFORM,
  projectsBeneath,
} from '../fixtures/gcp/organization.ts';
import { removeDir, tempDir } from '../support/certs.ts';
import { runCli } from '../support/cli.ts';
import { quietContext } from '../support/collect.ts';
import type { GcpFault } from '../support/gcp-kms-server.ts';
import { startGcpOrganizationServer, type GcpOrganizationServer, type ResourceManagerFault } from '../support/gcp-resource-manager-server.ts';
import { assertReportsValid } from '../support/reports.ts';

// `projects: { organization }` and `{ folder }`: the real @google-cloud/resource-manager client
// walks a Resource Manager v3 gRPC server (built from the protos it ships) that answers on the
// Cloud KMS test server's port, and each project found is scanned by the real @google-cloud/kms
// client. The estate (test/fixtures/gcp/organization.ts): 3 folders, one nested, 10 projects, one
// DELETE_REQUESTED, one whose Cloud KMS calls are denied; one compliant key per project.

// No Google credentials anywhere: the plaintext endpoint must not need ADC or the metadata server.
const ENV = { GOOGLE_APPLICATION_CREDENTIALS: '', GCE_METADATA_HOST: '127.0.0.1:9', CLOUDSDK_CONFIG: '/nonexistent' };
const DENY_KMS: GcpFault = { method: 'ListLocations', resource: `projects/${DENIED_PROJECT}`, code: 'PERMISSION_DENIED' };

describe('gcp-kms project discovery beneath an organization or a folder', () => {
  let server: GcpOrganizationServer;
  let dir: string;

  before(async () => {
    server = await startGcpOrganizationServer(ESTATE, ORGANIZATION);
    dir = tempDir();
  });
  after(async () => {
    await server?.stop();
    removeDir(dir);
  });

  async function scan(projects: string, options: { faults?: GcpFault[]; rmFaults?: ResourceManagerFault[]; extra?: string } = {}): Promise<{ report: Report; code: number; stderr: string }> {
    server.setFaults(options.faults ?? [DENY_KMS]);
    server.resourceManager.setFaults(options.rmFaults ?? []);
    server.calls.length = 0;
    server.resourceManager.calls.length = 0;
    const name = Math.random().toString(36).slice(2);
    const config = path.join(dir, `keydrift-${name}.yaml`);
    writeFileSync(
      config,
      [
        'version: 1',
        'sources:',
        `  - { id: gcp-org, type: gcp-kms, projects: ${projects}, locations: all, endpoint: "http://127.0.0.1:${server.port}"${options.extra ?? ''} }`,
        'policy: { profile: default }',
        '',
      ].join('\n'),
    );
    const out = path.join(dir, `out-${name}`);
    const run = await runCli(['scan', '--config', config, '--now', NOW, '--out', out, '--format', 'json'], { env: ENV });
    return { report: assertReportsValid(out), code: run.code, stderr: run.stderr };
  }

  const projectsOf = (items: readonly InventoryItem[]) => [...new Set(items.map((item) => item.uid.split('/')[1]!))].sort();
  const kmsProjects = () => [...new Set(server.calls.map((call) => call.resource.split('/')[1]!))].sort();

  test('organization: every ACTIVE project in every folder is scanned; the denied one is a named source error, KD-GOV-003, exit 3', async () => {
    const { report, code, stderr } = await scan(`{ organization: "${ORGANIZATION_ID}" }`);
    const expected = ACTIVE_PROJECTS.filter((project) => project !== DENIED_PROJECT);
    assert.equal(expected.length, 8);
    assert.deepEqual(projectsOf(report.inventory), expected);
    assert.deepEqual(report.inventory.map((item) => item.uid).sort(), expected.map(keyOf).sort());
    const source = report.sources[0]!;
    assert.equal(source.status, 'partial');
    assert.equal(source.errors.length, 1, JSON.stringify(source.errors));
    assert.equal(source.errors[0]!.code, 'gcp-access-denied');
    assert.equal(source.errors[0]!.resource, `projects/${DENIED_PROJECT}`);
    assert.match(source.errors[0]!.message, new RegExp(`^cloudkms\\.locations\\.list on projects/${DENIED_PROJECT}: PERMISSION_DENIED`));
    const coverage = report.findings.filter((finding) => finding.ruleId === 'KD-GOV-003');
    assert.equal(coverage.length, 1);
    assert.match(coverage[0]!.message, new RegExp(DENIED_PROJECT));
    assert.deepEqual(report.findings.filter((finding) => finding.ruleId !== 'KD-GOV-003'), [], 'the keys themselves are compliant');
    assert.equal(code, 3, stderr);
    // The DELETE_REQUESTED project was never asked about; the denied one was (and refused).
    assert.ok(!kmsProjects().includes(DELETED_PROJECT));
    assert.deepEqual(kmsProjects(), ACTIVE_PROJECTS);
    // Least privilege: every declared permission, and only those, was exercised.
    assert.deepEqual(Object.keys(source.apiCalls!).sort(), [...declarationOf('gcp-kms').operations].sort());
    // The walk asked each container once (one page each) for folders and for projects: direct children only.
    const containers = [`organizations/${ORGANIZATION_ID}`, ...ORGANIZATION.folders.map((folder) => `folders/${folder.id}`)];
    assert.deepEqual(server.resourceManager.calls.filter((call) => call.method === 'ListFolders').map((call) => call.target).sort(), [...containers].sort());
    assert.deepEqual(server.resourceManager.calls.filter((call) => call.method === 'SearchProjects').map((call) => call.target).sort(), containers.map((container) => `parent:${container}`).sort());
  });

  test('folder: only the projects beneath it, nested folders included, are scanned', async () => {
    const { report, code } = await scan(`{ folder: "folders/${ENGINEERING}" }`);
    const expected = projectsBeneath(ENGINEERING);
    assert.deepEqual(expected, ['acme-eng-a', 'acme-eng-b', 'acme-platform-a', 'acme-platform-b']);
    assert.deepEqual(projectsOf(report.inventory), expected);
    assert.equal(report.sources[0]!.status, 'ok', JSON.stringify(report.sources[0]!.errors));
    assert.equal(code, 0);
    assert.deepEqual(kmsProjects(), expected, 'no Cloud KMS call for a project outside the folder');
    assert.ok(!server.resourceManager.calls.some((call) => call.target.includes(ORGANIZATION_ID) || call.target.includes(FINANCE)), 'nothing above or beside the folder was listed');
  });

  test('an organization id as a YAML number, and pages of one: the same projects, every page followed', async () => {
    const { report } = await scan(`{ organization: ${ORGANIZATION_ID} }`, { extra: ', pageSize: 1' });
    assert.deepEqual(projectsOf(report.inventory), ACTIVE_PROJECTS.filter((project) => project !== DENIED_PROJECT));
    const followed = server.resourceManager.calls.filter((call) => call.pageSize === 1 && call.pageToken !== '');
    assert.ok(followed.some((call) => call.method === 'SearchProjects'));
    assert.ok(followed.some((call) => call.method === 'ListFolders'));
  });

  test('ListFolders denied on a folder: the error names it, the projects found elsewhere are scanned', async () => {
    const { report, code } = await scan(`{ organization: "organizations/${ORGANIZATION_ID}" }`, {
      faults: [],
      rmFaults: [{ method: 'ListFolders', parent: `folders/${ENGINEERING}`, code: 'PERMISSION_DENIED' }],
    });
    const source = report.sources[0]!;
    assert.equal(source.status, 'partial');
    assert.equal(source.errors.length, 1, JSON.stringify(source.errors));
    assert.equal(source.errors[0]!.code, 'gcp-access-denied');
    assert.equal(source.errors[0]!.resource, `folders/${ENGINEERING}`);
    assert.match(source.errors[0]!.message, new RegExp(`^ListFolders on folders/${ENGINEERING} \\(resourcemanager\\.folders\\.list\\): PERMISSION_DENIED`));
    // The nested folder could not be found; the folder's own projects still were (SearchProjects on it answered).
    const unreachable = projectsBeneath(PLATFORM);
    assert.deepEqual(projectsOf(report.inventory), ACTIVE_PROJECTS.filter((project) => !unreachable.includes(project)));
    assert.match(report.findings.find((finding) => finding.ruleId === 'KD-GOV-003')!.message, new RegExp(`folders/${ENGINEERING}`));
    assert.equal(code, 3);
  });

  test('the only search failing: nothing discovered, the source failed naming the folder', async () => {
    const { report, code } = await scan(`{ folder: "${PLATFORM}" }`, {
      rmFaults: [{ method: 'SearchProjects', parent: `folders/${PLATFORM}`, code: 'PERMISSION_DENIED' }],
    });
    const source = report.sources[0]!;
    assert.equal(source.status, 'failed');
    assert.equal(report.inventory.length, 0);
    assert.equal(source.errors.length, 1, JSON.stringify(source.errors));
    assert.equal(source.errors[0]!.resource, `folders/${PLATFORM}`);
    assert.match(source.errors[0]!.message, new RegExp(`^SearchProjects parent:folders/${PLATFORM} \\(resourcemanager\\.projects\\.get\\): PERMISSION_DENIED`));
    assert.deepEqual(server.calls, [], 'no Cloud KMS call without a project');
    assert.equal(code, 3);
  });

  test('no project visible beneath the organization: the source failed, not an empty clean scan', async () => {
    server.resourceManager.setOrganization({ ...ORGANIZATION, projects: [] });
    try {
      const { report, code } = await scan(`{ organization: ${ORGANIZATION_ID} }`);
      const source = report.sources[0]!;
      assert.equal(source.status, 'failed');
      assert.equal(source.errors[0]!.code, 'gcp-nothing-discovered');
      assert.match(source.errors[0]!.message, /resourcemanager\.projects\.get/);
      assert.equal(code, 3);
    } finally {
      server.resourceManager.setOrganization(ORGANIZATION);
    }
  });

  test('a bad organization id is refused by the config schema, before anything is called', async () => {
    const config = path.join(dir, 'keydrift-bad.yaml');
    writeFileSync(config, `version: 1\nsources:\n  - { id: gcp-org, type: gcp-kms, projects: { organization: "acme" }, endpoint: "http://127.0.0.1:${server.port}" }\n`);
    server.resourceManager.calls.length = 0;
    const run = await runCli(['scan', '--config', config, '--now', NOW, '--out', path.join(dir, 'out-bad'), '--format', 'json'], { env: ENV });
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /projects/);
    assert.deepEqual(server.resourceManager.calls, []);
  });

  test('sharding: each shard scans only its own discovered projects; together exactly the ACTIVE ones', async () => {
    server.setFaults([]);
    server.resourceManager.setFaults([]);
    const source = { id: 'gcp-org', type: 'gcp-kms', projects: { organization: ORGANIZATION_ID }, locations: 'all', endpoint: `http://127.0.0.1:${server.port}` };
    const seen: string[][] = [];
    for (const index of [1, 2, 3]) {
      const shard = { index, count: 3 };
      server.calls.length = 0;
      const ctx = { ...quietContext(), shard };
      const items: InventoryItem[] = [];
      for await (const item of gcpKmsCollector.collect(source, ctx)) items.push(item);
      assert.deepEqual(ctx.errors, []);
      const mine = ACTIVE_PROJECTS.filter((project) => inShard(projectKey(project), shard));
      assert.deepEqual(projectsOf(items), mine);
      assert.deepEqual(kmsProjects(), mine, `shard ${index}/3 called Cloud KMS only for its own projects`);
      seen.push(mine);
    }
    assert.deepEqual(seen.flat().sort(), ACTIVE_PROJECTS);
    assert.ok(seen.every((projects) => projects.length < ACTIVE_PROJECTS.length), 'the shards split the projects');
  });
});
