import type { CertificateDetail } from '@aws-sdk/client-acm';
import { ecKey, rsaKey, unknownAlgorithm, type CanonicalKey } from '../../../inventory/algorithms.ts';
import type { InventoryItem, ItemState } from '../../../inventory/types.ts';
import { baseItem } from '../../../inventory/types.ts';
import { certificateItem, type ParsedCertificate } from '../../../certificates/certificate.ts';
import { rfc3339OrNull } from '../../../util/rfc3339.ts';

export interface AcmCertificateFacts {
  detail: CertificateDetail;
  region: string;
  sourceId: string;
  /** The certificate itself (GetCertificate), when ACM holds one and the call succeeded. */
  parsed: ParsedCertificate | null;
  tags: Record<string, string> | null;
}

// An expired certificate is still deployed wherever it is in use: it stays "enabled" so the
// expiry rules judge it. Revoked and inactive ones are out of service.
const STATES: Record<string, ItemState> = {
  ISSUED: 'enabled',
  EXPIRED: 'enabled',
  REVOKED: 'disabled',
  INACTIVE: 'disabled',
  PENDING_VALIDATION: 'unavailable',
  VALIDATION_TIMED_OUT: 'unavailable',
  FAILED: 'unavailable',
};

export function acmKeyAlgorithm(keyAlgorithm: string | undefined): CanonicalKey {
  const rsa = /^RSA_(\d+)$/.exec(keyAlgorithm ?? '');
  if (rsa) return rsaKey(Number(rsa[1]));
  const ec = /^EC_(\w+)$/.exec(keyAlgorithm ?? '');
  if (ec) return ecKey(ec[1]!);
  return unknownAlgorithm(keyAlgorithm ?? 'none');
}

export function acmItem(facts: AcmCertificateFacts): InventoryItem {
  const { detail, region, parsed } = facts;
  const arn = detail.CertificateArn ?? 'unknown';
  const account = arn.split(':')[4] ?? 'unknown';
  const common = {
    uid: arn,
    provider: 'aws-acm' as const,
    sourceId: facts.sourceId,
    location: `${account}/${region}`,
  };
  const evidence = {
    Type: detail.Type ?? null,
    Status: detail.Status ?? null,
    KeyAlgorithm: detail.KeyAlgorithm ?? null,
    SignatureAlgorithm: detail.SignatureAlgorithm ?? null,
    InUseBy: detail.InUseBy ?? [],
    RenewalEligibility: detail.RenewalEligibility ?? null,
    ...(detail.RenewalSummary?.RenewalStatus ? { RenewalStatus: detail.RenewalSummary.RenewalStatus } : {}),
    ...(detail.CertificateAuthorityArn ? { CertificateAuthorityArn: detail.CertificateAuthorityArn } : {}),
    accountId: account,
    region,
    ...(facts.tags === null ? { tagsCollected: false } : {}),
  };
  const overlay = {
    name: detail.DomainName ?? parsed?.commonName ?? arn,
    managedBy: 'customer' as const,
    state: STATES[detail.Status ?? ''] ?? 'unavailable',
    stateSince: detail.Status === 'REVOKED' ? rfc3339OrNull(detail.RevokedAt) : null,
    tags: facts.tags ?? {},
    // ACM-issued certificates keep their private key inside ACM; imported ones came from outside.
    origin: detail.Type === 'IMPORTED' ? ('imported' as const) : ('generated' as const),
  };
  if (parsed) {
    return { ...certificateItem(parsed, { ...common, evidence }), ...overlay };
  }
  // No certificate body (pending validation, or GetCertificate denied): what DescribeCertificate says.
  const key = acmKeyAlgorithm(detail.KeyAlgorithm);
  return baseItem({
    ...common,
    ...overlay,
    kind: 'certificate',
    algorithm: key.algorithm,
    keyType: key.keyType,
    keySize: key.keySize,
    curve: key.curve,
    purpose: 'tls',
    createdAt: rfc3339OrNull(detail.NotBefore ?? detail.IssuedAt ?? detail.ImportedAt ?? detail.CreatedAt),
    expiresAt: rfc3339OrNull(detail.NotAfter),
    certificate: null,
    evidence: { ...evidence, NotBefore: rfc3339OrNull(detail.NotBefore), NotAfter: rfc3339OrNull(detail.NotAfter) },
  });
}
