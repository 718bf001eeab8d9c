import { KeyManagementServiceClient } from '@google-cloud/kms';
import type { InventoryItem } from '../../inventory/types.ts';
import { mapBounded } from '../../util/limit.ts';
import type { SourceConfig } from '../../model/source.ts';
import type { CollectContext, Collector } from '../types.ts';
import { gcpKmsDeclaration } from './declaration.ts';
import { gcpItem, type GcpBinding, type GcpCryptoKey, type GcpCryptoKeyVersion } from './map.ts';
import { projectScope, type GcpProjectsConfig } from './projects.ts';
import { callOptions, caller, DEFAULT_TIMEOUT_MS, endpointOptions, type Call, type GcpCallSettings } from './rpc.ts';

export interface GcpKmsSource extends SourceConfig, GcpCallSettings {
  /** Project ids, or the organization or folder whose projects are discovered (src/collectors/gcp-kms/projects.ts). */
  projects: GcpProjectsConfig;
  locations?: string[] | 'all';
  /** Page size for list calls (the API caps it at 1000). */
  pageSize?: number;
}

export const DEFAULT_CONCURRENCY = 16;
const DEFAULT_PAGE_SIZE = 1000;

export const gcpKmsCollector: Collector = {
  type: gcpKmsDeclaration.type,
  provides: gcpKmsDeclaration.providers,
  operations: gcpKmsDeclaration.operations,
  async *collect(source, ctx) {
    const config = source as GcpKmsSource;
    const projects = await projectsToScan(config, ctx);
    if (projects.length === 0 || ctx.signal.aborted) return;
    const client = createClient(config);
    try {
      for (const project of projects) {
        for (const location of await locationsOf(client, config, project, ctx)) {
          if (ctx.signal.aborted) return;
          yield* collectLocation(client, config, `projects/${project}/locations/${location}`, ctx);
        }
      }
    } finally {
      await client.close();
    }
  },
};

/**
 * The listed projects, or those discovered beneath the organization or folder; each is then
 * collected the same way. The Resource Manager client loads only when discovery is configured.
 */
async function projectsToScan(source: GcpKmsSource, ctx: CollectContext): Promise<string[]> {
  const scope = projectScope(source.projects);
  if (scope.kind === 'list') return scope.projects;
  const { discoverProjects } = await import('./resource-manager.ts');
  return discoverProjects(source, scope, ctx);
}

/** Application Default Credentials as usual; a custom endpoint as rpc.ts's endpointOptions says. */
export function createClient(source: GcpKmsSource): KeyManagementServiceClient {
  const options = endpointOptions(source);
  return options ? new KeyManagementServiceClient(options) : new KeyManagementServiceClient();
}

function options(source: GcpKmsSource): { timeout: number; maxRetries: number; autoPaginate: false } {
  return callOptions(source);
}

async function locationsOf(client: KeyManagementServiceClient, source: GcpKmsSource, project: string, ctx: CollectContext): Promise<string[]> {
  if (Array.isArray(source.locations)) return source.locations;
  if (source.locations !== 'all' && source.locations !== undefined) return [];
  const call = caller(ctx);
  const locations: string[] = [];
  let pageToken = '';
  do {
    const page = await call('cloudkms.locations.list', `projects/${project}`, async () => {
      const [resources, next] = await client.locationsClient.listLocations({ name: `projects/${project}`, pageSize: source.pageSize ?? DEFAULT_PAGE_SIZE, pageToken }, options(source));
      return { resources, next: (next as { pageToken?: string } | null)?.pageToken ?? '' };
    });
    if (!page) break;
    locations.push(...page.resources.map((location) => location.locationId ?? '').filter(Boolean));
    pageToken = page.next;
  } while (pageToken);
  return locations.sort();
}

async function* collectLocation(client: KeyManagementServiceClient, source: GcpKmsSource, parent: string, ctx: CollectContext): AsyncGenerator<InventoryItem> {
  const call = caller(ctx);
  const rings = await listAll(call, 'cloudkms.keyRings.list', parent, async (pageToken) => {
    const [resources, next] = await client.listKeyRings({ parent, pageSize: source.pageSize ?? DEFAULT_PAGE_SIZE, pageToken }, options(source));
    return { resources, next: (next as { pageToken?: string } | null)?.pageToken ?? '' };
  });
  for (const ring of rings.items) {
    const ringName = ring.name ?? '';
    const keys = await listAll(call, 'cloudkms.cryptoKeys.list', ringName, async (pageToken) => {
      const [resources, next] = await client.listCryptoKeys({ parent: ringName, pageSize: source.pageSize ?? DEFAULT_PAGE_SIZE, pageToken }, options(source));
      return { resources: resources as GcpCryptoKey[], next: (next as { pageToken?: string } | null)?.pageToken ?? '' };
    });
    if (keys.items.length === 0) continue;
    // The ring's bindings apply to every key in it: read once, judged with each key's own.
    const ringBindings = await iamBindings(client, source, call, 'cloudkms.keyRings.getIamPolicy', ringName);
    // A ring whose listing failed is already reported (source partial); what was listed still counts.
    const inspected = mapBounded(keys.items, source.concurrency ?? DEFAULT_CONCURRENCY, (key) => inspectKey(client, source, key, call, ringBindings));
    for await (const item of inspected) yield item;
  }
}

/** The bindings of a key ring's or a key's IAM policy; null when the call failed (reported by `call`). */
function iamBindings(client: KeyManagementServiceClient, source: GcpKmsSource, call: Call, permission: string, resource: string): Promise<GcpBinding[] | null> {
  return call(permission, resource, async () => {
    const [policy] = await client.getIamPolicy({ resource } as unknown as Parameters<typeof client.getIamPolicy>[0], { timeout: source.timeoutMs ?? DEFAULT_TIMEOUT_MS, maxRetries: 0 });
    return (policy.bindings ?? []) as GcpBinding[];
  });
}

async function inspectKey(client: KeyManagementServiceClient, source: GcpKmsSource, key: GcpCryptoKey, call: Call, ringBindings: GcpBinding[] | null): Promise<InventoryItem> {
  const name = key.name ?? '';
  const [versions, bindings] = await Promise.all([
    listAll(call, 'cloudkms.cryptoKeyVersions.list', name, async (pageToken) => {
      const [resources, next] = await client.listCryptoKeyVersions({ parent: name, pageSize: source.pageSize ?? DEFAULT_PAGE_SIZE, pageToken }, options(source));
      return { resources: resources as GcpCryptoKeyVersion[], next: (next as { pageToken?: string } | null)?.pageToken ?? '' };
    }),
    iamBindings(client, source, call, 'cloudkms.cryptoKeys.getIamPolicy', name),
  ]);
  return gcpItem({ key, sourceId: source.id, versions: versions.complete ? versions.items : null, bindings, ringBindings });
}

/** Every page of a list. A failed page is reported by `call`; `complete` says whether the list is whole. */
async function listAll<T>(call: Call, permission: string, resource: string, page: (token: string) => Promise<{ resources: T[]; next: string }>): Promise<{ items: T[]; complete: boolean }> {
  const items: T[] = [];
  let token = '';
  do {
    const result = await call(permission, resource, () => page(token));
    if (!result) return { items, complete: false };
    items.push(...result.resources);
    token = result.next;
  } while (token);
  return { items, complete: true };
}
