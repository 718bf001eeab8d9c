import { fileSourceSchema } from '../file-source-schema.ts';
import type { CollectorDeclaration } from '../types.ts';

/**
 * CloudFormation templates (YAML or JSON) matched by glob patterns: the KMS keys they declare,
 * judged before they exist. What the registry, the generated config schema, provider list and
 * README read; the implementation loads only through load().
 */
export const cloudformationDeclaration: CollectorDeclaration = {
  // The config `type` of its sources.
  type: 'cloudformation',
  // The provider the declared keys will live in.
  providers: ['aws-kms'],
  // It globs and reads template files; nothing else.
  operations: ['fs:glob', 'fs:read'],
  // Its source entry's JSON Schema beyond id, type and concurrency (which every source has): the
  // generator adds those and additionalProperties: false to make its branch of the config schema's sources oneOf.
  configSchema: fileSourceSchema({ paths: 'Glob patterns of CloudFormation templates (YAML or JSON), relative to the config file.', maxFileBytes: 'Templates larger than this are reported and not read (default 10485760, 10 MiB; CloudFormation itself accepts at most 1 MB).' }),
  load: async () => (await import('./collector.ts')).cloudformationCollector,
};
