import { fileSourceSchema } from '../file-source-schema.ts';
import type { CollectorDeclaration } from '../types.ts';

/**
 * Kubernetes manifests (plain, multi-document or Helm-rendered YAML, `List` kinds) matched by glob
 * patterns: the cert-manager Certificates they declare, judged before cert-manager issues them.
 * What the registry, the generated config schema, provider list and README read; the
 * implementation loads only through load().
 */
export const kubernetesDeclaration: CollectorDeclaration = {
  // The config `type` of its sources.
  type: 'kubernetes',
  // The provider the declared certificates will live in.
  providers: ['kubernetes-cert-manager'],
  // It globs and reads manifest files; it never talks to a cluster.
  operations: ['fs:glob', 'fs:read'],
  // Its source entry's JSON Schema beyond id, type and concurrency (which every source has): the
  // generator adds those and additionalProperties: false to make its branch of the config schema's sources oneOf.
  configSchema: fileSourceSchema({ paths: 'Glob patterns of Kubernetes manifests (YAML or JSON, multi-document, Helm-rendered), relative to the config file.', maxFileBytes: 'Manifest files larger than this are reported and not read (default 10485760, 10 MiB).' }),
  load: async () => (await import('./collector.ts')).kubernetesCollector,
};
