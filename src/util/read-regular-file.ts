import { constants, type Stats } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';

// Every file keydrift reads from a user-supplied path goes through here: a FIFO, a device or a
// /proc file that lies about its size must neither hang a scan nor fill memory.

export type FileReadFailure = 'unreadable' | 'not-regular' | 'too-large';

export class FileReadError extends Error {
  readonly reason: FileReadFailure;
  constructor(reason: FileReadFailure, message: string) {
    super(message);
    this.reason = reason;
  }
}

export const MIB = 1024 * 1024;

// O_NONBLOCK makes opening a FIFO return at once instead of waiting for a writer; O_NOCTTY keeps a
// terminal device from becoming our controlling terminal. Both are 0 where the platform lacks them.
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOCTTY ?? 0);

const CHUNK = MIB;

/**
 * The bytes of a regular file, at most `maxBytes` of them. The type and size are judged on the
 * opened handle (not the path), and the read itself stops after `maxBytes + 1` bytes, so a file
 * that grows while it is read is still bounded. Messages do not repeat the path: callers name it.
 */
export async function readRegularFile(file: string, maxBytes: number): Promise<Buffer> {
  const handle = await openRegularFile(file);
  try {
    const info = await handle.stat();
    if (info.size > maxBytes) throw tooLarge(maxBytes);
    return await readUpTo(handle, maxBytes, info.size);
  } catch (error) {
    if (error instanceof FileReadError) throw error;
    throw new FileReadError('unreadable', `cannot read file (${(error as NodeJS.ErrnoException).code ?? 'EIO'})`);
  } finally {
    await handle.close();
  }
}

/**
 * The open handle of a regular file, for a caller that reads it in bounded pieces (a stream too
 * large to hold): the same checks as readRegularFile, without reading. The caller closes it.
 */
export async function openRegularFile(file: string): Promise<FileHandle> {
  let handle: FileHandle;
  try {
    handle = await open(file, OPEN_FLAGS);
  } catch (error) {
    throw await openFailure(file, error as NodeJS.ErrnoException);
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new FileReadError('not-regular', `not a regular file (${kindOf(info)}), skipped`);
    return handle;
  } catch (error) {
    await handle.close();
    if (error instanceof FileReadError) throw error;
    throw new FileReadError('unreadable', `cannot read file (${(error as NodeJS.ErrnoException).code ?? 'EIO'})`);
  }
}

async function readUpTo(handle: FileHandle, maxBytes: number, sizeHint: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  // One buffer of the stated size (plus the byte that proves the end) suffices for an honest file.
  let buffer = Buffer.allocUnsafe(Math.min(maxBytes + 1, Math.max(sizeHint + 1, 4096)));
  let filled = 0;
  for (;;) {
    const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, null);
    if (bytesRead === 0) break;
    filled += bytesRead;
    if (total + filled > maxBytes) throw tooLarge(maxBytes);
    if (filled === buffer.length) {
      chunks.push(buffer);
      total += filled;
      buffer = Buffer.allocUnsafe(Math.min(CHUNK, maxBytes + 1 - total));
      filled = 0;
    }
  }
  chunks.push(buffer.subarray(0, filled));
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total + filled);
}

async function openFailure(file: string, error: NodeJS.ErrnoException): Promise<FileReadError> {
  // A socket cannot be opened at all (ENXIO): say what it is rather than quoting the errno.
  if (error.code === 'ENXIO') {
    const info = await stat(file).catch(() => null);
    if (info && !info.isFile()) return new FileReadError('not-regular', `not a regular file (${kindOf(info)}), skipped`);
  }
  return new FileReadError('unreadable', `cannot read file (${error.code ?? 'EIO'})`);
}

function tooLarge(maxBytes: number): FileReadError {
  return new FileReadError('too-large', `larger than ${formatBytes(maxBytes)} (maxFileBytes), skipped`);
}

function kindOf(info: Stats): string {
  if (info.isFIFO()) return 'a FIFO';
  if (info.isCharacterDevice()) return 'a character device';
  if (info.isBlockDevice()) return 'a block device';
  if (info.isSocket()) return 'a socket';
  if (info.isDirectory()) return 'a directory';
  return 'not a file';
}

/** "10 MiB (10485760 bytes)" when exact, else just the bytes. */
export function formatBytes(bytes: number): string {
  return bytes % MIB === 0 ? `${bytes / MIB} MiB (${bytes} bytes)` : `${bytes} bytes`;
}
