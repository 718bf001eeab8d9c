import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { describeError, fieldPath, validator } from '../util/schemas.ts';
import { displayPath } from '../util/paths.ts';
import { PROFILES, type Profile } from '../model/profile.ts';
import type { Config, ManagedAsCode, Settings, Waiver } from './types.ts';
import { packagePath } from '../util/package-root.ts';

type MinBits = { rsa: number; ec: number; symmetric: number; hmac: number };

/** A cryptoperiod for the keys an entry names (lists of providers, purposes, key types; absent = any). */
export interface ScopedMaxDays {
  provider?: string[];
  purpose?: string[];
  keyType?: string[];
  maxDays: number;
}

/** Every setting of CONTRACT section 4 with its default; a profile or the config overrides parts. */
export type FullSettings = {
  rotation: { maxDays: number; graceDays: number; purposeMaxDays: Partial<Record<string, number>>; scopedMaxDays: ScopedMaxDays[] };
  algorithms: {
    denied: string[];
    minBits: MinBits;
    minBitsSchedule: { from: string; minBits: Partial<MinBits> }[];
    secrecyYears: number | null;
    deprecatedUntil: { algorithm: string; until: string }[];
  };
  pqc: { deadline: string; disallowedAfter: string | null };
  retirement: { disabledMaxDays: number; legalHoldTag: string; oldVersionMaxDays: number };
  expiry: { warnDays: number; failDays: number; warnFraction: number; failFraction: number; warnFloorDays: number; failFloorDays: number };
  certificates: {
    maxValidityDays: number;
    weakSignatureHashes: string[];
    validitySchedule: { from: string; maxDays: number }[];
    allowedCurves: string[];
  };
  protection: { hsmTiers: string[] };
  governance: { requiredTags: string[] };
  access: { trustedAccounts: string[]; allowMultiRegion: boolean };
};

export const DEFAULT_SETTINGS: FullSettings = {
  rotation: { maxDays: 365, graceDays: 7, purposeMaxDays: {}, scopedMaxDays: [] },
  algorithms: {
    denied: ['DES', '3DES', 'RC4', 'HMAC-SHA1', 'HMAC-MD5'],
    minBits: { rsa: 2048, ec: 256, symmetric: 128, hmac: 256 },
    // SP 800-57 Pt 1 Rev. 5 Table 4: 112-bit strength is disallowed for applying protection from
    // 2031, so the floors rise to 128-bit strength then (only RSA moves above the minBits defaults).
    minBitsSchedule: [{ from: '2031-01-01', minBits: { rsa: 3072, ec: 256, symmetric: 128, hmac: 128 } }],
    // null judges strength at the clock only; a number of years also judges encryption, wrapping and
    // key-agreement keys and leaf certificates at the end of their use plus those years.
    secrecyYears: null,
    // NIST SP 800-131A Rev. 3 draft: HMAC with SHA-1 deprecated through 2030, disallowed after.
    deprecatedUntil: [{ algorithm: 'HMAC-SHA1', until: '2030-12-31' }],
  },
  // disallowedAfter null: no date on which quantum-vulnerable keys are disallowed (NIST IR 8547's
  // 2035 is a profile option: nist-800-57).
  pqc: { deadline: '2030-12-31', disallowedAfter: null },
  retirement: { disabledMaxDays: 90, legalHoldTag: 'legal-hold', oldVersionMaxDays: 90 },
  // A fraction of 0 keeps the certificate windows at the fixed days; profile public-tls scales
  // them with the certificate's lifetime (KD-CRT-002, docs/rule-semantics.md).
  expiry: { warnDays: 30, failDays: 7, warnFraction: 0, failFraction: 0, warnFloorDays: 0, failFloorDays: 0 },
  // An empty allowedCurves list judges no curve (KD-CRT-014); profile public-tls lists the BR curves.
  certificates: { maxValidityDays: 398, weakSignatureHashes: ['MD2', 'MD5', 'SHA1'], validitySchedule: [], allowedCurves: [] },
  protection: { hsmTiers: ['kek', 'root'] },
  governance: { requiredTags: [] },
  // KD-ACC-003 reports use by any account but the key's own and these; KD-ACC-004 reports
  // multi-Region key material only when this is false (profile pci-dss).
  access: { trustedAccounts: [], allowMultiRegion: true },
};

export interface ProfileCitation {
  setting: string;
  value?: unknown;
  control: string;
  title?: string;
  quote?: string;
  verified: boolean;
  note?: string;
}

/** A compliance profile (policies/profiles/<id>.yaml): setting overrides, each traced to a control. */
export interface ProfileDefinition {
  id: Profile;
  title: string;
  description: string;
  settings: Settings;
  citations: ProfileCitation[];
}

export const PROFILES_DIR = packagePath('policies', 'profiles');

let profiles: Map<Profile, ProfileDefinition> | null = null;

/** Every profile, validated against policies/profiles/schema.json; a broken one is a packaging bug. */
export function profileDefinitions(): Map<Profile, ProfileDefinition> {
  if (profiles) return profiles;
  const validate = validator('profile');
  const loaded = new Map<Profile, ProfileDefinition>();
  for (const id of PROFILES) {
    const file = path.join(PROFILES_DIR, `${id}.yaml`);
    const definition: unknown = parse(readFileSync(file, 'utf8'));
    if (!validate(definition)) {
      const error = validate.errors![0]!;
      throw new Error(`policies/profiles/${id}.yaml: ${fieldPath(error.instancePath)}: ${describeError(error)}`);
    }
    if ((definition as ProfileDefinition).id !== id) throw new Error(`policies/profiles/${id}.yaml: id does not match the file name`);
    loaded.set(id, definition as ProfileDefinition);
  }
  profiles = loaded;
  return loaded;
}

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
  /** Recorded so `evaluate` re-derives KD-DRF-002 from a report. */
  drift?: { managedAsCode: ManagedAsCode[] };
}

/** Defaults, then the profile, then the config's settings; each tier adds its own on top. */
export function effectivePolicy(config: (Pick<Config, 'policy' | 'waivers' | 'drift'> & { baseDir?: string }) | undefined): EffectivePolicy {
  const profile = config?.policy?.profile ?? 'default';
  const settings = layer(mergeSettings(DEFAULT_SETTINGS, profileDefinitions().get(profile)!.settings), config?.policy?.settings);
  const tierSettings: Record<string, FullSettings> = {};
  for (const [tier, overrides] of Object.entries(config?.policy?.tierSettings ?? {})) {
    tierSettings[tier] = layer(settings, overrides);
  }
  const bundles = (config?.policy?.bundles ?? []).map((bundle) => displayPath(path.resolve(config?.baseDir ?? '.', bundle)));
  const managedAsCode = config?.drift?.managedAsCode ?? [];
  return { profile, settings, tierSettings, waivers: config?.waivers ?? [], bundles, ...(managedAsCode.length > 0 ? { drift: { managedAsCode } } : {}) };
}

/**
 * An explicit rotation.maxDays states the cryptoperiod for that scope: it replaces a purpose table
 * (and scoped table) inherited from the profile, unless the same override gives one of its own. Likewise
 * an explicit certificates.maxValidityDays states that scope's validity limit: it replaces an
 * inherited validitySchedule (public-tls's CA/B Forum steps), unless it gives a schedule of its own,
 * so a private-PKI tier is held to its own limit.
 */
function layer(base: FullSettings, override: Settings | undefined): FullSettings {
  const merged = mergeSettings(base, override);
  if (override?.rotation?.maxDays !== undefined && override.rotation.purposeMaxDays === undefined) {
    merged.rotation.purposeMaxDays = {};
  }
  if (override?.rotation?.maxDays !== undefined && override.rotation.scopedMaxDays === undefined) {
    merged.rotation.scopedMaxDays = [];
  }
  if (override?.certificates?.maxValidityDays !== undefined && override.certificates.validitySchedule === undefined) {
    merged.certificates.validitySchedule = [];
  }
  return merged;
}
