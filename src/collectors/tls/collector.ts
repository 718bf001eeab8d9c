import tls from 'node:tls';
import type { DetailedPeerCertificate } from 'node:tls';
import type { InventoryItem } from '../../inventory/types.ts';
import { mapBounded } from '../../util/limit.ts';
import { certificateItem, parseCertificate } from '../../certificates/certificate.ts';
import type { SourceConfig, SourceError } from '../../model/source.ts';
import type { CollectContext, Collector } from '../types.ts';
import { tlsDeclaration } from './declaration.ts';
import { endpointLabel, parseEndpoint, type EndpointSpec, type TlsEndpoint } from './endpoints.ts';
import { loadTrustStore, TrustStoreError, type TrustConfig, type TrustStore, type TrustStoreName } from './trust.ts';

export interface TlsSource extends SourceConfig, TrustConfig {
  type: 'tls';
  endpoints: EndpointSpec[];
  timeoutMs?: number;
}

/** What the leaf item's evidence.trust records; `verified: null` means not judged. */
export interface TrustEvidence {
  store: TrustStoreName;
  caFile: string | null;
  verified: boolean | null;
  /** OpenSSL's verification error code (DEPTH_ZERO_SELF_SIGNED_CERT, UNABLE_TO_VERIFY_LEAF_SIGNATURE, ...). */
  error: string | null;
}

/** What the leaf item's evidence.hostname records; `matches: null` means not judged. */
export interface HostnameEvidence {
  expected: string;
  matches: boolean | null;
  error: string | null;
}

interface Handshake {
  peer: DetailedPeerCertificate;
  authorized: boolean;
  authorizationError: string | null;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_CONCURRENCY = 8;

type Outcome = { items: InventoryItem[] } | { error: SourceError };

export const tlsCollector: Collector = {
  type: tlsDeclaration.type,
  provides: tlsDeclaration.providers,
  operations: tlsDeclaration.operations,
  async *collect(source, ctx) {
    const config = source as TlsSource;
    const endpoints: TlsEndpoint[] = [];
    for (const spec of config.endpoints) {
      try {
        endpoints.push(parseEndpoint(spec));
      } catch (error) {
        ctx.error({ code: 'endpoint-invalid', message: (error as Error).message, resource: JSON.stringify(spec) });
      }
    }
    const trust = await trustStoreOf(config, ctx);
    const timeoutMs = config.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const outcomes = mapBounded(endpoints, config.concurrency ?? DEFAULT_CONCURRENCY, (endpoint) =>
      inspect(endpoint, config, trust, timeoutMs, ctx),
    );
    for await (const outcome of outcomes) {
      if ('error' in outcome) ctx.error(outcome.error);
      else yield* outcome.items;
    }
  },
};

/** A caFile that cannot be loaded leaves trust unjudged (never "untrusted") and makes the source partial. */
async function trustStoreOf(config: TlsSource, ctx: CollectContext): Promise<TrustStore> {
  try {
    return await loadTrustStore(config, ctx.baseDir);
  } catch (error) {
    if (!(error instanceof TrustStoreError)) throw error;
    ctx.error({ code: error.code, message: error.message, resource: config.caFile ?? config.id });
    return { name: 'file', caFile: config.caFile ?? null, context: null };
  }
}

async function inspect(
  endpoint: TlsEndpoint,
  source: TlsSource,
  trust: TrustStore,
  timeoutMs: number,
  ctx: CollectContext,
): Promise<Outcome> {
  const label = endpointLabel(endpoint);
  let handshake: Handshake;
  try {
    handshake = await handshakeWith(endpoint, trust, timeoutMs, ctx.signal);
  } catch (error) {
    return { error: connectionError(label, error as NodeJS.ErrnoException, timeoutMs) };
  }
  const chain = chainOf(handshake.peer);
  if (chain.length === 0) {
    return { error: { code: 'tls-no-certificate', message: `${label}: the server presented no certificate`, resource: label } };
  }
  const items: InventoryItem[] = [];
  for (const [index, der] of chain.entries()) {
    try {
      const parsed = parseCertificate(der);
      items.push(
        certificateItem(parsed, {
          uid: `tls://${label}#sha256:${parsed.certificate.fingerprintSha256}`,
          provider: 'tls-endpoint',
          sourceId: source.id,
          location: label,
          evidence: {
            endpoint: label,
            host: endpoint.host,
            port: endpoint.port,
            servername: endpoint.servername,
            chainIndex: index,
            chainLength: chain.length,
            // Trust and name are properties of what the endpoint serves, so only its leaf carries them.
            ...(index === 0
              ? { trust: trustEvidence(trust, handshake), hostname: hostnameEvidence(trust, endpoint, handshake.peer) }
              : {}),
          },
        }),
      );
    } catch (error) {
      return {
        error: {
          code: 'certificate-invalid',
          message: `${label}: certificate ${index + 1} of the chain cannot be parsed: ${(error as Error).message}`,
          resource: label,
        },
      };
    }
  }
  return { items };
}

// OpenSSL reports one verification error per chain, the last it met, and checks validity dates
// after it has built the path: an expiry code hides whether the chain was trusted. Expiry is
// KD-CRT-001's to report; trust stays unknown until the certificate is renewed.
const TIME_ERRORS = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']);

function trustEvidence(trust: TrustStore, handshake: Handshake): TrustEvidence {
  const store = { store: trust.name, caFile: trust.caFile };
  if (!trust.context) return { ...store, verified: null, error: null };
  if (handshake.authorized) return { ...store, verified: true, error: null };
  const error = handshake.authorizationError ?? 'UNSPECIFIED';
  return { ...store, verified: TIME_ERRORS.has(error) ? null : false, error };
}

/** RFC 6125 matching as Node's own clients do it: DNS and IP SANs, one left-most wildcard label. */
function hostnameEvidence(trust: TrustStore, endpoint: TlsEndpoint, peer: DetailedPeerCertificate): HostnameEvidence {
  const expected = endpoint.servername ?? endpoint.host;
  if (trust.name === 'none') return { expected, matches: null, error: null };
  const mismatch = tls.checkServerIdentity(expected, peer);
  return { expected, matches: mismatch === undefined, error: mismatch?.message ?? null };
}

/**
 * One handshake: the presented chain plus OpenSSL's verdict on it against the chosen store. The
 * chain Node returns is the leaf, each issuer the server sent, then any issuer it found in that store.
 */
function handshakeWith(endpoint: TlsEndpoint, trust: TrustStore, timeoutMs: number, signal: AbortSignal): Promise<Handshake> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: endpoint.host,
      port: endpoint.port,
      ...(endpoint.servername ? { servername: endpoint.servername } : {}),
      ...(trust.context ? { secureContext: trust.context } : {}),
      // We inventory whatever is presented, including expired and self-signed certificates;
      // the verdict is recorded, and the rules judge it.
      rejectUnauthorized: false,
      // Keeps authorizationError about the chain alone; the name is checked separately.
      checkServerIdentity: () => undefined,
    });
    const abort = () => socket.destroy(Object.assign(new Error('aborted'), { code: 'ABORT_ERR' }));
    signal.addEventListener('abort', abort, { once: true });
    socket.once('close', () => signal.removeEventListener('abort', abort));
    const timer = setTimeout(() => {
      socket.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' }));
    }, timeoutMs);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      const peer = socket.getPeerCertificate(true);
      // Node sets a code string here, whatever the type declarations say.
      const error = socket.authorizationError as unknown as string | Error | null | undefined;
      const authorizationError = error ? (typeof error === 'string' ? error : ((error as NodeJS.ErrnoException).code ?? error.message)) : null;
      socket.end();
      resolve({ peer, authorized: socket.authorized, authorizationError });
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    });
  });
}

function chainOf(leaf: DetailedPeerCertificate): Buffer[] {
  const chain: Buffer[] = [];
  const seen = new Set<string>();
  let current: DetailedPeerCertificate | undefined = leaf;
  while (current && current.raw && !seen.has(current.fingerprint256)) {
    seen.add(current.fingerprint256);
    chain.push(current.raw);
    current = current.issuerCertificate;
  }
  return chain;
}

function connectionError(label: string, error: NodeJS.ErrnoException, timeoutMs: number): SourceError {
  switch (error.code) {
    case 'ETIMEDOUT':
      return { code: 'tls-timeout', message: `${label}: no TLS handshake within ${timeoutMs} ms`, resource: label };
    case 'ECONNREFUSED':
      return { code: 'tls-unreachable', message: `${label}: connection refused`, resource: label };
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return { code: 'tls-unreachable', message: `${label}: host name does not resolve`, resource: label };
    case 'ECONNRESET':
      return { code: 'tls-unreachable', message: `${label}: connection reset during the handshake`, resource: label };
    default:
      return {
        code: 'tls-handshake-failed',
        message: `${label}: ${error.code ? `${error.code}: ` : ''}${error.message}`,
        resource: label,
      };
  }
}
