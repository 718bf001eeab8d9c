import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { toolsDir } from '../../src/engine/opa-binary.ts';
import { freePort } from './free-port.ts';

// moto (the AWS emulator) as a server process for integration tests. scripts/provision.sh installs
// it in a venv in the keydrift tool cache; a test that needs it fails (never skips) without it.

/** The moto release scripts/provision.sh installs. */
export const MOTO_VERSION = '5.2.5';

export interface Moto {
  /** `http://127.0.0.1:PORT`: every moto service (KMS, ACM, STS, EC2, ...) answers on it. */
  endpoint: string;
  port: number;
  /** Empties every backend (moto's `POST /moto-api/reset`). */
  reset(): Promise<void>;
  /** Ends moto's process group and waits for it to exit. */
  stop(): Promise<void>;
}

export interface MotoOptions {
  /**
   * Extra environment for the server, e.g. MOTO_ACM_VALIDATION_WAIT=0 (a requested certificate is
   * ISSUED at once rather than after 60 s) or MOTO_ACCOUNT_ID (the account of every request).
   */
  env?: Record<string, string>;
}

export function motoDir(): string {
  return path.join(toolsDir(), `moto-${MOTO_VERSION}`);
}

export async function startMoto(options: MotoOptions = {}): Promise<Moto> {
  const dir = motoDir();
  const python = path.join(dir, 'bin', 'python');
  // `.complete` is written last by provision.sh: a venv without it is half-built.
  if (!existsSync(path.join(dir, '.complete')) || !isExecutable(python)) {
    throw new Error(`moto not found at ${dir}: run "npm run provision"`);
  }
  const server = await startEmulatorProcess({
    name: `moto ${MOTO_VERSION}`,
    command: python,
    args: (port) => ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)],
    env: () => ({ ...withoutAwsEnv(process.env), PYTHONUNBUFFERED: '1', ...options.env }),
    ready: async (endpoint) => (await httpRequest(`${endpoint}/moto-api/reset`, { method: 'POST' })).status === 200,
    timeoutMs: 30_000,
  });
  return {
    endpoint: server.endpoint,
    port: server.port,
    stop: server.stop,
    async reset() {
      const response = await httpRequest(`${server.endpoint}/moto-api/reset`, { method: 'POST' });
      if (response.status !== 200) {
        throw new Error(`moto reset answered HTTP ${response.status}: ${response.body}\n${server.output()}`);
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------
// A server process on a free loopback port: shared by the moto and local-kms harnesses.

export interface EmulatorProcess {
  endpoint: string;
  port: number;
  pid: number;
  /** The last 32 KiB of the process's stderr and stdout, for error messages. */
  output(): string;
  stop(): Promise<void>;
}

export interface EmulatorProcessOptions {
  /** For error messages: "moto 5.2.5". */
  name: string;
  command: string;
  args: (port: number) => string[];
  env: (port: number) => NodeJS.ProcessEnv;
  /** True once the server answers as it should at `endpoint`; may throw while it cannot connect. */
  ready: (endpoint: string) => Promise<boolean>;
  timeoutMs: number;
  /** Output of an early exit that means "could not bind the port": retried on another port. */
  bindFailure?: RegExp;
}

const OUTPUT_LIMIT = 32 * 1024;
const BIND_FAILURE = /address already in use|EADDRINUSE|bind: address/i;
const live = new Set<number>();

/**
 * Spawns `command` in its own process group on a free 127.0.0.1 port and waits until `ready` says
 * it answers. A process that cannot bind the port (another process took it) is retried on a new
 * port; any other early exit, or no answer within `timeoutMs`, throws with its last output.
 */
export async function startEmulatorProcess(options: EmulatorProcessOptions): Promise<EmulatorProcess> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    try {
      return await startOnce(options, port);
    } catch (error) {
      if (attempt < 4 && error instanceof BindError) continue;
      throw error;
    }
  }
}

class BindError extends Error {}

async function startOnce(options: EmulatorProcessOptions, port: number): Promise<EmulatorProcess> {
  const started = Date.now();
  const endpoint = `http://127.0.0.1:${port}`;
  const child = spawn(options.command, options.args(port), {
    env: options.env(port),
    detached: true, // its own process group, so stop() ends whatever it forks too
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = new OutputTail(OUTPUT_LIMIT);
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => output.push(chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => output.push(chunk));
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  let spawnError: Error | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('error', (error) => {
      spawnError = error;
      resolve();
    });
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      resolve();
    });
  });
  const pid = child.pid;
  if (pid !== undefined) live.add(pid);
  installExitCleanup();

  const stop = async (): Promise<void> => {
    if (pid === undefined) return;
    if (!exit && !spawnError) {
      killGroup(pid, 'SIGTERM');
      const killer = setTimeout(() => killGroup(pid, 'SIGKILL'), 5_000);
      await exited;
      clearTimeout(killer);
    }
    killGroup(pid, 'SIGKILL'); // anything the server forked that outlived it
    live.delete(pid);
  };
  const describe = (): string => `${options.name} (${options.command} ${options.args(port).join(' ')})`;

  while (true) {
    if (spawnError) {
      await stop();
      throw new Error(`${describe()} could not be started: ${spawnError.message}`);
    }
    if (exit) {
      live.delete(pid ?? -1);
      const text = output.text();
      const message = `${describe()} exited (${exit.signal ?? `code ${exit.code}`}) before answering on ${endpoint}; its last output:\n${text}`;
      throw (options.bindFailure ?? BIND_FAILURE).test(text) ? new BindError(message) : new Error(message);
    }
    if (Date.now() - started > options.timeoutMs) {
      await stop();
      throw new Error(`${describe()} did not answer on ${endpoint} within ${options.timeoutMs} ms; its last output:\n${output.text()}`);
    }
    let ready = false;
    try {
      ready = await options.ready(endpoint);
    } catch {
      // not listening yet
    }
    if (ready && pid !== undefined) {
      return { endpoint, port, pid, output: () => output.text(), stop };
    }
    await Promise.race([delay(50), exited]);
  }
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

let cleanupInstalled = false;

/** Emulators run in their own process groups: end them if this process ends without stop(). */
function installExitCleanup(): void {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  const killAll = (): void => {
    for (const pid of live) killGroup(pid, 'SIGKILL');
    live.clear();
  };
  process.once('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killAll();
      process.kill(process.pid, signal); // the listener was once(): this one takes the default action
    });
  }
}

class OutputTail {
  private chunks: string[] = [];
  private size = 0;
  private readonly limit: number;

  constructor(limit: number) {
    this.limit = limit;
  }

  push(chunk: string): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size > this.limit && this.chunks.length > 1) {
      this.size -= this.chunks.shift()!.length;
    }
  }

  text(): string {
    const text = this.chunks.join('');
    return text.length > this.limit ? text.slice(-this.limit) : text;
  }
}

// ---------------------------------------------------------------------------------------------

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One request on a fresh connection (no keep-alive agent holding sockets open after a test). */
export function httpRequest(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string; timeoutMs?: number } = {},
): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: options.method ?? 'GET', headers: options.headers, agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', reject);
    });
    request.setTimeout(options.timeoutMs ?? 2_000, () => request.destroy(new Error(`no answer from ${url} within ${options.timeoutMs ?? 2_000} ms`)));
    request.on('error', reject);
    request.end(options.body);
  });
}

/** The emulators need no credentials; keep the developer's real AWS settings away from them. */
export function withoutAwsEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !name.startsWith('AWS_')));
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
