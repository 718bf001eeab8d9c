import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { appendEntries, AuditLogError, entryHash, GENESIS, resolveActor, signHead, verifyLog, type AuditEntry, type AuditRecord } from '../../src/remediate/audit-log.ts';
import { registerSecret } from '../../src/util/redact.ts';
import { removeDir, tempDir } from '../support/certs.ts';

// The audit log is what an auditor trusts after keydrift changed keys: every way of tampering
// with it must be caught and named by its line, and no credential may ever be written into it.

function record(n: number, extra: Partial<AuditRecord> = {}): AuditRecord {
  return {
    reason: { rule: 'KD-ROT-001', fingerprint: `fp${n}`, text: 'nightly' },
    resource: `aws-kms:arn:aws:kms:eu-west-1:111122223333:key/k${n}`,
    action: 'enable-rotation',
    before: { rotationEnabled: false },
    after: { rotationEnabled: true, rotationPeriodDays: 365 },
    result: { status: 'applied' },
    ...extra,
  };
}

const lines = (file: string): string[] => readFileSync(file, 'utf8').split('\n').slice(0, -1);
const write = (file: string, rows: string[]): void => writeFileSync(file, rows.map((row) => row + '\n').join(''));

/** Rewrites the whole chain after the rows were changed, as an attacker with write access would. */
function recomputed(rows: string[]): string[] {
  let prev = GENESIS;
  return rows.map((row, index) => {
    const { hash: _old, ...entry } = JSON.parse(row) as AuditEntry;
    const content = { ...entry, seq: index + 1, prev };
    const hash = entryHash(content);
    prev = hash;
    return JSON.stringify({ ...content, hash });
  });
}

describe('audit log', () => {
  let dir: string;
  let counter = 0;
  const keys = generateKeyPairSync('ed25519');
  const otherKeys = generateKeyPairSync('ed25519');
  const publicPem = keys.publicKey.export({ type: 'spki', format: 'pem' }).toString();

  before(() => (dir = tempDir()));
  after(() => removeDir(dir));

  /** A fresh log of `count` entries. */
  async function log(count = 5): Promise<string> {
    const file = path.join(dir, `audit-${++counter}.jsonl`);
    await appendEntries(file, Array.from({ length: count }, (_, index) => record(index + 1)), { actor: 'alice' });
    return file;
  }

  test('appends a hash chain that verifies, continuing across appends', async () => {
    const file = await log(2);
    const more = await appendEntries(file, [record(3), record(4, { result: { status: 'failed', detail: 'AccessDenied' } })], { actor: 'bob', now: () => new Date('2026-11-01T00:00:00Z') });
    const entries = lines(file).map((row) => JSON.parse(row) as AuditEntry);
    assert.deepEqual(entries.map((entry) => entry.seq), [1, 2, 3, 4]);
    assert.equal(entries[0]!.prev, GENESIS);
    for (let index = 1; index < entries.length; index++) assert.equal(entries[index]!.prev, entries[index - 1]!.hash);
    for (const entry of entries) assert.equal(entry.hash, entryHash(entry));
    assert.deepEqual([entries[0]!.actor, entries[2]!.actor], ['alice', 'bob']);
    assert.equal(more[1]!.time, '2026-11-01T00:00:00.000Z');
    assert.deepEqual(more[1]!.result, { status: 'failed', detail: 'AccessDenied' });
    assert.match(entries[0]!.id, /^[0-9a-f-]{36}$/);
    const result = await verifyLog(file);
    assert.equal(result.problem, null);
    assert.equal(result.entries, 4);
    assert.deepEqual(result.head, { seq: 4, hash: entries[3]!.hash });
  });

  test('the actor is --actor, else GITHUB_ACTOR, else the OS user', () => {
    assert.equal(resolveActor('carol', { GITHUB_ACTOR: 'octocat' }), 'carol');
    assert.equal(resolveActor(undefined, { GITHUB_ACTOR: 'octocat' }), 'octocat');
    assert.ok(resolveActor(undefined, {}).length > 0);
  });

  test('an edited field is named by its line', async () => {
    const file = await log();
    const rows = lines(file);
    rows[2] = rows[2]!.replace('"status":"applied"', '"status":"skipped"');
    write(file, rows);
    const { problem } = await verifyLog(file);
    assert.equal(problem?.line, 3);
    assert.match(problem!.message, /^line 3: entry edited: its hash does not match its content \(seq 3\)$/);
  });

  test('a removed line is named where the gap is', async () => {
    const file = await log();
    const rows = lines(file);
    rows.splice(1, 1);
    write(file, rows);
    const { problem } = await verifyLog(file);
    assert.equal(problem?.line, 2);
    assert.equal(problem!.message, 'line 2: seq 3 follows seq 1: an entry was removed (seq 2) before it');
  });

  test('removing the first entry is caught too', async () => {
    const file = await log();
    write(file, lines(file).slice(1));
    const { problem } = await verifyLog(file);
    assert.equal(problem?.line, 1);
    assert.match(problem!.message, /^line 1: seq 2 opens the log: an entry was removed \(seq 1\) before it$/);
  });

  test('an inserted line that copies an entry is named', async () => {
    const file = await log();
    const rows = lines(file);
    rows.splice(3, 0, rows[1]!);
    write(file, rows);
    const { problem } = await verifyLog(file);
    assert.equal(problem?.line, 4);
    assert.equal(problem!.message, 'line 4: seq 2 follows seq 3: a copy of line 2 was inserted');
  });

  test('a forged entry chained into place is named as inserted, not the genuine entry after it', async () => {
    const file = await log();
    const rows = lines(file);
    const previous = JSON.parse(rows[1]!) as AuditEntry;
    const forged = { ...(JSON.parse(rows[2]!) as AuditEntry), resource: 'forged', seq: 3, prev: previous.hash };
    rows.splice(2, 0, JSON.stringify({ ...forged, hash: entryHash(forged) }));
    write(file, rows);
    const { problem } = await verifyLog(file);
    assert.equal(problem?.line, 3);
    assert.equal(problem!.message, 'line 3: entry inserted: line 4 carries the same seq 3 and chains to the entry before it');
  });

  test('a non-entry line or a blank line inserted is named', async () => {
    const file = await log();
    const rows = lines(file);
    write(file, [...rows.slice(0, 2), '{"note":"hi"}', ...rows.slice(2)]);
    assert.match((await verifyLog(file)).problem!.message, /^line 3: not an audit entry: hash/);
    write(file, [...rows.slice(0, 4), '', ...rows.slice(4)]);
    assert.match((await verifyLog(file)).problem!.message, /^line 5: empty line/);
    write(file, [rows[0]!, 'not json at all', ...rows.slice(1)]);
    assert.equal((await verifyLog(file)).problem!.message, 'line 2: not JSON');
  });

  test('a line moved later is named as reordered', async () => {
    const file = await log();
    const rows = lines(file);
    const [moved] = rows.splice(0, 1);
    rows.splice(3, 0, moved!);
    write(file, rows);
    const { problem } = await verifyLog(file);
    assert.equal(problem?.line, 1);
    assert.equal(problem!.message, 'line 1: seq 2 opens the log but seq 1 comes later (line 4): lines reordered');
  });

  test('reordered lines are named as reordered', async () => {
    const file = await log();
    const rows = lines(file);
    [rows[1], rows[2]] = [rows[2]!, rows[1]!];
    write(file, rows);
    const { problem } = await verifyLog(file);
    assert.equal(problem?.line, 2);
    assert.equal(problem!.message, 'line 2: seq 3 follows seq 1 but seq 2 comes later (line 3): lines reordered');
  });

  test('an entry replaced with a valid one from another log breaks prev', async () => {
    const file = await log();
    const other = await log();
    const rows = lines(file);
    rows[2] = lines(other)[2]!;
    write(file, rows);
    const { problem } = await verifyLog(file);
    assert.equal(problem?.line, 3);
    assert.equal(problem!.message, "line 3: prev does not match line 2's hash: lines reordered or inserted");
  });

  test('a cut-off last line is named', async () => {
    const file = await log();
    const text = readFileSync(file, 'utf8');
    writeFileSync(file, text.slice(0, -20));
    assert.equal((await verifyLog(file)).problem!.message, 'line 5: no line ending: the last entry was cut off or edited');
    // A whole entry without its newline would glue the next append onto it.
    writeFileSync(file, text.slice(0, -1));
    assert.equal((await verifyLog(file)).problem!.message, 'line 5: no line ending: the last entry was cut off or edited');
    await assert.rejects(appendEntries(file, [record(6)]), /refusing to append/);
  });

  test('a signed log verifies with the public key; tampering after signing is caught', async () => {
    const file = await log();
    const signature = await signHead(file, keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
    assert.equal(signature.seq, 5);
    const signed = await verifyLog(file, { publicKey: publicPem });
    assert.equal(signed.problem, null);
    assert.equal(signed.signatureValid, true);

    // Truncated after signing: the chain that is left is intact, only the signature shows it.
    const rows = lines(file);
    write(file, rows.slice(0, 3));
    assert.equal((await verifyLog(file)).problem, null);
    const truncated = await verifyLog(file, { publicKey: publicPem });
    assert.match(truncated.problem!.message, /signature covers seq 5 but the log ends at seq 3: entries were removed after signing \(truncated\)/);

    // Appended after signing: not vouched for.
    write(file, rows);
    await appendEntries(file, [record(6)]);
    assert.match((await verifyLog(file, { publicKey: publicPem })).problem!.message, /covers seq 5, not the last entry \(seq 6\)/);
  });

  test('a fully recomputed chain passes the chain check and is caught only by the signature', async () => {
    const file = await log();
    await signHead(file, keys.privateKey);
    const rows = lines(file);
    rows[1] = rows[1]!.replace('"status":"applied"', '"status":"skipped"');
    write(file, recomputed(rows));
    assert.equal((await verifyLog(file)).problem, null, 'without a key a recomputed chain is indistinguishable');
    const { problem } = await verifyLog(file, { publicKey: publicPem });
    assert.equal(problem?.line, 5);
    assert.match(problem!.message, /line 5: seq 5 is not the entry that was signed: the log was rewritten and its chain recomputed/);

    // Re-signing with the attacker's own key does not help: the verifier holds the real public key.
    await signHead(file, otherKeys.privateKey);
    assert.match((await verifyLog(file, { publicKey: publicPem })).problem!.message, /signed by another key/);
  });

  test('a missing or edited signature file is a problem only when a public key is given', async () => {
    const file = await log();
    assert.match((await verifyLog(file, { publicKey: publicPem })).problem!.message, /^signature missing: .*\.sig does not exist/);
    await signHead(file, keys.privateKey);
    const sig = JSON.parse(readFileSync(`${file}.sig`, 'utf8')) as Record<string, unknown>;
    const rows = lines(file);
    writeFileSync(`${file}.sig`, JSON.stringify({ ...sig, seq: 4, hash: (JSON.parse(rows[3]!) as AuditEntry).hash }));
    assert.match((await verifyLog(file, { publicKey: publicPem })).problem!.message, /signature invalid/);
  });

  test('appending to a broken log is refused, and the log is left as it was', async () => {
    const file = await log();
    const rows = lines(file);
    rows.splice(2, 1);
    write(file, rows);
    const brokenText = readFileSync(file, 'utf8');
    await assert.rejects(appendEntries(file, [record(9)]), (error: Error) => {
      assert.ok(error instanceof AuditLogError);
      assert.match(error.message, /refusing to append to a broken audit log: line 3: seq 4 follows seq 2/);
      return true;
    });
    assert.equal(readFileSync(file, 'utf8'), brokenText);
    assert.equal(existsSync(`${file}.lock`), false, 'the lock is released');
    await assert.rejects(signHead(file, keys.privateKey), /refusing to sign a broken audit log/);
  });

  test('a second appender is kept out while a lock is held', async () => {
    const file = await log(1);
    writeFileSync(`${file}.lock`, '');
    await assert.rejects(appendEntries(file, [record(2)]), /another keydrift is appending to this log/);
    assert.equal(lines(file).length, 1);
  });

  test('a registered secret never reaches the file, in any field', async () => {
    const canary = 'canary-Secret-7f3a9c1e2b';
    registerSecret(canary);
    const file = path.join(dir, 'canary.jsonl');
    await appendEntries(file, [
      record(1, {
        reason: { rule: 'KD-ROT-003', text: `incident: token ${canary} leaked` },
        resource: `vault:transit/${canary}`,
        before: { note: canary, [canary]: [canary] },
        after: null,
        result: { status: 'failed', detail: `403 from backend: x-vault-token: ${canary}; Authorization: Bearer ${canary}` },
      }),
    ], { actor: canary });
    const text = readFileSync(file, 'utf8');
    assert.doesNotMatch(text, new RegExp(canary));
    assert.match(text, /\[REDACTED\]/);
    assert.equal((await verifyLog(file)).problem, null, 'the redacted entry is what was hashed');
  });

  test('a missing log is an error, an empty one has no entries', async () => {
    await assert.rejects(verifyLog(path.join(dir, 'absent.jsonl')), (error: Error) => error instanceof AuditLogError && /absent\.jsonl: cannot read file \(ENOENT\)/.test(error.message));
    const empty = path.join(dir, 'empty.jsonl');
    writeFileSync(empty, '');
    assert.deepEqual(await verifyLog(empty), { entries: 0, head: null, problem: null, signatureValid: false });
  });
});
