import type { CollectorDeclaration } from '../types.ts';

/**
 * Google Cloud KMS keys. Its client loads .proto files from node_modules at run time, so it is imported only when a gcp-kms source is configured (the bundled Action works without it otherwise).
 * What the registry, the generated config schema, provider list and README read; the
 * implementation (and its SDK) loads only through load().
 */
export const gcpKmsDeclaration: CollectorDeclaration = {
  // The config `type` of its sources.
  type: 'gcp-kms',
  // The inventory `provider` of the items it yields.
  providers: ['gcp-kms'],
  // The IAM permissions it exercises, one per RPC (README.md's permission list is generated from these).
  // The last two only when `projects` names an organization or folder: SearchProjects answers with
  // the projects the caller has resourcemanager.projects.get on, ListFolders needs
  // resourcemanager.folders.list on each folder and the organization (both in roles/browser).
  operations: [
    'cloudkms.locations.list',
    'cloudkms.keyRings.list',
    'cloudkms.cryptoKeys.list',
    'cloudkms.cryptoKeyVersions.list',
    'cloudkms.cryptoKeys.getIamPolicy',
    'cloudkms.keyRings.getIamPolicy',
    'resourcemanager.projects.get',
    'resourcemanager.folders.list',
  ],
  // Its source entry's JSON Schema beyond id, type and concurrency (which every source has): the
  // generator adds those and additionalProperties: false to make its branch of the config schema's sources oneOf.
  configSchema: {
    properties: {
      projects: {
        description: 'project ids, or { organization: ID } / { folder: ID } to scan every ACTIVE project beneath it, nested folders included',
        // if/else rather than oneOf, so that a mistake gets one message about the form it meant.
        type: ['array', 'object'],
        if: { type: 'array' },
        then: { minItems: 1, items: { type: 'string', minLength: 1 } },
        else: {
          minProperties: 1,
          maxProperties: 1,
          additionalProperties: false,
          properties: { organization: hierarchyId('organizations'), folder: hierarchyId('folders') },
        },
      },
      locations: {
        oneOf: [{ const: 'all' }, { type: 'array', minItems: 1, items: { type: 'string' } }],
      },
      endpoint: {
        type: 'string',
        description: 'host:port (TLS) or http://host:port (plaintext, emulators)',
      },
      pageSize: { type: 'integer', minimum: 1, maximum: 1000 },
      timeoutMs: { type: 'integer', minimum: 100, maximum: 600000 },
    },
    required: ['projects'],
  },
  shardedByAccount: true,
  load: async () => (await import('./collector.ts')).gcpKmsCollector,
};

/** An organization or folder id: its digits (a YAML number too), or its resource name. */
function hierarchyId(collection: 'organizations' | 'folders'): Record<string, unknown> {
  return { type: ['string', 'integer'], pattern: `^(${collection}/)?[0-9]+$`, minimum: 1 };
}
