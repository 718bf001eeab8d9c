import type { Shard } from '../shard/shard.ts';
import type { InventoryItem } from '../inventory/types.ts';
import type { Logger } from '../model/logger.ts';
import type { SourceConfig, SourceError } from '../model/source.ts';

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
  /** Says the items were observed at an earlier time (a snapshot's): recorded on the source, shown in reports. */
  observedAt?(at: string): void;
  /**
   * This run's part of a sharded scan (`--shard i/n`). A collector that discovers accounts or
   * projects skips those `inShard(accountKey(id) | projectKey(id), shard)` rejects (src/shard/shard.ts);
   * items outside the shard are dropped after collection anyway, so skipping is only a saving.
   */
  shard?: Shard;
}

export interface Collector {
  /** Matches the config `type` (its declaration's). */
  readonly type: string;
  /** Which providers' items this collector yields (the inventory `provider` field; its declaration's). */
  readonly provides: readonly string[];
  /** The exact operations it performs against the backend (its declaration's); read-only by construction. */
  readonly operations: readonly string[];
  collect(source: SourceConfig, ctx: CollectContext): AsyncIterable<InventoryItem>;
}

/**
 * What a collector folder says about itself in its `declaration.ts`, without loading its SDK. The
 * registry lists the declarations; scripts/gen-collector-artifacts.ts turns them into the config
 * schema's sources, the source-type and provider lists, and the README's permission sections.
 */
export interface CollectorDeclaration {
  /** The config `type` of its sources. */
  readonly type: string;
  /** The inventory `provider` values of the items it yields. */
  readonly providers: readonly string[];
  /** Every backend call it may make (API actions, permissions, paths); all of them read-only. */
  readonly operations: readonly string[];
  /**
   * Its source entry's JSON Schema beyond `id`, `type` and `concurrency`, which every source has
   * (`properties`, and `required`, `if`/`then` as needed); `$ref`s point into the config schema's `$defs`.
   */
  readonly configSchema: { readonly properties: Readonly<Record<string, unknown>>; readonly [keyword: string]: unknown };
  /**
   * Its items belong to AWS accounts or Google Cloud projects: in a sharded scan every shard
   * collects the source and keeps its own accounts' or projects' items. Otherwise the whole
   * source belongs to one shard (src/shard/shard.ts).
   */
  readonly shardedByAccount?: boolean;
  /** The implementation, imported on first use so an unused SDK is never loaded. */
  load(): Promise<Collector>;
}
