import http from 'node:http';
import net from 'node:net';

// Loopback servers that behave the way a hostile or broken backend does: one echoes every request
// (headers and body) back inside its error, one accepts connections and never answers, one
// redirects to another origin. Each records what it received.

export interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface TestServer {
  url: string;
  port: number;
  received: Received[];
  close(): Promise<void>;
}

async function listen(server: net.Server, received: Received[]): Promise<TestServer> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        (server as http.Server).closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

function record(request: http.IncomingMessage, received: Received[]): Promise<Received> {
  return new Promise((resolve) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    request.on('end', () => {
      const entry = { method: request.method ?? '', url: request.url ?? '', headers: request.headers, body };
      received.push(entry);
      resolve(entry);
    });
  });
}

/**
 * Answers everything with 403 and the whole request in the error text, in the shapes both the AWS
 * JSON protocol (`__type`, `message`) and Vault (`errors`) put into the client's error message.
 */
export function echoingServer(): Promise<TestServer> {
  const received: Received[] = [];
  const server = http.createServer(async (request, response) => {
    const entry = await record(request, received);
    // Credential-bearing fields first: clients keep only the start of a long error message.
    const { authorization, 'x-amz-security-token': session, 'x-vault-token': token, ...rest } = entry.headers;
    const dump = `Authorization: ${authorization} X-Amz-Security-Token: ${session} X-Vault-Token: ${token} body ${entry.body} request ${entry.method} ${entry.url} headers ${JSON.stringify(rest)}`;
    response.writeHead(403, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': 'AccessDeniedException' });
    response.end(JSON.stringify({ __type: 'AccessDeniedException', message: dump, Message: dump, errors: [dump] }));
  });
  return listen(server, received);
}

/** Accepts the connection, reads the request, never answers. */
export function silentServer(): Promise<TestServer> {
  const received: Received[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('data', (chunk) => received.push({ method: '', url: '', headers: {}, body: chunk.toString('utf8') }));
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  return listen(server, received).then((listening) => ({
    ...listening,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return listening.close();
    },
  }));
}

/** Redirects every request (307, same path) to `target`, another origin. */
export function redirectingServer(target: string): Promise<TestServer> {
  const received: Received[] = [];
  const server = http.createServer(async (request, response) => {
    const entry = await record(request, received);
    response.writeHead(307, { location: `${target}${entry.url}` });
    response.end();
  });
  return listen(server, received);
}
