import path from 'node:path';
import { DEFAULT_MAX_EVIDENCE_FILE_BYTES, InventoryFileError, loadEvidence, MAX_LISTED_INVALID_ITEMS } from '../../inventory/file.ts';
import { displayPath } from '../../util/paths.ts';
import type { SourceConfig } from '../../model/source.ts';
import type { Collector } from '../types.ts';
import { snapshotDeclaration } from './declaration.ts';

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
 * was taken keeps this one incomplete: old gaps in coverage do not turn into passes. An invalid
 * item is left out and reported (the source is partial), the valid ones are kept.
 */
export const snapshotCollector: Collector = {
  type: snapshotDeclaration.type,
  provides: snapshotDeclaration.providers,
  operations: snapshotDeclaration.operations,
  async *collect(source, ctx) {
    const config = source as SnapshotSource;
    const file = path.resolve(ctx.baseDir, config.path);
    let evidence;
    try {
      evidence = await loadEvidence(file, { maxFileBytes: config.maxFileBytes ?? DEFAULT_MAX_EVIDENCE_FILE_BYTES, invalidItems: 'report' });
    } catch (error) {
      if (!(error instanceof InventoryFileError)) throw error;
      ctx.error({ code: error.reason ? READ_FAILURE_CODES[error.reason] : 'snapshot-invalid', message: error.message, resource: config.path });
      return;
    }
    // The oldest observation among the snapshot's own sources, else its collection time.
    const observed = [...evidence.sources.map((saved) => saved.observedAt).filter((at): at is string => typeof at === 'string'), ...(evidence.collectedAt ? [evidence.collectedAt] : [])].sort()[0];
    if (observed !== undefined) ctx.observedAt?.(observed);
    for (const saved of evidence.sources) {
      if (saved.status !== 'ok') {
        ctx.error({
          code: 'snapshot-source-incomplete',
          message: `${config.path}: source "${saved.id}" was ${saved.status} when the snapshot was taken`,
          resource: saved.id,
        });
      }
    }
    for (const invalid of evidence.invalidItems.slice(0, MAX_LISTED_INVALID_ITEMS)) {
      ctx.error({ code: 'item-invalid', message: `${invalid.message}; item left out`, resource: invalid.uid ?? config.path });
    }
    const unlisted = evidence.invalidItems.length - MAX_LISTED_INVALID_ITEMS;
    if (unlisted > 0) {
      ctx.error({ code: 'item-invalid', message: `${displayPath(file)}: ${unlisted} more invalid items left out (the first ${MAX_LISTED_INVALID_ITEMS} are listed)`, resource: config.path });
    }
    for (const item of evidence.items) {
      yield { ...item, sourceId: source.id, evidence: { ...item.evidence, snapshotSourceId: item.sourceId } };
    }
  },
};
