import type { KeyManagementServiceClient } from '@google-cloud/kms';
import { grpc } from 'google-gax';
import { createClient, type GcpKmsSource } from '../../collectors/gcp-kms/collector.ts';
import { gcpDeletion, gcpKeyState, gcpRotation, type GcpCryptoKey, type GcpCryptoKeyVersion } from '../../collectors/gcp-kms/map.ts';
import { retry } from '../../util/retry.ts';
import type { ExecuteContext, KeyStateView, PlannedAction, PlannedCall, ProviderSession, RemediationExecutor } from '../types.ts';
import { CREATED_VERSION, formatVersionStates, versionIdOf, versionNamesOf } from './declaration.ts';

/** The collector's defaults: a deadline per call, and a few attempts with backoff. */
const DEFAULT_TIMEOUT_MS = 30_000;
const MAX_ATTEMPTS = 6;
const PAGE_SIZE = 1000;

// gRPC status codes (google.rpc.Code) that mean "try again later".
const RETRIABLE = new Set<number>([grpc.status.RESOURCE_EXHAUSTED, grpc.status.UNAVAILABLE, grpc.status.DEADLINE_EXCEEDED]);
// A new version is not idempotent (the client library never retries it): after UNAVAILABLE or a
// deadline the version may exist already, and a second call would rotate twice. Only a quota
// rejection, which is refused before anything happens, is tried again.
const RETRIABLE_CREATE = new Set<number>([grpc.status.RESOURCE_EXHAUSTED]);

/** The session's calls; one client per source, closed with the session. */
export const gcpKmsExecutor: RemediationExecutor = {
  open(ctx: ExecuteContext): ProviderSession {
    const source = ctx.source as GcpKmsSource;
    const client = createClient(source);
    // retry: null turns the client library's own retries off: every attempt is one RPC, counted
    // and retried here, and its error keeps the status the server sent.
    const options = { timeout: source.timeoutMs ?? DEFAULT_TIMEOUT_MS, retry: null, autoPaginate: false as const };
    const rpc = <T>(operation: string, call: () => Promise<T>): Promise<T> =>
      retry(call, {
        attempts: MAX_ATTEMPTS,
        retriable: (error) => {
          const code = (error as { code?: unknown }).code;
          return typeof code === 'number' && (operation === 'CreateCryptoKeyVersion' ? RETRIABLE_CREATE : RETRIABLE).has(code);
        },
        baseMs: 500,
        maxMs: 32_000,
        onAttempt: () => {
          ctx.apiCalls[operation] = (ctx.apiCalls[operation] ?? 0) + 1;
        },
      }).catch((error: unknown) => {
        throw grpcError(error);
      });
    const session = new GcpSession(client, options, rpc);
    return {
      read: (action) => session.read(action),
      write: (call, action, earlier) => session.write(call, action, earlier),
      close: () => client.close(),
    };
  },
};

type Rpc = <T>(operation: string, call: () => Promise<T>) => Promise<T>;
type CallOptions = { timeout: number; retry: null; autoPaginate: false };

/** What a write returns: the version it made or changed (CreateCryptoKeyVersion's id feeds UpdateCryptoKeyPrimaryVersion). */
export interface WrittenVersion {
  name: string;
  id: string;
  state: string;
}

class GcpSession {
  readonly #client: KeyManagementServiceClient;
  readonly #options: CallOptions;
  readonly #rpc: Rpc;

  constructor(client: KeyManagementServiceClient, options: CallOptions, rpc: Rpc) {
    this.#client = client;
    this.#options = options;
    this.#rpc = rpc;
  }

  /**
   * One RPC: GetCryptoKey for a rotation schedule or a primary version, ListCryptoKeyVersions for
   * version states (and the newest version of a key without a primary).
   */
  async read(action: PlannedAction): Promise<KeyStateView> {
    const keyName = keyNameOf(action.calls[0]!);
    const operations = action.calls.map((call) => call.operation);
    if (action.kind === 'rotate' && !operations.includes('UpdateCryptoKeyPrimaryVersion')) {
      const versions = await this.#versions(keyName);
      const newest = versions.map((version) => versionIdOf(version.name ?? '')).reduce<string | null>((most, id) => (most === null || Number(id) > Number(most) ? id : most), null);
      return { primaryVersion: newest };
    }
    const fields = new Set([...Object.keys(action.before), ...Object.keys(action.after)]);
    if (action.kind === 'rotate' || fields.has('rotationAutomatic') || fields.has('rotationPeriodDays') || fields.has('nextRotationAt')) {
      const [key] = await this.#rpc('GetCryptoKey', () => this.#client.getCryptoKey({ name: keyName }, this.#options));
      const rotation = gcpRotation(key as GcpCryptoKey);
      return {
        rotationAutomatic: rotation.automatic,
        rotationPeriodDays: rotation.periodDays,
        nextRotationAt: rotation.nextRotationAt,
        primaryVersion: key.primary?.name ? versionIdOf(key.primary.name) : null,
      };
    }
    const versions = await this.#versions(keyName);
    const state = gcpKeyState({}, versions);
    // As the collector records it (the same function), so a plan's `before` compares like with like.
    const deletionScheduledFor = gcpDeletion(versions)?.scheduledFor ?? null;
    const byName = new Map(versions.map((version) => [version.name ?? '', version.state ?? 'CRYPTO_KEY_VERSION_STATE_UNSPECIFIED']));
    const named = versionNamesOf(action.calls);
    return {
      state,
      deletionScheduledFor,
      versionState: named.length > 0 ? formatVersionStates(named.map((name) => [versionIdOf(name), byName.get(name) ?? 'NOT_FOUND'])) : null,
    };
  }

  async write(call: PlannedCall, action: PlannedAction, earlier: readonly unknown[]): Promise<WrittenVersion | { name: string }> {
    const name = String(call.params['name'] ?? '');
    switch (call.operation) {
      case 'UpdateCryptoKey': {
        const period = call.params['rotationPeriodSeconds'];
        const next = call.params['nextRotationTime'];
        // Fields the mask names but the key omits are cleared: that is how rotation is turned off.
        const cryptoKey: Record<string, unknown> = { name };
        if (typeof period === 'number') cryptoKey['rotationPeriod'] = { seconds: Math.floor(period), nanos: 0 };
        if (typeof next === 'string') cryptoKey['nextRotationTime'] = protoTimestamp(next);
        const paths = String(call.params['updateMask'] ?? '').split(',').filter(Boolean);
        const [key] = await this.#rpc(call.operation, () => this.#client.updateCryptoKey({ cryptoKey, updateMask: { paths } }, this.#options));
        return { name: key.name ?? name };
      }
      case 'CreateCryptoKeyVersion': {
        const parent = String(call.params['parent']);
        const [version] = await this.#rpc(call.operation, () => this.#client.createCryptoKeyVersion({ parent, cryptoKeyVersion: {} }, this.#options));
        return written(version as GcpCryptoKeyVersion);
      }
      case 'UpdateCryptoKeyPrimaryVersion': {
        const id = primaryIdFor(call, action, earlier);
        const [key] = await this.#rpc(call.operation, () => this.#client.updateCryptoKeyPrimaryVersion({ name, cryptoKeyVersionId: id }, this.#options));
        return { name: key.primary?.name ?? `${name}/cryptoKeyVersions/${id}` };
      }
      case 'UpdateCryptoKeyVersion': {
        const state = String(call.params['state']);
        const [version] = await this.#rpc(call.operation, () =>
          this.#client.updateCryptoKeyVersion({ cryptoKeyVersion: { name, state: state as 'ENABLED' }, updateMask: { paths: ['state'] } }, this.#options),
        );
        return written(version as GcpCryptoKeyVersion);
      }
      case 'DestroyCryptoKeyVersion': {
        const [version] = await this.#rpc(call.operation, () => this.#client.destroyCryptoKeyVersion({ name }, this.#options));
        return written(version as GcpCryptoKeyVersion);
      }
      case 'RestoreCryptoKeyVersion': {
        const [version] = await this.#rpc(call.operation, () => this.#client.restoreCryptoKeyVersion({ name }, this.#options));
        return written(version as GcpCryptoKeyVersion);
      }
      default:
        throw new Error(`unknown operation ${call.operation}`);
    }
  }

  /** Every version of the key (one page for up to 1000 versions). */
  async #versions(keyName: string): Promise<GcpCryptoKeyVersion[]> {
    const versions: GcpCryptoKeyVersion[] = [];
    let pageToken = '';
    do {
      const [page, , response] = await this.#rpc('ListCryptoKeyVersions', () => this.#client.listCryptoKeyVersions({ parent: keyName, pageSize: PAGE_SIZE, pageToken }, this.#options));
      versions.push(...(page as GcpCryptoKeyVersion[]));
      pageToken = response?.nextPageToken ?? '';
    } while (pageToken);
    return versions;
  }
}

function keyNameOf(call: PlannedCall): string {
  const name = String(call.params['name'] ?? call.params['parent'] ?? '');
  const at = name.indexOf('/cryptoKeyVersions/');
  return at < 0 ? name : name.slice(0, at);
}

function written(version: GcpCryptoKeyVersion): WrittenVersion {
  const name = version.name ?? '';
  return { name, id: versionIdOf(name), state: version.state ?? '' };
}

/** The version to make primary: given, or the one the action's CreateCryptoKeyVersion call made. */
function primaryIdFor(call: PlannedCall, action: PlannedAction, earlier: readonly unknown[]): string {
  const given = call.params['cryptoKeyVersionId'];
  if (typeof given === 'string' && given) return given;
  if (call.params['cryptoKeyVersionIdFrom'] !== CREATED_VERSION) throw new Error('UpdateCryptoKeyPrimaryVersion names no version (cryptoKeyVersionId or cryptoKeyVersionIdFrom)');
  const index = action.calls.findIndex((candidate) => candidate.operation === CREATED_VERSION);
  const created = index >= 0 ? (earlier[index] as Partial<WrittenVersion> | undefined) : undefined;
  if (!created?.id) throw new Error('UpdateCryptoKeyPrimaryVersion: no version was created before it in this action');
  return created.id;
}

function protoTimestamp(rfc3339: string): { seconds: number; nanos: number } {
  const ms = Date.parse(rfc3339);
  if (Number.isNaN(ms)) throw new Error(`not an RFC 3339 timestamp: ${JSON.stringify(rfc3339)}`);
  const fraction = /\.(\d{1,9})/.exec(rfc3339)?.[1] ?? '';
  return { seconds: Math.floor(ms / 1000), nanos: Number(fraction.padEnd(9, '0') || 0) };
}

/** The status name and the server's message: apply.ts adds the source, key and call. */
function grpcError(error: unknown): Error {
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'number') return error instanceof Error ? error : new Error(String(error));
  const status = grpc.status[code] ?? `code ${code}`;
  const detail = ((error as { details?: string }).details || (error instanceof Error ? error.message : String(error))).split('\n')[0]!.slice(0, 500);
  const wrapped = new Error(`${status}: ${detail}`);
  (wrapped as Error & { code: number }).code = code;
  return wrapped;
}
