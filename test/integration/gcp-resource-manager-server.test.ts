import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { FoldersClient, ProjectsClient } from '@google-cloud/resource-manager';
import { grpc } from 'google-gax';
import { ESTATE, ORGANIZATION, ORGANIZATION_ID } from '../fixtures/gcp/organization.ts';
import { startGcpOrganizationServer, type GcpOrganizationServer } from '../support/gcp-resource-manager-server.ts';

// The Resource Manager side of test/support/gcp-resource-manager-server.ts, driven by the real
// @google-cloud/resource-manager clients on the Cloud KMS test server's port: what the server
// answers is what the client decodes.

describe('gcp-resource-manager-server driven by the real @google-cloud/resource-manager clients', () => {
  let server: GcpOrganizationServer;
  let projects: ProjectsClient;
  let folders: FoldersClient;
  const once = { autoPaginate: false as const, timeout: 5000, maxRetries: 0 };

  before(async () => {
    server = await startGcpOrganizationServer(ESTATE, ORGANIZATION);
    const options = { apiEndpoint: '127.0.0.1', port: server.port, universeDomain: 'googleapis.com', sslCreds: grpc.credentials.createInsecure() };
    projects = new ProjectsClient(options);
    folders = new FoldersClient(options);
  });
  after(async () => {
    await Promise.all([projects?.close(), folders?.close()]);
    await server?.stop();
  });

  const search = async (query: string) => (await projects.searchProjects({ query }, once))[0].map((project) => project.projectId).sort();

  test('SearchProjects parent: matches the immediate parent only, DELETE_REQUESTED projects included', async () => {
    assert.deepEqual(await search('parent:folders/1002'), ['acme-platform-a', 'acme-platform-b', 'acme-platform-old']);
    assert.deepEqual(await search('parent:folders/1001'), ['acme-eng-a', 'acme-eng-b']);
    assert.deepEqual(await search(`PARENT:organizations/${ORGANIZATION_ID}`), ['acme-root-a', 'acme-root-b']);
    assert.deepEqual(await search('parent:organizations/*'), ['acme-root-a', 'acme-root-b']);
    assert.deepEqual(await search('state:delete_requested'), ['acme-platform-old']);
    assert.equal((await search('')).length, ORGANIZATION.projects.length);
  });

  test('a Project carries the fields the v3 API returns', async () => {
    const [[project]] = await projects.searchProjects({ query: 'id:acme-platform-old' }, once);
    assert.match(project!.name!, /^projects\/\d{12}$/);
    assert.equal(project!.parent, 'folders/1002');
    assert.equal(project!.state, 'DELETE_REQUESTED');
    assert.ok(project!.deleteTime?.seconds);
    assert.ok(project!.etag);
  });

  test('a query of several terms, or an unknown field, is INVALID_ARGUMENT', async () => {
    await assert.rejects(projects.searchProjects({ query: 'parent:folders/1002 state:ACTIVE' }, once), { code: grpc.status.INVALID_ARGUMENT });
    await assert.rejects(projects.searchProjects({ query: 'labels.env:prod' }, once), { code: grpc.status.INVALID_ARGUMENT });
  });

  test('ListFolders: direct children by display name, deleted ones only when asked, an unknown parent denied', async () => {
    const names = async (parent: string, showDeleted = false) => (await folders.listFolders({ parent, showDeleted }, once))[0].map((folder) => `${folder.name} ${folder.displayName} ${folder.state}`);
    assert.deepEqual(await names(`organizations/${ORGANIZATION_ID}`), ['folders/1001 Engineering ACTIVE', 'folders/1003 Finance ACTIVE']);
    assert.deepEqual(await names('folders/1001'), ['folders/1002 Platform ACTIVE']);
    server.resourceManager.setOrganization({ ...ORGANIZATION, folders: [...ORGANIZATION.folders, { id: '1004', parent: 'folders/1001', displayName: 'Archive', state: 'DELETE_REQUESTED' }] });
    try {
      assert.deepEqual(await names('folders/1001'), ['folders/1002 Platform ACTIVE']);
      assert.deepEqual(await names('folders/1001', true), ['folders/1004 Archive DELETE_REQUESTED', 'folders/1002 Platform ACTIVE']);
    } finally {
      server.resourceManager.setOrganization(ORGANIZATION);
    }
    await assert.rejects(folders.listFolders({ parent: 'folders/999' }, once), { code: grpc.status.PERMISSION_DENIED });
    await assert.rejects(folders.listFolders({ parent: 'projects/acme-eng-a' }, once), { code: grpc.status.INVALID_ARGUMENT });
  });

  test('pages: a page size of 1 is honoured and every token leads on; a foreign token is refused', async () => {
    const [first, next] = await projects.searchProjects({ query: 'parent:folders/1002', pageSize: 1 }, once);
    assert.equal(first.length, 1);
    const token = (next as { pageToken?: string } | null)?.pageToken;
    assert.ok(token);
    const all = await projects.searchProjectsAsync({ query: 'parent:folders/1002', pageSize: 1 }, { timeout: 5000, maxRetries: 0, autoPaginate: false });
    const ids: string[] = [];
    for await (const project of all) ids.push(project.projectId!);
    assert.deepEqual(ids.sort(), ['acme-platform-a', 'acme-platform-b', 'acme-platform-old']);
    await assert.rejects(projects.searchProjects({ query: 'parent:folders/1001', pageSize: 1, pageToken: token }, once), { code: grpc.status.INVALID_ARGUMENT });
  });
});
