import { KeyManagementServiceClient } from '@google-cloud/kms';
import { grpc } from 'google-gax';
import type { InventoryItem } from '../../inventory/types.ts';
import { mapBounded } from '../../util/limit.ts';
import { retry } from '../../util/retry.ts';
import type { SourceConfig } from '../../model/source.ts';
import type { CollectContext, Collector } from '../types.ts';
import { gcpKmsDeclaration } from './declaration.ts';
import { gcpItem, type GcpBinding, type GcpCryptoKey, type GcpCryptoKeyVersion } from './map.ts';

export interface GcpKmsSource extends SourceConfig {
  projects: string[];
  locations?: string[] | 'all';
  /** `host:port` (TLS) or `http://host:port` (plaintext, emulators only). Default: the public API. */
  endpoint?: string;
  /** Page size for list calls (the API caps it at 1000). */
  pageSize?: number;
  /** Deadline of each call, in milliseconds. */
  timeoutMs?: number;
}

export const DEFAULT_CONCURRENCY = 16;
const DEFAULT_PAGE_SIZE = 1000;
const DEFAULT_TIMEOUT_MS = 30_000;
const MAX_ATTEMPTS = 6;

// gRPC status codes (google.rpc.Code) that mean "try again later", with backoff.
const RETRIABLE = new Set([grpc.status.RESOURCE_EXHAUSTED, grpc.status.UNAVAILABLE, grpc.status.DEADLINE_EXCEEDED]);

export const gcpKmsCollector: Collector = {
  type: gcpKmsDeclaration.type,
  provides: gcpKmsDeclaration.providers,
  operations: gcpKmsDeclaration.operations,
  async *collect(source, ctx) {
    const config = source as GcpKmsSource;
    const client = createClient(config);
    try {
      for (const project of config.projects) {
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
 * Application Default Credentials as usual; `http://` endpoints (emulators) get a plaintext
 * channel and no credentials, so nothing probes the metadata server.
 */
export function createClient(source: GcpKmsSource): KeyManagementServiceClient {
  if (!source.endpoint) return new KeyManagementServiceClient();
  const plaintext = source.endpoint.startsWith('http://');
  const hostPort = source.endpoint.replace(/^https?:\/\//, '').replace(/\/$/, '');
  const colon = hostPort.lastIndexOf(':');
  const apiEndpoint = colon > 0 ? hostPort.slice(0, colon) : hostPort;
  const port = colon > 0 ? Number(hostPort.slice(colon + 1)) : 443;
  return new KeyManagementServiceClient({
    apiEndpoint,
    port,
    universeDomain: 'googleapis.com',
    ...(plaintext ? { sslCreds: grpc.credentials.createInsecure() } : {}),
  });
}

type Call = <T>(permission: string, resource: string, call: () => Promise<T>) => Promise<T | null>;

/** One RPC with a deadline, bounded retries with backoff and jitter, counted and reported by resource. */
function caller(ctx: CollectContext): Call {
  return async (permission, resource, call) => {
    try {
      return await retry(call, {
        attempts: MAX_ATTEMPTS,
        retriable: (error) => {
          const code = (error as { code?: number }).code;
          return code !== undefined && RETRIABLE.has(code);
        },
        signal: ctx.signal,
        baseMs: 500,
        maxMs: 32_000,
        onAttempt: () => {
          ctx.apiCalls[permission] = (ctx.apiCalls[permission] ?? 0) + 1;
        },
      });
    } catch (error) {
      ctx.error(describeGrpcFailure(permission, resource, error));
      return null;
    }
  };
}

export function describeGrpcFailure(permission: string, resource: string, error: unknown): { code: string; message: string; resource: string } {
  const code = (error as { code?: number }).code;
  const status = code === undefined ? 'UNKNOWN' : (grpc.status[code] ?? String(code));
  const kind =
    code === grpc.status.PERMISSION_DENIED || code === grpc.status.UNAUTHENTICATED
      ? 'access-denied'
      : code !== undefined && RETRIABLE.has(code)
        ? 'unavailable'
        : code === grpc.status.NOT_FOUND
          ? 'not-found'
          : 'error';
  const detail = ((error as { details?: string }).details ?? (error instanceof Error ? error.message : String(error))).split('\n')[0]?.slice(0, 300);
  return { code: `gcp-${kind}`, message: `${permission} on ${resource}: ${status}${detail ? ` (${detail})` : ''}`, resource };
}

function options(source: GcpKmsSource): { timeout: number; maxRetries: number; autoPaginate: false } {
  return { timeout: source.timeoutMs ?? DEFAULT_TIMEOUT_MS, maxRetries: 0, autoPaginate: false };
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
