import type { CollectorDeclaration } from '../../types.ts';
import { AWS_SOURCE_SCHEMA, ORGANIZATION_OPERATIONS } from '../source-schema.ts';

/**
 * AWS Certificate Manager certificates, region by region.
 * What the registry, the generated config schema, provider list and README read; the
 * implementation (and its SDK) loads only through load().
 */
export const acmDeclaration: CollectorDeclaration = {
  // The config `type` of its sources.
  type: 'aws-acm',
  // The inventory `provider` of the items it yields.
  providers: ['aws-acm'],
  // Every API action it may call: the least-privilege IAM policy in README.md is generated from these.
  // The organizations: and sts: ones only with `accounts` set on the source (organization discovery).
  operations: ['acm:ListCertificates', 'acm:DescribeCertificate', 'acm:GetCertificate', 'acm:ListTagsForCertificate', 'ec2:DescribeRegions', ...ORGANIZATION_OPERATIONS],
  // Its source entry's JSON Schema beyond id, type and concurrency (which every source has): the
  // generator adds those and additionalProperties: false to make its branch of the config schema's sources oneOf.
  configSchema: AWS_SOURCE_SCHEMA,
  shardedByAccount: true,
  load: async () => (await import('./collector.ts')).acmCollector,
};
