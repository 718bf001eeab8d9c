import { glob, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { InventoryItem } from '../../inventory/types.ts';
import { displayPath, posix } from '../../util/paths.ts';
import type { CollectContext, Collector, SourceConfig } from '../types.ts';
import { certificateItem, parseCertificate } from './certificate.ts';
import { looksLikePkcs7, certificatesFromPkcs7 } from './pkcs7.ts';
import { certificateBlocks } from './pem.ts';

export interface X509FilesSource extends SourceConfig {
  type: 'x509-files';
  paths: string[];
}

/** One certificate found in a file, with where it sits so reports can point at the lines. */
interface FoundCertificate {
  der: Uint8Array;
  format: 'pem' | 'der' | 'pkcs7-pem' | 'pkcs7-der';
  startLine: number;
  endLine: number;
  endColumn: number;
}

export const x509FilesCollector: Collector = {
  type: 'x509-files',
  provides: ['x509-file'],
  operations: ['fs:glob', 'fs:read'],
  async *collect(source, ctx) {
    const config = source as X509FilesSource;
    const files = await matchFiles(config.paths, ctx);
    for (const file of files) {
      if (ctx.signal.aborted) return;
      yield* certificatesInFile(file, config, ctx);
    }
  },
};

async function matchFiles(patterns: string[], ctx: CollectContext): Promise<string[]> {
  const found = new Set<string>();
  for (const pattern of patterns) {
    let matched = 0;
    for await (const entry of glob(pattern, { cwd: ctx.baseDir })) {
      const absolute = path.resolve(ctx.baseDir, entry);
      try {
        if (!(await stat(absolute)).isFile()) continue;
      } catch {
        // A dangling link or a vanished file: keep it, so reading it reports the error by name.
      }
      found.add(absolute);
      matched++;
    }
    if (matched === 0) {
      ctx.error({
        code: 'no-files-matched',
        message: `no file matches "${pattern}" (relative to ${displayPath(ctx.baseDir)})`,
        resource: pattern,
      });
    }
  }
  return [...found].sort();
}

async function* certificatesInFile(
  file: string,
  source: X509FilesSource,
  ctx: CollectContext,
): AsyncGenerator<InventoryItem> {
  const shown = displayPath(file);
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'EIO';
    ctx.error({ code: 'file-unreadable', message: `${shown}: cannot read file (${code})`, resource: shown });
    return;
  }
  let certificates: FoundCertificate[];
  try {
    certificates = certificatesIn(bytes);
  } catch (error) {
    ctx.error({ code: 'certificate-invalid', message: `${shown}: ${(error as Error).message}`, resource: shown });
    return;
  }
  if (certificates.length === 0) {
    ctx.logger.debug(`${shown}: no certificate in file, skipped`);
    return;
  }
  const uidPath = posix(path.relative(ctx.baseDir, file)) || path.basename(file);
  const seen = new Set<string>();
  for (const [index, found] of certificates.entries()) {
    let parsed;
    try {
      parsed = parseCertificate(found.der);
    } catch (error) {
      ctx.error({
        code: 'certificate-invalid',
        message: `${shown}: certificate ${index + 1} (line ${found.startLine}) cannot be parsed: ${(error as Error).message}`,
        resource: shown,
      });
      continue;
    }
    const uid = `${uidPath}#sha256:${parsed.certificate.fingerprintSha256}`;
    if (seen.has(uid)) continue;
    seen.add(uid);
    yield certificateItem(parsed, {
      uid,
      provider: 'x509-file',
      sourceId: source.id,
      location: shown,
      evidence: {
        file: shown,
        format: found.format,
        indexInFile: index,
        region: { startLine: found.startLine, endLine: found.endLine, endColumn: found.endColumn },
      },
    });
  }
}

function certificatesIn(bytes: Buffer): FoundCertificate[] {
  const text = bytes.toString('latin1');
  if (text.includes('-----BEGIN ')) {
    const blocks = certificateBlocks(text);
    return blocks.flatMap((block): FoundCertificate[] => {
      const region = { startLine: block.startLine, endLine: block.endLine, endColumn: block.endColumn };
      if (block.label === 'PKCS7') {
        return certificatesFromPkcs7(block.der).map((der) => ({ der, format: 'pkcs7-pem' as const, ...region }));
      }
      return [{ der: block.der, format: 'pem' as const, ...region }];
    });
  }
  const region = { startLine: 1, endLine: 1, endColumn: 2 };
  if (looksLikePkcs7(bytes)) {
    return certificatesFromPkcs7(bytes).map((der) => ({ der, format: 'pkcs7-der' as const, ...region }));
  }
  if (bytes.length === 0) throw new Error('empty file');
  // Anything else must be one DER certificate; parseCertificate reports what is wrong with it.
  return [{ der: bytes, format: 'der', ...region }];
}
