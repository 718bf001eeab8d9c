import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { CustomRuleMeta } from '../rules/custom-rule.ts';
import { displayPath } from '../util/paths.ts';
import { describeError, fieldPath, validator } from '../util/schemas.ts';
import { loadModule, PolicyError, type PolicyModule } from './engine.ts';
import { PACKAGE_ROOT, runOpa } from './opa-cli.ts';
import { DEFAULT_SANDBOX_TIMEOUT_MS, evaluateInSandbox, SandboxError } from './sandbox.ts';

// Custom policies share the built-in input. A custom bundle exposes two entrypoints:
//   keydrift/custom/findings  a set of {rule, uid, severity?, evidence, message?}
//   keydrift/custom/rules     {<rule id>: {title, severity, description, ...}}: the catalogue entries
export const CUSTOM_FINDINGS = 'keydrift/custom/findings';
export const CUSTOM_RULES = 'keydrift/custom/rules';

export interface CustomPolicy {
  module: PolicyModule;
  rules: Record<string, CustomRuleMeta>;
}

/** Loads each `policy.bundles` entry: a wasm bundle (.tar.gz) as is, a Rego folder compiled with opa. */
export async function loadCustomPolicies(bundles: readonly string[], baseDir: string, timeoutMs = DEFAULT_SANDBOX_TIMEOUT_MS): Promise<CustomPolicy[]> {
  const loaded: CustomPolicy[] = [];
  for (const entry of bundles) {
    const file = path.resolve(baseDir, entry);
    const shown = displayPath(file);
    let isFolder: boolean;
    try {
      isFolder = (await stat(file)).isDirectory();
    } catch {
      throw new PolicyError(`policy.bundles: ${shown} does not exist`);
    }
    const module = isFolder ? await compileFolder(file, shown) : await loadModule(file, CUSTOM_FINDINGS, shown, { sandboxed: true });
    loaded.push({ module, rules: await rulesOf(module, shown, timeoutMs) });
  }
  return loaded;
}

/** `opa build -t wasm` of a user's Rego folder, with the same wasm-only capabilities and our lib. */
export async function buildCustomBundle(folder: string, output: string): Promise<void> {
  const run = runOpa([
    'build',
    '--target', 'wasm',
    '--entrypoint', CUSTOM_FINDINGS,
    '--entrypoint', CUSTOM_RULES,
    '--capabilities', path.join(PACKAGE_ROOT, 'policies/capabilities.json'),
    '--ignore', '*_test.rego',
    '--output', output,
    folder,
    path.join(PACKAGE_ROOT, 'policies/keydrift/lib'),
  ]);
  if (run.status !== 0) {
    const detail = `${run.stderr}\n${run.stdout}`.trim().split('\n').slice(0, 12).join('\n');
    throw new PolicyError(`${displayPath(folder)}: opa build failed:\n${detail}`);
  }
}

async function compileFolder(folder: string, shown: string): Promise<PolicyModule> {
  const work = await mkdtemp(path.join(tmpdir(), 'keydrift-custom-'));
  try {
    const output = path.join(work, 'bundle.tar.gz');
    await buildCustomBundle(folder, output);
    return await loadModule(output, CUSTOM_FINDINGS, shown, { sandboxed: true });
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function rulesOf(module: PolicyModule, shown: string, timeoutMs: number): Promise<Record<string, CustomRuleMeta>> {
  if (!(CUSTOM_RULES in module.policy.entrypoints)) {
    throw new PolicyError(`${shown}: no ${CUSTOM_RULES} entrypoint: declare the rules' titles and severities in "rules" of package keydrift.custom`);
  }
  let resultSet: { result?: unknown }[] | undefined;
  try {
    resultSet = (await evaluateInSandbox({ wasm: module.wasm, entrypoint: CUSTOM_RULES, data: {}, inputs: [{}] }, timeoutMs))[0] as { result?: unknown }[] | undefined;
  } catch (error) {
    if (!(error instanceof SandboxError)) throw error;
    throw new PolicyError(`${shown}: data.keydrift.custom.rules: ${error.message}`);
  }
  const rules = resultSet?.[0]?.result ?? {};
  const validate = validator('custom-rules');
  if (!validate(rules)) {
    const error = validate.errors![0]!;
    throw new PolicyError(`${shown}: data.keydrift.custom.rules: ${fieldPath(error.instancePath)}: ${describeError(error)}`);
  }
  for (const id of Object.keys(rules as object)) {
    if (id.startsWith('KD-')) throw new PolicyError(`${shown}: rule id ${id}: the KD- prefix is reserved for built-in rules`);
  }
  return rules as Record<string, CustomRuleMeta>;
}
