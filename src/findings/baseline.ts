import { readFile } from 'node:fs/promises';
import type { InventoryItem } from '../inventory/types.ts';
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

/** Reads a previous JSON report; a missing or foreign file is a usage error for the caller. */
export async function loadBaseline(file: string): Promise<BaselineReport> {
  const parsed = JSON.parse(await readFile(file, 'utf8')) as Partial<BaselineReport>;
  if (!parsed || !Array.isArray(parsed.findings)) throw new Error(`${file}: not a keydrift JSON report (no "findings")`);
  return { findings: parsed.findings, inventory: Array.isArray(parsed.inventory) ? parsed.inventory : [], ...(parsed.scan ? { scan: parsed.scan } : {}) };
}

/**
 * By fingerprint: new, unchanged (same severity and evidence), updated (same rule and resource,
 * different severity or evidence); a baseline finding that no longer fires is kept as absent.
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
    const same = previous.severity === finding.severity && canonicalJson(previous.evidence) === canonicalJson(finding.evidence);
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
