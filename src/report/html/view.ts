import { SEVERITIES, type Severity } from '../../model/severity.ts';
import { bySeverity } from '../../findings/outcome.ts';
import type { Finding } from '../../findings/types.ts';
import type { InventoryItem } from '../../inventory/types.ts';
import { catalogue, type RuleEntry } from '../../rules/catalogue.ts';
import { customRuleEntry } from '../../rules/custom-rule.ts';
import type { Report, SeverityCounts } from '../types.ts';
import { UniqueIds } from './escape.ts';

// What every section of the HTML report reads, worked out once: a finding's row state, its item,
// the open counts per item. A crafted report may break any typing, so nothing here trusts a field
// to hold the type it is declared with.

/** A finding's state as its row shows it: a baseline finding that no longer fires is fixed. */
export type RowState = 'new' | 'unchanged' | 'updated' | 'fixed' | 'none';

export interface FindingView {
  finding: Finding;
  /** The row's id attribute (finding-...), unique within the page. */
  id: string;
  state: RowState;
  /** Standing: neither waived nor fixed. Only these make a control fail or count as open. */
  open: boolean;
  waived: boolean;
  item: InventoryItem | undefined;
  tier: string | null;
}

export interface ReportView {
  report: Report;
  /** The evaluation clock in ms, or null when the report's scan.now does not parse. */
  now: number | null;
  /** Open first (most severe first), then waived, then fixed. */
  findings: FindingView[];
  open: FindingView[];
  waived: FindingView[];
  fixed: FindingView[];
  itemByUid: Map<string, InventoryItem>;
  openByUid: Map<string, FindingView[]>;
  waivedByUid: Map<string, number>;
  rules: Map<string, RuleEntry>;
  /** The report was compared with a baseline: states and fixed findings mean something. */
  hasBaseline: boolean;
}

const STATES: Record<string, RowState> = { new: 'new', unchanged: 'unchanged', updated: 'updated', absent: 'fixed' };

export const DAY_MS = 86_400_000;

export function buildView(report: Report): ReportView {
  const findings = Array.isArray(report.findings) ? report.findings : [];
  const inventory = Array.isArray(report.inventory) ? report.inventory : [];
  const itemByUid = new Map<string, InventoryItem>();
  for (const item of inventory) if (!itemByUid.has(item.uid)) itemByUid.set(item.uid, item);
  const ids = new UniqueIds();
  const views = findings.map((finding): Omit<FindingView, 'id'> => {
    const state = typeof finding.baselineState === 'string' ? (Object.hasOwn(STATES, finding.baselineState) ? STATES[finding.baselineState]! : 'none') : 'none';
    const waived = Boolean(finding.waiver) && state !== 'fixed';
    const item = itemByUid.get(finding.resource?.uid);
    const tier = typeof item?.tier === 'string' && item.tier !== '' ? item.tier : null;
    return { finding, state, open: !waived && state !== 'fixed', waived, item, tier };
  });
  const group = (view: Omit<FindingView, 'id'>) => (view.open ? 0 : view.waived ? 1 : 2);
  const ordered = views
    .map((view, index) => ({ view, index }))
    .sort((a, b) => group(a.view) - group(b.view) || safeBySeverity(a.view.finding, b.view.finding) || a.index - b.index)
    .map(({ view }): FindingView => ({ ...view, id: ids.take('finding-', String(view.finding.fingerprint)) }));
  const openByUid = new Map<string, FindingView[]>();
  const waivedByUid = new Map<string, number>();
  for (const view of ordered) {
    const uid = view.finding.resource?.uid;
    if (view.open) {
      const list = openByUid.get(uid);
      if (list) list.push(view);
      else openByUid.set(uid, [view]);
    } else if (view.waived) waivedByUid.set(uid, (waivedByUid.get(uid) ?? 0) + 1);
  }
  const now = Date.parse(report.scan?.now);
  return {
    report,
    now: Number.isNaN(now) ? null : now,
    findings: ordered,
    open: ordered.filter((view) => view.open),
    waived: ordered.filter((view) => view.waived),
    fixed: ordered.filter((view) => view.state === 'fixed'),
    itemByUid,
    openByUid,
    waivedByUid,
    rules: rulesOf(report),
    hasBaseline: report.drift !== undefined || ordered.some((view) => view.state !== 'none'),
  };
}

/** The built-in catalogue and the custom rules the report describes, as one map. */
function rulesOf(report: Report): Map<string, RuleEntry> {
  const rules = new Map(catalogue());
  const custom = report.scan?.customRules;
  if (custom && typeof custom === 'object') {
    for (const [id, meta] of Object.entries(custom)) {
      if (rules.has(id) || !meta || typeof meta !== 'object') continue;
      try {
        rules.set(id, customRuleEntry(id, meta));
      } catch {
        // A crafted entry (controls that are no list): the rule's findings still show, without its catalogue text.
      }
    }
  }
  return rules;
}

/** bySeverity, tolerant of a severity outside the vocabulary (a crafted report): those sort last. */
function safeBySeverity(a: Finding, b: Finding): number {
  const known = (finding: Finding) => SEVERITIES.includes(finding.severity);
  if (known(a) !== known(b)) return known(a) ? -1 : 1;
  if (!known(a)) return 0;
  return bySeverity(a, b);
}

export function emptyCounts(): SeverityCounts {
  return Object.fromEntries(SEVERITIES.map((severity) => [severity, 0])) as SeverityCounts;
}

/** Open findings by severity; a severity outside the vocabulary is counted nowhere here (its row still shows). */
export function countOpen(views: readonly FindingView[]): SeverityCounts {
  const counts = emptyCounts();
  for (const view of views) if (view.open && isSeverity(view.finding.severity)) counts[view.finding.severity]++;
  return counts;
}

export function isSeverity(value: unknown): value is Severity {
  return SEVERITIES.includes(value as Severity);
}

/** Whole days from `from` to the report's clock; null when either is unknown. */
export function daysSince(view: ReportView, from: unknown): number | null {
  if (view.now === null || typeof from !== 'string') return null;
  const at = Date.parse(from);
  return Number.isNaN(at) ? null : Math.floor((view.now - at) / DAY_MS);
}

/** The date part of an RFC 3339 time, for tables; the value itself when it is not one. */
export function shortDate(value: unknown): string {
  if (typeof value !== 'string') return '';
  return /^\d{4}-\d{2}-\d{2}T/.test(value) ? value.slice(0, 10) : value;
}

/** "1 finding", "2 findings". */
export function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Natural order for control ids: 3.6.1 < 3.6.1.2 < 3.7.1 < 12.3.3, AC-3 < AC-6 < SC-12 < SC-12(1). */
export function compareNatural(a: string, b: string): number {
  const split = (text: string) => text.match(/\d+|\D+/g) ?? [];
  const left = split(a);
  const right = split(b);
  for (let index = 0; index < Math.min(left.length, right.length); index++) {
    const x = left[index]!;
    const y = right[index]!;
    if (x === y) continue;
    const numeric = /^\d/.test(x) && /^\d/.test(y);
    return numeric ? Number(x) - Number(y) || compareText(x, y) : compareText(x, y);
  }
  return left.length - right.length;
}
