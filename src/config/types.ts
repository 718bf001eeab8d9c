import type { SourceConfig } from '../collectors/types.ts';

export const SOURCE_TYPES = ['aws-kms', 'aws-acm', 'gcp-kms', 'vault', 'pkcs11', 'x509-files', 'tls', 'snapshot'] as const;
export const PROFILES = ['default', 'cis-aws', 'cis-gcp', 'nist-800-57', 'pci-dss', 'public-tls'] as const;
export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'] as const;
export const FORMATS = ['json', 'sarif', 'md', 'html', 'csv'] as const;

export type Profile = (typeof PROFILES)[number];
export type Severity = (typeof SEVERITIES)[number];
export type FailOn = Exclude<Severity, 'info'> | 'none';
export type Format = (typeof FORMATS)[number];

/** A span of lines in a file (SARIF region semantics: 1-based, end column exclusive). */
export interface Region {
  startLine: number;
  startColumn: number;
  endLine: number;
  endColumn: number;
}

export interface Settings {
  rotation?: { maxDays?: number; graceDays?: number; purposeMaxDays?: Partial<Record<string, number>> };
  algorithms?: { denied?: string[]; minBits?: { rsa?: number; ec?: number; symmetric?: number; hmac?: number } };
  pqc?: { deadline?: string };
  retirement?: { disabledMaxDays?: number; legalHoldTag?: string; oldVersionMaxDays?: number };
  expiry?: { warnDays?: number; failDays?: number };
  certificates?: {
    maxValidityDays?: number;
    weakSignatureHashes?: string[];
    validitySchedule?: { from: string; maxDays: number }[];
  };
  protection?: { hsmTiers?: string[] };
  governance?: { requiredTags?: string[] };
}

export interface TierRule {
  tag: string;
  value?: string;
  tier: string;
}

export interface Waiver {
  rule: string;
  resource: string;
  reason: string;
  owner: string;
  expires: string;
  /** Where the waiver is written (filled in when the config is loaded), for KD-GOV-002 locations. */
  declaredAt?: { file: string; region: Region };
}

export interface PolicyConfig {
  profile?: Profile;
  settings?: Settings;
  tierSettings?: Record<string, Settings>;
  bundles?: string[];
  /** Deadline of each custom bundle's evaluation, in milliseconds. */
  bundleTimeoutMs?: number;
}

export interface Config {
  version: 1;
  name: string;
  sources: SourceConfig[];
  policy?: PolicyConfig;
  tiers?: TierRule[];
  waivers?: Waiver[];
  report?: { formats?: Format[]; outDir?: string; failOn?: FailOn };
  /** Absolute path of the file it came from. */
  file: string;
  /** Folder relative paths in the config are resolved against. */
  baseDir: string;
  /** Where each source is declared in the file, by source id, for SARIF locations. */
  regions: Record<string, Region>;
}
