import { randomBytes, randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import net from 'node:net';
import { ROOT_TOKEN, type VaultServer } from './vault-server.ts';

// Vault namespaces in front of the real Vault dev server, for the tests of `namespaces: recursive`.
//
// Why it exists: the Vault the tests run (1.14.8, test/support/vault-server.ts) is the open-source
// build, which has no namespaces: it answers LIST sys/namespaces with 404 "enterprise-only
// feature" and ignores X-Vault-Namespace. OpenBao, which has namespaces since 2.3, could not be
// installed here: the Go module proxy refused `go install github.com/openbao/openbao@v2.4.1`
// ("not available"; OpenBao's go.mod also has replace directives, which go install refuses).
//
// What it is: an HTTP server on a loopback port that speaks the Vault API the way Vault Enterprise
// does for namespaces, and carries every request to the real server, where the keys, mounts, tokens
// and ACL policies are real:
//   - A request's namespace is its X-Vault-Namespace header (a full path from the root, "a/b").
//     In namespace "a/b", a path P is the real server's "a/b/P": the namespace's mount `transit`
//     is the real mount `a/b/transit`. That is also the path a policy of the root namespace names
//     to grant it (Enterprise: a parent's policy reaches a child by the child's path prefix), so the
//     real server's ACL decides every mount request exactly as Enterprise's root policies would.
//   - LIST sys/namespaces (LIST, or GET with ?list=true) answers the direct children of the
//     request's namespace from the namespaces created through this server (POST sys/namespaces/:name),
//     in Enterprise's shape: `data.keys` with a trailing slash ("payments/"), `data.key_info` by the
//     same keys with `custom_metadata`, `id` (5 characters) and `path` (the full path with a trailing
//     slash, as OpenBao's handler returns its namespace's path), inside Vault's usual envelope; no
//     child is 404 with `{"errors":[]}`, as every empty LIST answers.
//   - GET sys/mounts lists the namespace's own mounts (a child namespace's mounts are not the
//     parent's), with the system mounts (sys/, cubbyhole/, identity/) every namespace has; the
//     envelope (the table both at the top level and under `data`) is the real server's.
//     sys/mounts/:path (enable, tune) goes to the real sys/mounts/a/b/:path.
//   - The namespace's own sys/ paths above are authorised as Enterprise authorises them: the
//     caller's capability on "a/b/sys/..." is asked of the real server (sys/capabilities-self),
//     and a refusal is the real server's 403 body ("permission denied").
// Not modelled (answered 404 naming this server): other sys/ and auth/ paths inside a namespace
// (namespaced policies, logins, tokens: tokens and policies live in the root namespace here), and
// namespace deletion. A request naming a namespace that was never created gets 404.
//
// Node's HTTP parser refuses the LIST method, so requests are read off the socket here (HTTP/1.1,
// Content-Length bodies, one request per connection, answered with Connection: close).

export interface NamespacedVault {
  /** `http://127.0.0.1:PORT`: the source's `address`. */
  address: string;
  /** Calls the API in `namespace` (full path; omitted: the root) with the root token or `token`; throws on a non-2xx answer. */
  api(method: string, apiPath: string, body?: unknown, options?: { namespace?: string; token?: string }): Promise<Record<string, unknown> | null>;
  /** Every request answered: method (LIST for a list), namespace ('' for the root), path, status. */
  calls: { method: string; namespace: string; path: string; status: number }[];
  stop(): Promise<void>;
}

interface Request {
  method: string;
  target: string;
  headers: Record<string, string>;
  body: Buffer;
}

interface Answer {
  status: number;
  body: string;
}

const MAX_HEAD = 64 * 1024;
const MAX_BODY = 4 * 1024 * 1024;
const UPSTREAM_TIMEOUT_MS = 15_000;
const DENIED: Answer = { status: 403, body: JSON.stringify({ errors: ['1 error occurred:\n\t* permission denied\n\n'] }) };
const SYSTEM_MOUNTS = ['sys/', 'cubbyhole/', 'identity/'];

export async function startNamespacedVault(vault: VaultServer): Promise<NamespacedVault> {
  /** Full path -> accessor id. */
  const namespaces = new Map<string, { id: string; customMetadata: Record<string, string> }>();
  const calls: NamespacedVault['calls'] = [];

  const upstream = async (method: string, apiPath: string, token: string, body?: Buffer | string, query = ''): Promise<Answer> => {
    const list = method === 'LIST';
    const search = new URLSearchParams(query);
    if (list) search.set('list', 'true');
    const qs = search.toString();
    const response = await fetch(`${vault.address}/v1/${apiPath}${qs ? `?${qs}` : ''}`, {
      method: list ? 'GET' : method,
      headers: { 'X-Vault-Token': token, 'Content-Type': 'application/json' },
      ...(body !== undefined && body.length > 0 ? { body } : {}),
      signal: AbortSignal.timeout(UPSTREAM_TIMEOUT_MS),
    });
    return { status: response.status, body: await response.text() };
  };

  /** The caller's capability on a path of the Enterprise namespace tree, decided by the real server's ACL. */
  const allowed = async (token: string, fullPath: string, method: string): Promise<boolean> => {
    const answer = await upstream('POST', 'sys/capabilities-self', token, JSON.stringify({ paths: [fullPath] }));
    if (answer.status !== 200) return false;
    const data = (JSON.parse(answer.body) as { data?: Record<string, string[]> }).data ?? {};
    const capabilities = data[fullPath] ?? data['capabilities'] ?? [];
    const needed = method === 'LIST' ? ['list'] : method === 'GET' ? ['read'] : method === 'DELETE' ? ['delete'] : method === 'PATCH' ? ['patch'] : ['create', 'update'];
    return capabilities.includes('root') || needed.some((capability) => capabilities.includes(capability));
  };

  /** The namespace a real mount path belongs to: the deepest namespace that prefixes it ('' for the root). */
  const ownerOf = (mountPath: string): string => {
    let owner = '';
    for (const path of namespaces.keys()) if (mountPath.startsWith(`${path}/`) && path.length > owner.length) owner = path;
    return owner;
  };

  const envelope = (data: unknown): string =>
    JSON.stringify({ request_id: randomUUID(), lease_id: '', renewable: false, lease_duration: 0, data, wrap_info: null, warnings: null, auth: null });

  const namespaceInfo = (path: string) => ({ custom_metadata: namespaces.get(path)?.customMetadata ?? {}, id: namespaces.get(path)?.id ?? '', path: `${path}/` });

  const listNamespaces = (namespace: string): Answer => {
    const prefix = namespace === '' ? '' : `${namespace}/`;
    const children = [...namespaces.keys()].filter((path) => path.startsWith(prefix) && !path.slice(prefix.length).includes('/')).sort();
    if (children.length === 0) return { status: 404, body: JSON.stringify({ errors: [] }) };
    const keys = children.map((path) => `${path.slice(prefix.length)}/`);
    return { status: 200, body: envelope({ key_info: Object.fromEntries(children.map((path, i) => [keys[i], namespaceInfo(path)])), keys }) };
  };

  const readMounts = async (namespace: string): Promise<Answer> => {
    const real = await upstream('GET', 'sys/mounts', ROOT_TOKEN);
    if (real.status !== 200) return real;
    const table = (JSON.parse(real.body) as { data: Record<string, unknown> }).data;
    const own: Record<string, unknown> = {};
    for (const [mountPath, mount] of Object.entries(table)) {
      if (ownerOf(mountPath) !== namespace) continue;
      own[namespace === '' ? mountPath : mountPath.slice(namespace.length + 1)] = mount;
    }
    if (namespace !== '') for (const system of SYSTEM_MOUNTS) if (table[system]) own[system] = table[system];
    const wrapped = JSON.parse(envelope(own)) as Record<string, unknown>;
    return { status: 200, body: JSON.stringify({ ...own, ...wrapped }) };
  };

  const handle = async (request: Request, namespace: string): Promise<Answer> => {
    const url = new URL(request.target, 'http://namespaces.invalid');
    if (!url.pathname.startsWith('/v1/')) return { status: 404, body: JSON.stringify({ errors: [] }) };
    const apiPath = decodeURIComponent(url.pathname.slice('/v1/'.length)).replace(/\/+$/, '');
    const method = request.method === 'GET' && url.searchParams.get('list') === 'true' ? 'LIST' : request.method;
    url.searchParams.delete('list');
    const token = request.headers['x-vault-token'] ?? '';
    if (namespace !== '' && !namespaces.has(namespace)) return { status: 404, body: JSON.stringify({ errors: [`namespace "${namespace}" does not exist (namespace test double)`] }) };
    const prefix = namespace === '' ? '' : `${namespace}/`;

    if (apiPath === 'sys/namespaces' && method === 'LIST') {
      return (await allowed(token, `${prefix}sys/namespaces`, 'LIST')) ? listNamespaces(namespace) : DENIED;
    }
    const named = /^sys\/namespaces\/([^/]+)$/.exec(apiPath);
    if (named && (method === 'POST' || method === 'PUT' || method === 'GET')) {
      if (!(await allowed(token, `${prefix}${apiPath}`, method))) return DENIED;
      const path = `${prefix}${named[1]}`;
      if (method === 'GET') return namespaces.has(path) ? { status: 200, body: envelope(namespaceInfo(path)) } : { status: 404, body: JSON.stringify({ errors: [] }) };
      const body = request.body.length > 0 ? (JSON.parse(request.body.toString('utf8')) as { custom_metadata?: Record<string, string> }) : {};
      if (!namespaces.has(path)) namespaces.set(path, { id: randomBytes(4).toString('base64url').slice(0, 5), customMetadata: body.custom_metadata ?? {} });
      return { status: 200, body: envelope(namespaceInfo(path)) };
    }
    if (apiPath === 'sys/mounts' && method === 'GET') {
      return (await allowed(token, `${prefix}sys/mounts`, 'GET')) ? readMounts(namespace) : DENIED;
    }
    if (namespace === '') return upstream(method, apiPath, token, request.body, url.search.slice(1));
    if (apiPath.startsWith('sys/mounts/')) {
      if (!(await allowed(token, `${prefix}${apiPath}`, method))) return DENIED;
      return upstream(method, `sys/mounts/${prefix}${apiPath.slice('sys/mounts/'.length)}`, ROOT_TOKEN, request.body, url.search.slice(1));
    }
    if (apiPath.startsWith('sys/') || apiPath.startsWith('auth/')) {
      return { status: 404, body: JSON.stringify({ errors: [`${apiPath} inside a namespace is not modelled by the namespace test double`] }) };
    }
    return upstream(method, `${prefix}${apiPath}`, token, request.body, url.search.slice(1));
  };

  const server = net.createServer((socket) => {
    let buffered = Buffer.alloc(0);
    let done = false;
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk: Buffer) => {
      if (done) return;
      buffered = Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0) {
        if (buffered.length > MAX_HEAD) reply(socket, { status: 431, body: '' });
        return;
      }
      const [line = '', ...fields] = buffered.subarray(0, end).toString('latin1').split('\r\n');
      const headers: Record<string, string> = {};
      for (const field of fields) {
        const colon = field.indexOf(':');
        if (colon > 0) headers[field.slice(0, colon).trim().toLowerCase()] = field.slice(colon + 1).trim();
      }
      const length = Number(headers['content-length'] ?? 0);
      if (!Number.isInteger(length) || length < 0 || length > MAX_BODY || headers['transfer-encoding']) {
        done = true;
        reply(socket, { status: 400, body: JSON.stringify({ errors: ['the namespace test double reads Content-Length bodies only'] }) });
        return;
      }
      if (buffered.length < end + 4 + length) return;
      done = true;
      const [method = '', target = '/'] = line.split(' ');
      const namespace = (headers['x-vault-namespace'] ?? '').replace(/^\/+|\/+$/g, '');
      const request: Request = { method: method.toUpperCase(), target, headers, body: buffered.subarray(end + 4, end + 4 + length) };
      handle(request, namespace).then(
        (answer) => {
          const path = new URL(target, 'http://namespaces.invalid').pathname.replace(/^\/v1\//, '');
          calls.push({ method: request.method === 'GET' && target.includes('list=true') ? 'LIST' : request.method, namespace, path, status: answer.status });
          reply(socket, answer);
        },
        (error: unknown) => reply(socket, { status: 502, body: JSON.stringify({ errors: [`namespace test double: ${(error as Error).message}`] }) }),
      );
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;

  const api: NamespacedVault['api'] = async (method, apiPath, body, options = {}) => {
    const response = await fetch(`${address}/v1/${apiPath}`, {
      method,
      headers: { 'X-Vault-Token': options.token ?? ROOT_TOKEN, 'Content-Type': 'application/json', ...(options.namespace ? { 'X-Vault-Namespace': options.namespace } : {}) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(UPSTREAM_TIMEOUT_MS),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${apiPath} in namespace "${options.namespace ?? ''}": HTTP ${response.status} ${text.slice(0, 300)}`);
    return text ? (JSON.parse(text) as Record<string, unknown>) : null;
  };

  return {
    address,
    api,
    calls,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function reply(socket: net.Socket, answer: Answer): void {
  const body = Buffer.from(answer.status === 204 ? '' : answer.body, 'utf8');
  const head = [
    `HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status] ?? 'Unknown'}`,
    'Cache-Control: no-store',
    ...(body.length > 0 ? ['Content-Type: application/json'] : []),
    `Content-Length: ${body.length}`,
    'Connection: close',
    '',
    '',
  ].join('\r\n');
  socket.end(Buffer.concat([Buffer.from(head, 'latin1'), body]));
}
