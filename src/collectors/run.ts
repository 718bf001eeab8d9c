import type { Logger } from '../model/logger.ts';
import { ConfigError } from '../config/load.ts';
import type { Config } from '../config/types.ts';
import type { SourceError, SourceStatus } from '../model/source.ts';
import { itemLabel, itemProblem, itemUid, MAX_LISTED_INVALID_ITEMS } from '../inventory/file.ts';
import type { InventoryItem } from '../inventory/types.ts';
import { markAbandoned } from '../util/abandoned.ts';
import { displayPath } from '../util/paths.ts';
import { redact } from '../util/redact.ts';
import { assignTier } from './tiers.ts';
import { COLLECTORS, DECLARATIONS } from './registry.ts';
import { inShard, itemShardKey, shardOf, sourceKey, type Shard } from '../shard/shard.ts';
import type { Collector } from './types.ts';

export interface Collected {
  items: InventoryItem[];
  sources: SourceStatus[];
}

export interface CollectOptions {
  logger: Logger;
  now: Date;
  signal?: AbortSignal;
  /** The whole scan's deadline in milliseconds (`--timeout`): sources still running then are cut off and reported. */
  timeoutMs?: number;
  /** Config `type` -> collector; the built-in registry unless given (tests bring their own collectors). */
  collectors?: ReadonlyMap<string, () => Promise<Collector>>;
  /** How often a source still collecting says so (a heartbeat in CI logs); default 30 s, KEYDRIFT_HEARTBEAT_SECONDS overrides. */
  heartbeatMs?: number;
  /** This scan's part of a sharded run: sources and items of other shards are left to them. */
  shard?: Shard;
}

const DEFAULT_HEARTBEAT_MS = 30_000;

function heartbeatMs(options: CollectOptions): number {
  if (options.heartbeatMs !== undefined) return options.heartbeatMs;
  const seconds = Number(process.env['KEYDRIFT_HEARTBEAT_SECONDS']);
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : DEFAULT_HEARTBEAT_MS;
}

/**
 * Runs every configured source. A source that throws or reports errors is `partial` (some items)
 * or `failed` (none): it is never silently empty, and one source's failure never stops another.
 */
export async function collectAll(config: Config, options: CollectOptions): Promise<Collected> {
  const items: InventoryItem[] = [];
  const sources: SourceStatus[] = [];
  const seen = new Set<string>();
  const configFile = displayPath(config.file);
  // Refuse before collecting anything: a half-run scan is worse than a clear "no".
  if (config.sources.length === 0) {
    // Nothing scanned must never read as "compliant". (evaluate may still use such a config for its policy.)
    throw new ConfigError([`${configFile}: sources: lists no source, so there is nothing to scan; add at least one`]);
  }
  const collectors = options.collectors ?? COLLECTORS;
  for (const source of config.sources) {
    if (!collectors.has(source.type)) {
      throw new ConfigError([`${configFile}: source "${source.id}": type ${source.type} has no collector in this build of keydrift`]);
    }
  }
  const deadline = scanDeadline(options);
  try {
    for (const source of config.sources) {
      // A source without accounts or projects is one unit: only its shard collects it (and reports it).
      const byAccount = DECLARATIONS.find((declaration) => declaration.type === source.type)?.shardedByAccount === true;
      if (options.shard && !byAccount && !inShard(sourceKey(source.id), options.shard)) {
        options.logger.info(`${source.id}: left to shard ${shardOf(sourceKey(source.id), options.shard.count)} of ${options.shard.count}`);
        continue;
      }
      sources.push(await collectSource(await collectors.get(source.type)!(), source, config, byAccount ? options : withoutShard(options), deadline, { items, seen }));
    }
  } finally {
    deadline.clear();
  }
  return { items, sources };
}

interface Deadline {
  signal: AbortSignal;
  /** Resolves when the deadline passes (never, without one). */
  passed: Promise<void>;
  describe(): string;
  clear(): void;
}

function scanDeadline(options: CollectOptions): Deadline {
  const controller = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, controller.signal]) : controller.signal;
  const passed = new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => controller.abort(), options.timeoutMs);
  return {
    signal,
    passed,
    describe: () => (options.timeoutMs === undefined ? 'the scan was stopped' : `the scan's --timeout (${options.timeoutMs / 1000} s) passed`),
    clear: () => clearTimeout(timer),
  };
}

async function collectSource(
  collector: Collector,
  source: Config['sources'][number],
  config: Config,
  options: CollectOptions,
  deadline: Deadline,
  into: { items: InventoryItem[]; seen: Set<string> },
): Promise<SourceStatus> {
  const configFile = displayPath(config.file);
  const errors: SourceError[] = [];
  const apiCalls: Record<string, number> = {};
  let observedAt: string | undefined;
  let closed = false;
  // Errors are stored and printed redacted: a backend may have echoed a credential into them.
  const report = (error: SourceError) => {
    // A collector cut off by the deadline may still report on its way out; its source is already judged.
    if (closed) return;
    const clean: SourceError = { ...error, message: redact(error.message), ...(error.resource !== undefined ? { resource: redact(error.resource) } : {}) };
    errors.push(clean);
    options.logger.warn(`${source.id}: ${clean.message}`);
  };
  let count = 0;
  let yielded = 0;
  let valid = 0;
  let invalid = 0;
  const started = Date.now();
  if (deadline.signal.aborted) {
    report({ code: 'scan-timeout', message: `not collected: ${deadline.describe()} before this source started`, resource: source.id });
  } else {
    options.logger.info(`collecting ${source.id} (${source.type})`);
    const observed = (at: string) => {
      observedAt = at;
      const days = Math.floor((options.now.getTime() - Date.parse(at)) / 86_400_000);
      if (days >= 1) options.logger.warn(`${source.id}: what it holds was observed at ${at}, ${days} day${days === 1 ? '' : 's'} before the evaluation clock`);
    };
    const collecting = collector.collect(source, {
      logger: options.logger,
      signal: deadline.signal,
      now: options.now,
      baseDir: config.baseDir,
      error: report,
      apiCalls,
      observedAt: observed,
      ...(options.shard ? { shard: options.shard } : {}),
    });
    const iterator = collecting[Symbol.asyncIterator]();
    const stopped = deadline.passed.then(() => 'deadline' as const);
    // A long nightly scan visibly lives: items and API calls (pages, regions) so far, every heartbeat.
    const heartbeat = setInterval(() => {
      const calls = Object.values(apiCalls).reduce((sum, n) => sum + n, 0);
      options.logger.info(`${source.id}: still collecting after ${Math.round((Date.now() - started) / 1000)} s: ${yielded} item${yielded === 1 ? '' : 's'}${calls > 0 ? `, ${calls} API call${calls === 1 ? '' : 's'}` : ''} so far`);
    }, heartbeatMs(options));
    heartbeat.unref();
    try {
      for (;;) {
        const next = await Promise.race([iterator.next(), stopped]);
        if (next === 'deadline') {
          report({ code: 'scan-timeout', message: `collection stopped: ${deadline.describe()}; what was collected before is kept`, resource: source.id });
          // The collector may be stuck in a call that ignores the signal: let it go, and exit without waiting for it.
          markAbandoned();
          iterator.return?.(undefined).catch(() => undefined);
          break;
        }
        if (next.done) break;
        const item = next.value;
        const index = yielded++;
        // Checked here, as `evaluate` checks a saved inventory: what a scan keeps, evaluate accepts.
        const problem = checkItem(item);
        if (problem !== null) {
          if (invalid++ < MAX_LISTED_INVALID_ITEMS) {
            const uid = itemUid(item);
            report({ code: 'item-invalid', message: `${itemLabel(item, index)}: ${problem}; item left out`, ...(uid !== null ? { resource: uid } : {}) });
          }
          continue;
        }
        valid++;
        // Another shard's account or project (only sources split by account get a shard here): a collector that discovers them skips it sooner.
        if (options.shard && !inShard(itemShardKey(item), options.shard)) continue;
        if (into.seen.has(item.uid)) {
          options.logger.debug(`${source.id}: ${item.uid} already collected, skipped`);
          continue;
        }
        into.seen.add(item.uid);
        into.items.push(assignTier(item, config.tiers));
        count++;
      }
    } catch (error) {
      report({ code: 'collector-error', message: `collection stopped: ${(error as Error).message}` });
    } finally {
      clearInterval(heartbeat);
    }
    if (invalid > MAX_LISTED_INVALID_ITEMS) {
      report({ code: 'item-invalid', message: `${invalid - MAX_LISTED_INVALID_ITEMS} more invalid items left out (the first ${MAX_LISTED_INVALID_ITEMS} are listed)`, resource: source.id });
    }
  }
  closed = true;
  // An item another source already collected still counts toward this source's coverage; an invalid one does not.
  const status = errors.length === 0 ? 'ok' : valid > 0 ? 'partial' : 'failed';
  options.logger.debug(`${source.id}: ${count} items, ${status}, ${Date.now() - started} ms`);
  return {
    id: source.id,
    type: source.type,
    status,
    items: count,
    errors,
    declaredAt: { file: configFile, region: config.regions[source.id] ?? config.regions['$config']! },
    ...(Object.keys(apiCalls).length > 0 ? { apiCalls: sortedCounts(apiCalls) } : {}),
    ...(observedAt !== undefined ? { observedAt } : {}),
  };
}

/** A whole source in its shard: all its items are kept. */
function withoutShard({ shard: _shard, ...options }: CollectOptions): CollectOptions {
  return options;
}

/** The item's problem, or null; a collector's bug (a getter that throws, say) is a problem too, never a crash. */
function checkItem(item: unknown): string | null {
  try {
    return itemProblem(item);
  } catch (error) {
    return `could not be checked: ${(error as Error).message}`;
  }
}

function sortedCounts(counts: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
