import path from 'node:path';
import { displayPath } from '../util/paths.ts';
import type { Config, Profile, Settings, Waiver } from './types.ts';

/** Every setting of CONTRACT section 4 with its default; a profile or the config overrides parts. */
export type FullSettings = {
  rotation: { maxDays: number; graceDays: number; purposeMaxDays: Partial<Record<string, number>> };
  algorithms: { denied: string[]; minBits: { rsa: number; ec: number; symmetric: number; hmac: number } };
  pqc: { deadline: string };
  retirement: { disabledMaxDays: number; legalHoldTag: string; oldVersionMaxDays: number };
  expiry: { warnDays: number; failDays: number };
  certificates: {
    maxValidityDays: number;
    weakSignatureHashes: string[];
    validitySchedule: { from: string; maxDays: number }[];
  };
  protection: { hsmTiers: string[] };
  governance: { requiredTags: string[] };
};

export const DEFAULT_SETTINGS: FullSettings = {
  rotation: { maxDays: 365, graceDays: 7, purposeMaxDays: {} },
  algorithms: {
    denied: ['DES', '3DES', 'RC4', 'HMAC-SHA1', 'HMAC-MD5'],
    minBits: { rsa: 2048, ec: 256, symmetric: 128, hmac: 256 },
  },
  pqc: { deadline: '2030-12-31' },
  retirement: { disabledMaxDays: 90, legalHoldTag: 'legal-hold', oldVersionMaxDays: 90 },
  expiry: { warnDays: 30, failDays: 7 },
  certificates: { maxValidityDays: 398, weakSignatureHashes: ['MD2', 'MD5', 'SHA1'], validitySchedule: [] },
  protection: { hsmTiers: ['kek', 'root'] },
  governance: { requiredTags: [] },
};

/**
 * Profiles are data: overrides of the defaults, each traced to its source. The key-rule
 * thresholds of each profile are completed in the rule-library work; what is here is what the
 * certificate rules and the published texts already fix.
 */
export const PROFILE_SETTINGS: Record<Profile, Settings> = {
  default: {},
  // CIS AWS Foundations v3.0.0, 3.6: rotation enabled for customer-created symmetric keys (AWS rotates yearly).
  'cis-aws': { rotation: { maxDays: 365 } },
  // CIS Google Cloud Platform Foundation v3.0.0, 1.10: KMS keys rotated within 90 days.
  'cis-gcp': { rotation: { maxDays: 90 } },
  // NIST SP 800-57 Part 1 Rev. 5, 5.3.6: symmetric data-encryption key originator-usage period up to 2 years.
  'nist-800-57': { rotation: { maxDays: 730 } },
  // PCI DSS v4.0, 3.6.1 / 3.7.4: keys changed at the end of a defined cryptoperiod; one year is the common definition.
  'pci-dss': { rotation: { maxDays: 365 } },
  // CA/Browser Forum Baseline Requirements 6.3.2 as amended by Ballot SC-081.
  'public-tls': {
    certificates: {
      maxValidityDays: 398,
      validitySchedule: [
        { from: '2026-03-15', maxDays: 200 },
        { from: '2027-03-15', maxDays: 100 },
        { from: '2029-03-15', maxDays: 47 },
      ],
    },
  },
};

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Deep merge where arrays and scalars replace, objects merge: `denied: [X]` means exactly [X]. */
export function mergeSettings<T>(base: T, ...overrides: (Settings | undefined)[]): T {
  let result: unknown = structuredClone(base);
  for (const override of overrides) {
    if (override) result = mergeInto(result, override);
  }
  return result as T;
}

function mergeInto(base: unknown, override: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(override)) return structuredClone(override);
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) {
    out[key] = key in base ? mergeInto(base[key], value) : structuredClone(value);
  }
  return out;
}

export interface EffectivePolicy {
  profile: Profile;
  settings: FullSettings;
  tierSettings: Record<string, FullSettings>;
  /** The config's waivers, recorded so `evaluate` re-derives suppressions and KD-GOV-002 too. */
  waivers: Waiver[];
  /** Custom policy bundles or Rego folders, as paths from the working folder. */
  bundles: string[];
}

/** Defaults, then the profile, then the config's settings; each tier adds its own on top. */
export function effectivePolicy(config: (Pick<Config, 'policy' | 'waivers'> & { baseDir?: string }) | undefined): EffectivePolicy {
  const profile = config?.policy?.profile ?? 'default';
  const settings = layer(mergeSettings(DEFAULT_SETTINGS, PROFILE_SETTINGS[profile]), config?.policy?.settings);
  const tierSettings: Record<string, FullSettings> = {};
  for (const [tier, overrides] of Object.entries(config?.policy?.tierSettings ?? {})) {
    tierSettings[tier] = layer(settings, overrides);
  }
  const bundles = (config?.policy?.bundles ?? []).map((bundle) => displayPath(path.resolve(config?.baseDir ?? '.', bundle)));
  return { profile, settings, tierSettings, waivers: config?.waivers ?? [], bundles };
}

/**
 * An explicit rotation.maxDays states the cryptoperiod for that scope: it replaces a purpose table
 * inherited from the profile, unless the same override gives a purpose table of its own.
 */
function layer(base: FullSettings, override: Settings | undefined): FullSettings {
  const merged = mergeSettings(base, override);
  if (override?.rotation?.maxDays !== undefined && override.rotation.purposeMaxDays === undefined) {
    merged.rotation.purposeMaxDays = {};
  }
  return merged;
}
