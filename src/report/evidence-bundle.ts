import { randomBytes, type KeyObject } from 'node:crypto';
import { lstat, mkdir, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../util/atomic-write.ts';
import { displayPath } from '../util/paths.ts';
import { readRegularFile } from '../util/read-regular-file.ts';
import { redactLive } from '../util/redact.ts';
import {
  buildManifest,
  MANIFEST_FILE,
  manifestBytes,
  MAX_MANIFEST_BYTES,
  parseManifest,
  POLICY_DIGEST_FILE,
  REPORT_FILE,
  SIGNATURE_FILE,
  signManifest,
} from './evidence-manifest.ts';
import type { Report } from './types.ts';
import { FILE_NAMES, render } from './write.ts';

/** A folder the bundle may not be written to: the caller names it to the user. */
export class EvidenceFolderError extends Error {}

/**
 * Writes the evidence bundle for `report` (whose file held `reportBytes`, bundled unchanged) into
 * `dir`, whole or not at all: it is built in a new sibling folder and renamed into place. An
 * existing `dir` must be empty or a previous bundle, which is replaced; anything else is refused,
 * so a mistyped path never deletes someone's files. Returns the bundled file names.
 */
export async function writeEvidenceBundle(dir: string, reportBytes: Uint8Array, report: Report, signKey?: KeyObject): Promise<string[]> {
  const target = path.resolve(dir);
  const existing = await replaceableFolder(target);
  const files = new Map<string, Uint8Array>([
    [REPORT_FILE, reportBytes],
    // As writeReports does: a credential this process holds never reaches a file.
    [FILE_NAMES.html, Buffer.from(redactLive(render(report, 'html')))],
    [FILE_NAMES.sarif, Buffer.from(redactLive(render(report, 'sarif')))],
    [POLICY_DIGEST_FILE, Buffer.from(`${report.scan.policyDigest}\n`)],
  ]);
  const manifest = manifestBytes(buildManifest(report, files));
  files.set(MANIFEST_FILE, manifest);
  if (signKey) files.set(SIGNATURE_FILE, Buffer.from(signManifest(manifest, signKey)));

  await mkdir(path.dirname(target), { recursive: true });
  const building = sibling(target, 'tmp');
  // Not recursive: it fails rather than reuse a folder someone else created under that name.
  await mkdir(building);
  let old: string | null = null;
  try {
    for (const [name, bytes] of files) await writeFileAtomic(path.join(building, name), bytes);
    if (existing) {
      // rename() cannot replace a folder that holds files: the old one steps aside first. Until
      // the second rename `dir` is briefly absent, never half-written.
      old = sibling(target, 'old');
      await rename(target, old);
    }
    await rename(building, target);
  } catch (error) {
    if (old) await rename(old, target).catch(() => undefined);
    await rm(building, { recursive: true, force: true });
    throw error;
  }
  if (old) await rm(old, { recursive: true, force: true });
  return [...files.keys()];
}

function sibling(target: string, purpose: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.${randomBytes(8).toString('hex')}.${purpose}`);
}

/** True when `dir` exists and may be replaced (empty, or a previous bundle); false when it does not exist. */
async function replaceableFolder(dir: string): Promise<boolean> {
  const shown = displayPath(dir);
  const info = await lstat(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return null;
    throw new EvidenceFolderError(`${shown}: cannot read folder (${error.code ?? 'EIO'})`);
  });
  if (!info) return false;
  if (!info.isDirectory()) throw new EvidenceFolderError(`${shown}: exists and is not a folder`);
  const entries = await readdir(dir);
  if (entries.length === 0) return true;
  const refuse = (why: string) => new EvidenceFolderError(`${shown}: not empty and not a keydrift evidence bundle (${why}); choose a new or empty folder`);
  if (!entries.includes(MANIFEST_FILE)) throw refuse(`no ${MANIFEST_FILE}; it holds "${entries.sort()[0]!}"`);
  let manifest;
  try {
    manifest = parseManifest((await readRegularFile(path.join(dir, MANIFEST_FILE), MAX_MANIFEST_BYTES)).toString('utf8'));
  } catch (error) {
    throw refuse(`${MANIFEST_FILE}: ${(error as Error).message.replace(/, skipped$/, '')}`);
  }
  if (typeof manifest === 'string') throw refuse(`${MANIFEST_FILE}: ${manifest}`);
  const bundled = new Set([MANIFEST_FILE, SIGNATURE_FILE, ...manifest.files.map((file) => file.name)]);
  const foreign = entries.filter((entry) => !bundled.has(entry)).sort();
  if (foreign.length > 0) throw refuse(`"${foreign[0]!}" is not one of its files`);
  return true;
}
