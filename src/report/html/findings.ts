import { SEVERITIES } from '../../model/severity.ts';
import type { Finding } from '../../findings/types.ts';
import { html, idFor } from './escape.ts';
import { compareText, type FindingView, type ReportView } from './view.ts';

/** The baseline-state filter: its values are the baseline's words, its labels the reader's. */
const STATE_OPTIONS: [string, string][] = [
  ['new', 'new'],
  ['unchanged', 'unchanged'],
  ['updated', 'updated'],
  // The script matches absent with the rows' state fixed.
  ['absent', 'fixed (absent now)'],
  ['none', 'no baseline state'],
];

const STATE_LABELS: Record<string, string> = { new: 'new', unchanged: 'unchanged', updated: 'updated', fixed: 'fixed', none: 'none' };

/**
 * Every finding, one row each (open first, then waived, then fixed), with its details in the
 * message cell: evidence, remediation, waiver, and a link to (with the script, a copy of) the
 * rule's help. The filters work on data attributes the script reads once. What is the same for
 * every finding of a rule (help, title, usually remediation) is written once, in #rules.
 */
export function findingsSection(view: ReportView): string {
  const total = view.findings.length;
  const rows = view.findings.map((finding) => findingRow(view, finding));
  const distinct = (read: (finding: FindingView) => string) => [...new Set(view.findings.map(read))].sort(compareText);
  const severities = [...SEVERITIES.filter((severity) => view.findings.some((finding) => finding.finding.severity === severity)),
    ...distinct((finding) => String(finding.finding.severity)).filter((severity) => !(SEVERITIES as readonly string[]).includes(severity))];
  const ruleTitles = new Map(view.findings.map((finding) => [String(finding.finding.ruleId), String(finding.finding.title ?? '')]));
  const filters = [
    select('severity', 'Severity', severities.map((severity) => [severity, severity])),
    select('rule', 'Rule', distinct((finding) => String(finding.finding.ruleId)).map((rule) => [rule, `${rule}: ${ruleTitles.get(rule) ?? ''}`])),
    select('provider', 'Provider', distinct(providerOf).map((provider) => [provider, provider])),
    select('source', 'Source', distinct(sourceOf).map((source) => [source, source])),
    select('tier', 'Tier', distinct(tierOf).map((tier) => [tier, tier === 'none' ? 'no tier' : tier])),
    select('state', 'Baseline state', STATE_OPTIONS),
  ];
  return `<section id="findings" aria-labelledby="findings-title">
<h2 id="findings-title">Findings</h2>
<p id="findings-summary"><span data-count="open">${view.open.length}</span> open, <span data-count="waived">${view.waived.length}</span> waived` +
    `${view.hasBaseline ? `, <span data-count="fixed">${view.fixed.length}</span> fixed since the baseline (listed with state fixed, not open)` : ''}; <span data-count="total">${total}</span> rows.</p>
<p id="findings-incomplete" class="verdict incomplete" hidden>This page lists a different number of findings than it was rendered with: it may have been cut short or edited.</p>
<form id="findings-filters" class="filters" role="search" aria-label="Filter findings" hidden>
${filters.join('\n')}
<label for="findings-search">Search<input id="findings-search" type="search" autocomplete="off" placeholder="name, uid, message, rule"></label>
<button type="reset">Clear filters</button>
</form>
<p><output id="findings-count" for="findings-search filter-severity filter-rule filter-provider filter-source filter-tier filter-state" aria-live="polite">${total} of ${total} findings</output></p>
<table id="findings-table"><caption>Findings: open first, most severe first, then waived, then fixed</caption>
<thead><tr><th scope="col">Severity</th><th scope="col">State</th><th scope="col">Rule</th><th scope="col">Resource</th><th scope="col">Provider</th><th scope="col">Source</th><th scope="col">Tier</th><th scope="col">Message and details</th></tr></thead>
<tbody>
${rows.join('\n') || '<tr><td colspan="8">No findings.</td></tr>'}
</tbody></table>
</section>`;
}

const providerOf = (finding: FindingView) => String(finding.finding.resource?.provider ?? '');
const sourceOf = (finding: FindingView) => String(finding.finding.resource?.sourceId ?? '');
const tierOf = (finding: FindingView) => finding.tier ?? 'none';

function select(name: string, label: string, options: readonly [string, string][]): string {
  return `<label for="filter-${name}">${label}<select id="filter-${name}"><option value="">all</option>${options.map(([value, text]) => `<option value="${html(value)}">${html(text)}</option>`).join('')}</select></label>`;
}

function findingRow(view: ReportView, entry: FindingView): string {
  const { finding } = entry;
  const resource = finding.resource ?? ({} as Partial<Finding['resource']>);
  const ruleId = String(finding.ruleId);
  const ruleAnchor = idFor('rule-', ruleId);
  const hasRule = view.rules.has(ruleId);
  const classes = entry.waived ? ' class="waived"' : entry.state === 'fixed' ? ' class="fixed"' : '';
  return `<tr id="${entry.id}" data-finding="${html(finding.fingerprint)}" data-severity="${html(finding.severity)}" data-rule="${html(ruleId)}" data-provider="${html(providerOf(entry))}" ` +
    `data-source="${html(sourceOf(entry))}" data-tier="${html(tierOf(entry))}" data-state="${entry.state}"${classes}>` +
    `<td><span class="sev sev-${html(finding.severity)}">${html(finding.severity)}</span>${entry.waived ? ' <span class="note">waived</span>' : ''}</td>` +
    `<td>${entry.state === 'none' ? 'none' : `<span class="state state-${entry.state}">${STATE_LABELS[entry.state]}</span>`}</td>` +
    `<td>${hasRule ? `<a href="#${ruleAnchor}">${html(ruleId)}</a>` : html(ruleId)}</td>` +
    `<td>${html(resource.name)}<br><span class="note mono">${html(resource.location)}</span></td>` +
    `<td>${html(resource.provider)}</td><td>${html(resource.sourceId)}</td><td>${entry.tier === null ? 'none' : html(entry.tier)}</td>` +
    `<td>${html(finding.message)}${details(view, entry, hasRule ? ruleAnchor : null)}</td></tr>`;
}

function details(view: ReportView, entry: FindingView, ruleAnchor: string | null): string {
  const { finding } = entry;
  const rule = view.rules.get(String(finding.ruleId));
  const facts: [string, string][] = [['uid', `<code>${html(finding.resource?.uid)}</code>`]];
  // What the rule says once (#rules) is not repeated per finding: 10,000 findings would carry it 10,000 times.
  if (finding.title !== rule?.title) facts.push(['title', html(finding.title)]);
  const declared = finding.declaredAt;
  if (declared && typeof declared === 'object' && declared.file) facts.push(['declared at', `<code>${html(declared.file)}${declared.region?.startLine ? `:${html(declared.region.startLine)}` : ''}</code>`]);
  const evidence = finding.evidence && typeof finding.evidence === 'object' ? Object.entries(finding.evidence) : [];
  const remediation = finding.remediation;
  const sameRemediation = ruleAnchor !== null && rule !== undefined && remediation?.text === rule.remediation.text;
  const waiver = finding.waiver;
  return `<details data-finding-details="${html(finding.fingerprint)}"><summary>Details</summary>` +
    definitionList(facts) +
    `<p><strong>Evidence</strong></p>${evidence.length > 0 ? definitionList(evidence.map(([key, value]) => [html(key), evidenceValue(value)])) : '<p class="note">none recorded</p>'}` +
    `<p><strong>Remediation</strong>${remediation?.automatic === true ? ' <span class="note">(keydrift remediate can plan it)</span>' : ''}: ` +
    (sameRemediation ? `<span data-rule-remediation="${ruleAnchor}">as for every <a href="#${ruleAnchor}">${html(finding.ruleId)}</a> finding (see its help)</span>` : html(remediation?.text)) + '</p>' +
    (waiver && typeof waiver === 'object'
      ? `<p><strong>Waiver</strong>${entry.state === 'fixed' ? ' (no longer needed)' : ''}</p>${definitionList([
        ['owner', html(waiver.owner)],
        ['reason', html(waiver.reason)],
        ['expires', html(waiver.expires)],
        ['rule', `<code>${html(waiver.rule)}</code>`],
        ['resource', `<code>${html(waiver.resource)}</code>`],
      ])}`
      : '') +
    // Without the script the remediation line already links to the rule's help.
    (ruleAnchor ? `<div data-rule-help="${ruleAnchor}">${sameRemediation ? '' : `<a href="#${ruleAnchor}">Rule help: ${html(finding.ruleId)}</a>`}</div>` : '') +
    '</details>';
}

function definitionList(entries: readonly [string, string][]): string {
  return `<dl>${entries.map(([term, value]) => `<dt>${term}</dt><dd>${value}</dd>`).join('')}</dl>`;
}

/** Scalars as text, anything structured as indented JSON; null is what the rule recorded as unknown. */
function evidenceValue(value: unknown): string {
  if (value === null) return '<span class="note">null (unknown or not set)</span>';
  if (typeof value === 'string') return html(value);
  if (typeof value === 'number' || typeof value === 'boolean') return html(String(value));
  let text: string | undefined;
  try {
    text = JSON.stringify(value, null, 2);
  } catch {
    text = undefined;
  }
  return text === undefined ? '<span class="note">not shown</span>' : `<pre>${html(text)}</pre>`;
}
