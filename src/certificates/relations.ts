import type { InventoryItem } from '../inventory/types.ts';
import { epochSeconds } from '../util/epoch-seconds.ts';

// The rules that compare one certificate with others (its issuer, the chain it travels in,
// earlier certificates of the same key) need the whole inventory, while the engine evaluates
// items in batches. This index groups the certificates those rules look up, once per run; it
// goes to the policy as data.certificateIndex. It only groups: whether a candidate is the
// issuer, whether a chain is complete, whether a key was reused is decided in Rego
// (policies/keydrift/certificates), which builds the same index from input.items when the data
// has none (opa eval over a whole inventory, the Rego unit tests).

/** What the rules read about a related certificate. */
export interface CertificateSummary {
  uid: string;
  state: string;
  subject: string;
  issuer: string;
  serialNumber: string;
  notBefore: string;
  notBefore_s: number | null;
  notAfter: string;
  notAfter_s: number | null;
  selfSigned: boolean;
  isCA: boolean;
  version: number | null;
  subjectKeyId: string | null;
  sans: string[];
}

export interface CertificateIndex {
  /** Certificates by subject DN, for the subjects that some other certificate names as its issuer. */
  issuers: Record<string, CertificateSummary[]>;
  /** Certificates by publicKeySha256, for keys that two or more certificates carry. */
  publicKeys: Record<string, CertificateSummary[]>;
  /** Certificates delivered together (one TLS endpoint's chain, one file), for groups of two or more. */
  chains: Record<string, CertificateSummary[]>;
}

/**
 * The chain a certificate was delivered in: the endpoint that served it, or the file that holds
 * it, within its source. Null for providers whose certificates are not delivered as a chain.
 */
export function chainKey(item: InventoryItem): string | null {
  const evidence = item.evidence;
  if (item.provider === 'tls-endpoint' && typeof evidence['endpoint'] === 'string') return `${item.sourceId}|tls|${evidence['endpoint']}`;
  if (item.provider === 'x509-file' && typeof evidence['file'] === 'string') return `${item.sourceId}|file|${evidence['file']}`;
  return null;
}

export function certificateIndex(items: readonly InventoryItem[]): CertificateIndex {
  return certificateIndexFrom(items.flatMap((item) => certificateEntry(item) ?? []));
}

/**
 * What the index needs of one certificate. Batches evaluated apart (worker threads) each list their
 * entries; the index built from all of them, in inventory order, is the one certificateIndex builds.
 */
export interface CertificateEntry {
  summary: CertificateSummary;
  publicKey: string | null;
  chain: string | null;
}

export function certificateEntry(item: InventoryItem): CertificateEntry | null {
  if (item.kind !== 'certificate' || item.certificate === null) return null;
  return { summary: summary(item), publicKey: item.certificate.publicKeySha256 ?? null, chain: chainKey(item) };
}

export function certificateIndexFrom(entries: readonly CertificateEntry[]): CertificateIndex {
  const issuerNames = new Set(entries.filter((entry) => !entry.summary.selfSigned).map((entry) => entry.summary.issuer));
  const issuers = group(entries.filter((entry) => issuerNames.has(entry.summary.subject)), (entry) => entry.summary.subject, 1);
  const publicKeys = group(entries, (entry) => entry.publicKey, 2);
  const chains = group(entries, (entry) => entry.chain, 2);
  return { issuers, publicKeys, chains };
}

/** Groups of at least `min` certificates by key; prototype-free so a key such as "__proto__" is only a key. */
function group(entries: readonly CertificateEntry[], keyOf: (entry: CertificateEntry) => string | null, min: number): Record<string, CertificateSummary[]> {
  const groups = new Map<string, CertificateSummary[]>();
  for (const entry of entries) {
    const key = keyOf(entry);
    if (key === null) continue;
    const members = groups.get(key) ?? [];
    members.push(entry.summary);
    groups.set(key, members);
  }
  const out: Record<string, CertificateSummary[]> = Object.create(null) as Record<string, CertificateSummary[]>;
  for (const [key, members] of groups) if (members.length >= min) out[key] = members;
  return out;
}

function summary(item: InventoryItem): CertificateSummary {
  const certificate = item.certificate!;
  return {
    uid: item.uid,
    state: item.state,
    subject: certificate.subject,
    issuer: certificate.issuer,
    serialNumber: certificate.serialNumber,
    notBefore: certificate.notBefore,
    notBefore_s: epochSeconds(certificate.notBefore),
    notAfter: certificate.notAfter,
    notAfter_s: epochSeconds(certificate.notAfter),
    selfSigned: certificate.selfSigned,
    isCA: certificate.isCA,
    version: certificate.version ?? null,
    subjectKeyId: certificate.subjectKeyId ?? null,
    sans: certificate.sans,
  };
}
