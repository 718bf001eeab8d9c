import type { CollectorDeclaration } from '../types.ts';

/**
 * The certificate chains TLS endpoints present.
 * What the registry, the generated config schema, provider list and README read; the
 * implementation (and its SDK) loads only through load().
 */
export const tlsDeclaration: CollectorDeclaration = {
  // The config `type` of its sources.
  type: 'tls',
  // The inventory `provider` of the items it yields.
  providers: ['tls-endpoint'],
  // One TLS handshake per endpoint; no request is sent.
  operations: ['tls:handshake'],
  // Its source entry's JSON Schema beyond id, type and concurrency (which every source has): the
  // generator adds those and additionalProperties: false to make its branch of the config schema's sources oneOf.
  configSchema: {
    required: ['endpoints'],
    properties: {
      endpoints: {
        type: 'array',
        minItems: 1,
        items: {
          oneOf: [
            { type: 'string', minLength: 1 },
            {
              type: 'object',
              additionalProperties: false,
              required: ['host'],
              properties: {
                host: { type: 'string', minLength: 1 },
                port: { type: 'integer', minimum: 1, maximum: 65535 },
                servername: { type: 'string' },
              },
            },
          ],
        },
      },
      timeoutMs: { type: 'integer', minimum: 1, maximum: 600000 },
      trustStore: {
        description: "Roots that judge each presented chain (KD-CRT-006, KD-CRT-007): system (the operating system's store; Node's bundled roots if it is empty) or none (not judged).",
        enum: ['system', 'none'],
      },
      caFile: {
        description: "PEM CA bundle, relative to the config's folder; when set, only these CAs are trusted.",
        type: 'string',
        minLength: 1,
      },
    },
    if: { required: ['caFile'] },
    then: { properties: { trustStore: { const: 'system' } } },
  },
  load: async () => (await import('./collector.ts')).tlsCollector,
};
