import { stat } from 'node:fs/promises';
import path from 'node:path';
import { buildCustomBundle } from '../../engine/custom.ts';
import { buildBuiltinBundle, testPolicies } from '../../engine/opa-cli.ts';
import { displayPath } from '../../util/paths.ts';
import { parse, UsageError } from '../options.ts';
import { help } from './scan.ts';
import { optionalConfig } from './shared.ts';
import { terminalLine, terminalLines } from '../../util/terminal.ts';

export const POLICY_HELP = `Usage: keydrift policy test [--config FILE] [--coverage] [--threshold N] [FOLDER...]
       keydrift policy build [FOLDER --output FILE]

test    run the Rego unit tests of the built-in rules, of the config's custom Rego folders
        (policy.bundles) and of any FOLDER given, with opa
build   without FOLDER: compile the built-in rules to policies/bundle.tar.gz;
        with FOLDER: compile a custom policy folder to a wasm bundle you can list in policy.bundles
Both need opa (npm run provision installs the pinned one; or set KEYDRIFT_OPA, or put opa on PATH).`;

export async function policy(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const { values, positionals } = parse(rest, {
    help: { type: 'boolean', short: 'h' },
    config: { type: 'string' },
    coverage: { type: 'boolean' },
    threshold: { type: 'string' },
    output: { type: 'string', short: 'o' },
    verbose: { type: 'boolean', short: 'v' },
    quiet: { type: 'boolean', short: 'q' },
    'no-color': { type: 'boolean' },
  });
  if (values['help'] || sub === undefined || sub === '--help' || sub === '-h') return help(POLICY_HELP);
  if (sub === 'build') return build(positionals, values['output'] as string | undefined, Boolean(values['quiet']));
  if (sub === 'test') {
    const threshold = values['threshold'] === undefined ? undefined : Number(values['threshold']);
    if (threshold !== undefined && !(threshold >= 0 && threshold <= 100)) throw new UsageError('--threshold must be a number from 0 to 100');
    const folders = [...positionals.map((folder) => path.resolve(folder)), ...(await configFolders(values))];
    const run = testPolicies([...new Set(folders)], {
      coverage: Boolean(values['coverage']) || threshold !== undefined,
      ...(threshold === undefined ? {} : { threshold }),
    });
    process.stdout.write(terminalLines(run.stdout));
    process.stderr.write(terminalLines(run.stderr));
    return run.status === 0 ? 0 : 1;
  }
  throw new UsageError(`unknown policy subcommand "${sub}"; expected test or build`);
}

async function build(folders: string[], output: string | undefined, quiet: boolean): Promise<number> {
  if (folders.length === 0) {
    const target = output ?? 'policies/bundle.tar.gz';
    const run = buildBuiltinBundle(target);
    process.stderr.write(terminalLines(run.stderr));
    if (run.status !== 0) return 2;
    if (!quiet) process.stdout.write(`${terminalLine(`keydrift: built ${target}`)}\n`);
    return 0;
  }
  if (folders.length > 1) throw new UsageError('policy build takes one FOLDER at a time');
  if (!output) throw new UsageError('policy build FOLDER needs --output FILE.tar.gz');
  await buildCustomBundle(path.resolve(folders[0]!), path.resolve(output));
  if (!quiet) process.stdout.write(`${terminalLine(`keydrift: built ${displayPath(output)} from ${displayPath(folders[0]!)}`)}\n`);
  return 0;
}

/** The Rego folders among the config's policy.bundles (wasm bundles carry no tests). */
async function configFolders(values: Record<string, string | boolean | undefined>): Promise<string[]> {
  const config = await optionalConfig(values);
  if (!config) return [];
  const folders: string[] = [];
  for (const bundle of config.policy?.bundles ?? []) {
    const folder = path.resolve(config.baseDir, bundle);
    try {
      if ((await stat(folder)).isDirectory()) folders.push(folder);
    } catch {
      throw new UsageError(`policy.bundles: ${displayPath(folder)} does not exist`);
    }
  }
  return folders;
}
