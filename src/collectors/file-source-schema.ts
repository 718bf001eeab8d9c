/**
 * The config schema of a source that reads files matched by globs (x509-files and the
 * infrastructure-code sources): `paths` relative to the config and a per-file size bound. Each
 * source says in its own words what the files are and what its default bound is.
 */
export function fileSourceSchema(descriptions: { paths?: string; maxFileBytes: string }): { required: string[]; properties: Record<string, unknown> } {
  return {
    required: ['paths'],
    properties: {
      paths: { ...(descriptions.paths ? { description: descriptions.paths } : {}), type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } },
      maxFileBytes: { type: 'integer', minimum: 1, maximum: 536870912, description: descriptions.maxFileBytes },
    },
  };
}
