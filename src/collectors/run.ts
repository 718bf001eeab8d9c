import type { Logger } from '../cli/logger.ts';
import { ConfigError } from '../config/load.ts';
import type { Config } from '../config/types.ts';
import type { SourceStatus } from '../findings/types.ts';
import type { InventoryItem } from '../inventory/types.ts';
import { displayPath } from '../util/paths.ts';
import { assignTier } from './tiers.ts';
import { COLLECTORS } from './registry.ts';
import type { SourceError } from './types.ts';

export interface Collected {
  items: InventoryItem[];
  sources: SourceStatus[];
}

/**
 * Runs every configured source. A source that throws or reports errors is `partial` (some items)
 * or `failed` (none): it is never silently empty, and one source's failure never stops another.
 */
export async function collectAll(config: Config, options: { logger: Logger; now: Date; signal?: AbortSignal }): Promise<Collected> {
  const items: InventoryItem[] = [];
  const sources: SourceStatus[] = [];
  const seen = new Set<string>();
  const configFile = displayPath(config.file);
  // Refuse before collecting anything: a half-run scan is worse than a clear "no".
  for (const source of config.sources) {
    if (!COLLECTORS.has(source.type)) {
      throw new ConfigError([`${configFile}: source "${source.id}": type ${source.type} has no collector in this build of keydrift`]);
    }
  }
  for (const source of config.sources) {
    const collector = await COLLECTORS.get(source.type)!();
    const errors: SourceError[] = [];
    const apiCalls: Record<string, number> = {};
    let count = 0;
    let yielded = 0;
    const started = Date.now();
    options.logger.info(`collecting ${source.id} (${source.type})`);
    try {
      const iterable = collector.collect(source, {
        logger: options.logger,
        signal: options.signal ?? new AbortController().signal,
        now: options.now,
        baseDir: config.baseDir,
        error: (error) => {
          errors.push(error);
          options.logger.warn(`${source.id}: ${error.message}`);
        },
        apiCalls,
      });
      for await (const item of iterable) {
        yielded++;
        if (seen.has(item.uid)) {
          options.logger.debug(`${source.id}: ${item.uid} already collected, skipped`);
          continue;
        }
        seen.add(item.uid);
        items.push(assignTier(item, config.tiers ?? []));
        count++;
      }
    } catch (error) {
      const message = `${source.id}: collection stopped: ${(error as Error).message}`;
      errors.push({ code: 'collector-error', message });
      options.logger.warn(message);
    }
    // An item another source already collected still counts toward this source's coverage.
    const status = errors.length === 0 ? 'ok' : yielded > 0 ? 'partial' : 'failed';
    options.logger.debug(`${source.id}: ${count} items, ${status}, ${Date.now() - started} ms`);
    sources.push({
      id: source.id,
      type: source.type,
      status,
      items: count,
      errors,
      declaredAt: { file: configFile, region: config.regions[source.id] ?? config.regions['$config']! },
      ...(Object.keys(apiCalls).length > 0 ? { apiCalls: sortedCounts(apiCalls) } : {}),
    });
  }
  return { items, sources };
}

function sortedCounts(counts: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
