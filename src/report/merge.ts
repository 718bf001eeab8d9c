import { digestOf } from '../findings/fingerprint.ts';
import { countBySeverity, exitCodeFor } from '../findings/outcome.ts';
import type { Finding } from '../findings/types.ts';
import type { InventoryItem } from '../inventory/types.ts';
import type { Report } from './types.ts';

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
  const sourceIds = new Set<string>();
  for (const source of reports.flatMap((report) => report.sources)) {
    if (sourceIds.has(source.id)) throw new MergeError(`source "${source.id}" appears in more than one shard`);
    sourceIds.add(source.id);
  }
  const inventory = new Map<string, InventoryItem>();
  for (const item of reports.flatMap((report) => report.inventory)) if (!inventory.has(item.uid)) inventory.set(item.uid, item);
  const findings = new Map<string, Finding>();
  for (const finding of reports.flatMap((report) => report.findings)) if (!findings.has(finding.fingerprint)) findings.set(finding.fingerprint, finding);
  const merged = [...findings.values()].sort((a, b) => order(a.ruleId, b.ruleId) || order(a.resource.uid, b.resource.uid));
  const sources = reports.flatMap((report) => report.sources);
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
      inventoryDigest: digestOf(items),
      configName: configName ?? first.scan.configName,
      customRules: Object.assign({}, ...reports.map((report) => report.scan.customRules ?? {})),
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

/** The effective policy without where each waiver is written: shards have their own config files. */
function policyDigest(report: Report): string {
  const { waivers, ...rest } = report.scan.policy;
  return digestOf({ ...rest, waivers: (waivers ?? []).map(({ declaredAt: _declaredAt, ...waiver }) => waiver) });
}

function order(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
