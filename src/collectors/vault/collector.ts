import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import vaultFactory from 'node-vault';
import type { InventoryItem } from '../../inventory/types.ts';
import { mapBounded } from '../../util/limit.ts';
import { registerSecret } from '../../util/redact.ts';
import { retry } from '../../util/retry.ts';
import { rfc3339FromSeconds } from '../../util/rfc3339.ts';
import { certificateBlocks } from '../../certificates/pem.ts';
import { certificateItem, parseCertificate, type ParsedCertificate } from '../../certificates/certificate.ts';
import type { SourceConfig } from '../../model/source.ts';
import type { CollectContext, Collector } from '../types.ts';
import { vaultDeclaration } from './declaration.ts';
import { DEFAULT_TIMEOUT_MS, vaultTransport, VaultTransportError } from './transport.ts';
import { durationSeconds, pkiRoleItem, transitItem, vaultUid, type PkiRoleData, type TransitKeyData, type VaultLocation } from './map.ts';
import { pkiIssuerItem, pkiKeyItem, type PkiIssuerData, type PkiKeyData } from './pki-issuers.ts';
import { label, normalizeNamespace, walkNamespaces } from './namespaces.ts';

export interface VaultSource extends SourceConfig {
  address?: string;
  namespace?: string;
  auth?: { method: 'token' | 'approle' | 'kubernetes'; mount?: string; role?: string; roleIdFile?: string; secretIdFile?: string; jwtFile?: string; tokenFile?: string };
  mounts?: { transit?: string[]; pki?: string[] };
  /** `recursive`: every namespace at or below `namespace` (Vault Enterprise, OpenBao 2.3+). */
  namespaces?: 'recursive';
  caFile?: string;
  /** Deadline per HTTP call, in milliseconds. */
  timeoutMs?: number;
}

export const DEFAULT_CONCURRENCY = 16;
const MAX_ATTEMPTS = 5;

type VaultClient = ReturnType<typeof vaultFactory>;

class VaultCallError extends Error {
  readonly status: number | null;
  /** The `errors` list of Vault's answer, when it sent one (empty for an empty LIST's 404). */
  readonly vaultErrors: readonly string[] | null;
  constructor(message: string, status: number | null, vaultErrors: readonly string[] | null = null) {
    super(message);
    this.status = status;
    this.vaultErrors = vaultErrors;
  }
}

/** LIST sys/namespaces answered as a server without namespaces does (Vault OSS: 404 "enterprise-only feature"). */
class NamespacesUnsupported extends Error {}

/** One namespace to collect and the requests addressed to it. */
interface NamespaceRequests {
  namespace: string | null;
  request: Request;
}

/** A mount to collect, and how to reach its namespace. */
interface Target {
  location: VaultLocation;
  request: Request;
}

export const vaultCollector: Collector = {
  type: vaultDeclaration.type,
  provides: vaultDeclaration.providers,
  operations: vaultDeclaration.operations,
  async *collect(source, ctx) {
    const config = source as VaultSource;
    const { address, namespace } = vaultEndpoint(config);
    let client: VaultClient;
    try {
      client = await login(config, address, namespace, ctx);
    } catch (error) {
      // The secret never reaches the message: only the method and Vault's own error text.
      ctx.error({ code: 'vault-auth-failed', message: `${address}: ${(error as Error).message}`, resource: address });
      return;
    }
    const start: NamespaceRequests = { namespace, request: requester(client, ctx) };
    const namespaces = config.namespaces === 'recursive' ? await namespaceTree(config, client, start, address, ctx) : [start];
    const concurrency = config.concurrency ?? DEFAULT_CONCURRENCY;
    const transit: Target[] = [];
    const pki: Target[] = [];
    const discovered = mapBounded(namespaces, concurrency, async (at) => ({ at, mounts: await discoverMounts(config, at.request, address, at.namespace, ctx) }));
    for await (const { at, mounts } of discovered) {
      const target = (mount: string): Target => ({ location: { address, namespace: at.namespace, mount, sourceId: config.id }, request: at.request });
      transit.push(...mounts.transit.map(target));
      pki.push(...mounts.pki.map(target));
    }
    for (const { location, request } of transit) {
      yield* collectTransit(location, request, config, ctx);
    }
    // Every mount's issuers first (in every namespace): a CA certificate appears as an issuer in the
    // mount that signs with it, as a chain-only issuer in its children and under <pki>/certs of its
    // parent; it is inventoried once, as the issuer that holds its key.
    const issuers = new Map<Target, ReadIssuer[]>();
    for (const target of pki) issuers.set(target, await readIssuers(target.location, target.request, config, ctx));
    const seen = new Set<string>();
    const ordered = [...issuers.values()].flat().sort((a, b) => Number(b.data.key_id ? 1 : 0) - Number(a.data.key_id ? 1 : 0));
    for (const issuer of ordered) {
      const fingerprint = issuer.parsed.certificate.fingerprintSha256;
      if (seen.has(fingerprint)) {
        ctx.logger.debug(`${config.id}: ${issuer.item.uid} repeats an issuer certificate already collected, skipped`);
        continue;
      }
      seen.add(fingerprint);
      yield issuer.item;
    }
    for (const target of pki) {
      yield* collectPkiKeys(target.location, target.request, config, ctx, issuers.get(target) ?? []);
      yield* collectPki(target.location, target.request, config, ctx, seen);
    }
  },
};

/**
 * The starting namespace and every namespace below it, each with requests that carry its
 * X-Vault-Namespace header and the token the login gave (a token is valid in the namespace it was
 * issued in and in all of that namespace's children). A namespace whose listing fails is still
 * collected; only what lies below it is unknown, and reported.
 */
async function namespaceTree(source: VaultSource, client: VaultClient, start: NamespaceRequests, address: string, ctx: CollectContext): Promise<NamespaceRequests[]> {
  const first = normalizeNamespace(start.namespace);
  const transport = await transportFor(source, ctx);
  const requests = new Map<string | null, Request>([[first, start.request]]);
  const requestIn = (namespace: string | null): Request => {
    let request = requests.get(namespace);
    if (!request) {
      const child = clientAt(address, namespace, transport);
      child.token = client.token;
      request = requester(child, ctx);
      requests.set(namespace, request);
    }
    return request;
  };
  const resource = (namespace: string | null) => vaultUid({ address, namespace, mount: 'sys', sourceId: source.id }, 'namespaces');
  const found = await walkNamespaces(
    first,
    (namespace) => listChildNamespaces(requestIn(namespace)),
    (namespace, error) => {
      if (error instanceof NamespacesUnsupported && namespace === first) {
        ctx.error({
          code: 'vault-namespaces-unsupported',
          message: `${address}: the server does not support namespaces (LIST sys/namespaces in namespace ${label(namespace)}: ${error.message}); "namespaces: recursive" needs Vault Enterprise or OpenBao 2.3 or later, so only namespace ${label(namespace)} was collected`,
          resource: resource(namespace),
        });
        return;
      }
      reportFailure(ctx, `namespace ${label(namespace)}: list`, resource(namespace), error);
    },
    (error) => ctx.error(error),
    { concurrency: source.concurrency ?? DEFAULT_CONCURRENCY, resource },
  );
  ctx.logger.debug(`${source.id}: ${found.length} namespace(s) at or below ${label(first)}`);
  return found.map((namespace) => ({ namespace, request: requestIn(namespace) }));
}

/** The child names LIST sys/namespaces gives in the namespace `request` is addressed to. */
async function listChildNamespaces(request: Request): Promise<string[]> {
  let response: { data?: { keys?: unknown } };
  try {
    response = (await request('list', 'sys/namespaces', 'list sys/namespaces')) as { data?: { keys?: unknown } };
  } catch (error) {
    if (error instanceof VaultCallError && error.status === 404) {
      // A namespace without children answers 404 with an empty `errors`, as every empty LIST does;
      // a server without namespaces says why ("enterprise-only feature", "unsupported path").
      if ((error.vaultErrors ?? []).length === 0) return [];
      throw new NamespacesUnsupported(error.message);
    }
    throw error;
  }
  const keys = response.data?.keys;
  if (!Array.isArray(keys)) throw new Error('the answer has no data.keys list');
  return keys.filter((key): key is string => typeof key === 'string');
}

/** The Vault a source names (its address and namespace), the way every call to it is addressed. */
export function vaultEndpoint(config: VaultSource): { address: string; namespace: string | null } {
  return { address: config.address ?? process.env['VAULT_ADDR'] ?? 'http://127.0.0.1:8200', namespace: config.namespace ?? process.env['VAULT_NAMESPACE'] ?? null };
}

/** An authenticated client for the source's `auth` (shared with remediation, which writes through it). */
export async function login(source: VaultSource, address: string, namespace: string | null, ctx: Pick<CollectContext, 'baseDir' | 'signal' | 'apiCalls'>): Promise<VaultClient> {
  const client = clientAt(address, namespace, await transportFor(source, ctx));
  const method = source.auth?.method ?? 'token';
  if (method === 'token') {
    const token = process.env['VAULT_TOKEN'] ?? (await readTrimmed(source.auth?.tokenFile ?? path.join(homedir(), '.vault-token')));
    if (!token) throw new Error('no Vault token: set VAULT_TOKEN or write ~/.vault-token');
    registerSecret(token);
    client.token = token;
    return client;
  }
  if (method === 'approle') {
    const roleId = process.env['VAULT_ROLE_ID'] ?? (await readTrimmed(source.auth?.roleIdFile));
    const secretId = process.env['VAULT_SECRET_ID'] ?? (await readTrimmed(source.auth?.secretIdFile));
    registerSecret(roleId);
    registerSecret(secretId);
    if (!roleId || !secretId) throw new Error('AppRole login needs VAULT_ROLE_ID and VAULT_SECRET_ID (or auth.roleIdFile / auth.secretIdFile)');
    ctx.apiCalls['write auth/approle/login'] = (ctx.apiCalls['write auth/approle/login'] ?? 0) + 1;
    const result = await client.approleLogin({ role_id: roleId, secret_id: secretId, mount_point: source.auth?.mount ?? 'approle' }).catch((error: unknown) => {
      throw new Error(`AppRole login failed: ${describe(error)}`);
    });
    return withMintedToken(client, result);
  }
  const jwt = await readTrimmed(source.auth?.jwtFile ?? '/var/run/secrets/kubernetes.io/serviceaccount/token');
  registerSecret(jwt);
  if (!jwt || !source.auth?.role) throw new Error('Kubernetes login needs auth.role and a service-account token (auth.jwtFile)');
  ctx.apiCalls['write auth/kubernetes/login'] = (ctx.apiCalls['write auth/kubernetes/login'] ?? 0) + 1;
  const result = await client.kubernetesLogin({ role: source.auth.role, jwt, kubernetesPath: source.auth.mount ?? 'kubernetes' }).catch((error: unknown) => {
    throw new Error(`Kubernetes login failed: ${describe(error)}`);
  });
  return withMintedToken(client, result);
}

type Transport = ReturnType<typeof vaultTransport>;

async function transportFor(source: VaultSource, ctx: Pick<CollectContext, 'baseDir' | 'signal'>): Promise<Transport> {
  const ca = source.caFile ? await readFile(path.resolve(ctx.baseDir, source.caFile)) : undefined;
  return vaultTransport({ timeoutMs: source.timeoutMs ?? DEFAULT_TIMEOUT_MS, signal: ctx.signal, ...(ca ? { ca } : {}) });
}

/** A client without a token whose every request names `namespace` (none: the root, or VAULT_NAMESPACE as node-vault reads it). */
function clientAt(address: string, namespace: string | null, transport: Transport): VaultClient {
  const client = vaultFactory({ apiVersion: 'v1', endpoint: address, ...(namespace ? { namespace } : {}), 'request-promise': transport } as Parameters<typeof vaultFactory>[0]);
  // node-vault picks VAULT_TOKEN up on its own; a login request must carry no token at all.
  client.token = '';
  return client;
}

function withMintedToken(client: VaultClient, login: unknown): VaultClient {
  const auth = (login as { auth?: { client_token?: string; accessor?: string } }).auth;
  registerSecret(auth?.client_token);
  registerSecret(auth?.accessor);
  client.token = auth?.client_token ?? '';
  return client;
}

async function readTrimmed(file: string | undefined): Promise<string | null> {
  if (!file) return null;
  try {
    return (await readFile(file, 'utf8')).trim() || null;
  } catch {
    return null;
  }
}

type Request = (verb: 'read' | 'list', apiPath: string, counted: string) => Promise<unknown>;

/** 429 (rate limited) and 503 (sealed, standby, overloaded) get bounded retries with backoff; every attempt is counted. */
function requester(client: VaultClient, ctx: CollectContext): Request {
  return async (verb, apiPath, counted) => {
    try {
      return await retry(() => (verb === 'read' ? client.read(apiPath) : client.list(apiPath)), {
        attempts: MAX_ATTEMPTS,
        retriable: (error) => {
          const status = statusOf(error);
          return status === 429 || status === 503 || (status === null && mayRecover(error));
        },
        signal: ctx.signal,
        baseMs: 400,
        maxMs: 8000,
        onAttempt: () => {
          ctx.apiCalls[counted] = (ctx.apiCalls[counted] ?? 0) + 1;
        },
      });
    } catch (error) {
      throw new VaultCallError(describe(error), statusOf(error), vaultErrorsOf(error));
    }
  };
}

function vaultErrorsOf(error: unknown): string[] | null {
  const errors = (error as { response?: { body?: { errors?: unknown } } }).response?.body?.errors;
  return Array.isArray(errors) ? errors.map(String) : null;
}

/** A refused redirect, a deadline or an oversized answer would only repeat; a reset connection may not. */
export function mayRecover(error: unknown): boolean {
  return !(error instanceof VaultTransportError) || error.code === 'network-error' || /^E[A-Z]+$/.test(error.code);
}

export function statusOf(error: unknown): number | null {
  const response = (error as { response?: { statusCode?: number } }).response;
  return typeof response?.statusCode === 'number' ? response.statusCode : null;
}

function describe(error: unknown): string {
  const status = statusOf(error);
  const message = error instanceof Error ? error.message : String(error);
  const what = status !== null ? `HTTP ${status}` : error instanceof VaultTransportError && (error.code === 'timeout' || error.code === 'deadline') ? 'timed out' : 'unreachable';
  // Vault wraps its errors over lines ("1 error occurred:\n\t* permission denied\n\n"): keep the reason, on one line.
  return `${what}: ${message.replace(/\s+/g, ' ').trim().slice(0, 200)}`;
}

function reportFailure(ctx: CollectContext, what: string, resource: string, error: unknown): void {
  const status = error instanceof VaultCallError ? error.status : statusOf(error);
  const timedOut = error instanceof VaultCallError && /^timed out/.test(error.message);
  const code = status === 403 ? 'vault-permission-denied' : status === 503 || status === 429 ? 'vault-unavailable' : timedOut ? 'vault-timeout' : status === null ? 'vault-unreachable' : 'vault-error';
  ctx.error({ code, message: `${what} ${resource}: ${(error as Error).message}`, resource });
}

async function discoverMounts(source: VaultSource, request: Request, address: string, namespace: string | null, ctx: CollectContext): Promise<{ transit: string[]; pki: string[] }> {
  if (source.mounts) return { transit: source.mounts.transit ?? [], pki: source.mounts.pki ?? [] };
  try {
    const response = (await request('read', 'sys/mounts', 'read sys/mounts')) as { data?: Record<string, { type?: string }> } & Record<string, unknown>;
    const table = (response.data ?? response) as Record<string, { type?: string }>;
    const byType = (type: string) => Object.entries(table).filter(([, mount]) => mount?.type === type).map(([name]) => name.replace(/\/$/, '')).sort();
    return { transit: byType('transit'), pki: byType('pki') };
  } catch (error) {
    if (namespace === null) {
      reportFailure(ctx, 'read sys/mounts on', address, error);
      ctx.error({ code: 'vault-mounts-unknown', message: `${address}: cannot discover mounts; list them in the source's "mounts" field`, resource: address });
    } else {
      const resource = vaultUid({ address, namespace, mount: 'sys', sourceId: source.id }, 'mounts');
      reportFailure(ctx, `namespace ${label(namespace)}: read`, resource, error);
      ctx.error({ code: 'vault-mounts-unknown', message: `${address} namespace ${label(namespace)}: cannot discover mounts; list them in the source's "mounts" field`, resource });
    }
    return { transit: [], pki: [] };
  }
}

async function listKeys(request: Request, apiPath: string, counted: string): Promise<string[]> {
  try {
    const response = (await request('list', apiPath, counted)) as { data?: { keys?: string[] } };
    return response.data?.keys ?? [];
  } catch (error) {
    // LIST on an empty collection answers 404.
    if (error instanceof VaultCallError && error.status === 404) return [];
    throw error;
  }
}

async function* collectTransit(location: VaultLocation, request: Request, source: VaultSource, ctx: CollectContext): AsyncGenerator<InventoryItem> {
  let names: string[];
  try {
    names = await listKeys(request, `${location.mount}/keys`, 'list <transit>/keys');
  } catch (error) {
    reportFailure(ctx, 'list', vaultUid(location, 'keys'), error);
    return;
  }
  const items = mapBounded(names, source.concurrency ?? DEFAULT_CONCURRENCY, async (name) => {
    try {
      const response = (await request('read', `${location.mount}/keys/${name}`, 'read <transit>/keys/*')) as { data?: TransitKeyData };
      return transitItem(location, name, response.data ?? {});
    } catch (error) {
      reportFailure(ctx, 'read', vaultUid(location, `keys/${name}`), error);
      return null;
    }
  });
  for await (const item of items) if (item) yield item;
}

interface ReadIssuer {
  data: PkiIssuerData;
  parsed: ParsedCertificate;
  item: InventoryItem;
}

async function readIssuers(location: VaultLocation, request: Request, source: VaultSource, ctx: CollectContext): Promise<ReadIssuer[]> {
  let ids: string[];
  try {
    ids = await listKeys(request, `${location.mount}/issuers`, 'list <pki>/issuers');
  } catch (error) {
    reportFailure(ctx, 'list', vaultUid(location, 'issuers'), error);
    return [];
  }
  const read = mapBounded(ids, source.concurrency ?? DEFAULT_CONCURRENCY, async (id): Promise<ReadIssuer | null> => {
    const uid = vaultUid(location, `issuer/${id}`);
    try {
      const response = (await request('read', `${location.mount}/issuer/${id}`, 'read <pki>/issuer/*')) as { data?: PkiIssuerData };
      const data = response.data ?? {};
      const block = certificateBlocks(data.certificate ?? '')[0];
      if (!block) throw new Error('no certificate in the response');
      const parsed = parseCertificate(block.der);
      return { data, parsed, item: pkiIssuerItem(location, id, data, parsed) };
    } catch (error) {
      reportFailure(ctx, 'read', uid, error);
      return null;
    }
  });
  const issuers: ReadIssuer[] = [];
  for await (const issuer of read) if (issuer) issuers.push(issuer);
  return issuers;
}

async function* collectPkiKeys(location: VaultLocation, request: Request, source: VaultSource, ctx: CollectContext, issuers: ReadIssuer[]): AsyncGenerator<InventoryItem> {
  let ids: string[];
  try {
    ids = await listKeys(request, `${location.mount}/keys`, 'list <pki>/keys');
  } catch (error) {
    reportFailure(ctx, 'list', vaultUid(location, 'keys'), error);
    return;
  }
  const keys = mapBounded(ids, source.concurrency ?? DEFAULT_CONCURRENCY, async (id) => {
    try {
      const response = (await request('read', `${location.mount}/key/${id}`, 'read <pki>/key/*')) as { data?: PkiKeyData };
      const using = issuers.filter((issuer) => issuer.data.key_id === id);
      const fromIssuers = using[0] ? { key: using[0].parsed.key, issuerIds: using.map((issuer) => issuer.item.evidence['issuerId'] as string).sort() } : null;
      return pkiKeyItem(location, id, response.data ?? {}, fromIssuers);
    } catch (error) {
      reportFailure(ctx, 'read', vaultUid(location, `key/${id}`), error);
      return null;
    }
  });
  for await (const item of keys) if (item) yield item;
}

async function* collectPki(location: VaultLocation, request: Request, source: VaultSource, ctx: CollectContext, issuerCertificates: ReadonlySet<string>): AsyncGenerator<InventoryItem> {
  let serials: string[];
  try {
    serials = await listKeys(request, `${location.mount}/certs`, 'list <pki>/certs');
  } catch (error) {
    reportFailure(ctx, 'list', vaultUid(location, 'certs'), error);
    return;
  }
  const certificates = mapBounded(serials, source.concurrency ?? DEFAULT_CONCURRENCY, async (serial) => {
    const uid = vaultUid(location, `cert/${serial}`);
    try {
      const response = (await request('read', `${location.mount}/cert/${serial}`, 'read <pki>/cert/*')) as {
        data?: { certificate?: string; revocation_time?: number; revocation_time_rfc3339?: string };
      };
      const pem = response.data?.certificate ?? '';
      const block = certificateBlocks(pem)[0];
      if (!block) throw new Error('no certificate in the response');
      const parsed = parseCertificate(block.der);
      if (issuerCertificates.has(parsed.certificate.fingerprintSha256)) {
        ctx.logger.debug(`${location.sourceId}: ${uid} is an issuer's certificate, collected as that issuer`);
        return null;
      }
      const revoked = (response.data?.revocation_time ?? 0) > 0;
      const item = certificateItem(parsed, { uid, provider: 'vault-pki', sourceId: location.sourceId, location: location.mount, evidence: { serial, mount: location.mount, revoked } });
      return revoked
        ? { ...item, state: 'disabled' as const, stateSince: rfc3339FromSeconds(response.data?.revocation_time ?? 0) }
        : item;
    } catch (error) {
      reportFailure(ctx, 'read', uid, error);
      return null;
    }
  });
  for await (const item of certificates) if (item) yield item;

  let roles: string[] = [];
  try {
    roles = await listKeys(request, `${location.mount}/roles`, 'list <pki>/roles');
  } catch (error) {
    reportFailure(ctx, 'list', vaultUid(location, 'roles'), error);
  }
  if (roles.length === 0) return;
  let mountMax: number | null = null;
  try {
    const tune = (await request('read', `sys/mounts/${location.mount}/tune`, 'read sys/mounts/<pki>/tune')) as { data?: { max_lease_ttl?: number }; max_lease_ttl?: number };
    mountMax = durationSeconds(tune.data?.max_lease_ttl ?? tune.max_lease_ttl ?? null);
  } catch (error) {
    reportFailure(ctx, 'read', `sys/mounts/${location.mount}/tune`, error);
  }
  for (const role of roles) {
    try {
      const response = (await request('read', `${location.mount}/roles/${role}`, 'read <pki>/roles/*')) as { data?: PkiRoleData };
      yield pkiRoleItem(location, role, response.data ?? {}, mountMax);
    } catch (error) {
      reportFailure(ctx, 'read', vaultUid(location, `roles/${role}`), error);
    }
  }
}
