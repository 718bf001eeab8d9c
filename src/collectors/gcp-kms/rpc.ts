import { grpc } from 'google-gax';
import { retry } from '../../util/retry.ts';
import type { CollectContext } from '../types.ts';

// What every Google Cloud call of this collector shares, whichever client library makes it (Cloud
// KMS, Resource Manager): where the endpoint is and how its channel is secured, the deadline and
// retries of one call, and how a failure becomes a source error.

/** The source fields the calls read. */
export interface GcpCallSettings {
  /** `host:port` (TLS) or `http://host:port` (plaintext, emulators only). Default: the public API. */
  endpoint?: string;
  /** Deadline of each call, in milliseconds. */
  timeoutMs?: number;
}

export const DEFAULT_TIMEOUT_MS = 30_000;
const MAX_ATTEMPTS = 6;

// gRPC status codes (google.rpc.Code) that mean "try again later", with backoff.
const RETRIABLE = new Set([grpc.status.RESOURCE_EXHAUSTED, grpc.status.UNAVAILABLE, grpc.status.DEADLINE_EXCEEDED]);

/**
 * Client options for a custom endpoint, or undefined for the public API with Application Default
 * Credentials. `http://` endpoints (emulators) get a plaintext channel and no credentials, so
 * nothing probes the metadata server; `universeDomain` is set so the client does not ask the
 * (absent) credentials for it. Every @google-cloud client takes these same options.
 */
export function endpointOptions(settings: GcpCallSettings): { apiEndpoint: string; port: number; universeDomain: string; sslCreds?: grpc.ChannelCredentials } | undefined {
  if (!settings.endpoint) return undefined;
  const plaintext = settings.endpoint.startsWith('http://');
  const hostPort = settings.endpoint.replace(/^https?:\/\//, '').replace(/\/$/, '');
  const colon = hostPort.lastIndexOf(':');
  const apiEndpoint = colon > 0 ? hostPort.slice(0, colon) : hostPort;
  const port = colon > 0 ? Number(hostPort.slice(colon + 1)) : 443;
  return { apiEndpoint, port, universeDomain: 'googleapis.com', ...(plaintext ? { sslCreds: grpc.credentials.createInsecure() } : {}) };
}

/** Per-call options: the deadline, no retries inside the client library (ours count each attempt), one page per call. */
export function callOptions(settings: GcpCallSettings): { timeout: number; maxRetries: number; autoPaginate: false } {
  return { timeout: settings.timeoutMs ?? DEFAULT_TIMEOUT_MS, maxRetries: 0, autoPaginate: false };
}

/**
 * One RPC: `permission` is the IAM permission it exercises (the key of `apiCalls`), `resource` what
 * a failure is about. Null when it failed; the failure is already reported. `subject` replaces
 * "<permission> on <resource>" at the head of the error message.
 */
export type Call = <T>(permission: string, resource: string, call: () => Promise<T>, subject?: string) => Promise<T | null>;

/** One RPC with a deadline, bounded retries with backoff and jitter, counted and reported by resource. */
export function caller(ctx: CollectContext): Call {
  return async (permission, resource, call, subject) => {
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
      ctx.error(describeGrpcFailure(permission, resource, error, subject));
      return null;
    }
  };
}

export function describeGrpcFailure(permission: string, resource: string, error: unknown, subject = `${permission} on ${resource}`): { code: string; message: string; resource: string } {
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
  return { code: `gcp-${kind}`, message: `${subject}: ${status}${detail ? ` (${detail})` : ''}`, resource };
}
