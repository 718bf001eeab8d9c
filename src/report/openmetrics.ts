import { SEVERITIES, type Severity } from '../model/severity.ts';
import type { InventoryItem } from '../inventory/types.ts';
import type { Report } from './types.ts';

const DAY_MS = 86_400_000;

type Labels = Record<string, string>;

interface Family {
  name: string;
  help: string;
  /** OpenMetrics requires the family name to end in `_<unit>` when a unit is given. */
  unit?: 'days' | 'seconds';
  samples: { labels: Labels; value: number }[];
}

/**
 * OpenMetrics text exposition of a report, for Prometheus (node_exporter's textfile collector,
 * examples/metrics/). Gauges only, no timestamps, so the same text is also valid in the older
 * Prometheus text format that the textfile collector reads.
 *
 * Cardinality: one series per inventory item in each item family (at most three families, and
 * only items with the value), one per source in each source family, one per rule and severity
 * that has findings, five for the severities and a few per scan. Item labels (name, location,
 * provider, source, kind, tier) are fixed by the uid, so they add no series; no label carries
 * a finding's message or evidence. Every sample carries `config` (the config's name) so that
 * files from several configs in one textfile directory never collide.
 */
export function toOpenMetrics(report: Report): string {
  const now = Date.parse(report.scan.now);
  if (!Number.isFinite(now)) throw new Error('OpenMetrics: the report has no valid scan.now timestamp');
  const scope: Labels = { config: report.scan.configName };
  const families = [...scanFamilies(report, now, scope), ...sourceFamilies(report, scope), ...findingFamilies(report, scope), ...itemFamilies(report, now, scope)];
  return families.map(exposition).join('') + '# EOF\n';
}

function scanFamilies(report: Report, now: number, scope: Labels): Family[] {
  return [
    {
      name: 'keydrift_scan_timestamp_seconds',
      help: 'The evaluation time of the scan (the report scan.now) as a Unix time.',
      unit: 'seconds',
      samples: [{ labels: scope, value: now / 1000 }],
    },
    {
      name: 'keydrift_scan_compliant',
      help: '1 when the scan passed its fail-on threshold and every source was collected in full, else 0.',
      samples: [{ labels: scope, value: report.summary.compliant === true ? 1 : 0 }],
    },
    {
      name: 'keydrift_scan_items',
      help: 'Keys and certificates in the scanned inventory.',
      samples: [{ labels: scope, value: report.inventory.length }],
    },
  ];
}

function sourceFamilies(report: Report, scope: Labels): Family[] {
  const labels = (source: Report['sources'][number]) => ({ ...scope, source: String(source.id), type: String(source.type) });
  return [
    {
      name: 'keydrift_source_status',
      help: 'One sample per source, value 1; the status label says whether collection was ok, partial or failed.',
      samples: report.sources.map((source) => ({ labels: { ...labels(source), status: String(source.status) }, value: 1 })),
    },
    {
      name: 'keydrift_source_items',
      help: 'Items collected from the source.',
      samples: report.sources.map((source) => ({ labels: labels(source), value: Number(source.items) })),
    },
    {
      name: 'keydrift_source_errors',
      help: 'Errors the source reported while collecting.',
      samples: report.sources.map((source) => ({ labels: labels(source), value: Array.isArray(source.errors) ? source.errors.length : 0 })),
    },
  ];
}

const RANK: Record<Severity, number> = Object.fromEntries(SEVERITIES.map((severity, index) => [severity, index])) as Record<Severity, number>;

function findingFamilies(report: Report, scope: Labels): Family[] {
  // Findings a baseline comparison found fixed (absent) no longer stand: they count nowhere here.
  const standing = report.findings.filter((finding) => finding.baselineState !== 'absent');
  const open = standing.filter((finding) => !finding.waiver);
  const bySeverity = new Map<string, number>(SEVERITIES.map((severity) => [severity, 0]));
  for (const finding of open) bySeverity.set(finding.severity, (bySeverity.get(finding.severity) ?? 0) + 1);
  return [
    {
      name: 'keydrift_findings',
      help: 'Standing unwaived findings by rule and severity.',
      samples: countByRule(open, scope),
    },
    {
      name: 'keydrift_findings_by_severity',
      help: 'Standing unwaived findings by severity, every severity present (0 when none).',
      samples: [...bySeverity].map(([severity, value]) => ({ labels: { ...scope, severity }, value })),
    },
    {
      name: 'keydrift_findings_waived',
      help: 'Standing findings a waiver suppresses, by rule and severity.',
      samples: countByRule(
        standing.filter((finding) => finding.waiver),
        scope,
      ),
    },
  ];
}

function countByRule(findings: Report['findings'], scope: Labels): Family['samples'] {
  const counts = new Map<string, { rule: string; severity: string; value: number }>();
  for (const finding of findings) {
    const key = JSON.stringify([finding.ruleId, finding.severity]);
    const entry = counts.get(key) ?? { rule: String(finding.ruleId), severity: String(finding.severity), value: 0 };
    entry.value++;
    counts.set(key, entry);
  }
  return [...counts.values()]
    .sort((a, b) => (a.rule < b.rule ? -1 : a.rule > b.rule ? 1 : (RANK[a.severity as Severity] ?? 9) - (RANK[b.severity as Severity] ?? 9)))
    .map(({ rule, severity, value }) => ({ labels: { ...scope, rule, severity }, value }));
}

function itemFamilies(report: Report, now: number, scope: Labels): Family[] {
  // A label set may appear once per family: a crafted report that repeats a uid keeps its first item.
  const seen = new Set<string>();
  const items = report.inventory.filter((item) => !seen.has(item.uid) && Boolean(seen.add(item.uid)));
  const days = (from: number, to: number) => Math.round(((to - from) / DAY_MS) * 1000) / 1000;
  const sample = (item: InventoryItem, value: number | null) => (value === null || !Number.isFinite(value) ? [] : [{ labels: itemLabels(item, scope), value }]);
  return [
    {
      name: 'keydrift_item_days_to_expiry',
      help: 'Days from the scan time to the item expiry (expiresAt, else the certificate notAfter); negative once expired.',
      samples: items.flatMap((item) => {
        const expiry = time(item.expiresAt ?? item.certificate?.notAfter);
        return sample(item, expiry === null ? null : days(now, expiry));
      }),
    },
    {
      name: 'keydrift_key_material_age_days',
      help: 'Age of the key material at the scan time, in days: since the last rotation, else since the key was created.',
      unit: 'days',
      samples: items
        .filter((item) => item.kind === 'key')
        .flatMap((item) => {
          const since = time(item.rotation?.lastRotatedAt) ?? time(item.createdAt);
          return sample(item, since === null ? null : days(since, now));
        }),
    },
    {
      name: 'keydrift_key_rotation_period_days',
      help: 'The rotation period the key is configured with, in days (keys with a known period only).',
      unit: 'days',
      samples: items.filter((item) => item.kind === 'key').flatMap((item) => sample(item, typeof item.rotation?.periodDays === 'number' ? item.rotation.periodDays : null)),
    },
  ];
}

function itemLabels(item: InventoryItem, scope: Labels): Labels {
  return {
    ...scope,
    uid: String(item.uid),
    name: String(item.name),
    provider: String(item.provider),
    source: String(item.sourceId),
    kind: String(item.kind),
    tier: item.tier === null || item.tier === undefined ? '' : String(item.tier),
    location: String(item.location),
  };
}

function time(value: string | null | undefined): number | null {
  if (typeof value !== 'string') return null;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : null;
}

function exposition(family: Family): string {
  const lines = [`# HELP ${family.name} ${family.help}`, `# TYPE ${family.name} gauge`];
  if (family.unit) lines.push(`# UNIT ${family.name} ${family.unit}`);
  for (const { labels, value } of family.samples) lines.push(`${family.name}{${labelPairs(labels)}} ${number(value)}`);
  return lines.join('\n') + '\n';
}

function labelPairs(labels: Labels): string {
  return Object.entries(labels)
    .map(([name, value]) => `${name}="${labelValue(value)}"`)
    .join(',');
}

// Characters the exposition has no escape for and line-based readers split on: C0 and C1
// controls other than the newline, and the Unicode line and paragraph separators.
// eslint-disable-next-line no-control-regex
const UNESCAPABLE = /[\u0000-\u0009\u000B-\u001F\u007F-\u009F\u2028\u2029]/g;
// A lone surrogate has no UTF-8 encoding: written out it would become bytes no parser accepts.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** An OpenMetrics label value: backslash, double quote and newline escaped; unescapable characters become U+FFFD. */
export function labelValue(value: string): string {
  return value
    .replace(LONE_SURROGATE, '\uFFFD')
    .replace(UNESCAPABLE, '\uFFFD')
    .replace(/[\\"\n]/g, (char) => (char === '\n' ? '\\n' : `\\${char}`));
}

/** A finite sample value in the exposition's number syntax (no `-0`). */
function number(value: number): string {
  return Object.is(value, -0) ? '0' : String(value);
}
