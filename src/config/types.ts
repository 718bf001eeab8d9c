import type { FailOn } from '../model/severity.ts';
import type { Format } from '../model/format.ts';
import type { Profile } from '../model/profile.ts';
import type { Region } from '../model/region.ts';
import type { SourceConfig } from '../model/source.ts';

// Generated from the collectors' declarations: config sits below collectors and cannot read the registry.
export { SOURCE_TYPES } from '../model/sources.generated.ts';

export interface Settings {
  rotation?: {
    maxDays?: number;
    graceDays?: number;
    purposeMaxDays?: Partial<Record<string, number>>;
    scopedMaxDays?: { provider?: string[]; purpose?: string[]; keyType?: string[]; maxDays: number }[];
  };
  algorithms?: {
    denied?: string[];
    minBits?: { rsa?: number; ec?: number; symmetric?: number; hmac?: number };
    minBitsSchedule?: { from: string; minBits: { rsa?: number; ec?: number; symmetric?: number; hmac?: number } }[];
    secrecyYears?: number | null;
    deprecatedUntil?: { algorithm: string; until: string }[];
  };
  pqc?: { deadline?: string; disallowedAfter?: string | null };
  retirement?: { disabledMaxDays?: number; legalHoldTag?: string; oldVersionMaxDays?: number };
  expiry?: { warnDays?: number; failDays?: number; warnFraction?: number; failFraction?: number; warnFloorDays?: number; failFloorDays?: number };
  certificates?: {
    maxValidityDays?: number;
    weakSignatureHashes?: string[];
    validitySchedule?: { from: string; maxDays: number }[];
    allowedCurves?: string[];
  };
  protection?: { hsmTiers?: string[] };
  governance?: { requiredTags?: string[] };
  access?: { trustedAccounts?: string[]; allowMultiRegion?: boolean };
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

/** One allowed fix: every field is a glob; a missing source or tier matches any. */
export interface RemediationAllow {
  rule: string;
  source?: string;
  tier?: string;
}

/** A scope of live keys the config says is fully managed as code (KD-DRF-002 judges only these). */
export interface ManagedAsCode {
  /** Source id or glob. */
  source: string;
  /** Key uid or glob; every key of the source when absent. */
  resource?: string;
}

export interface RemediationConfig {
  allow?: RemediationAllow[];
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
  /** What `keydrift remediate` may change; nothing at all when absent. */
  remediation?: RemediationConfig;
  /** Declared-versus-live drift: the live scopes fully managed as code (KD-DRF-002). */
  drift?: { managedAsCode?: ManagedAsCode[] };
  /** Absolute path of the file it came from. */
  file: string;
  /** Folder relative paths in the config are resolved against. */
  baseDir: string;
  /** Where each source is declared in the file, by source id, for SARIF locations. */
  regions: Record<string, Region>;
}
