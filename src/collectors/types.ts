import type { InventoryItem } from '../inventory/types.ts';
import type { Logger } from '../cli/logger.ts';

/** One configured source, as validated from keydrift.yaml. Provider fields stay loose here. */
export interface SourceConfig {
  id: string;
  type: string;
  concurrency?: number;
  [field: string]: unknown;
}

/** Errors are data: a collector reports them here and keeps going where it can. */
export interface SourceError {
  code: string;
  message: string;
  /** The resource (file, endpoint, region, key) the error is about, when there is one. */
  resource?: string;
}

export interface CollectContext {
  logger: Logger;
  signal: AbortSignal;
  /** The evaluation clock; collectors that need "now" use this, never Date.now(). */
  now: Date;
  /** Folder that relative paths in the config are resolved against (the config's folder). */
  baseDir: string;
  /** Report a problem with part of the source; the source becomes `partial` (or `failed` if nothing was collected). */
  error(error: SourceError): void;
  /** Counts of backend API calls by operation (e.g. "kms:DescribeKey"), shown in the report's source entry. */
  apiCalls: Record<string, number>;
}

export interface Collector {
  /** Matches the config `type`. */
  readonly type: string;
  /** Which providers' items this collector yields (the inventory `provider` field). */
  readonly provides: readonly string[];
  /** The exact operations it performs against the backend; read-only by construction. */
  readonly operations: readonly string[];
  collect(source: SourceConfig, ctx: CollectContext): AsyncIterable<InventoryItem>;
}
