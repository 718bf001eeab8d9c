import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { toolsDir } from '../../src/engine/opa-binary.ts';
import { httpRequest, startEmulatorProcess } from './moto.ts';

// A real Vault (1.14, MPL-2.0) built from the Go module proxy by scripts/provision.sh
// (scripts/vault-server/), run in dev mode on a free loopback port with an in-memory store.

export const VAULT_VERSION = '1.14.8';
export const ROOT_TOKEN = 'keydrift-test-root';

export interface VaultServer {
  address: string;
  stop(): Promise<void>;
  /** Calls the HTTP API with the root token (or another); throws on a non-2xx answer. */
  api(method: string, apiPath: string, body?: unknown, token?: string): Promise<Record<string, unknown> | null>;
}

export function vaultBinary(): string {
  return path.join(toolsDir(), `vault-${VAULT_VERSION}`, 'vault');
}

export async function startVault(): Promise<VaultServer> {
  const binary = vaultBinary();
  try {
    accessSync(binary, constants.X_OK);
  } catch {
    throw new Error(`vault not found at ${binary}: run "npm run provision"`);
  }
  const server = await startEmulatorProcess({
    name: `vault ${VAULT_VERSION}`,
    command: binary,
    args: (port) => ['server', '-dev', `-dev-listen-address=127.0.0.1:${port}`, `-dev-root-token-id=${ROOT_TOKEN}`, '-dev-no-store-token'],
    env: () => ({ PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/tmp', VAULT_LOG_LEVEL: 'warn' }),
    ready: async (endpoint) => (await httpRequest(`${endpoint}/v1/sys/health`, { method: 'GET' })).status === 200,
    timeoutMs: 30_000,
  });
  const api: VaultServer['api'] = async (method, apiPath, body, token = ROOT_TOKEN) => {
    const response = await fetch(`${server.endpoint}/v1/${apiPath}`, {
      method,
      headers: { 'X-Vault-Token': token, 'Content-Type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${apiPath}: HTTP ${response.status} ${text.slice(0, 300)}`);
    return text ? (JSON.parse(text) as Record<string, unknown>) : null;
  };
  return { address: server.endpoint, stop: () => server.stop(), api };
}
