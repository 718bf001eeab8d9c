import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { toolsDir } from '../../src/engine/opa-binary.ts';
import { httpRequest, startEmulatorProcess, withoutAwsEnv } from './moto.ts';

// local-kms (github.com/nsmithuk/local-kms, a KMS-only emulator) as a server process for
// integration tests. scripts/provision.sh builds it with `go install` into the keydrift tool cache.
// It keeps its keys in a LevelDB database (it has no in-memory mode): each instance gets its own
// temp directory, removed by stop().

/** The local-kms module version scripts/provision.sh builds. */
export const LOCAL_KMS_VERSION = 'v0.0.0-20260228092603-2a5e92d09ab6';

export interface LocalKmsOptions {
  /** The region in its ARNs (KMS_REGION; local-kms ignores the request's region). Default us-east-1. */
  region?: string;
  /** The account in its ARNs (KMS_ACCOUNT_ID). Default 111122223333. */
  accountId?: string;
  /** A local-kms seed file's YAML (keys with fixed ids and material, aliases; see its README). */
  seedYaml?: string;
}

export interface LocalKms {
  /** `http://127.0.0.1:PORT` (local-kms listens on every interface of that port). */
  endpoint: string;
  port: number;
  region: string;
  accountId: string;
  /** Ends local-kms and removes its data directory. */
  stop(): Promise<void>;
}

export function localKmsBinary(): string {
  return path.join(toolsDir(), `local-kms-${LOCAL_KMS_VERSION.split('-').at(-1)}`, 'local-kms');
}

export async function startLocalKms(options: LocalKmsOptions = {}): Promise<LocalKms> {
  const binary = localKmsBinary();
  try {
    accessSync(binary, constants.X_OK);
  } catch {
    throw new Error(`local-kms not found at ${binary}: run "npm run provision"`);
  }
  const region = options.region ?? 'us-east-1';
  const accountId = options.accountId ?? '111122223333';
  const dir = mkdtempSync(path.join(tmpdir(), 'keydrift-local-kms-'));
  // A seed path that exists only when asked for: the default (/init/seed.yaml) could hold anything.
  const seedPath = path.join(dir, 'seed.yaml');
  if (options.seedYaml !== undefined) writeFileSync(seedPath, options.seedYaml);
  try {
    const server = await startEmulatorProcess({
      name: `local-kms ${LOCAL_KMS_VERSION}`,
      command: binary,
      args: () => [],
      env: (port) => ({
        ...withoutAwsEnv(process.env),
        PORT: String(port),
        KMS_REGION: region,
        KMS_ACCOUNT_ID: accountId,
        KMS_DATA_PATH: path.join(dir, 'data'),
        KMS_SEED_PATH: seedPath,
      }),
      ready: async (endpoint) =>
        (
          await httpRequest(`${endpoint}/`, {
            method: 'POST',
            headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': 'TrentService.ListKeys' },
            body: '{}',
          })
        ).status === 200,
      timeoutMs: 15_000,
      // It does not report a failed bind: it dereferences the nil listener and panics (start.go).
      bindFailure: /address already in use|nil pointer dereference/i,
    });
    return {
      endpoint: server.endpoint,
      port: server.port,
      region,
      accountId,
      async stop() {
        await server.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
