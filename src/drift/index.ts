import type { InventoryItem } from '../inventory/types.ts';
import type { SourceStatus } from '../model/source.ts';
import type { ManagedAsCode } from '../config/types.ts';
import { globMatches } from '../util/glob-matches.ts';
import { driftIdentity, driftSettings } from './identity.ts';

// The drift rules (KD-DRF-001..003) compare declared keys with live ones across the whole
// inventory, while the engine evaluates items in batches; this index is what they look up, built
// once per run and given to the policy as data.driftIndex. It only groups and spells: whether a
// declaration has a live key, whether a setting differs, is decided in Rego.

/** What the rules read about a live key a declaration may match. */
export interface LiveKeySummary {
  uid: string;
  name: string;
  location: string;
  sourceId: string;
  state: string;
  settings: Record<string, unknown>;
}

export interface DriftIndex {
  /** Both declared and live keys are in the run: without either, there is nothing to compare. */
  active: boolean;
  /** Every source of declared items was read completely: otherwise a live key may look undeclared only because its file was not. */
  declaredComplete: boolean;
  /** Live keys by identity (strong and weak). */
  live: Record<string, LiveKeySummary[]>;
  /** Identities some declaration has. */
  declared: Record<string, true>;
  /** provider|location of every live key from a completely read source: a declared key is missing only where a source looked. */
  scopes: Record<string, true>;
  /** Providers with a completely read live source. */
  providers: Record<string, true>;
  /** Live keys in a scope fully managed as code, by uid. */
  managed: Record<string, true>;
}

const empty = <T>(): Record<string, T> => Object.create(null) as Record<string, T>;

export function inactiveDriftIndex(): DriftIndex {
  return { active: false, declaredComplete: false, live: empty(), declared: empty(), scopes: empty(), providers: empty(), managed: empty() };
}

export function driftIndex(items: readonly InventoryItem[], sources: readonly SourceStatus[], managedAsCode: readonly ManagedAsCode[] = []): DriftIndex {
  return driftIndexFrom(items.flatMap((item) => driftEntry(item) ?? []), sources, managedAsCode);
}

/**
 * What the index needs of one key. Batches evaluated apart (worker threads) each list their
 * entries; the index built from all of them, in inventory order, is the one driftIndex builds.
 */
export interface DriftEntry {
  declared: boolean;
  keys: string[];
  scope: string | null;
  provider: string;
  live: LiveKeySummary;
}

export function driftEntry(item: InventoryItem): DriftEntry | null {
  if (item.kind !== 'key') return null;
  const identity = driftIdentity(item);
  const keys = [...identity.strong, ...identity.weak];
  if (item.declared !== true && keys.length === 0) return null;
  return {
    declared: item.declared === true,
    keys,
    scope: identity.scope,
    provider: item.provider,
    live: { uid: item.uid, name: item.name, location: item.location, sourceId: item.sourceId, state: item.state, settings: item.declared === true ? {} : driftSettings(item) },
  };
}

export function driftIndexFrom(entries: readonly DriftEntry[], sources: readonly SourceStatus[], managedAsCode: readonly ManagedAsCode[] = []): DriftIndex {
  const declaredEntries = entries.filter((entry) => entry.declared);
  if (declaredEntries.length === 0) return inactiveDriftIndex();
  const complete = new Set(sources.filter((source) => source.status === 'ok').map((source) => source.id));
  const declaredSources = new Set(declaredEntries.map((entry) => entry.live.sourceId));
  const index = inactiveDriftIndex();
  index.declaredComplete = [...declaredSources].every((id) => complete.has(id));
  for (const entry of declaredEntries) for (const key of entry.keys) index.declared[key] = true;
  for (const entry of entries) {
    if (entry.declared || entry.keys.length === 0) continue;
    index.active = true;
    const { live } = entry;
    for (const key of entry.keys) (index.live[key] ??= []).push(live);
    if (complete.has(live.sourceId)) {
      index.providers[entry.provider] = true;
      if (entry.scope) index.scopes[entry.scope] = true;
    }
    if (managedAsCode.some((scope) => globMatches(scope.source, live.sourceId) && (scope.resource === undefined || globMatches(scope.resource, live.uid)))) {
      index.managed[live.uid] = true;
    }
  }
  return index;
}
