import type { CollectorDeclaration } from '../types.ts';

/**
 * Keys and certificates on a PKCS#11 token (an HSM). pkcs11js, a native addon, is loaded by the collector on first use.
 * What the registry, the generated config schema, provider list and README read; the
 * implementation (and its SDK) loads only through load().
 */
export const pkcs11Declaration: CollectorDeclaration = {
  // The config `type` of its sources.
  type: 'pkcs11',
  // The inventory `provider` of the items it yields.
  providers: ['pkcs11'],
  // The PKCS#11 calls it makes: read-only session, user login, object search and attribute reads.
  operations: ['C_GetSlotList', 'C_GetTokenInfo', 'C_OpenSession (read-only)', 'C_Login (CKU_USER)', 'C_FindObjects', 'C_GetAttributeValue'],
  // Its source entry's JSON Schema beyond id, type and concurrency (which every source has): the
  // generator adds those and additionalProperties: false to make its branch of the config schema's sources oneOf.
  configSchema: {
    required: ['module'],
    properties: {
      module: { type: 'string' },
      token: { type: 'string' },
      slot: { type: 'integer', minimum: 0 },
      pinEnv: { type: 'string' },
      pinFile: { type: 'string' },
      serial: { type: 'string', description: 'token serial number' },
    },
  },
  load: async () => (await import('./collector.ts')).pkcs11Collector,
};
