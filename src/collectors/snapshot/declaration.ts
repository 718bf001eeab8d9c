import { PROVIDERS } from '../../model/sources.generated.ts';
import type { CollectorDeclaration } from '../types.ts';

/**
 * A saved inventory (or a JSON report's inventory) replayed as a source.
 * What the registry, the generated config schema, provider list and README read; the
 * implementation (and its SDK) loads only through load().
 */
export const snapshotDeclaration: CollectorDeclaration = {
  // The config `type` of its sources.
  type: 'snapshot',
  // Items of every provider, as they were saved: the generated list of all the others' providers
  // (scripts/gen-collector-artifacts.ts leaves this declaration out when it builds that list).
  providers: PROVIDERS,
  // It reads one file.
  operations: ['fs:read'],
  // Its source entry's JSON Schema beyond id, type and concurrency (which every source has): the
  // generator adds those and additionalProperties: false to make its branch of the config schema's sources oneOf.
  configSchema: {
    required: ['path'],
    properties: {
      path: { type: 'string', minLength: 1 },
      maxFileBytes: {
        type: 'integer',
        minimum: 1,
        maximum: 536870912,
        description: 'A larger snapshot file is reported and not read (default 536870912, 512 MiB).',
      },
    },
  },
  load: async () => (await import('./collector.ts')).snapshotCollector,
};
