import http from 'node:http';
import https from 'node:https';

// node-vault's own transport (axios) has no deadline and follows redirects to any origin with the
// X-Vault-Token header still attached. node-vault accepts a `request-promise`-shaped transport, so
// keydrift hands it this one: every call has a deadline and a size cap, and a redirect is followed
// only within the origin the token was meant for.

export const DEFAULT_TIMEOUT_MS = 30_000;
const MAX_RESPONSE_BYTES = 32 * 1024 * 1024;
const MAX_REDIRECTS = 3;

export interface TransportOptions {
  timeoutMs: number;
  ca?: Buffer;
  /** Aborts every request in flight (the scan's deadline). */
  signal: AbortSignal;
}

/** What node-vault passes per call (the subset it uses). */
interface VaultRequest {
  method: string;
  uri: string;
  headers?: Record<string, string>;
  json?: unknown;
}

interface VaultResponse {
  statusCode: number;
  body: unknown;
  request: { path: string };
}

export class VaultTransportError extends Error {
  readonly code: string;
  constructor(message: string, code: string) {
    super(message);
    this.code = code;
  }
}

/** The `request-promise` stand-in node-vault's factory accepts (`config['request-promise']`). */
export function vaultTransport(options: TransportOptions): { defaults(defaults: { strictSSL?: boolean }): (request: VaultRequest) => Promise<VaultResponse> } {
  return {
    defaults: (defaults) => (request) => send(request, { ...options, rejectUnauthorized: defaults.strictSSL !== false }),
  };
}

async function send(request: VaultRequest, options: TransportOptions & { rejectUnauthorized: boolean }): Promise<VaultResponse> {
  const origin = new URL(request.uri).origin;
  let url = new URL(request.uri);
  for (let redirects = 0; ; redirects++) {
    const response = await once(url, request, options);
    const location = response.location;
    if (response.statusCode < 300 || response.statusCode >= 400 || response.statusCode === 304 || !location) {
      return { statusCode: response.statusCode, body: response.body, request: { path: url.pathname } };
    }
    const next = new URL(location, url);
    if (next.origin !== origin) {
      // The token would travel to a host it was never meant for: refuse rather than strip, so the
      // gap is reported instead of collected as a 403 from a stranger.
      throw new VaultTransportError(`redirected from ${origin} to another origin (${next.origin}); not followed, so the token is not sent there`, 'cross-origin-redirect');
    }
    if (redirects >= MAX_REDIRECTS) throw new VaultTransportError(`more than ${MAX_REDIRECTS} redirects from ${url.pathname}`, 'too-many-redirects');
    url = next;
  }
}

function once(url: URL, request: VaultRequest, options: TransportOptions & { rejectUnauthorized: boolean }): Promise<{ statusCode: number; body: unknown; location: string | undefined }> {
  const payload = request.json !== undefined && typeof request.json === 'object' ? Buffer.from(JSON.stringify(request.json)) : null;
  const headers: Record<string, string | number> = { accept: 'application/json', ...request.headers };
  if (payload) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = payload.length;
  }
  const secure = url.protocol === 'https:';
  return new Promise((resolve, reject) => {
    const signal = AbortSignal.any([options.signal, AbortSignal.timeout(options.timeoutMs)]);
    if (signal.aborted) {
      reject(deadlineError(options));
      return;
    }
    const call = (secure ? https : http).request(url, {
      method: request.method,
      headers,
      signal,
      agent: false,
      ...(secure ? { rejectUnauthorized: options.rejectUnauthorized, ...(options.ca ? { ca: options.ca } : {}) } : {}),
    });
    call.on('error', (error: NodeJS.ErrnoException) => {
      reject(signal.aborted ? deadlineError(options) : new VaultTransportError(error.code ?? error.message, error.code ?? 'network-error'));
    });
    call.on('response', (response) => {
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_RESPONSE_BYTES) {
          call.destroy();
          reject(new VaultTransportError(`response larger than ${MAX_RESPONSE_BYTES} bytes`, 'response-too-large'));
          return;
        }
        chunks.push(chunk);
      });
      response.on('error', (error: NodeJS.ErrnoException) => reject(signal.aborted ? deadlineError(options) : new VaultTransportError(error.code ?? error.message, 'network-error')));
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = text;
        try {
          body = text === '' ? '' : JSON.parse(text);
        } catch {
          // Not JSON (a proxy's error page): node-vault reports the status alone.
        }
        resolve({ statusCode: response.statusCode ?? 0, body, location: response.headers.location });
      });
    });
    if (payload) call.write(payload);
    call.end();
  });
}

function deadlineError(options: TransportOptions): VaultTransportError {
  return options.signal.aborted
    ? new VaultTransportError('stopped: the scan deadline passed', 'deadline')
    : new VaultTransportError(`no answer within ${options.timeoutMs} ms (timeoutMs)`, 'timeout');
}
