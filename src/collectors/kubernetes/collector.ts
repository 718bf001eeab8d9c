import path from 'node:path';
import type { InventoryItem } from '../../inventory/types.ts';
import type { SourceConfig } from '../../model/source.ts';
import { displayPath, posix } from '../../util/paths.ts';
import { FileReadError, MIB, readRegularFile } from '../../util/read-regular-file.ts';
import type { CollectContext, Collector } from '../types.ts';
import { matchFiles } from '../x509/files.ts';
import { certificateItem, isCertManager, issuerInfo, issuerKey, type IssuerInfo, type ManifestFile } from './cert-manager.ts';
import { kubernetesDeclaration } from './declaration.ts';
import { Manifest, ManifestSyntaxError, type ManifestObject } from './manifests.ts';

export interface KubernetesSource extends SourceConfig {
  type: 'kubernetes';
  paths: string[];
  maxFileBytes?: number;
}

export const DEFAULT_MAX_MANIFEST_BYTES = 10 * MIB;

const READ_FAILURE_CODES = { unreadable: 'file-unreadable', 'not-regular': 'file-not-regular', 'too-large': 'file-too-large' } as const;

interface ParsedFile {
  file: ManifestFile;
  manifest: Manifest;
  certificates: ManifestObject[];
}

export const kubernetesCollector: Collector = {
  type: kubernetesDeclaration.type,
  provides: kubernetesDeclaration.providers,
  operations: kubernetesDeclaration.operations,
  async *collect(source, ctx) {
    const config = source as KubernetesSource;
    // Every file is read before any Certificate is mapped: an Issuer may sit in another file (a chart's
    // issuer.yaml next to its certificate.yaml), and whether it is an ACME issuer decides the validity.
    const parsed: ParsedFile[] = [];
    const issuers = new Map<string, IssuerInfo>();
    for (const file of await matchFiles(config.paths, ctx)) {
      if (ctx.signal.aborted) return;
      const read = await readManifest(file, config, ctx);
      if (!read) continue;
      const certificates: ManifestObject[] = [];
      for (const object of read.manifest.objects) {
        if (!isCertManager(object)) continue;
        if (object.kind === 'Certificate') certificates.push(object);
        else if (object.kind === 'Issuer' || object.kind === 'ClusterIssuer') {
          const issuer = issuerInfo(read.manifest, object, read.file);
          if (issuer) issuers.set(issuerKey(issuer.kind, issuer.namespace, issuer.name), issuer);
        }
      }
      if (certificates.length > 0) parsed.push({ ...read, certificates });
    }
    for (const { file, manifest, certificates } of parsed) {
      // The same object twice in one file: the cluster ends up with the last one.
      const items = new Map<string, InventoryItem>();
      for (const object of certificates) {
        const item = certificateItem(manifest, object, file, issuers, (at, message) => {
          ctx.error({ code: 'manifest-value-invalid', message: `${file.shown}:${at.line}:${at.column}: ${message}`, resource: file.shown });
        });
        if (item) items.set(item.uid, item);
        else ctx.logger.debug(`${file.shown}:${object.at.line}: ${object.kind} without metadata.name; skipped`);
      }
      yield* items.values();
    }
  },
};

async function readManifest(file: string, source: KubernetesSource, ctx: CollectContext): Promise<{ file: ManifestFile; manifest: Manifest } | null> {
  const shown = displayPath(file);
  let text: string;
  try {
    text = (await readRegularFile(file, source.maxFileBytes ?? DEFAULT_MAX_MANIFEST_BYTES)).toString('utf8');
  } catch (error) {
    if (!(error instanceof FileReadError)) throw error;
    ctx.error({ code: READ_FAILURE_CODES[error.reason], message: `${shown}: ${error.message}`, resource: shown });
    return null;
  }
  try {
    const manifest = Manifest.parse(text);
    return { file: { uidPath: posix(path.relative(ctx.baseDir, file)) || path.basename(file), shown, sourceId: source.id }, manifest };
  } catch (error) {
    if (!(error instanceof ManifestSyntaxError)) throw error;
    ctx.error({ code: 'manifest-invalid', message: `${shown}:${error.line}:${error.column}: not valid YAML: ${error.message}`, resource: shown });
    return null;
  }
}
