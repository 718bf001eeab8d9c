import { spawnSync } from 'node:child_process';
import { ENTRYPOINT } from './bundle.ts';
import { opaBinary } from './opa-binary.ts';
import { packageRoot } from '../util/package-root.ts';

/** The repository root: policies/ paths inside the bundle are recorded relative to it. */
export const PACKAGE_ROOT = packageRoot() + '/';

export interface OpaRun {
  status: number;
  stdout: string;
  stderr: string;
}

export function runOpa(args: string[], cwd = PACKAGE_ROOT): OpaRun {
  const result = spawnSync(opaBinary(), args, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.error) throw result.error;
  return { status: result.status ?? 1, stdout: result.stdout, stderr: result.stderr };
}

/**
 * `opa build -t wasm` of the built-in rules, limited to wasm-native builtins by the capabilities
 * file. Optimised (-O=2: rules partially evaluated and inlined): measured 10% less evaluation time
 * on 100,000 items, with the same findings (bench/).
 */
export function buildBuiltinBundle(output = 'policies/bundle.tar.gz'): OpaRun {
  return runOpa([
    'build',
    '--target', 'wasm',
    '--optimize', '2',
    '--entrypoint', ENTRYPOINT,
    '--capabilities', 'policies/capabilities.json',
    '--ignore', '*_test.rego',
    '--output', output,
    'policies/keydrift',
  ]);
}

/** `opa test` over the built-in rules (and any extra folders), with coverage when asked. */
export function testPolicies(extra: string[] = [], options: { coverage?: boolean; threshold?: number } = {}): OpaRun {
  const args = ['test', '--capabilities', 'policies/capabilities.json'];
  if (options.coverage) args.push('--coverage', '--format', 'json');
  if (options.threshold !== undefined) args.push('--threshold', String(options.threshold));
  return runOpa([...args, 'policies/keydrift', ...extra]);
}
