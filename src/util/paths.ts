import path from 'node:path';

/** A path as a user reads it in a report: relative to the working folder, with forward slashes. */
export function displayPath(file: string, cwd = process.cwd()): string {
  const relative = path.relative(cwd, path.resolve(cwd, file));
  const shown = relative === '' ? '.' : relative.startsWith('..') ? path.resolve(cwd, file) : relative;
  return shown.split(path.sep).join('/');
}

/** Forward slashes everywhere, so uids and fingerprints match across operating systems. */
export function posix(file: string): string {
  return file.split(path.sep).join('/');
}
