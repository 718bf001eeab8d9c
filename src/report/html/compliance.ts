import type { InventoryItem } from '../../inventory/types.ts';
import type { RuleEntry } from '../../rules/catalogue.ts';
import { html, idFor } from './escape.ts';
import { compareNatural, compareText, plural, type FindingView, type ReportView } from './view.ts';

export type ControlStatus = 'pass' | 'fail' | 'not-assessed';

export interface ControlRow {
  framework: string;
  id: string;
  title: string;
  /** Every mapping behind the row was checked against the published text. */
  verified: boolean;
  rules: RuleEntry[];
  status: ControlStatus;
  /** Why, as HTML (escaped): the sources behind a pass or a not-assessed, the findings behind a fail. */
  reason: string;
  open: FindingView[];
  waived: number;
}

/** Display names; a framework not listed here (a custom rule's) is shown by its id. */
export const FRAMEWORK_NAMES: Record<string, string> = {
  'cis-aws': 'CIS Amazon Web Services Foundations Benchmark',
  'cis-gcp': 'CIS Google Cloud Platform Foundation Benchmark',
  'nist-800-57': 'NIST SP 800-57 Part 1: Recommendation for Key Management',
  'pci-dss-4.0': 'PCI DSS v4.0',
  'iso-27001-2022': 'ISO/IEC 27001:2022 Annex A',
  'nist-800-53': 'NIST SP 800-53 Rev. 5',
  'nist-800-131a': 'NIST SP 800-131A: Transitioning the Use of Cryptographic Algorithms and Key Lengths',
  'nist-800-52': 'NIST SP 800-52: Guidelines for TLS Implementations',
  'cab-forum-br': 'CA/Browser Forum Baseline Requirements',
  'ietf-rfc': 'IETF RFCs',
};

const FRAMEWORK_ORDER = ['cis-aws', 'cis-gcp', 'nist-800-57', 'pci-dss-4.0', 'iso-27001-2022', 'nist-800-53'];

/**
 * A cloud benchmark speaks of its own cloud: a CIS AWS control is neither shown nor failed by a
 * Cloud KMS key, whatever rule both map to.
 */
const PROVIDER_SCOPE: Record<string, (provider: string) => boolean> = {
  'cis-aws': (provider) => provider.startsWith('aws-'),
  'cis-gcp': (provider) => provider.startsWith('gcp-'),
};

/** Links to findings per rule and control; the findings table has them all. */
const FINDING_LINKS = 5;

/** What one scanned source could show: the kinds and providers of the items it produced. */
interface SourceReach {
  id: string;
  status: string;
  ok: boolean;
  /** "kind provider" pairs; null when a source produced nothing because it was not fully read: it might have produced anything. */
  pairs: Set<string> | null;
}

function reachOf(view: ReportView): SourceReach[] {
  const sources = Array.isArray(view.report.sources) ? view.report.sources : [];
  const inventory: InventoryItem[] = Array.isArray(view.report.inventory) ? view.report.inventory : [];
  const pairs = new Map<string, Set<string>>();
  for (const item of inventory) {
    const set = pairs.get(item.sourceId) ?? new Set<string>();
    set.add(`${item.kind} ${item.provider}`);
    pairs.set(item.sourceId, set);
  }
  const reach: SourceReach[] = sources.map((source) => ({
    id: String(source.id),
    status: String(source.status),
    ok: source.status === 'ok',
    pairs: pairs.get(source.id) ?? (source.status === 'ok' ? new Set() : null),
  }));
  // Items from a source the report does not list (an edited or merged report) were still seen.
  const listed = new Set(reach.map((source) => source.id));
  for (const [id, set] of pairs) if (!listed.has(id)) reach.push({ id, status: 'ok', ok: true, pairs: set });
  return reach;
}

/** Can this source show a finding of this rule for this framework? */
function canShow(source: SourceReach, rule: RuleEntry, framework: string, driftPossible: boolean): boolean {
  if (rule.status !== 'implemented') return false;
  if (rule.appliesTo.includes('source')) return true;
  // Drift rules compare declared (infrastructure code) and live items: nothing to compare without declarations.
  if (rule.domain === 'drift' && !driftPossible) return false;
  if (source.pairs === null) return true;
  const scope = PROVIDER_SCOPE[framework];
  for (const pair of source.pairs) {
    const [kind, provider] = [pair.slice(0, pair.indexOf(' ')), pair.slice(pair.indexOf(' ') + 1)];
    if ((rule.appliesTo as string[]).includes(kind) && (!scope || scope(provider))) return true;
  }
  return false;
}

/**
 * One row per control each framework maps: fail when a standing finding of a rule mapped to it
 * exists (on a provider the framework covers); not assessed when no scanned source could show it
 * (no items of the kinds its rules judge) or every source that could was only partly read; else pass.
 */
export function complianceMatrix(view: ReportView): Map<string, ControlRow[]> {
  const reach = reachOf(view);
  const inventory = Array.isArray(view.report.inventory) ? view.report.inventory : [];
  const managed = view.report.scan?.policy?.drift?.managedAsCode;
  const driftPossible = inventory.some((item) => item.declared === true) || (Array.isArray(managed) && managed.length > 0);
  const openByRule = new Map<string, FindingView[]>();
  const waivedByRule = new Map<string, FindingView[]>();
  for (const finding of view.open) push(openByRule, finding.finding.ruleId, finding);
  for (const finding of view.waived) push(waivedByRule, finding.finding.ruleId, finding);

  const controls = new Map<string, Map<string, { title: string; verified: boolean; rules: RuleEntry[] }>>();
  const rules = [...view.rules.values()].sort((a, b) => compareText(a.id, b.id));
  for (const rule of rules) {
    for (const control of Array.isArray(rule.controls) ? rule.controls : []) {
      const framework = controls.get(control.framework) ?? new Map();
      controls.set(control.framework, framework);
      const entry = framework.get(control.id) ?? { title: control.title, verified: true, rules: [] };
      entry.verified &&= control.verified === true;
      if (!entry.rules.includes(rule)) entry.rules.push(rule);
      framework.set(control.id, entry);
    }
  }

  const matrix = new Map<string, ControlRow[]>();
  for (const framework of orderFrameworks([...controls.keys()])) {
    const scope = PROVIDER_SCOPE[framework];
    const inScope = (finding: FindingView) => !scope || scope(String(finding.finding.resource?.provider));
    const rows = [...controls.get(framework)!.entries()]
      .sort(([a], [b]) => compareNatural(a, b))
      .map(([id, entry]): ControlRow => {
        const open = entry.rules.flatMap((rule) => openByRule.get(rule.id) ?? []).filter(inScope);
        const waived = entry.rules.flatMap((rule) => waivedByRule.get(rule.id) ?? []).filter(inScope).length;
        const candidates = reach.filter((source) => entry.rules.some((rule) => canShow(source, rule, framework, driftPossible)));
        const readable = candidates.filter((source) => source.ok);
        const row = { framework, id, title: entry.title, verified: entry.verified, rules: entry.rules, open, waived };
        if (open.length > 0) return { ...row, status: 'fail', reason: `${plural(open.length, 'open finding')}.` };
        if (readable.length === 0) return { ...row, status: 'not-assessed', reason: notAssessedReason(entry.rules, framework, candidates, driftPossible) };
        const partial = candidates.filter((source) => !source.ok);
        return {
          ...row,
          status: 'pass',
          reason: `No open finding from ${plural(readable.length, 'source')} that could show one (${readable.map((source) => html(source.id)).join(', ')})` +
            (partial.length > 0 ? `; not fully read: ${partial.map((source) => `${html(source.id)} (${html(source.status)})`).join(', ')}` : '') + '.',
        };
      });
    matrix.set(framework, rows);
  }
  return matrix;
}

function push<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function notAssessedReason(rules: readonly RuleEntry[], framework: string, candidates: readonly SourceReach[], driftPossible: boolean): string {
  if (candidates.length > 0) {
    return `Every source that could show it was not fully read: ${candidates.map((source) => `${html(source.id)} (${html(source.status)})`).join(', ')}.`;
  }
  if (!rules.some((rule) => rule.status === 'implemented')) return 'No implemented rule checks it yet.';
  if (rules.every((rule) => rule.domain === 'drift') && !driftPossible) return 'No infrastructure code was scanned, so declared and live keys were not compared.';
  const kinds = [...new Set(rules.flatMap((rule) => rule.appliesTo))].filter((kind) => kind !== 'source');
  const nouns = kinds.map((kind) => (kind === 'certificate' ? 'certificates' : kind === 'key' ? 'keys' : kind));
  const where = framework === 'cis-aws' ? ' from AWS' : framework === 'cis-gcp' ? ' from Google Cloud' : '';
  return `No scanned source produced ${nouns.join(' or ') || 'items'}${where}.`;
}

function orderFrameworks(frameworks: string[]): string[] {
  const rank = (framework: string) => {
    const index = FRAMEWORK_ORDER.indexOf(framework);
    return index === -1 ? FRAMEWORK_ORDER.length + (framework in FRAMEWORK_NAMES ? 0 : 1) : index;
  };
  return frameworks.sort((a, b) => rank(a) - rank(b) || compareText(a, b));
}

export function complianceSection(view: ReportView): string {
  const matrix = complianceMatrix(view);
  const tables = [...matrix.entries()].map(([framework, rows]) => frameworkTable(view, framework, rows));
  return `<section id="compliance" aria-labelledby="compliance-title">
<h2 id="compliance-title">Compliance by framework</h2>
<p>Each control the rule catalogue maps is <strong>fail</strong> when an open finding (not waived, not fixed) of a rule mapped to it exists, <strong>not assessed</strong> when no scanned source could show such a finding or every source that could was not fully read, and <strong>pass</strong> otherwise. A pass says what these rules check, not that the whole control is met. Mappings marked unverified were not checked against the published text.</p>
${tables.join('\n') || '<p>No rule maps a control.</p>'}
</section>`;
}

function frameworkTable(view: ReportView, framework: string, rows: readonly ControlRow[]): string {
  const tally = (status: ControlStatus) => rows.filter((row) => row.status === status).length;
  const name = FRAMEWORK_NAMES[framework] ?? framework;
  const body = rows.map((row) => {
    const rules = row.rules.map((rule) => {
      const findings = row.open.filter((finding) => finding.finding.ruleId === rule.id);
      const links = findings.slice(0, FINDING_LINKS).map((finding) => `<a href="#${finding.id}">${html(finding.finding.resource?.name)}</a>`);
      if (findings.length > FINDING_LINKS) links.push(`${findings.length - FINDING_LINKS} more`);
      return `<li><a href="#${idFor('rule-', rule.id)}">${html(rule.id)}</a>${rule.status === 'implemented' ? '' : ` <span class="note">(${html(rule.status)})</span>`}` +
        `${links.length > 0 ? `: ${links.join(', ')}` : ''}</li>`;
    });
    return `<tr data-control="${html(row.id)}" data-status="${row.status}"><th scope="row">${html(row.id)}</th><td>${html(row.title)}${row.verified ? '' : ' <span class="note">(mapping unverified)</span>'}</td>` +
      `<td><span class="status status-${row.status}">${row.status === 'not-assessed' ? 'not assessed' : row.status}</span> <span class="note">${row.reason}${row.waived > 0 ? ` ${row.waived} waived.` : ''}</span></td>` +
      `<td><ul>${rules.join('')}</ul></td></tr>`;
  });
  return `<table data-framework="${html(framework)}"><caption>${html(name)} <span class="note">(${html(framework)}): ${tally('fail')} fail, ${tally('pass')} pass, ${tally('not-assessed')} not assessed</span></caption>
<thead><tr><th scope="col">Control</th><th scope="col">Title</th><th scope="col">Status</th><th scope="col">Rules and open findings</th></tr></thead>
<tbody>${body.join('\n')}</tbody></table>`;
}
