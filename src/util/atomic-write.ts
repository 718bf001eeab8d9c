import { randomBytes } from 'node:crypto';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
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
 * gets a writer that buffers pieces into large vectored writes (no copy into one buffer); a list
 * of pieces is taken at once. The file appears whole or not at all.
 */
export async function writeFileAtomicStream(file: string, fill: (write: (text: string | Buffer | readonly Buffer[]) => Promise<void>) => Promise<void>): Promise<void> {
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(8).toString('hex')}.tmp`);
  const handle = await open(temporary, 'wx', 0o644);
  let pieces: Buffer[] = [];
  let buffered = 0;
  const flush = async () => {
    if (pieces.length === 0) return;
    const writing = pieces;
    pieces = [];
    buffered = 0;
    await writeAll(handle, writing);
  };
  try {
    await fill(async (text) => {
      if (typeof text === 'string') pieces.push(Buffer.from(text));
      else if (Buffer.isBuffer(text)) pieces.push(text);
      else for (const piece of text) pieces.push(piece);
      buffered += typeof text === 'string' ? text.length : Buffer.isBuffer(text) ? text.length : text.reduce((sum, piece) => sum + piece.length, 0);
      if (buffered >= STREAM_WRITE_BYTES) await flush();
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

/** Every byte of `pieces`, in order: a vectored write may stop short, so it resumes where it stopped. */
export async function writeAll(handle: Pick<FileHandle, 'writev' | 'fd'>, pieces: Buffer[]): Promise<void> {
  let at = 0;
  while (at < pieces.length) {
    const group = pieces.slice(at, at + IOV_PIECES);
    let { bytesWritten } = await handle.writev(group);
    if (bytesWritten === 0 && group.some((piece) => piece.length > 0)) throw new Error(`${handle.fd}: a write made no progress`);
    let index = 0;
    while (index < group.length && bytesWritten >= group[index]!.length) bytesWritten -= group[index++]!.length;
    if (index < group.length) pieces[at + index] = group[index]!.subarray(bytesWritten);
    at += index;
  }
}

const STREAM_WRITE_BYTES = 4 * 1024 * 1024;
/** Pieces per vectored write: the system's limit (IOV_MAX) is 1024. */
const IOV_PIECES = 1024;
