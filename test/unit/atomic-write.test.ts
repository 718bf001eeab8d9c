import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { writeAll, writeFileAtomicStream } from '../../src/util/atomic-write.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'keydrift-atomic-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('a streamed file holds every piece in order: strings, buffers and lists of thousands of pieces', async () => {
  const file = path.join(dir, 'report.json');
  const pieces = Array.from({ length: 5000 }, (_, i) => Buffer.from(`${i},`));
  const big = Buffer.alloc(5 * 1024 * 1024, 0x61);
  await writeFileAtomicStream(file, async (write) => {
    await write('[');
    await write(pieces);
    await write(big);
    await write(']');
  });
  assert.equal(readFileSync(file, 'utf8'), `[${pieces.join('')}${big.toString()}]`);
  assert.deepEqual(readdirSync(dir), ['report.json']);
});

test('a failure part way leaves the previous file and no temporary one', async () => {
  const file = path.join(dir, 'kept.json');
  await writeFileAtomicStream(file, async (write) => write('old'));
  await assert.rejects(
    writeFileAtomicStream(file, async (write) => {
      await write(Buffer.alloc(6 * 1024 * 1024));
      throw new Error('renderer failed');
    }),
    /renderer failed/,
  );
  assert.equal(readFileSync(file, 'utf8'), 'old');
  assert.ok(readdirSync(dir).every((name) => !name.endsWith('.tmp')));
});

test('a vectored write that stops short resumes mid-piece, and one that makes no progress is an error', async () => {
  const written: Buffer[] = [];
  // Writes at most 7 bytes per call, like a kernel that returns early.
  const short = {
    fd: 9,
    writev: async (buffers: Buffer[]) => {
      let budget = 7;
      for (const buffer of buffers) {
        const part = buffer.subarray(0, budget);
        written.push(Buffer.from(part));
        budget -= part.length;
        if (budget === 0) break;
      }
      return { bytesWritten: 7 - budget, buffers };
    },
  };
  const pieces = ['abc', 'defghij', '', 'klmnopqrstu', 'v'].map((text) => Buffer.from(text));
  await writeAll(short as never, pieces);
  assert.equal(Buffer.concat(written).toString(), 'abcdefghijklmnopqrstuv');
  const stuck = { fd: 9, writev: async (buffers: Buffer[]) => ({ bytesWritten: 0, buffers }) };
  await assert.rejects(writeAll(stuck as never, [Buffer.from('x')]), /made no progress/);
});
