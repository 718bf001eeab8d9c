import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import path from 'node:path';

/**
 * Writes `text` to `file` whole or not at all: through a temporary file beside it, created
 * exclusively under an unpredictable name (a planted symlink at a guessable `<file>.tmp` would
 * otherwise redirect the write), then renamed over the target.
 */
export async function writeFileAtomic(file: string, text: string | Uint8Array): Promise<void> {
  await writeFileAtomicStream(file, async (write) => write(typeof text === 'string' ? text : Buffer.from(text.buffer, text.byteOffset, text.byteLength)));
}

/**
 * The same for a file written piece by piece (a report too large to build as one string): `fill`
 * gets a writer that buffers pieces into large writes; the file appears whole or not at all.
 */
export async function writeFileAtomicStream(file: string, fill: (write: (text: string | Buffer) => Promise<void>) => Promise<void>): Promise<void> {
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(8).toString('hex')}.tmp`);
  const handle = await open(temporary, 'wx', 0o644);
  const pieces: (string | Buffer)[] = [];
  let buffered = 0;
  const flush = async () => {
    if (pieces.length === 0) return;
    const bytes = Buffer.concat(pieces.map((piece) => (typeof piece === 'string' ? Buffer.from(piece) : piece)));
    pieces.length = 0;
    buffered = 0;
    // writeFile loops until every byte is written (a single write may stop short).
    await handle.writeFile(bytes);
  };
  try {
    await fill(async (text) => {
      pieces.push(text);
      buffered += text.length;
      if (buffered >= STREAM_WRITE_CHARS) await flush();
    });
    await flush();
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(temporary, { force: true });
    throw error;
  }
  await handle.close();
  try {
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

const STREAM_WRITE_CHARS = 4 * 1024 * 1024;
