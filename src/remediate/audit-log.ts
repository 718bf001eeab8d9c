import { createHash, randomUUID, type KeyObject } from 'node:crypto';
import { userInfo } from 'node:os';
import { open, rm } from 'node:fs/promises';
import { canonicalJson } from '../findings/fingerprint.ts';
import { writeFileAtomic } from '../util/atomic-write.ts';
import { displayPath } from '../util/paths.ts';
import { FileReadError, MIB, readRegularFile } from '../util/read-regular-file.ts';
import { redact } from '../util/redact.ts';
import { parseHeadSignature, privateKeyFrom, publicKeyFrom, signatureProblem, signChainHead, type HeadSignature } from './audit-signature.ts';

// The audit log is JSON Lines: one entry per line, each carrying the SHA-256 of the entry before
// it (`prev`) and of its own content (`hash`). Editing, removing, inserting or reordering a line
// breaks the chain at that line; an Ed25519 signature of the head (`<log>.sig`) also catches a
// chain rewritten from the start and a log cut short after signing.

export const GENESIS = '0'.repeat(64);

/** Beyond this a log is refused rather than read into memory: years of nightly applies fit. */
export const MAX_LOG_BYTES = 256 * MIB;

export const AUDIT_STATUSES = ['applied', 'skipped', 'failed', 'rolled-back'] as const;
export type AuditStatus = (typeof AUDIT_STATUSES)[number];

export interface AuditReason {
  rule?: string;
  fingerprint?: string;
  text?: string;
}

export interface AuditResult {
  status: AuditStatus;
  detail?: string;
}

/** What a caller records; the log adds the sequence number, the chain and (by default) id, time and actor. */
export interface AuditRecord {
  id?: string;
  time?: string;
  actor?: string;
  reason: AuditReason;
  resource: string;
  action: string;
  before: unknown;
  after: unknown;
  result: AuditResult;
  /** What was planned (the plan's digest and the whole action): what a rollback reverses. */
  change?: AuditChange;
}

export interface AuditEntry extends Omit<AuditRecord, 'id' | 'time' | 'actor'> {
  seq: number;
  id: string;
  time: string;
  actor: string;
  prev: string;
  hash: string;
}

export interface AuditChange {
  plan: string;
  purpose: string;
  action: unknown;
}

/** A log that cannot be read, is broken, or cannot be written to. */
export class AuditLogError extends Error {}

/** The first problem found, named by its line (null when it concerns the log as a whole). */
export interface AuditProblem {
  line: number | null;
  message: string;
}

export interface AuditVerification {
  /** Entries read (up to the first problem). */
  entries: number;
  head: { seq: number; hash: string } | null;
  problem: AuditProblem | null;
  /** True when a public key was given and the signature covers the last entry. */
  signatureValid: boolean;
}

/** `--actor` first, then the GitHub Actions actor, then the OS user. */
export function resolveActor(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (explicit?.trim()) return explicit.trim();
  if (env['GITHUB_ACTOR']?.trim()) return env['GITHUB_ACTOR'].trim();
  try {
    const name = userInfo().username;
    if (name) return name;
  } catch {
    // No passwd entry (a container running as an arbitrary uid): fall through.
  }
  return 'unknown';
}

export function entryHash(entry: Omit<AuditEntry, 'hash'> | AuditEntry): string {
  const { hash: _hash, ...content } = entry as AuditEntry;
  return createHash('sha256').update(canonicalJson(content)).digest('hex');
}

/** Every string, keys included, through redact(): an echoed token in a detail never reaches the file. */
function redacted(value: unknown): unknown {
  if (typeof value === 'string') return redact(value);
  if (Array.isArray(value)) return value.map(redacted);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([key, inner]) => [redact(key), redacted(inner)]));
  }
  return value;
}

/** An open log: entries are appended one at a time, each on disk before append() resolves. */
export interface AuditAppender {
  append(record: AuditRecord): Promise<AuditEntry>;
  close(): Promise<void>;
}

/**
 * Opens `file` for appending (created if absent), after verifying the chain already there: a
 * broken log is refused, never extended, so a break is never buried under new entries. Each entry
 * is one write of one line to a descriptor opened with O_APPEND, synced before append() resolves
 * (a crash loses no entry for a change already made); a lock file beside the log keeps two
 * appenders from forking the chain until close().
 */
export async function openAuditLog(file: string, options: { actor?: string; now?: () => Date } = {}): Promise<AuditAppender> {
  const lock = `${file}.lock`;
  try {
    await (await open(lock, 'wx', 0o600)).close();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new AuditLogError(`${displayPath(file)}: another keydrift is appending to this log (${displayPath(lock)} exists); remove the lock if none is running`);
    }
    throw new AuditLogError(`${displayPath(lock)}: cannot create the lock (${(error as NodeJS.ErrnoException).code ?? 'EIO'})`);
  }
  let handle: Awaited<ReturnType<typeof open>>;
  let head: { seq: number; hash: string };
  try {
    const existing = await verifyLog(file, { missingIsEmpty: true });
    if (existing.problem) throw new AuditLogError(`${displayPath(file)}: refusing to append to a broken audit log: ${existing.problem.message}`);
    head = existing.head ?? { seq: 0, hash: GENESIS };
    handle = await open(file, 'a', 0o600);
  } catch (error) {
    await rm(lock, { force: true });
    throw error;
  }
  const now = options.now ?? (() => new Date());
  const actor = resolveActor(options.actor);
  // Appends run one after another even when callers do not wait: the chain has one order.
  let queue: Promise<unknown> = Promise.resolve();
  const appendOne = async (record: AuditRecord): Promise<AuditEntry> => {
    const content = redacted({
      seq: head.seq + 1,
      id: record.id ?? randomUUID(),
      time: record.time ?? now().toISOString(),
      actor: record.actor ?? actor,
      reason: record.reason,
      resource: record.resource,
      action: record.action,
      before: record.before ?? null,
      after: record.after ?? null,
      result: record.result,
      ...(record.change ? { change: record.change } : {}),
      prev: head.hash,
    });
    // Hash what a reader will parse, not the in-memory object (undefined, Dates, -0 ...).
    const parsed = JSON.parse(JSON.stringify(content)) as Omit<AuditEntry, 'hash'>;
    const entry: AuditEntry = { ...parsed, hash: entryHash(parsed) };
    try {
      await writeAll(handle, Buffer.from(JSON.stringify(entry) + '\n'));
      await handle.sync();
    } catch (error) {
      throw new AuditLogError(`${displayPath(file)}: cannot append to the audit log (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
    head = { seq: entry.seq, hash: entry.hash };
    return entry;
  };
  return {
    append(record) {
      const next = queue.then(() => appendOne(record));
      queue = next.catch(() => undefined);
      return next;
    },
    async close() {
      try {
        await queue;
        await handle.close();
      } finally {
        await rm(lock, { force: true });
      }
    },
  };
}

/** Appends `records` in one go (see openAuditLog). */
export async function appendEntries(file: string, records: readonly AuditRecord[], options: { actor?: string; now?: () => Date } = {}): Promise<AuditEntry[]> {
  const log = await openAuditLog(file, options);
  try {
    const written: AuditEntry[] = [];
    for (const record of records) written.push(await log.append(record));
    return written;
  } finally {
    await log.close();
  }
}

/** Every entry of an intact log, in order; a broken log is refused (its problem names the line). */
export async function readLogEntries(file: string): Promise<AuditEntry[]> {
  const log = await verifyLog(file);
  if (log.problem) throw new AuditLogError(`${displayPath(file)}: the audit log is broken: ${log.problem.message}`);
  const text = (await readRegularFile(file, MAX_LOG_BYTES)).toString('utf8');
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as AuditEntry);
}

async function writeAll(handle: Awaited<ReturnType<typeof open>>, bytes: Buffer): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, offset, bytes.length - offset);
    offset += bytesWritten;
  }
}

/**
 * Writes `<file>.sig`: an Ed25519 signature of the log's last entry. Refuses a broken or empty log:
 * signing a broken chain would vouch for it.
 */
export async function signHead(file: string, privateKeyPem: string | KeyObject): Promise<HeadSignature> {
  const key = privateKeyFrom(privateKeyPem);
  const log = await verifyLog(file);
  if (log.problem) throw new AuditLogError(`${displayPath(file)}: refusing to sign a broken audit log: ${log.problem.message}`);
  if (!log.head) throw new AuditLogError(`${displayPath(file)}: the audit log is empty; nothing to sign`);
  const signature = signChainHead(log.head, key);
  await writeFileAtomic(`${file}.sig`, JSON.stringify(signature, null, 2) + '\n');
  return signature;
}

const HEX64 = /^[0-9a-f]{64}$/;

/** A log line that parsed: its entry (shape checked) or why it is not one. */
function shapeProblem(value: unknown): string | null {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return 'not a JSON object';
  const entry = value as Record<string, unknown>;
  if (typeof entry['hash'] !== 'string' || !HEX64.test(entry['hash'])) return 'hash: not a SHA-256 hex digest';
  if (!Number.isSafeInteger(entry['seq']) || (entry['seq'] as number) < 1) return 'seq: not a positive integer';
  if (typeof entry['prev'] !== 'string' || !HEX64.test(entry['prev'])) return 'prev: not a SHA-256 hex digest';
  for (const field of ['id', 'time', 'actor', 'resource', 'action'] as const) {
    if (typeof entry[field] !== 'string') return `${field}: missing or not a string`;
  }
  for (const field of ['before', 'after'] as const) if (!(field in entry)) return `${field}: missing`;
  if (!entry['reason'] || typeof entry['reason'] !== 'object' || Array.isArray(entry['reason'])) return 'reason: missing or not an object';
  const result = entry['result'] as Record<string, unknown> | undefined;
  if (!result || typeof result !== 'object' || !(AUDIT_STATUSES as readonly unknown[]).includes(result['status'])) {
    return `result.status: not one of ${AUDIT_STATUSES.join(', ')}`;
  }
  return null;
}

/**
 * Reads `file` (bounded) and walks the chain, stopping at the first problem: a line that is not
 * JSON or not an entry, an entry whose content no longer matches its hash (edited), a sequence or
 * `prev` break (removed, inserted or reordered, with the likeliest of the three named) and, given
 * a public key, a missing or invalid signature or a signed head that is not the last entry.
 * A missing or unreadable file is an AuditLogError (a usage problem, not tampering).
 */
export async function verifyLog(file: string, options: { publicKey?: string | KeyObject; missingIsEmpty?: boolean } = {}): Promise<AuditVerification> {
  const publicKey = options.publicKey === undefined ? undefined : publicKeyFrom(options.publicKey);
  let bytes: Buffer;
  try {
    bytes = await readRegularFile(file, MAX_LOG_BYTES);
  } catch (error) {
    if (options.missingIsEmpty && error instanceof FileReadError && error.message.includes('(ENOENT)')) bytes = Buffer.alloc(0);
    else throw new AuditLogError(`${displayPath(file)}: ${(error as Error).message.replace(/, skipped$/, '')}`);
  }
  const result = verifyChain(bytes.toString('utf8'));
  if (result.problem || !publicKey) return result;
  return { ...result, ...(await checkSignature(file, publicKey, result)) };
}

interface ParsedLine {
  line: number;
  entry: AuditEntry;
}

function verifyChain(text: string): AuditVerification {
  const verification = (entries: number, head: AuditVerification['head'], problem: AuditProblem | null): AuditVerification => ({ entries, head, problem, signatureValid: false });
  if (text === '') return verification(0, null, null);
  const rawLines = text.split('\n');
  const complete = rawLines.pop() === '';
  const parsed: (ParsedLine | AuditProblem)[] = rawLines.map((raw, index) => parseLine(raw, index + 1));
  if (!complete) parsed.push({ line: rawLines.length + 1, message: `line ${rawLines.length + 1}: no line ending: the last entry was cut off or edited` });
  let head: AuditVerification['head'] = null;
  let before: ParsedLine | null = null;
  let beforeThat: ParsedLine | null = null;
  for (const [index, item] of parsed.entries()) {
    if (!('entry' in item)) return verification(index, head, item);
    const problem = linkProblem(item, before, beforeThat, parsed, index + 1);
    if (problem) return verification(index, head, problem);
    beforeThat = before;
    before = item;
    head = { seq: item.entry.seq, hash: item.entry.hash };
  }
  return verification(parsed.length, head, null);
}

function parseLine(raw: string, line: number): ParsedLine | AuditProblem {
  if (raw.trim() === '') return { line, message: `line ${line}: empty line: a line was inserted or an entry erased` };
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return { line, message: `line ${line}: not JSON` };
  }
  const shape = shapeProblem(value);
  // An entry whose hash still matches was written that way; one that does not was edited, and
  // saying "edited" is more useful than naming the field the edit broke.
  const hash = (value as Record<string, unknown> | null)?.['hash'];
  if (typeof hash === 'string' && HEX64.test(hash) && value && typeof value === 'object' && !Array.isArray(value) && entryHash(value as AuditEntry) !== hash) {
    const seq = (value as Record<string, unknown>)['seq'];
    return { line, message: `line ${line}: entry edited: its hash does not match its content${Number.isSafeInteger(seq) ? ` (seq ${String(seq)})` : ''}` };
  }
  if (shape) return { line, message: `line ${line}: not an audit entry: ${shape}` };
  return { line, entry: value as AuditEntry };
}

/** Whether `item` follows `before` in the chain; when it does not, the likeliest cause. */
function linkProblem(item: ParsedLine, before: ParsedLine | null, beforeThat: ParsedLine | null, all: readonly (ParsedLine | AuditProblem)[], restFrom: number): AuditProblem | null {
  const { line, entry } = item;
  const prevSeq = before?.entry.seq ?? 0;
  const prevHash = before?.entry.hash ?? GENESIS;
  const expected = prevSeq + 1;
  const problem = (message: string, at = line): AuditProblem => ({ line: at, message: `line ${at}: ${message}` });
  if (entry.seq > expected) {
    // Looked ahead only here, on the line that breaks the chain, so a long intact log stays linear.
    const later = all.slice(restFrom).find((other): other is ParsedLine => 'entry' in other && other.entry.seq >= expected && other.entry.seq < entry.seq);
    const after = before ? `follows seq ${prevSeq}` : 'opens the log';
    if (later) return problem(`seq ${entry.seq} ${after} but seq ${later.entry.seq} comes later (line ${later.line}): lines reordered`);
    const missing = entry.seq - expected === 1 ? `an entry was removed (seq ${expected})` : `entries were removed (seq ${expected}-${entry.seq - 1})`;
    return problem(`seq ${entry.seq} ${after}: ${missing} before it`);
  }
  if (entry.seq === prevSeq && before) {
    // A forged entry that took the next seq and chained itself correctly is only exposed by the
    // genuine entry after it: if that one chains to the line before the forgery, name the forgery.
    if (entry.prev === (beforeThat?.entry.hash ?? GENESIS) && entry.prev !== prevHash) {
      return problem(`entry inserted: line ${line} carries the same seq ${entry.seq} and chains to the entry before it`, before.line);
    }
    return problem(`seq ${entry.seq} repeats line ${before.line}'s seq: an entry was inserted or duplicated`);
  }
  if (entry.seq < prevSeq) {
    const original = all.slice(0, restFrom - 1).find((other): other is ParsedLine => 'entry' in other && other.entry.hash === entry.hash);
    if (original) return problem(`seq ${entry.seq} follows seq ${prevSeq}: a copy of line ${original.line} was inserted`);
    return problem(`seq ${entry.seq} follows seq ${prevSeq}: lines reordered`);
  }
  if (entry.prev !== prevHash) {
    return before
      ? problem(`prev does not match line ${before.line}'s hash: lines reordered or inserted`)
      : problem('prev is not the genesis hash: the log does not start at its first entry (entries removed or a line inserted)');
  }
  return null;
}

async function checkSignature(file: string, publicKey: KeyObject, log: AuditVerification): Promise<Partial<AuditVerification>> {
  const sigFile = `${file}.sig`;
  let text: string;
  try {
    text = (await readRegularFile(sigFile, 64 * 1024)).toString('utf8');
  } catch (error) {
    const missing = error instanceof FileReadError && error.message.includes('(ENOENT)');
    return { problem: { line: null, message: missing ? `signature missing: ${displayPath(sigFile)} does not exist (sign the log with "keydrift audit sign")` : `${displayPath(sigFile)}: ${(error as Error).message}` } };
  }
  const signature = parseHeadSignature(text);
  if (typeof signature === 'string') return { problem: { line: null, message: `${displayPath(sigFile)}: not a keydrift signature: ${signature}` } };
  const invalid = signatureProblem(signature, publicKey);
  if (invalid) return { problem: { line: null, message: `${displayPath(sigFile)}: ${invalid}` } };
  const last = log.head;
  if (!last || signature.seq > last.seq) {
    return { problem: { line: null, message: `the signature covers seq ${signature.seq} but the log ends at seq ${last?.seq ?? 0}: entries were removed after signing (truncated)` } };
  }
  if (signature.seq === last.seq && signature.hash !== last.hash) {
    return { problem: { line: log.entries, message: `line ${log.entries}: seq ${last.seq} is not the entry that was signed: the log was rewritten and its chain recomputed` } };
  }
  if (signature.seq < last.seq) {
    // Either a rewrite (the signed entry differs now) or entries added after signing: neither is vouched for.
    return { problem: { line: null, message: `the signature covers seq ${signature.seq}, not the last entry (seq ${last.seq}): the log was rewritten or entries were appended after signing (re-sign it)` } };
  }
  return { signatureValid: true };
}
