import { login, mayRecover, statusOf, vaultEndpoint, type VaultSource } from '../../collectors/vault/collector.ts';
import { durationSeconds, vaultUid, type TransitKeyData } from '../../collectors/vault/map.ts';
import { VaultTransportError } from '../../collectors/vault/transport.ts';
import { redact } from '../../util/redact.ts';
import { retry } from '../../util/retry.ts';
import type { ExecuteContext, KeyStateView, PlannedAction, PlannedCall, ProviderSession, RemediationExecutor } from '../types.ts';
import { periodDaysOf, READ_KEY, ROTATE, UPDATE_CONFIG } from './declaration.ts';

type VaultClient = Awaited<ReturnType<typeof login>>;

const MAX_ATTEMPTS = 5;
/** The only key settings a config call may carry: what the planner writes, nothing a plan edit could add. */
const CONFIG_FIELDS = new Set(['auto_rotate_period', 'min_decryption_version']);
const TARGET_FIELDS = new Set(['mount', 'name', 'namespace']);

/** A failed Vault call: the HTTP status (null when there was no answer) and Vault's own error text. */
export class VaultCallError extends Error {
  readonly status: number | null;
  constructor(message: string, status: number | null) {
    super(message);
    this.status = status;
  }
}

/**
 * One authenticated client per source, logged in the way a scan of the source logs in (token,
 * AppRole or Kubernetes) through the collector's transport: deadline, size cap, same-origin
 * redirects only, the namespace header. Every token the login holds or mints is registered with
 * the redactor by the login itself.
 */
export const vaultTransitExecutor: RemediationExecutor = {
  open(ctx: ExecuteContext): ProviderSession {
    const source = ctx.source as VaultSource;
    const { address, namespace } = vaultEndpoint(source);
    const stop = new AbortController();
    const client = login(source, address, namespace, { baseDir: ctx.baseDir ?? process.cwd(), signal: stop.signal, apiCalls: ctx.apiCalls }).catch((error: unknown) => {
      throw new Error(`Vault login to ${address} failed: ${redact(error instanceof Error ? error.message : String(error))}`);
    });
    // Each action that needs the client reports a failed login as its own failure.
    client.catch(() => undefined);

    /** The key's API path, once the plan's key is known to be at this source's Vault. */
    const keyPath = (call: PlannedCall, action: PlannedAction): string => {
      const { mount, name } = call.params;
      if (typeof mount !== 'string' || typeof name !== 'string' || mount === '' || name === '') throw new Error(`${call.operation}: the planned call names no mount and key`);
      const expected = vaultUid({ address, namespace, mount, sourceId: source.id }, `keys/${name}`);
      if (expected !== action.resource.uid) {
        // The source's address or namespace changed since planning: the token must not write to a Vault the plan was not made for.
        throw new Error(`the plan's key ${action.resource.uid} is not at the Vault this source now points at (${expected}); not changed`);
      }
      return `${mount.replace(/^\/|\/$/g, '')}/keys/${encodeURIComponent(name)}`;
    };

    const send = async (operation: string, describeCall: string, call: (vault: VaultClient) => Promise<unknown>, retriable: (error: unknown) => boolean): Promise<unknown> => {
      const vault = await client;
      try {
        return await retry(() => call(vault), {
          attempts: MAX_ATTEMPTS,
          retriable,
          signal: stop.signal,
          baseMs: 400,
          maxMs: 8000,
          onAttempt: () => {
            ctx.apiCalls[operation] = (ctx.apiCalls[operation] ?? 0) + 1;
          },
        });
      } catch (error) {
        throw new VaultCallError(redact(`${describeCall}: ${describeFailure(error)}`), statusOf(error));
      }
    };

    return {
      async read(action) {
        const apiPath = keyPath(action.calls[0]!, action);
        const response = (await send(READ_KEY, `GET ${apiPath}`, (vault) => vault.read(apiPath), mayPass)) as { data?: TransitKeyData } | null;
        return stateOf(response?.data ?? {});
      },
      async write(call, action) {
        const apiPath = keyPath(call, action);
        if (call.operation === UPDATE_CONFIG) {
          const body = configBody(call);
          // Setting a value twice leaves it the same: a config call may be retried.
          await send(UPDATE_CONFIG, `POST ${apiPath}/config`, (vault) => vault.write(`${apiPath}/config`, body), mayPass);
          return undefined;
        }
        if (call.operation === ROTATE) {
          // A rotation is not idempotent: retried only when Vault rate-limited it (429), which it
          // answers before handling the request; anything else is left to a rerun, which sees the new version.
          await send(ROTATE, `POST ${apiPath}/rotate`, (vault) => vault.write(`${apiPath}/rotate`, {}), (error) => statusOf(error) === 429);
          return undefined;
        }
        throw new Error(`unknown operation ${call.operation}`);
      },
      close: () => stop.abort(),
    };
  },
};

/** 429 (rate limited), 503 (sealed, standby, overloaded) and a dropped connection may pass; the rest would only repeat. */
function mayPass(error: unknown): boolean {
  const status = statusOf(error);
  return status === 429 || status === 503 || (status === null && mayRecover(error));
}

function configBody(call: PlannedCall): Record<string, string | number | boolean> {
  const body: Record<string, string | number | boolean> = {};
  for (const [field, value] of Object.entries(call.params)) {
    if (TARGET_FIELDS.has(field)) continue;
    if (!CONFIG_FIELDS.has(field)) throw new Error(`${call.operation}: "${field}" is not a setting keydrift changes`);
    body[field] = value;
  }
  if (Object.keys(body).length === 0) throw new Error(`${call.operation}: the planned call sets nothing`);
  return body;
}

/** Every field an action names, from one key read; the period rounded the way a scan rounds it. */
export function stateOf(data: TransitKeyData): KeyStateView {
  const seconds = durationSeconds(data.auto_rotate_period);
  return {
    rotationAutomatic: seconds === null ? null : seconds > 0,
    rotationPeriodDays: seconds === null ? null : periodDaysOf(seconds),
    primaryVersion: typeof data.latest_version === 'number' ? String(data.latest_version) : null,
    minDecryptionVersion: typeof data.min_decryption_version === 'number' ? data.min_decryption_version : null,
  };
}

/** "HTTP 403: permission denied", with every error Vault gave; or why there was no answer. */
function describeFailure(error: unknown): string {
  const status = statusOf(error);
  if (status !== null) {
    const body = (error as { response?: { body?: { errors?: unknown } } }).response?.body;
    const errors = Array.isArray(body?.errors) ? body.errors.filter((text): text is string => typeof text === 'string' && text !== '') : [];
    // Vault wraps its errors ("1 error occurred:\n\t* permission denied\n\n"): one line is enough.
    const text = errors.length > 0 ? errors.join('; ').replace(/\s+/g, ' ').trim() : status === 404 ? 'no such key' : 'no error text';
    return `HTTP ${status}: ${text.slice(0, 500)}`;
  }
  if (error instanceof VaultTransportError) return error.code === 'timeout' || error.code === 'deadline' ? `timed out: ${error.message}` : `unreachable: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}
