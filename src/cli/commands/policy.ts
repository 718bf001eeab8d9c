import { buildBuiltinBundle, testPolicies } from '../../engine/opa-cli.ts';
import { parse, UsageError } from '../options.ts';
import { help } from './scan.ts';

export const POLICY_HELP = `Usage: keydrift policy test [--coverage] [--threshold N] [FOLDER...]
       keydrift policy build [--output FILE]

test    run the Rego unit tests of the built-in rules (and of any FOLDER given) with opa
build   compile the built-in rules to the wasm bundle policies/bundle.tar.gz
Both need the pinned opa (npm run provision installs it, or set KEYDRIFT_OPA).`;

export async function policy(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const { values, positionals } = parse(rest, {
    help: { type: 'boolean', short: 'h' },
    coverage: { type: 'boolean' },
    threshold: { type: 'string' },
    output: { type: 'string', short: 'o' },
    verbose: { type: 'boolean', short: 'v' },
    quiet: { type: 'boolean', short: 'q' },
    'no-color': { type: 'boolean' },
  });
  if (values['help'] || sub === undefined || sub === '--help' || sub === '-h') return help(POLICY_HELP);
  if (sub === 'build') {
    const run = buildBuiltinBundle((values['output'] as string | undefined) ?? 'policies/bundle.tar.gz');
    process.stderr.write(run.stderr);
    if (run.status !== 0) return 2;
    if (!values['quiet']) process.stdout.write(`keydrift: built ${(values['output'] as string | undefined) ?? 'policies/bundle.tar.gz'}\n`);
    return 0;
  }
  if (sub === 'test') {
    const threshold = values['threshold'] === undefined ? undefined : Number(values['threshold']);
    if (threshold !== undefined && !(threshold >= 0 && threshold <= 100)) throw new UsageError('--threshold must be a number from 0 to 100');
    const run = testPolicies(positionals, {
      coverage: Boolean(values['coverage']) || threshold !== undefined,
      ...(threshold === undefined ? {} : { threshold }),
    });
    process.stdout.write(run.stdout);
    process.stderr.write(run.stderr);
    return run.status === 0 ? 0 : 1;
  }
  throw new UsageError(`unknown policy subcommand "${sub}"; expected test or build`);
}
