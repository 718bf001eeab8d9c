import { digestOf, inventoryDigest } from '../findings/fingerprint.ts';
import { countBySeverity, exitCodeFor } from '../findings/outcome.ts';
import type { Finding } from '../findings/types.ts';
import type { InventoryItem } from '../inventory/types.ts';
import type { Report } from './types.ts';
import type { SourceStatus } from '../model/source.ts';

export class MergeError extends Error {}

/**
 * One report from the reports of shards (each scanning some of the sources) evaluated with the
 * same clock and policy: sources side by side, inventory and findings united, summary recomputed.
 */
export function mergeReports(reports: readonly Report[], configName?: string): Report {
  const [first] = reports;
  if (!first) throw new MergeError('nothing to merge');
  for (const report of reports) {
    if (report.scan.now !== first.scan.now) throw new MergeError(`shards were evaluated at different clocks (${first.scan.now} and ${report.scan.now}): pass the same --now to every shard`);
    if (report.scan.policyDigest !== first.scan.policyDigest || policyDigest(report) !== policyDigest(first)) {
      throw new MergeError('shards were evaluated with different policies (policy bundle or settings differ)');
    }
  }
  const shards = shardParts(reports);
  const sourceIds = new Set<string>();
  for (const source of reports.flatMap((report) => report.sources)) {
    // The parts of one --shard run each collected some accounts of the same source: joined below.
    if (sourceIds.has(source.id) && !shards) throw new MergeError(`source "${source.id}" appears in more than one shard`);
    sourceIds.add(source.id);
  }
  const inventory = new Map<string, InventoryItem>();
  for (const item of reports.flatMap((report) => report.inventory)) if (!inventory.has(item.uid)) inventory.set(item.uid, item);
  const findings = new Map<string, Finding>();
  for (const finding of reports.flatMap((report) => report.findings)) if (!findings.has(finding.fingerprint)) findings.set(finding.fingerprint, finding);
  const merged = [...findings.values()].sort((a, b) => order(a.ruleId, b.ruleId) || order(a.resource.uid, b.resource.uid));
  const sources = joinSources(reports.flatMap((report) => report.sources));
  const exitCode = exitCodeFor(merged, sources, first.scan.failOn);
  const items = [...inventory.values()];
  const configDigests = new Set(reports.map((report) => report.scan.configDigest));
  return {
    schemaVersion: '1',
    tool: first.tool,
    scan: {
      ...first.scan,
      startedAt: reports.map((report) => report.scan.startedAt).sort()[0]!,
      finishedAt: reports.map((report) => report.scan.finishedAt).sort().at(-1)!,
      configDigest: configDigests.size === 1 ? first.scan.configDigest : null,
      inventoryDigest: inventoryDigest(items),
      configName: configName ?? first.scan.configName,
      customRules: Object.assign({}, ...reports.map((report) => report.scan.customRules ?? {})),
      shard: undefined,
    },
    sources,
    summary: {
      items: items.length,
      findings: countBySeverity(merged),
      waived: merged.filter((finding) => finding.waiver && finding.baselineState !== 'absent').length,
      new: merged.filter((finding) => finding.baselineState === 'new' && !finding.waiver).length,
      fixed: merged.filter((finding) => finding.baselineState === 'absent').length,
      compliant: exitCode === 0,
      exitCode,
    },
    findings: merged,
    inventory: items,
  };
}

/**
 * Whether the reports are the parts of one sharded run (--shard I/N: the same N, each part once).
 * Every part must be there: a missing part would read as a smaller estate, never as a gap.
 */
function shardParts(reports: readonly Report[]): boolean {
  const parts = reports.map((report) => report.scan.shard);
  if (parts.every((part) => part === undefined)) return false;
  if (parts.some((part) => part === undefined)) throw new MergeError('some reports are parts of a sharded run (--shard) and some are not');
  const count = parts[0]!.count;
  if (parts.some((part) => part!.count !== count)) throw new MergeError(`the parts were split different ways (${[...new Set(parts.map((part) => part!.count))].join(' and ')} shards)`);
  const indexes = new Set(parts.map((part) => part!.index));
  if (indexes.size !== parts.length) throw new MergeError('a shard appears more than once');
  const missing = Array.from({ length: count }, (_, i) => i + 1).filter((index) => !indexes.has(index));
  if (missing.length > 0) throw new MergeError(`shard${missing.length === 1 ? '' : 's'} ${missing.map((index) => `${index}/${count}`).join(', ')} missing: every part of a sharded run is needed`);
  return true;
}

const WORST = { ok: 0, partial: 1, failed: 2 } as const;

/** One entry per source: the parts' items and API calls added up, errors side by side, the worst status (partial when some part got items). */
function joinSources(sources: readonly SourceStatus[]): SourceStatus[] {
  const joined = new Map<string, SourceStatus>();
  for (const source of sources) {
    const before = joined.get(source.id);
    if (!before) {
      joined.set(source.id, source);
      continue;
    }
    const items = before.items + source.items;
    const worst = WORST[source.status] > WORST[before.status] ? source.status : before.status;
    const apiCalls: Record<string, number> = { ...before.apiCalls };
    for (const [call, n] of Object.entries(source.apiCalls ?? {})) apiCalls[call] = (apiCalls[call] ?? 0) + n;
    joined.set(source.id, {
      ...before,
      status: worst === 'failed' && items > 0 ? 'partial' : worst,
      items,
      errors: [...before.errors, ...source.errors],
      ...(Object.keys(apiCalls).length > 0 ? { apiCalls: Object.fromEntries(Object.entries(apiCalls).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) } : {}),
    });
  }
  return [...joined.values()];
}

/** The effective policy without where each waiver is written: shards have their own config files. */
function policyDigest(report: Report): string {
  const { waivers, ...rest } = report.scan.policy;
  return digestOf({ ...rest, waivers: (waivers ?? []).map(({ declaredAt: _declaredAt, ...waiver }) => waiver) });
}

function order(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
