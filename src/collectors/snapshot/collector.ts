import path from 'node:path';
import { DEFAULT_MAX_EVIDENCE_FILE_BYTES, InventoryFileError, loadEvidence } from '../../inventory/file.ts';
import type { Collector, SourceConfig } from '../types.ts';

export interface SnapshotSource extends SourceConfig {
  type: 'snapshot';
  path: string;
  /** A larger file is reported and not read. */
  maxFileBytes?: number;
}

// A file that could not be read at all says why in its code; a readable but invalid one is `snapshot-invalid`.
const READ_FAILURE_CODES = { unreadable: 'snapshot-invalid', 'not-regular': 'file-not-regular', 'too-large': 'file-too-large' } as const;

/**
 * Replays a saved inventory (or a JSON report's inventory) as a source. Items keep their uid and
 * evidence; they are attributed to this source. A source that was incomplete when the snapshot
 * was taken keeps this one incomplete: old gaps in coverage do not turn into passes.
 */
export const snapshotCollector: Collector = {
  type: 'snapshot',
  provides: ['aws-kms', 'aws-acm', 'gcp-kms', 'vault-transit', 'vault-pki', 'pkcs11', 'x509-file', 'tls-endpoint'],
  operations: ['fs:read'],
  async *collect(source, ctx) {
    const config = source as SnapshotSource;
    const file = path.resolve(ctx.baseDir, config.path);
    let evidence;
    try {
      evidence = await loadEvidence(file, { maxFileBytes: config.maxFileBytes ?? DEFAULT_MAX_EVIDENCE_FILE_BYTES });
    } catch (error) {
      if (!(error instanceof InventoryFileError)) throw error;
      ctx.error({ code: error.reason ? READ_FAILURE_CODES[error.reason] : 'snapshot-invalid', message: error.message, resource: config.path });
      return;
    }
    for (const saved of evidence.sources) {
      if (saved.status !== 'ok') {
        ctx.error({
          code: 'snapshot-source-incomplete',
          message: `${config.path}: source "${saved.id}" was ${saved.status} when the snapshot was taken`,
          resource: saved.id,
        });
      }
    }
    for (const item of evidence.items) {
      yield { ...item, sourceId: source.id, evidence: { ...item.evidence, snapshotSourceId: item.sourceId } };
    }
  },
};
