import { isIP } from 'node:net';

export interface TlsEndpoint {
  host: string;
  port: number;
  /** SNI name; null when the host is an IP address and none was configured. */
  servername: string | null;
}

export type EndpointSpec = string | { host: string; port?: number; servername?: string };

/** "host:port", "[v6]:port", "host" (port 443) or {host, port, servername}. */
export function parseEndpoint(spec: EndpointSpec): TlsEndpoint {
  if (typeof spec !== 'string') {
    const port = spec.port ?? 443;
    checkPort(port, spec.host);
    return { host: spec.host, port, servername: spec.servername ?? sniFor(spec.host) };
  }
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(spec);
  let host: string;
  let portText: string | undefined;
  if (bracketed) {
    host = bracketed[1]!;
    portText = bracketed[2];
  } else if (isIP(spec) === 6) {
    host = spec;
  } else {
    const colon = spec.lastIndexOf(':');
    host = colon === -1 ? spec : spec.slice(0, colon);
    portText = colon === -1 ? undefined : spec.slice(colon + 1);
  }
  if (host === '') throw new Error(`endpoint "${spec}" has no host`);
  const port = portText === undefined ? 443 : Number(portText);
  checkPort(port, spec);
  return { host, port, servername: sniFor(host) };
}

function checkPort(port: number, spec: string): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`endpoint "${spec}" has an invalid port`);
  }
}

// SNI carries host names only (RFC 6066 section 3); an IP address is never sent as one.
function sniFor(host: string): string | null {
  return isIP(host) === 0 ? host : null;
}

export function endpointLabel(endpoint: TlsEndpoint): string {
  const host = isIP(endpoint.host) === 6 ? `[${endpoint.host}]` : endpoint.host;
  const sni = endpoint.servername && endpoint.servername !== endpoint.host ? `/${endpoint.servername}` : '';
  return `${host}:${endpoint.port}${sni}`;
}
