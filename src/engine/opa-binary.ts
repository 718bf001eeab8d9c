import { accessSync, constants } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';

/** The opa release the committed bundle is built with; scripts/provision.sh installs exactly this. */
export const OPA_VERSION = 'v1.22.3';

export class OpaNotFoundError extends Error {}

/**
 * `KEYDRIFT_OPA`, then the provisioned tool cache, then `opa` on PATH. Only `policy build` and
 * `policy test` need it: scanning runs the committed wasm bundle.
 */
export function opaBinary(): string {
  const candidates = [
    process.env['KEYDRIFT_OPA'],
    path.join(toolsDir(), `opa-${OPA_VERSION}`, 'opa'),
    ...(process.env['PATH'] ?? '').split(path.delimiter).filter(Boolean).map((dir) => path.join(dir, 'opa')),
  ].filter((candidate): candidate is string => Boolean(candidate));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // try the next one
    }
  }
  throw new OpaNotFoundError(
    `opa ${OPA_VERSION} not found: run "npm run provision" (go install github.com/open-policy-agent/opa@${OPA_VERSION}), or set KEYDRIFT_OPA to an opa binary`,
  );
}

export function toolsDir(): string {
  return process.env['KEYDRIFT_TOOLS_DIR'] ?? path.join(process.env['XDG_CACHE_HOME'] ?? path.join(homedir(), '.cache'), 'keydrift-tools');
}
