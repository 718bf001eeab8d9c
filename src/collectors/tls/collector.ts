import tls from 'node:tls';
import type { DetailedPeerCertificate } from 'node:tls';
import type { InventoryItem } from '../../inventory/types.ts';
import { mapBounded } from '../../util/limit.ts';
import { certificateItem, parseCertificate } from '../x509/certificate.ts';
import type { CollectContext, Collector, SourceConfig, SourceError } from '../types.ts';
import { endpointLabel, parseEndpoint, type EndpointSpec, type TlsEndpoint } from './endpoints.ts';

export interface TlsSource extends SourceConfig {
  type: 'tls';
  endpoints: EndpointSpec[];
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_CONCURRENCY = 8;

type Outcome = { items: InventoryItem[] } | { error: SourceError };

export const tlsCollector: Collector = {
  type: 'tls',
  provides: ['tls-endpoint'],
  operations: ['tls:handshake'],
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
    const timeoutMs = config.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const outcomes = mapBounded(endpoints, config.concurrency ?? DEFAULT_CONCURRENCY, (endpoint) =>
      inspect(endpoint, config, timeoutMs, ctx),
    );
    for await (const outcome of outcomes) {
      if ('error' in outcome) ctx.error(outcome.error);
      else yield* outcome.items;
    }
  },
};

async function inspect(endpoint: TlsEndpoint, source: TlsSource, timeoutMs: number, ctx: CollectContext): Promise<Outcome> {
  const label = endpointLabel(endpoint);
  let chain: Buffer[];
  try {
    chain = await presentedChain(endpoint, timeoutMs, ctx.signal);
  } catch (error) {
    return { error: connectionError(label, error as NodeJS.ErrnoException, timeoutMs) };
  }
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

/** The leaf first, then each issuer the server sent; validation is the policies' job, not the handshake's. */
function presentedChain(endpoint: TlsEndpoint, timeoutMs: number, signal: AbortSignal): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: endpoint.host,
      port: endpoint.port,
      ...(endpoint.servername ? { servername: endpoint.servername } : {}),
      // We inventory whatever is presented, including expired and self-signed certificates.
      rejectUnauthorized: false,
    });
    const abort = () => socket.destroy(Object.assign(new Error('aborted'), { code: 'ABORT_ERR' }));
    signal.addEventListener('abort', abort, { once: true });
    socket.once('close', () => signal.removeEventListener('abort', abort));
    const timer = setTimeout(() => {
      socket.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' }));
    }, timeoutMs);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      const chain = chainOf(socket.getPeerCertificate(true));
      socket.end();
      resolve(chain);
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
