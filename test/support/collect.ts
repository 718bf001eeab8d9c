import { createLogger } from '../../src/cli/logger.ts';
import type { CollectContext } from '../../src/collectors/types.ts';
import type { SourceError } from '../../src/model/source.ts';

/** A collection context for tests and benches: silent logger, errors and API calls kept for inspection. */
export function quietContext(baseDir = process.cwd()): CollectContext & { errors: SourceError[] } {
  const errors: SourceError[] = [];
  return {
    logger: createLogger('quiet', false, () => {}),
    signal: new AbortController().signal,
    now: new Date(),
    baseDir,
    errors,
    error: (error: SourceError) => errors.push(error),
    apiCalls: {},
  };
}
