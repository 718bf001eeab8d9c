import { AuditLogError, signHead, verifyLog } from '../../remediate/audit-log.ts';
import { AuditKeyError, publicKeyFrom } from '../../remediate/audit-signature.ts';
import { displayPath } from '../../util/paths.ts';
import { readRegularFile } from '../../util/read-regular-file.ts';
import { terminalLine } from '../../util/terminal.ts';
import { parse, UsageError } from '../options.ts';
import { help } from './scan.ts';

export const AUDIT_HELP = `Usage: keydrift audit verify LOG.jsonl [--public-key FILE]
       keydrift audit sign LOG.jsonl --sign-key FILE

Check or sign the remediation audit log (JSON Lines, one hash-chained entry per line).

  verify                 walk the hash chain and name the first edited, removed, inserted or
                         reordered line; with --public-key, also check LOG.jsonl.sig, which
                         catches a log rewritten with recomputed hashes or cut short after signing
  sign                   write LOG.jsonl.sig: an Ed25519 signature of the last entry (re-sign
                         after every append)
  --public-key FILE      Ed25519 public key (PEM) to verify the signature with
  --sign-key FILE        Ed25519 private key (PEM, unencrypted PKCS#8) to sign with
  -h, --help             this help

Exit codes: 0 intact (or signed), 1 the log or its signature was tampered with (the first
problem on stdout), 2 usage error (a missing file, a key that is not Ed25519).`;

/** A log that verifies badly is a finding about the log, not a usage error. */
const TAMPERED = 1;

const KEY_FILE_BYTES = 64 * 1024;

export async function audit(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    'public-key': { type: 'string' },
    'sign-key': { type: 'string' },
    quiet: { type: 'boolean', short: 'q' },
    verbose: { type: 'boolean', short: 'v' },
    'no-color': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values['help']) return help(AUDIT_HELP);
  const [action, log, ...extra] = positionals;
  if (action !== 'verify' && action !== 'sign') {
    throw new UsageError(action === undefined ? 'audit needs a subcommand: verify or sign' : `audit: unknown subcommand "${action}"; expected verify or sign`);
  }
  if (!log) throw new UsageError(`audit ${action} needs the audit log (keydrift audit ${action} LOG.jsonl)`);
  if (extra.length > 0) throw new UsageError(`audit ${action}: unexpected argument "${extra[0]}"`);
  try {
    return action === 'verify' ? await verify(log, values['public-key'] as string | undefined) : await sign(log, values['sign-key'] as string | undefined, Boolean(values['quiet']));
  } catch (error) {
    if (error instanceof AuditLogError) throw new UsageError(error.message);
    throw error;
  }
}

async function verify(log: string, publicKeyFile: string | undefined): Promise<number> {
  const publicKey = publicKeyFile === undefined ? undefined : await readKey(publicKeyFile, (pem) => publicKeyFrom(pem));
  const result = await verifyLog(log, { publicKey });
  if (result.problem) {
    process.stdout.write(terminalLine(`${displayPath(log)}: ${result.problem.message}`) + '\n');
    return TAMPERED;
  }
  const summary = `${result.entries} ${result.entries === 1 ? 'entry' : 'entries'}, chain intact${result.signatureValid ? ', signature valid' : ''}`;
  process.stdout.write(terminalLine(`${displayPath(log)}: ${summary}`) + '\n');
  return 0;
}

async function sign(log: string, signKeyFile: string | undefined, quiet: boolean): Promise<number> {
  if (!signKeyFile) throw new UsageError('audit sign needs --sign-key FILE (an Ed25519 private key in PEM)');
  const pem = await readKey(signKeyFile, (text) => text);
  const checked = await verifyLog(log);
  if (checked.problem) {
    process.stdout.write(terminalLine(`${displayPath(log)}: not signed: ${checked.problem.message}`) + '\n');
    return TAMPERED;
  }
  let signature;
  try {
    signature = await signHead(log, pem);
  } catch (error) {
    if (error instanceof AuditKeyError) throw new UsageError(`${displayPath(signKeyFile)}: ${error.message}`);
    throw error;
  }
  if (!quiet) process.stdout.write(terminalLine(`${displayPath(`${log}.sig`)}: signed seq ${signature.seq} with ${signature.publicKeyFingerprint}`) + '\n');
  return 0;
}

/** A key file, bounded; its content is never quoted in an error (a private key is the secret). */
export async function readKey<T>(file: string, use: (pem: string) => T): Promise<T> {
  let pem: string;
  try {
    pem = (await readRegularFile(file, KEY_FILE_BYTES)).toString('utf8');
  } catch (error) {
    throw new UsageError(`${displayPath(file)}: ${(error as Error).message.replace(/, skipped$/, '')}`);
  }
  try {
    return use(pem);
  } catch (error) {
    if (error instanceof AuditKeyError) throw new UsageError(`${displayPath(file)}: ${error.message}`);
    throw error;
  }
}
