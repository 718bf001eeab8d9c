import { catalogue } from '../rules/catalogue.ts';
import { DEFAULT_MAX_EVIDENCE_FILE_BYTES } from '../inventory/file.ts';
import type { InventoryItem } from '../inventory/types.ts';
import { readRegularFile } from '../util/read-regular-file.ts';
import { rfc3339 } from '../util/rfc3339.ts';
import { canonicalJson } from './fingerprint.ts';
import type { Finding } from './types.ts';

export interface BaselineReport {
  findings: Finding[];
  inventory: InventoryItem[];
  scan?: { now?: string };
}

export interface ItemChange {
  uid: string;
  name: string;
  changes: Record<string, { before: unknown; after: unknown }>;
}

/** What changed in the estate itself between the baseline and this run. */
export interface InventoryDrift {
  baselineNow: string | null;
  added: { uid: string; name: string }[];
  removed: { uid: string; name: string }[];
  changed: ItemChange[];
}

export interface BaselineComparison {
  /** Current findings with new/unchanged/updated, then baseline-only ones as absent (fixed). */
  findings: Finding[];
  new: number;
  fixed: number;
  drift: InventoryDrift;
}

/** Reads a previous JSON report (bounded like any evidence file); a missing or foreign file is a usage error for the caller. */
export async function loadBaseline(file: string): Promise<BaselineReport> {
  let text: string;
  try {
    text = (await readRegularFile(file, DEFAULT_MAX_EVIDENCE_FILE_BYTES)).toString('utf8');
  } catch (error) {
    throw new Error(`${file}: ${(error as Error).message}`);
  }
  let parsed: Partial<BaselineReport>;
  try {
    parsed = JSON.parse(text) as Partial<BaselineReport>;
  } catch (error) {
    throw new Error(`${file}: not JSON (${(error as Error).message})`);
  }
  if (!parsed || !Array.isArray(parsed.findings)) throw new Error(`${file}: not a keydrift JSON report (no "findings")`);
  return { findings: parsed.findings, inventory: Array.isArray(parsed.inventory) ? parsed.inventory : [], ...(parsed.scan ? { scan: parsed.scan } : {}) };
}

/**
 * Where a stateSince is an upper bound (the state began at or before it) rather than the moment
 * itself: an earlier first sighting may replace it. Every other source (a provider's event or
 * timestamp) is exact and wins over any baseline.
 */
const BOUND_SOURCES = new Set(['baseline', 'vault-earliest-version']);

/**
 * First-seen state (--baseline): an item in the same state as the baseline's copy has been in it
 * since at least the baseline's stateSince, else the baseline's scan time. So a key disabled before
 * any provider can say (CloudTrail keeps 90 days; Cloud KMS records no disable time) is dated by
 * the first scan that saw it disabled, and a date read once from a provider outlives the
 * provider's own history as long as each scan takes the previous report as its baseline. Between
 * two scans a state can change and change back unseen: scan more often than that matters.
 *
 * A key with imported material that is now unusable (`unavailable`) and whose provider no longer
 * reports the expiry (local-kms drops ValidTo with the material) keeps the baseline's expiresAt.
 */
export function carryFirstSeen(items: readonly InventoryItem[], baseline: BaselineReport): InventoryItem[] {
  const before = new Map(baseline.inventory.map((item) => [item.uid, item]));
  const scanTime = validTime(baseline.scan?.now);
  return items.map((item) => {
    const previous = before.get(item.uid);
    if (!previous || previous.kind !== item.kind) return item;
    let carried = item;
    const seen = previous.state === item.state ? (validTime(previous.stateSince) ?? scanTime) : null;
    const source = item.evidence['stateSinceSource'];
    const current = validTime(item.stateSince);
    if (seen !== null && (current === null || (typeof source === 'string' && BOUND_SOURCES.has(source) && seen.ms < current.ms))) {
      carried = { ...carried, stateSince: seen.text, evidence: { ...carried.evidence, stateSinceSource: 'baseline' } };
    }
    if (item.state === 'unavailable' && item.origin === 'imported' && item.expiresAt === null && validTime(previous.expiresAt)) {
      carried = { ...carried, expiresAt: validTime(previous.expiresAt)!.text, evidence: { ...carried.evidence, expiresAtSource: 'baseline' } };
    }
    return carried;
  });
}

/** A parseable timestamp in the inventory's form (a report's scan.now may carry milliseconds). */
function validTime(value: string | null | undefined): { text: string; ms: number } | null {
  if (typeof value !== 'string') return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : { text: rfc3339(ms), ms };
}

/**
 * A finding's evidence without the counts that move with the clock alone (a certificate's days
 * left drops every night): such a change is not an update. Which keys those are, rules/ says.
 */
function withoutClockCounts(finding: Finding): Record<string, unknown> {
  const counts = clockKeys(finding.ruleId);
  if (counts.size === 0) return finding.evidence;
  return Object.fromEntries(Object.entries(finding.evidence).filter(([key]) => !counts.has(key)));
}

const clockKeysByRule = new Map<string, Set<string>>();
function clockKeys(ruleId: string): Set<string> {
  let keys = clockKeysByRule.get(ruleId);
  if (!keys) {
    keys = new Set((catalogue().get(ruleId)?.evidence ?? []).filter((entry) => entry.clock === true).map((entry) => entry.key));
    clockKeysByRule.set(ruleId, keys);
  }
  return keys;
}

/**
 * By fingerprint: new, unchanged (same severity and evidence, counts that move with the clock
 * aside), updated (same rule and resource, different severity or evidence); a baseline finding
 * that no longer fires is kept as absent.
 */
export function compareWithBaseline(
  current: readonly Finding[],
  baseline: BaselineReport,
  currentItems: readonly InventoryItem[],
  currentSources: readonly string[] | null = null,
): BaselineComparison {
  // A run that scans fewer sources than the baseline says nothing about the others: their
  // findings and items are neither fixed nor removed.
  const inScope = (sourceId: string, kind?: string) => currentSources === null || kind === 'waiver' || currentSources.includes(sourceId);
  const before = new Map(baseline.findings.filter((finding) => finding.baselineState !== 'absent').map((finding) => [finding.fingerprint, finding]));
  let added = 0;
  const findings: Finding[] = current.map((finding) => {
    const previous = before.get(finding.fingerprint);
    if (!previous) {
      if (!finding.waiver) added++;
      return { ...finding, baselineState: 'new' as const };
    }
    const same = previous.severity === finding.severity && canonicalJson(withoutClockCounts(previous)) === canonicalJson(withoutClockCounts(finding));
    return { ...finding, baselineState: same ? ('unchanged' as const) : ('updated' as const) };
  });
  const now = new Set(current.map((finding) => finding.fingerprint));
  const absent = [...before.values()].filter((finding) => !now.has(finding.fingerprint) && inScope(finding.resource.sourceId, finding.resource.kind));
  for (const finding of absent) {
    const { waiver: _waiver, ...rest } = finding;
    findings.push({ ...rest, baselineState: 'absent' as const });
  }
  const scoped = { ...baseline, inventory: baseline.inventory.filter((item) => inScope(item.sourceId)) };
  return { findings, new: added, fixed: absent.length, drift: inventoryDrift(scoped, currentItems) };
}

const DRIFT_FIELDS: [string, (item: InventoryItem) => unknown][] = [
  ['state', (item) => item.state],
  ['algorithm', (item) => item.algorithm],
  ['protection', (item) => item.protection],
  ['expiresAt', (item) => item.expiresAt],
  ['rotation.automatic', (item) => item.rotation?.automatic ?? null],
  ['rotation.periodDays', (item) => item.rotation?.periodDays ?? null],
  ['rotation.lastRotatedAt', (item) => item.rotation?.lastRotatedAt ?? null],
  ['certificate.notAfter', (item) => item.certificate?.notAfter ?? null],
];

export function inventoryDrift(baseline: BaselineReport, currentItems: readonly InventoryItem[]): InventoryDrift {
  const before = new Map(baseline.inventory.map((item) => [item.uid, item]));
  const after = new Map(currentItems.map((item) => [item.uid, item]));
  const byUid = (a: { uid: string }, b: { uid: string }) => (a.uid < b.uid ? -1 : a.uid > b.uid ? 1 : 0);
  const changed: ItemChange[] = [];
  for (const [uid, item] of after) {
    const previous = before.get(uid);
    if (!previous) continue;
    const changes: ItemChange['changes'] = {};
    for (const [field, read] of DRIFT_FIELDS) {
      const was = read(previous);
      const is = read(item);
      if (canonicalJson(was) !== canonicalJson(is)) changes[field] = { before: was, after: is };
    }
    if (Object.keys(changes).length > 0) changed.push({ uid, name: item.name, changes });
  }
  return {
    baselineNow: baseline.scan?.now ?? null,
    added: [...after.values()].filter((item) => !before.has(item.uid)).map(({ uid, name }) => ({ uid, name })).sort(byUid),
    removed: [...before.values()].filter((item) => !after.has(item.uid)).map(({ uid, name }) => ({ uid, name })).sort(byUid),
    changed: changed.sort(byUid),
  };
}
