import type { CollectorDeclaration } from '../../types.ts';
import { AWS_SOURCE_SCHEMA, ORGANIZATION_OPERATIONS } from '../source-schema.ts';
import { CLOUDTRAIL_SCHEMA } from './cloudtrail-settings.ts';

/**
 * AWS KMS keys, region by region.
 * What the registry, the generated config schema, provider list and README read; the
 * implementation (and its SDK) loads only through load().
 */
export const kmsDeclaration: CollectorDeclaration = {
  // The config `type` of its sources.
  type: 'aws-kms',
  // The inventory `provider` of the items it yields.
  providers: ['aws-kms'],
  // Every API action it may call: the least-privilege IAM policy in README.md is generated from these.
  // The organizations: and sts: ones only with `accounts` set on the source (organization discovery).
  // cloudtrail:LookupEvents only with `cloudTrail` set on the source.
  operations: ['kms:ListKeys', 'kms:ListAliases', 'kms:DescribeKey', 'kms:GetKeyRotationStatus', 'kms:ListKeyRotations', 'kms:ListResourceTags', 'kms:GetKeyPolicy', 'kms:ListGrants', 'ec2:DescribeRegions', 'cloudtrail:LookupEvents', ...ORGANIZATION_OPERATIONS],
  // Its source entry's JSON Schema beyond id, type and concurrency (which every source has): the
  // generator adds those and additionalProperties: false to make its branch of the config schema's sources oneOf.
  configSchema: { ...AWS_SOURCE_SCHEMA, properties: { ...AWS_SOURCE_SCHEMA.properties, cloudTrail: CLOUDTRAIL_SCHEMA } },
  shardedByAccount: true,
  load: async () => (await import('./collector.ts')).kmsCollector,
};
