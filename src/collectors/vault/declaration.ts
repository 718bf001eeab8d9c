import type { CollectorDeclaration } from '../types.ts';

/**
 * HashiCorp Vault transit keys, and PKI issuers, issuer keys, certificates and roles.
 * What the registry, the generated config schema, provider list and README read; the
 * implementation (and its SDK) loads only through load().
 */
export const vaultDeclaration: CollectorDeclaration = {
  // The config `type` of its sources.
  type: 'vault',
  // The inventory `provider` of the items it yields.
  providers: ['vault-transit', 'vault-pki'],
  // Every Vault path pattern it reads (README.md's minimal scanning policy is generated from these).
  operations: [
    'read sys/mounts',
    // Only with `namespaces: recursive`, in the starting namespace and in each one below it.
    'list sys/namespaces',
    'list <transit>/keys',
    'read <transit>/keys/*',
    'list <pki>/issuers',
    'read <pki>/issuer/*',
    'list <pki>/keys',
    'read <pki>/key/*',
    'list <pki>/certs',
    'read <pki>/cert/*',
    'list <pki>/roles',
    'read <pki>/roles/*',
    'read sys/mounts/<pki>/tune',
  ],
  // Its source entry's JSON Schema beyond id, type and concurrency (which every source has): the
  // generator adds those and additionalProperties: false to make its branch of the config schema's sources oneOf.
  configSchema: {
    properties: {
      address: { type: 'string', pattern: '^[A-Za-z][A-Za-z0-9+.-]*://' },
      namespace: { type: 'string' },
      namespaces: {
        type: 'string',
        enum: ['recursive'],
        description:
          'recursive: collect every namespace at or below `namespace` (or the root), found with LIST sys/namespaces (Vault Enterprise, OpenBao 2.3 or later); with `mounts`, the same mount names in each namespace.',
      },
      auth: { $ref: '#/$defs/vaultAuth' },
      mounts: {
        type: 'object',
        additionalProperties: false,
        properties: {
          transit: { type: 'array', items: { type: 'string' } },
          pki: { type: 'array', items: { type: 'string' } },
        },
      },
      caFile: { type: 'string' },
      timeoutMs: { $ref: '#/$defs/timeoutMs' },
    },
  },
  load: async () => (await import('./collector.ts')).vaultCollector,
};
