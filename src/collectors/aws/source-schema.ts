import type { CollectorDeclaration } from '../types.ts';

/** The fields every aws-* source takes (CONTRACT section 2), shared by the KMS and ACM declarations. */
export const AWS_SOURCE_SCHEMA: CollectorDeclaration['configSchema'] = {
  properties: {
    regions: { $ref: '#/$defs/regions' },
    profile: { type: 'string' },
    roleArn: { type: 'string', pattern: '^arn:aws[a-z-]*:iam::\\d{12}:role/.+' },
    endpoint: { type: 'string', pattern: '^[A-Za-z][A-Za-z0-9+.-]*://' },
    timeoutMs: { $ref: '#/$defs/timeoutMs' },
  },
};
