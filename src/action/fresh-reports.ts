import { constants } from 'node:fs';
import { lstat, open, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { Report } from '../report/types.ts';
import { FILE_NAMES } from '../report/write.ts';

// The Action reports on this run only. The out-dir lives in the workspace, so it may hold a
// previous run's reports or files a pull request planted (a compliant keydrift.json, a symlink to
// a file elsewhere): they are removed before the scan, and what is there afterwards is believed
// only when it is a regular file that this run's scan, by its recorded start, wrote.

export type Outcome<T> = { ok: true; value: T } | { ok: false; problem: string };

/** The JSON report can be large (every item and finding); beyond this it is not read whole. */
export const MAX_REPORT_BYTES = 256 * 1024 * 1024;

function errorCode(error: unknown): string {
  return (error as NodeJS.ErrnoException | null)?.code ?? String(error);
}

/**
 * Removes keydrift's own report files from `outDir` (only those names: they are what a scan
 * writes there, and it would replace them anyway). unlink removes a symlink itself, never its
 * target. `keep` spares files the scan reads first (a baseline kept in the out-dir): a scan that
 * writes its reports replaces them too. Returns the files still in place, with why (a directory
 * of that name, no permission).
 */
export async function removeStaleReports(outDir: string, keep: readonly string[] = []): Promise<Map<string, string>> {
  const left = new Map<string, string>();
  const kept = new Set(keep.map((file) => path.resolve(file)));
  for (const name of Object.values(FILE_NAMES)) {
    if (kept.has(path.resolve(outDir, name))) continue;
    try {
      await unlink(path.join(outDir, name));
    } catch (error) {
      const code = errorCode(error);
      // ENOTDIR: out-dir is not a folder, so nothing lies in it (the scan will say so).
      if (code !== 'ENOENT' && code !== 'ENOTDIR') left.set(name, code);
    }
  }
  return left;
}

/** True when `file` is a regular file (a symlink is not, whatever it points at). */
export async function isRegularFile(file: string): Promise<boolean> {
  try {
    return (await lstat(file)).isFile();
  } catch {
    return false;
  }
}

/** `file`'s text when it is a regular file of at most `maxBytes`; a symlink is never followed. */
export async function readRegularFile(file: string, maxBytes: number): Promise<Outcome<string>> {
  if (!(await isRegularFile(file))) return { ok: false, problem: `${file} is missing or not a regular file` };
  let handle;
  try {
    // O_NOFOLLOW: a symlink swapped in after the lstat still fails (the flag does not exist on Windows).
    handle = await open(file, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
  } catch (error) {
    return { ok: false, problem: `${file} cannot be opened (${errorCode(error)})` };
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) return { ok: false, problem: `${file} is not a regular file` };
    if (stats.size > maxBytes) return { ok: false, problem: `${file} is ${stats.size} bytes, more than the ${maxBytes} this reads` };
    // Read one byte past the limit, so that a file still growing cannot slip through unbounded.
    const buffer = Buffer.alloc(Math.min(stats.size, maxBytes) + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length === buffer.length) break;
    }
    if (length > maxBytes) return { ok: false, problem: `${file} is more than ${maxBytes} bytes` };
    return { ok: true, value: buffer.subarray(0, length).toString('utf8') };
  } catch (error) {
    return { ok: false, problem: `${file} cannot be read (${errorCode(error)})` };
  } finally {
    await handle.close();
  }
}

/** What the Action knows of the scan it ran: its exit code and when it started and ended (ms). */
export interface ScanRun {
  exitCode: number;
  startedAt: number;
  finishedAt: number;
}

/**
 * The JSON report this scan wrote, or why there is none: the scan must have produced one (exit 0,
 * 1 or 3), the file must be a regular file that was not left over from before, and the report must
 * say it started within the scan's own time span and ended with the scan's exit code.
 */
export async function reportOfThisRun(outDir: string, run: ScanRun, leftOver: ReadonlyMap<string, string>): Promise<Outcome<Report>> {
  const file = path.join(outDir, FILE_NAMES.json);
  if (run.exitCode === 2) return { ok: false, problem: 'a usage, config or policy error stopped the scan' };
  if (![0, 1, 3].includes(run.exitCode)) return { ok: false, problem: `exit code ${run.exitCode} is not one that keydrift gives after writing its reports` };
  const stale = leftOver.get(FILE_NAMES.json);
  if (stale) return { ok: false, problem: `the ${file} already there before the scan could not be removed (${stale})` };
  const text = await readRegularFile(file, MAX_REPORT_BYTES);
  if (!text.ok) return text;
  let report: Partial<Report>;
  try {
    report = JSON.parse(text.value) as Partial<Report>;
  } catch (error) {
    return { ok: false, problem: `${file} is not JSON (${error instanceof Error ? error.message : String(error)})` };
  }
  const started = Date.parse(typeof report?.scan?.startedAt === 'string' ? report.scan.startedAt : '');
  if (Number.isNaN(started)) return { ok: false, problem: `${file} has no scan.startedAt` };
  if (started < run.startedAt || started > run.finishedAt) {
    return { ok: false, problem: `${file} is not this run's: its scan.startedAt ${new Date(started).toISOString()} is outside this scan (${new Date(run.startedAt).toISOString()} to ${new Date(run.finishedAt).toISOString()})` };
  }
  if (typeof report.summary !== 'object' || report.summary === null || !Array.isArray(report.findings)) {
    return { ok: false, problem: `${file} has no summary or findings` };
  }
  if (report.summary.exitCode !== run.exitCode) {
    return { ok: false, problem: `${file} records exit code ${String(report.summary.exitCode)}, the scan exited ${run.exitCode}` };
  }
  return { ok: true, value: report as Report };
}

/** `name` in `outDir` when this run wrote it: removed beforehand, a regular file now. */
export async function writtenThisRun(outDir: string, name: string, leftOver: ReadonlyMap<string, string>): Promise<string | null> {
  const file = path.join(outDir, name);
  return !leftOver.has(name) && (await isRegularFile(file)) ? file : null;
}
