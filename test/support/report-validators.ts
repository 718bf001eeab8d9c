import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { toolsDir } from '../../src/engine/opa-binary.ts';

// The Python validators of the OCSF and OpenMetrics renderers: ocsf-json-schema (the published OCSF
// schema, offline) with jsonschema, and prometheus-client's OpenMetrics parser, in the venv that
// scripts/provision.sh installs in the keydrift tool cache. A test that needs them fails, never skips.

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PROVISION = readFileSync(path.join(ROOT, 'scripts', 'provision.sh'), 'utf8');

function pinned(variable: string): string {
  const version = new RegExp(`^${variable}="(.+)"$`, 'm').exec(PROVISION)?.[1];
  assert.ok(version, `scripts/provision.sh pins no ${variable}`);
  return version;
}

export const OCSF_JSON_SCHEMA_VERSION = pinned('OCSF_JSON_SCHEMA_VERSION');
export const PROMETHEUS_CLIENT_VERSION = pinned('PROMETHEUS_CLIENT_VERSION');

/** The venv's python, or a failure that says how to install it. */
export function validatorsPython(): string {
  const dir = path.join(toolsDir(), `report-validators-ocsf-json-schema-${OCSF_JSON_SCHEMA_VERSION}-prometheus-client-${PROMETHEUS_CLIENT_VERSION}`);
  const python = path.join(dir, 'bin', 'python');
  let ready = true;
  try {
    accessSync(python, constants.X_OK);
    accessSync(path.join(dir, '.complete'));
  } catch {
    ready = false;
  }
  assert.ok(
    ready,
    `the report validators are not provisioned (missing ${dir}): run "bash scripts/provision.sh" ` +
      `(a venv with ocsf-json-schema ${OCSF_JSON_SCHEMA_VERSION}, jsonschema and prometheus-client ${PROMETHEUS_CLIENT_VERSION})`,
  );
  return python;
}

function run(script: string, args: string[], input?: string): string {
  const result = spawnSync(validatorsPython(), [path.join(ROOT, 'test', 'support', script), ...args], {
    encoding: 'utf8',
    timeout: 120_000,
    maxBuffer: 64 * 1024 * 1024,
    ...(input === undefined ? {} : { input }),
  });
  assert.equal(result.status, 0, `${script} failed (status ${result.status}, signal ${result.signal}): ${result.stderr}`);
  return result.stdout;
}

/**
 * Every schema error of the OCSF events (one event or an array), each "event N: /pointer: message",
 * against the published OCSF schema of the version and profiles each event's metadata names.
 */
export function validateOcsf(events: unknown): string[] {
  const dir = mkdtempSync(path.join(tmpdir(), 'keydrift-ocsf-'));
  try {
    const file = path.join(dir, 'events.json');
    writeFileSync(file, JSON.stringify(events));
    return JSON.parse(run('ocsf_validate.py', [file])) as string[];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface ParsedSample {
  name: string;
  labels: Record<string, string>;
  value: number | string;
  timestamp: unknown;
}

export interface ParsedFamily {
  name: string;
  type: string;
  unit: string;
  help: string;
  samples: ParsedSample[];
}

/** The exposition as prometheus-client's OpenMetrics parser reads it, or the parser's error. */
export function parseOpenMetrics(text: string): { families: ParsedFamily[] } | { error: string } {
  return JSON.parse(run('openmetrics_parse.py', [], text)) as { families: ParsedFamily[] } | { error: string };
}
