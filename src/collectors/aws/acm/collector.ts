import {
  ACMClient,
  DescribeCertificateCommand,
  GetCertificateCommand,
  KeyAlgorithm,
  ListTagsForCertificateCommand,
  paginateListCertificates,
  type CertificateDetail,
  type CertificateSummary,
} from '@aws-sdk/client-acm';
import type { InventoryItem } from '../../../inventory/types.ts';
import { mapBounded } from '../../../util/limit.ts';
import { certificateBlocks } from '../../../certificates/pem.ts';
import { parseCertificate, type ParsedCertificate } from '../../../certificates/certificate.ts';
import type { CollectContext, Collector } from '../../types.ts';
import { acmDeclaration } from './declaration.ts';
import { clientSettings, countCalls, credentialsFor, type AwsSource } from '../client.ts';
import { classify, describeFailure } from '../errors.ts';
import { eachAccount } from '../accounts.ts';
import { attemptFor, eachRegion } from '../regions.ts';
import { acmItem } from './map.ts';

export const DEFAULT_CONCURRENCY = 8;

// ListCertificates returns only RSA_2048 certificates unless every key type is asked for.
export const ALL_KEY_TYPES = Object.values(KeyAlgorithm);

// Statuses for which ACM holds an issued certificate that GetCertificate can return.
const HAS_CERTIFICATE = new Set(['ISSUED', 'EXPIRED', 'REVOKED', 'INACTIVE']);

export const acmCollector: Collector = {
  type: acmDeclaration.type,
  provides: acmDeclaration.providers,
  operations: acmDeclaration.operations,
  collect: (source, ctx) => eachAccount(source as AwsSource, ctx, DEFAULT_CONCURRENCY, collectAccount),
};

/** One account, every configured region: the source's own, or a member account of its organization. */
function collectAccount(source: AwsSource, ctx: CollectContext): AsyncGenerator<InventoryItem> {
  return eachRegion(source, ctx, (region) => collectRegion(source, region, ctx));
}

async function* collectRegion(source: AwsSource, region: string, ctx: CollectContext): AsyncGenerator<InventoryItem> {
  const client = countCalls(new ACMClient(clientSettings(source, region, credentialsFor(source, region))), 'acm', ctx);
  try {
    let summaries: CertificateSummary[];
    try {
      summaries = await listCertificates(client);
    } catch (error) {
      ctx.error({ ...describeFailure('acm:ListCertificates', region, error), code: `aws-region-${classify(error)}` });
      return;
    }
    const inspected = mapBounded(summaries, source.concurrency ?? DEFAULT_CONCURRENCY, (summary) => inspectCertificate(client, summary, region, source, ctx));
    for await (const item of inspected) yield item;
  } finally {
    client.destroy();
  }
}

async function listCertificates(client: ACMClient): Promise<CertificateSummary[]> {
  const certificates: CertificateSummary[] = [];
  for await (const page of paginateListCertificates({ client, pageSize: 1000 }, { Includes: { keyTypes: ALL_KEY_TYPES } })) {
    certificates.push(...(page.CertificateSummaryList ?? []));
  }
  return certificates;
}

async function inspectCertificate(
  client: ACMClient,
  summary: CertificateSummary,
  region: string,
  source: AwsSource,
  ctx: CollectContext,
): Promise<InventoryItem> {
  const arn = summary.CertificateArn ?? 'unknown';
  const attempt = attemptFor(ctx, arn);
  const detail: CertificateDetail =
    (await attempt('acm:DescribeCertificate', async () => (await client.send(new DescribeCertificateCommand({ CertificateArn: arn }))).Certificate)) ??
    summaryAsDetail(summary);
  const status = detail.Status ?? summary.Status ?? '';
  const [pem, tags] = await Promise.all([
    HAS_CERTIFICATE.has(status) ? attempt('acm:GetCertificate', async () => (await client.send(new GetCertificateCommand({ CertificateArn: arn }))).Certificate ?? null) : null,
    attempt('acm:ListTagsForCertificate', async () => {
      const response = await client.send(new ListTagsForCertificateCommand({ CertificateArn: arn }));
      return Object.fromEntries((response.Tags ?? []).map((tag) => [tag.Key ?? '', tag.Value ?? '']));
    }),
  ]);
  let parsed: ParsedCertificate | null = null;
  if (pem) {
    try {
      const block = certificateBlocks(pem)[0];
      if (block) parsed = parseCertificate(block.der);
    } catch (error) {
      ctx.error({ code: 'certificate-invalid', message: `acm:GetCertificate on ${arn}: the certificate cannot be parsed: ${(error as Error).message}`, resource: arn });
    }
  }
  return acmItem({ detail, region, sourceId: source.id, parsed, tags });
}

function summaryAsDetail(summary: CertificateSummary): CertificateDetail {
  return {
    CertificateArn: summary.CertificateArn,
    DomainName: summary.DomainName,
    Status: summary.Status,
    Type: summary.Type,
    KeyAlgorithm: summary.KeyAlgorithm,
    NotBefore: summary.NotBefore,
    NotAfter: summary.NotAfter,
    InUseBy: summary.InUse ? ['(in use)'] : [],
    RenewalEligibility: summary.RenewalEligibility,
  };
}
