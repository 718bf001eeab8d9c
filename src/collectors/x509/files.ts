import { glob, stat } from 'node:fs/promises';
import path from 'node:path';
import type { InventoryItem } from '../../inventory/types.ts';
import { displayPath, posix } from '../../util/paths.ts';
import { FileReadError, MIB, readRegularFile } from '../../util/read-regular-file.ts';
import type { SourceConfig } from '../../model/source.ts';
import type { CollectContext, Collector } from '../types.ts';
import { x509FilesDeclaration } from './declaration.ts';
import { certificateItem } from '../../certificates/certificate.ts';
import { readCertificateFile, type CertificateFileContents } from '../../certificates/certificate-file.ts';

export interface X509FilesSource extends SourceConfig {
  type: 'x509-files';
  paths: string[];
  /** Files larger than this are reported and skipped; a certificate bundle is far smaller. */
  maxFileBytes?: number;
}

export const DEFAULT_MAX_CERTIFICATE_FILE_BYTES = 10 * MIB;

/** Kernel and device trees: walking them can take forever and reading them can block; no certificate lives there. */
const SYSTEM_ROOTS = ['/proc', '/sys', '/dev'];

/** How many problems of one file its error message lists; the rest are counted. */
const PROBLEMS_SHOWN = 3;

export const x509FilesCollector: Collector = {
  type: x509FilesDeclaration.type,
  provides: x509FilesDeclaration.providers,
  operations: x509FilesDeclaration.operations,
  async *collect(source, ctx) {
    const config = source as X509FilesSource;
    const files = await matchFiles(config.paths, ctx);
    for (const file of files) {
      if (ctx.signal.aborted) return;
      yield* certificatesInFile(file, config, ctx);
    }
  },
};

export async function matchFiles(patterns: string[], ctx: CollectContext): Promise<string[]> {
  const found = new Set<string>();
  for (const pattern of patterns) {
    const skipped = new Set<string>();
    let matched = 0;
    const root = systemRootOf(staticBase(pattern, ctx.baseDir));
    if (root) {
      skipped.add(root);
    } else {
      for await (const entry of glob(globPattern(pattern, ctx.baseDir), { cwd: ctx.baseDir, exclude: pruneSystemRoots(ctx.baseDir, skipped) })) {
        const absolute = path.resolve(ctx.baseDir, entry);
        const system = systemRootOf(absolute);
        if (system) {
          skipped.add(system);
          continue;
        }
        try {
          if ((await stat(absolute)).isDirectory()) continue;
        } catch {
          // A dangling link or a vanished file: keep it, so reading it reports the error by name.
        }
        // FIFOs, devices and sockets are kept too: reading refuses them and says so.
        found.add(absolute);
        matched++;
      }
    }
    if (skipped.size > 0) {
      ctx.error({
        code: 'system-path-skipped',
        message: `"${pattern}": ${[...skipped].sort().join(', ')} skipped: kernel and device files are never read`,
        resource: pattern,
      });
    } else if (matched === 0) {
      ctx.error({
        code: 'no-files-matched',
        message: `no file matches "${pattern}" (relative to ${displayPath(ctx.baseDir)})`,
        resource: pattern,
      });
    }
  }
  return [...found].sort();
}

/** The folder a pattern starts from: its leading segments without glob syntax. */
function staticBase(pattern: string, baseDir: string): string {
  const literal: string[] = [];
  for (const segment of pattern.split('/')) {
    if (/[*?[\]{}()!+@]/.test(segment)) break;
    literal.push(segment);
  }
  return path.resolve(baseDir, literal.length === 0 ? '.' : literal.join('/') || '/');
}

/**
 * Keeps the walk out of /proc, /sys and /dev (a `/**` pattern would otherwise wander into them).
 * node's glob asks about an entry twice, by bare name and then by path; only the path can be judged,
 * and it is a path whenever it holds a separator (see globPattern for the one case it would not).
 */
function pruneSystemRoots(baseDir: string, skipped: Set<string>): (entry: string) => boolean {
  return (entry) => {
    if (!entry.includes('/')) return false;
    const root = systemRootOf(path.resolve(baseDir, entry));
    if (root) skipped.add(root);
    return root !== null;
  };
}

/** From "/", a relative pattern would yield entries such as "proc" that look like bare names: make it absolute. */
function globPattern(pattern: string, baseDir: string): string {
  return baseDir === '/' && !path.isAbsolute(pattern) ? `/${pattern}` : pattern;
}

function systemRootOf(absolute: string): string | null {
  return SYSTEM_ROOTS.find((root) => absolute === root || absolute.startsWith(`${root}/`)) ?? null;
}

const READ_FAILURE_CODES = { unreadable: 'file-unreadable', 'not-regular': 'file-not-regular', 'too-large': 'file-too-large' } as const;

async function* certificatesInFile(
  file: string,
  source: X509FilesSource,
  ctx: CollectContext,
): AsyncGenerator<InventoryItem> {
  const shown = displayPath(file);
  let bytes: Buffer;
  try {
    bytes = await readRegularFile(file, source.maxFileBytes ?? DEFAULT_MAX_CERTIFICATE_FILE_BYTES);
  } catch (error) {
    if (!(error instanceof FileReadError)) throw error;
    ctx.error({ code: READ_FAILURE_CODES[error.reason], message: `${shown}: ${error.message}`, resource: shown });
    return;
  }
  let contents: CertificateFileContents;
  try {
    contents = readCertificateFile(bytes);
  } catch (error) {
    // A fault of ours, not of the file: still this file's error, never the end of the source.
    ctx.error({ code: 'certificate-invalid', message: `${shown}: cannot be read as a certificate file (${(error as Error).message})`, resource: shown });
    return;
  }
  const { certificates, problems, problemCount, skipped } = contents;
  if (problems.length > 0) {
    const listed = problems.slice(0, PROBLEMS_SHOWN).map((problem) => problem.message).join('; ');
    const more = problemCount - Math.min(problems.length, PROBLEMS_SHOWN);
    ctx.error({ code: problems[0]!.code, message: `${shown}: ${listed}${more > 0 ? ` (and ${more} more problems)` : ''}`, resource: shown });
  }
  if (certificates.length === 0 && problems.length === 0) {
    ctx.logger.debug(`${shown}: no certificate, only ${[...new Set(skipped)].join(', ')} blocks; skipped without decoding them`);
    return;
  }
  const uidPath = posix(path.relative(ctx.baseDir, file)) || path.basename(file);
  const seen = new Set<string>();
  for (const found of certificates) {
    const uid = `${uidPath}#sha256:${found.parsed.certificate.fingerprintSha256}`;
    if (seen.has(uid)) continue;
    seen.add(uid);
    yield certificateItem(found.parsed, {
      uid,
      provider: 'x509-file',
      sourceId: source.id,
      location: shown,
      evidence: {
        file: shown,
        format: found.format,
        indexInFile: found.index,
        region: { startLine: found.startLine, endLine: found.endLine, endColumn: found.endColumn },
      },
    });
  }
}
