import type { InventoryItem } from '../inventory/types.ts';
import type { EffectivePolicy, FullSettings } from '../config/settings.ts';
import type { Waiver } from '../config/types.ts';
import type { SourceStatus } from '../model/source.ts';
import { waiverExpiry } from '../findings/waivers.ts';
import { epochSeconds } from '../util/epoch-seconds.ts';
import { certificateEntry, certificateIndexFrom, type CertificateEntry } from '../certificates/relations.ts';
import { driftIdentity, type DriftIdentity } from '../drift/identity.ts';
import { driftEntry, driftIndexFrom, inactiveDriftIndex, type DriftEntry } from '../drift/index.ts';

// wasm has no time builtins and the clock must be reproducible, so every timestamp the rules
// compare reaches Rego as epoch seconds beside its RFC 3339 form: item._t.<field>, input.now_s.

export interface PolicyItem extends InventoryItem {
  _t: Record<string, number | null>;
  /** How the drift rules recognise the key on the other side (declared or live); absent when it has no identity to compare. */
  _drift?: DriftIdentity;
}

export function policyItem(item: InventoryItem): PolicyItem {
  const identity = driftIdentity(item);
  return {
    ...item,
    ...(hasIdentity(identity) ? { _drift: identity } : {}),
    versions:
      item.versions?.map((version) => ({
        ...version,
        _t: { createdAt: epochSeconds(version.createdAt), supersededAt: epochSeconds(version.supersededAt) },
      })) ?? null,
    _t: itemTimes(item),
  };
}

/**
 * JSON.stringify(policyItem(item)) when `json` is JSON.stringify(item), built from it: the item's
 * own fields are not serialised twice. Only the added fields are appended, so an item whose
 * versions gain times, or that already holds a field of that name, takes the long way.
 */
export function policyItemJson(item: InventoryItem, json: string): string {
  const versions = item.versions as unknown;
  if ((versions !== null && !(Array.isArray(versions) && versions.length === 0)) || json.length < 3 || Object.hasOwn(item, '_t') || Object.hasOwn(item, '_drift')) return JSON.stringify(policyItem(item));
  const identity = driftIdentity(item);
  return `${json.slice(0, -1)}${hasIdentity(identity) ? `,"_drift":${JSON.stringify(identity)}` : ''},"_t":${JSON.stringify(itemTimes(item))}}`;
}

function hasIdentity(identity: DriftIdentity): boolean {
  return identity.scope !== null || identity.strong.length > 0 || identity.weak.length > 0;
}

function itemTimes(item: InventoryItem): Record<string, number | null> {
  return {
    createdAt: epochSeconds(item.createdAt),
    expiresAt: epochSeconds(item.expiresAt),
    stateSince: epochSeconds(item.stateSince),
    lastRotatedAt: epochSeconds(item.rotation?.lastRotatedAt),
    nextRotationAt: epochSeconds(item.rotation?.nextRotationAt),
    deletionScheduledFor: epochSeconds(item.deletion?.scheduledFor),
    notBefore: epochSeconds(item.certificate?.notBefore),
    notAfter: epochSeconds(item.certificate?.notAfter),
  };
}

const endOfDay = (date: string) => epochSeconds(`${date.slice(0, 10)}T23:59:59Z`);
const startOf = (date: string) => epochSeconds(date.length === 10 ? `${date}T00:00:00Z` : date);

/** Strength steps take effect at the start of their day, in date order; deprecations end with theirs. */
function strengthSettings(algorithms: FullSettings['algorithms']): unknown {
  return {
    ...algorithms,
    minBitsSchedule: algorithms.minBitsSchedule
      .map((step) => ({ ...step, from_s: startOf(step.from) }))
      .filter((step) => step.from_s !== null)
      .sort((a, b) => a.from_s! - b.from_s!),
    deprecatedUntil_s: Object.fromEntries(algorithms.deprecatedUntil.map((entry) => [entry.algorithm, endOfDay(entry.until)])),
  };
}

/** Settings as Rego reads them: dates gain an `_s` epoch twin, schedules are sorted and unique. */
function policySettings(settings: FullSettings): unknown {
  const byFrom = new Map<number, number>();
  for (const step of settings.certificates.validitySchedule) {
    const from = epochSeconds(step.from.length === 10 ? `${step.from}T00:00:00Z` : step.from);
    if (from !== null) byFrom.set(from, step.maxDays);
  }
  return {
    ...settings,
    algorithms: strengthSettings(settings.algorithms),
    pqc: {
      ...settings.pqc,
      deadline_s: endOfDay(settings.pqc.deadline),
      disallowedAfter_s: settings.pqc.disallowedAfter === null ? null : endOfDay(settings.pqc.disallowedAfter),
    },
    certificates: {
      ...settings.certificates,
      validitySchedule: [...byFrom.entries()].sort(([a], [b]) => a - b).map(([from_s, maxDays]) => ({ from_s, maxDays })),
    },
  };
}

/**
 * With `items`, the data also carries data.certificateIndex, so rules that compare certificates
 * see the whole inventory although items are evaluated in batches; without it (opa eval over the
 * whole input) the Rego builds the same index from input.items. The drift rules compare declared
 * and live keys only through data.driftIndex, which needs the sources' completeness too.
 */
export function policyData(policy: EffectivePolicy, items?: readonly InventoryItem[], sources: readonly SourceStatus[] = []): Record<string, unknown> {
  if (!items) return { driftIndex: inactiveDriftIndex(), ...policySettingsData(policy) };
  return policyDataFrom(policy, { certificates: items.flatMap((item) => certificateEntry(item) ?? []), drift: items.flatMap((item) => driftEntry(item) ?? []) }, sources);
}

/** The same data from the index entries of every item, in inventory order (batches loaded apart list them). */
export function policyDataFrom(policy: EffectivePolicy, entries: { certificates: readonly CertificateEntry[]; drift: readonly DriftEntry[] }, sources: readonly SourceStatus[]): Record<string, unknown> {
  return {
    certificateIndex: certificateIndexFrom(entries.certificates),
    driftIndex: driftIndexFrom(entries.drift, sources, policy.drift?.managedAsCode),
    ...policySettingsData(policy),
  };
}

function policySettingsData(policy: EffectivePolicy): Record<string, unknown> {
  return {
    profile: policy.profile,
    settings: policySettings(policy.settings),
    tierSettings: Object.fromEntries(
      Object.entries(policy.tierSettings).map(([tier, settings]) => [tier, policySettings(settings)]),
    ),
  };
}

export function policySources(sources: SourceStatus[]): unknown[] {
  return sources.map(({ id, type, status, errors }) => ({ id, type, status, errors }));
}

export function policyWaivers(waivers: readonly Waiver[]): unknown[] {
  return waivers.map((waiver) => ({ ...waiver, expires_s: waiverExpiry(waiver.expires) }));
}
