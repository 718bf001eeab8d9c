import { didYouMean } from '../util/did-you-mean.ts';
import { realpathSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../config/load.ts';
import { OpaNotFoundError } from '../engine/opa-binary.ts';
import { PolicyError } from '../engine/engine.ts';
import { UnknownRuleError } from '../findings/assemble.ts';
import { EXIT } from '../findings/outcome.ts';
import { TOOL } from '../model/tool.ts';
import { hasAbandonedWork } from '../util/abandoned.ts';
import { redact, registerEnvironmentSecrets } from '../util/redact.ts';
import { terminalLine } from '../util/terminal.ts';
import { audit } from './commands/audit.ts';
import { evaluate } from './commands/evaluate.ts';
import { history } from './commands/history.ts';
import { inventory } from './commands/inventory.ts';
import { policy } from './commands/policy.ts';
import { remediate } from './commands/remediate.ts';
import { report } from './commands/report.ts';
import { scan } from './commands/scan.ts';
import { verify } from './commands/verify.ts';
import { UsageError } from './options.ts';

export const MAIN_HELP = `Usage: keydrift <command> [options]

Policy-as-code compliance and drift scanner for encryption keys and certificates.

Commands:
  scan                         collect, evaluate, write reports
  inventory                    collect only; write the normalized inventory (JSON)
  evaluate --inventory FILE    evaluate a saved inventory or JSON report, no network
  report --from FILE --format  re-render a saved JSON report (--evidence DIR: an auditor's bundle of it)
  verify DIR                   check an evidence bundle: file digests, signature, re-derived findings
  policy test | policy build   run the Rego tests | compile the policies to wasm
  audit verify | audit sign    check the remediation audit log's hash chain | sign its head
  remediate plan | apply       plan the allowed fixes | apply a reviewed plan (AWS KMS)
  history append | anomalies   add a report to the run history | what changed in the last run

Run "keydrift <command> --help" for a command's options.
Exit codes: 0 compliant, 1 findings at or above --fail-on, 2 usage/config/policy error, 3 incomplete.`;

const COMMANDS: Record<string, (argv: string[]) => Promise<number>> = { scan, inventory, evaluate, report, verify, policy, audit, remediate, history };

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const verbose = rest.includes('--verbose') || rest.includes('-v');
  registerEnvironmentSecrets();
  try {
    if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
      process.stdout.write(MAIN_HELP + '\n');
      return command === undefined ? EXIT.usage : 0;
    }
    if (command === '--version' || command === 'version') {
      process.stdout.write(`${TOOL.name} ${TOOL.version}\n`);
      return 0;
    }
    const run = COMMANDS[command];
    if (!run) throw new UsageError(`unknown command "${command}"${didYouMean(command, Object.keys(COMMANDS))}; run "keydrift --help"`);
    return await run(rest);
  } catch (error) {
    return reportError(error, verbose, command);
  }
}

/** One clear line per problem, exit 2; a stack trace only with --verbose. */
function reportError(error: unknown, verbose: boolean, command: string | undefined): number {
  // Messages name files and ids from data: redacted and escaped like every logger line.
  const write = (line: string) => process.stderr.write(`keydrift: ${terminalLine(redact(line))}\n`);
  if (error instanceof ConfigError) {
    for (const problem of error.problems) write(problem);
  } else if (error instanceof UsageError) {
    write(error.message);
    if (command && COMMANDS[command]) write(`run "keydrift ${command} --help" for usage`);
  } else if (error instanceof OpaNotFoundError || error instanceof PolicyError || error instanceof UnknownRuleError) {
    write(error.message);
  } else {
    write(`error: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (verbose && error instanceof Error && error.stack) {
    for (const line of redact(error.stack).split('\n')) process.stderr.write(terminalLine(line) + '\n');
  }
  return EXIT.usage;
}

function invokedDirectly(): boolean {
  if (!process.argv[1]) return false;
  const self = fileURLToPath(import.meta.url);
  // Bundled into the Action (dist/action.js) this module shares the entry file: it must not run.
  if (!path.basename(self).startsWith('main.')) return false;
  try {
    return realpathSync(process.argv[1]) === realpathSync(self);
  } catch {
    return false;
  }
}

if (invokedDirectly()) {
  const code = await main(process.argv.slice(2));
  // Reports are written; work cut off by --timeout must not keep the process alive.
  if (hasAbandonedWork()) process.exit(code);
  process.exitCode = code;
}
