import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { describeError, fieldPath, validator } from '../util/schemas.ts';
import { displayPath } from '../util/paths.ts';
import { PROFILES, type Profile } from '../model/profile.ts';
import type { Config, Settings, Waiver } from './types.ts';
import { packagePath } from '../util/package-root.ts';

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
}

/** Defaults, then the profile, then the config's settings; each tier adds its own on top. */
export function effectivePolicy(config: (Pick<Config, 'policy' | 'waivers'> & { baseDir?: string }) | undefined): EffectivePolicy {
  const profile = config?.policy?.profile ?? 'default';
  const settings = layer(mergeSettings(DEFAULT_SETTINGS, profileDefinitions().get(profile)!.settings), config?.policy?.settings);
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
