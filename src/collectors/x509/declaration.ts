import { fileSourceSchema } from '../file-source-schema.ts';
import type { CollectorDeclaration } from '../types.ts';

/**
 * Certificate files (PEM, DER, PKCS#7) matched by glob patterns.
 * What the registry, the generated config schema, provider list and README read; the
 * implementation (and its SDK) loads only through load().
 */
export const x509FilesDeclaration: CollectorDeclaration = {
  // The config `type` of its sources.
  type: 'x509-files',
  // The inventory `provider` of the items it yields.
  providers: ['x509-file'],
  // It globs and reads files; nothing else.
  operations: ['fs:glob', 'fs:read'],
  // Its source entry's JSON Schema beyond id, type and concurrency (which every source has): the
  // generator adds those and additionalProperties: false to make its branch of the config schema's sources oneOf.
  configSchema: fileSourceSchema({ maxFileBytes: 'Files larger than this are reported and not read (default 10485760, 10 MiB).' }),
  load: async () => (await import('./files.ts')).x509FilesCollector,
};
