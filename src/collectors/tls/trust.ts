import { X509Certificate } from 'node:crypto';
import { open } from 'node:fs/promises';
import path from 'node:path';
import tls from 'node:tls';
import { displayPath } from '../../util/paths.ts';
import { certificatesFromPkcs7 } from '../../certificates/pkcs7.ts';
import { certificateBlocks } from '../../certificates/pem.ts';

/**
 * Which roots judged a presented chain: `system` (the operating system's store), `default` (Node's
 * bundled roots, used when the system store is empty), `file` (only the configured caFile) or
 * `none` (trust is not judged).
 */
export type TrustStoreName = 'system' | 'default' | 'file' | 'none';

export interface TrustConfig {
  trustStore?: 'system' | 'none';
  /** Relative to the config folder; when set, only these CAs are trusted. */
  caFile?: string;
}

export interface TrustStore {
  name: TrustStoreName;
  /** The caFile as configured, when the store is `file`. */
  caFile: string | null;
  /** The roots to verify against; null when trust is not judged (`none`, or a caFile that could not be loaded). */
  context: tls.SecureContext | null;
}

export class TrustStoreError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

// A CA bundle is a few hundred kilobytes; anything far larger is not one.
const MAX_CA_FILE_BYTES = 8 * 1024 * 1024;

/** Builds the store once per source: parsing hundreds of roots per handshake would dominate a scan. */
export async function loadTrustStore(config: TrustConfig, baseDir: string): Promise<TrustStore> {
  if (config.caFile !== undefined) {
    const roots = await caFileCertificates(path.resolve(baseDir, config.caFile));
    return { name: 'file', caFile: config.caFile, context: tls.createSecureContext({ ca: roots }) };
  }
  if (config.trustStore === 'none') return { name: 'none', caFile: null, context: null };
  // NODE_EXTRA_CA_CERTS (a corporate CA added for every Node program) is trusted as the user expects.
  const extra = tls.getCACertificates('extra');
  const system = tls.getCACertificates('system');
  if (system.length > 0) return { name: 'system', caFile: null, context: tls.createSecureContext({ ca: [...system, ...extra] }) };
  return { name: 'default', caFile: null, context: tls.createSecureContext({ ca: [...tls.getCACertificates('default'), ...extra] }) };
}

/** The certificates of a PEM file (CERTIFICATE or PKCS7 blocks) as PEM strings; keys in the same file are never decoded. */
async function caFileCertificates(file: string): Promise<string[]> {
  const shown = displayPath(file);
  const text = await readBounded(file, shown);
  let ders: Uint8Array[];
  try {
    ders = certificateBlocks(text).flatMap((block) => (block.label === 'PKCS7' ? certificatesFromPkcs7(block.der) : [block.der]));
  } catch (error) {
    throw new TrustStoreError('ca-file-invalid', `caFile ${shown}: ${(error as Error).message}`);
  }
  if (ders.length === 0) throw new TrustStoreError('ca-file-invalid', `caFile ${shown}: no PEM certificate in the file`);
  return ders.map((der, index) => {
    try {
      return new X509Certificate(der).toString();
    } catch (error) {
      throw new TrustStoreError('ca-file-invalid', `caFile ${shown}: certificate ${index + 1} cannot be parsed: ${(error as Error).message}`);
    }
  });
}

async function readBounded(file: string, shown: string): Promise<string> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    throw new TrustStoreError('ca-file-unreadable', `caFile ${shown}: cannot read file (${(error as NodeJS.ErrnoException).code ?? 'EIO'})`);
  }
  try {
    const buffer = Buffer.alloc(MAX_CA_FILE_BYTES + 1);
    let filled = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
      if (filled > MAX_CA_FILE_BYTES) {
        throw new TrustStoreError('ca-file-invalid', `caFile ${shown}: larger than ${MAX_CA_FILE_BYTES / 1024 / 1024} MiB; not a CA bundle`);
      }
    }
    return buffer.subarray(0, filled).toString('utf8');
  } catch (error) {
    if (error instanceof TrustStoreError) throw error;
    throw new TrustStoreError('ca-file-unreadable', `caFile ${shown}: cannot read file (${(error as NodeJS.ErrnoException).code ?? 'EIO'})`);
  } finally {
    await handle.close();
  }
}
