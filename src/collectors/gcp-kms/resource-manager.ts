import { FoldersClient, ProjectsClient } from '@google-cloud/resource-manager';
import { inShard, projectKey } from '../../shard/shard.ts';
import type { CollectContext } from '../types.ts';
import type { GcpKmsSource } from './collector.ts';
import { projectsQuery, walkHierarchy, type Hierarchy, type ListedProject, type ProjectScope } from './projects.ts';
import { callOptions, caller, endpointOptions, type Call } from './rpc.ts';

// Project discovery through Cloud Resource Manager v3 (the official client), for a gcp-kms source
// whose `projects` names an organization or a folder. The same endpoint, credentials, deadline and
// retries as the Cloud KMS calls (rpc.ts). The IAM permission each RPC needs, as the API reference
// names it, is the operation it is counted and declared under:
//   ListFolders     resourcemanager.folders.list on the parent folder or organization
//   SearchProjects  resourcemanager.projects.get on each project it returns (the search answers
//                   only with projects the caller may get: one it may not is absent, not denied)

const DEFAULT_CONCURRENCY = 16;
/** The reference gives no maximum ("the server can return fewer"); the pages are followed either way. */
const PAGE_SIZE = 1000;

/**
 * Every ACTIVE project beneath the scope's organization or folder that belongs to this shard,
 * sorted. Failed listings are source errors naming the folder or organization; finding no project
 * at all is one too, since an identity without resourcemanager.projects.get sees an empty search.
 */
export async function discoverProjects(source: GcpKmsSource, scope: Extract<ProjectScope, { root: string }>, ctx: CollectContext): Promise<string[]> {
  const options = endpointOptions(source);
  const projects = options ? new ProjectsClient(options) : new ProjectsClient();
  const folders = options ? new FoldersClient(options) : new FoldersClient();
  try {
    const found = await walkHierarchy(scope.root, resourceManagerHierarchy(projects, folders, source, caller(ctx)), source.concurrency ?? DEFAULT_CONCURRENCY);
    const where = `${source.id}: ${scope.root}`;
    const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
    const beneath = found.containers.length - 1;
    ctx.logger.info(
      `${where}: ${plural(found.active.length, 'ACTIVE project')} in the ${scope.kind}${beneath > 0 ? ` and ${plural(beneath, 'folder')} beneath it` : ''}` +
        (found.inactive.length > 0 ? `; ${plural(found.inactive.length, 'project')} in another state skipped` : ''),
    );
    for (const project of found.inactive) ctx.logger.debug(`${where}: project ${project.projectId} is ${project.state}; skipped`);
    if (found.active.length === 0 && found.incomplete.length === 0) {
      ctx.error({
        code: 'gcp-nothing-discovered',
        message: `no ACTIVE project found beneath ${scope.root}: SearchProjects returns only the projects the identity has resourcemanager.projects.get on, so an empty answer may be missing access rather than an empty ${scope.kind}`,
        resource: scope.root,
      });
      return [];
    }
    const mine = found.active.filter((projectId) => inShard(projectKey(projectId), ctx.shard));
    if (mine.length < found.active.length && ctx.shard) {
      ctx.logger.info(`${where}: ${found.active.length - mine.length} of ${found.active.length} projects belong to other shards than ${ctx.shard.index}/${ctx.shard.count}; skipped`);
    }
    return mine;
  } finally {
    await Promise.all([projects.close(), folders.close()]);
  }
}

/** The hierarchy over the two Resource Manager services, each list followed page by page. */
export function resourceManagerHierarchy(projects: ProjectsClient, folders: FoldersClient, source: GcpKmsSource, call: Call): Hierarchy {
  const pageSize = Math.min(source.pageSize ?? PAGE_SIZE, PAGE_SIZE);
  const options = callOptions(source);
  return {
    childFolders: (parent) =>
      pages(call, 'resourcemanager.folders.list', parent, `ListFolders on ${parent}`, async (pageToken) => {
        const [resources, next] = await folders.listFolders({ parent, pageSize, pageToken }, options);
        // ListFolders leaves DELETE_REQUESTED folders out unless show_deleted is set; the check stays for clarity.
        const active = resources.filter((folder) => folder.state === 'ACTIVE' && folder.name);
        return { items: active.map((folder) => folder.name!), next: (next as { pageToken?: string } | null)?.pageToken ?? '' };
      }),
    projectsIn: (parent) =>
      pages(call, 'resourcemanager.projects.get', parent, `SearchProjects ${projectsQuery(parent)}`, async (pageToken) => {
        const [resources, next] = await projects.searchProjects({ query: projectsQuery(parent), pageSize, pageToken }, options);
        const listed: ListedProject[] = resources.map((project) => ({ projectId: project.projectId ?? '', state: String(project.state ?? 'STATE_UNSPECIFIED') }));
        return { items: listed, next: (next as { pageToken?: string } | null)?.pageToken ?? '' };
      }),
  };
}

/** Every page of one listing, or null when a page failed (reported by `call`, naming `resource`). */
async function pages<T>(call: Call, permission: string, resource: string, subject: string, page: (token: string) => Promise<{ items: T[]; next: string }>): Promise<T[] | null> {
  const items: T[] = [];
  let token = '';
  do {
    const result = await call(permission, resource, () => page(token), `${subject} (${permission})`);
    if (!result) return null;
    items.push(...result.items);
    token = result.next;
  } while (token);
  return items;
}
