import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { compareWithBaseline } from '../../src/findings/baseline.ts';
import { countBySeverity } from '../../src/findings/outcome.ts';
import type { Finding } from '../../src/findings/types.ts';
import { SEVERITIES } from '../../src/model/severity.ts';
import { catalogue } from '../../src/rules/catalogue.ts';
import { historyLine, trendSeries } from '../../src/report/history.ts';
import { toHtml } from '../../src/report/html.ts';
import { complianceMatrix, FRAMEWORK_NAMES } from '../../src/report/html/compliance.ts';
import { SCRIPT } from '../../src/report/html/script.ts';
import { buildView } from '../../src/report/html/view.ts';
import type { Report } from '../../src/report/types.ts';

// The auditor's HTML report, checked as a browser would read it: a small tag scanner builds the
// element tree (raw text in <script> and <style> skipped), and the structure contract (ids, data
// attributes, counts) is read from that tree. tests of behaviour in a real browser live elsewhere.

const DEMO = new URL('../../reports/keydrift.json', import.meta.url);
const demo = (): Report => JSON.parse(readFileSync(DEMO, 'utf8')) as Report;

// --- a tiny HTML tag scanner -----------------------------------------------------------------

interface Element {
  tag: string;
  attrs: Map<string, string>;
  children: Element[];
  parent: Element | null;
  /** Text and child elements in document order, text with its entities as written. */
  content: (string | Element)[];
}

const VOID = new Set(['meta', 'br', 'input', 'img', 'hr', 'link', 'col', 'wbr', 'source']);
const RAW = new Set(['script', 'style']);
/** Elements the HTML parser would close a <p> for: inside a <p> they would restructure the page. */
const BLOCK = new Set(['div', 'ul', 'ol', 'dl', 'table', 'pre', 'section', 'details', 'form', 'p', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'figure', 'header', 'nav', 'main', 'article']);

function parse(html: string): Element {
  const root: Element = { tag: '#root', attrs: new Map(), children: [], parent: null, content: [] };
  let current = root;
  const tag = /<!--[\s\S]*?-->|<!doctype[^>]*>|<(\/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[a-zA-Z_:][-a-zA-Z0-9_:.]*(?:="[^"<>]*")?)*)\s*(\/?)>/gy;
  let index = 0;
  while (index < html.length) {
    const next = html.indexOf('<', index);
    if (next === -1) {
      current.content.push(html.slice(index));
      break;
    }
    if (next > index) current.content.push(html.slice(index, next));
    tag.lastIndex = next;
    const match = tag.exec(html);
    assert.ok(match, `not a well-formed tag at ${next}: ${JSON.stringify(html.slice(next, next + 80))}`);
    index = tag.lastIndex;
    const [, closing, rawName, rawAttrs, selfClosing] = match;
    if (!rawName) continue;
    const name = rawName.toLowerCase();
    if (closing) {
      assert.equal(current.tag, name, `</${name}> closes <${current.tag}> (near ${JSON.stringify(html.slice(Math.max(0, next - 120), next + 20))})`);
      current = current.parent!;
      continue;
    }
    const attrs = new Map<string, string>();
    for (const attr of rawAttrs!.matchAll(/\s+([a-zA-Z_:][-a-zA-Z0-9_:.]*)(?:="([^"<>]*)")?/g)) {
      assert.ok(!attrs.has(attr[1]!), `<${name}> repeats ${attr[1]}`);
      attrs.set(attr[1]!, decode(attr[2] ?? ''));
    }
    if (current.tag === 'p') assert.ok(!BLOCK.has(name), `<${name}> inside <p> would be moved out by the parser`);
    const element: Element = { tag: name, attrs, children: [], parent: current, content: [] };
    current.children.push(element);
    current.content.push(element);
    if (RAW.has(name)) {
      const end = html.indexOf(`</${name}>`, index);
      assert.ok(end > 0, `<${name}> is never closed`);
      element.content.push(html.slice(index, end));
      index = end + name.length + 3;
    } else if (!VOID.has(name) && !selfClosing) {
      current = element;
    }
  }
  assert.equal(current, root, `<${current.tag}> is never closed`);
  return root;
}

function decode(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|#39);/g, (_, name: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" })[name]!);
}

function all(root: Element, match: (element: Element) => boolean): Element[] {
  const out: Element[] = [];
  const stack = [...root.children].reverse();
  while (stack.length > 0) {
    const element = stack.pop()!;
    if (match(element)) out.push(element);
    for (let index = element.children.length - 1; index >= 0; index--) stack.push(element.children[index]!);
  }
  return out;
}

const byId = (root: Element, id: string) => {
  const found = all(root, (element) => element.attrs.get('id') === id);
  assert.equal(found.length, 1, `one element with id ${id}, found ${found.length}`);
  return found[0]!;
};
const within = (element: Element, ancestor: Element) => {
  for (let at: Element | null = element; at; at = at.parent) if (at === ancestor) return true;
  return false;
};
const textOf = (element: Element): string =>
  element.content.map((part) => (typeof part === 'string' ? decode(part) : RAW.has(part.tag) ? '' : textOf(part))).join('');
const rawText = (element: Element): string => element.content.join('');

// --- reports ------------------------------------------------------------------------------------

/**
 * The demo compared with itself as the baseline after a night's change: KD-ROT-001 and one
 * KD-CRT-011 fixed, one KD-CRT-002 updated, a new key with a new finding, an item removed and an
 * item changed.
 */
function baselineReport(): Report {
  const baseline = demo();
  const current = demo();
  const dropped = current.findings.find((finding) => finding.ruleId === 'KD-CRT-011')!;
  const findings: Finding[] = current.findings.filter((finding) => finding.ruleId !== 'KD-ROT-001' && finding !== dropped);
  const updated = findings.find((finding) => finding.ruleId === 'KD-CRT-002')!;
  updated.evidence = { ...updated.evidence, warnDays: 45 };
  const template = current.inventory.find((item) => item.name === 'legacy-zmk')!;
  const added = { ...template, uid: `${template.uid}-new`, name: 'legacy-zmk-2' };
  const alg = findings.find((finding) => finding.ruleId === 'KD-ALG-001')!;
  findings.push({ ...alg, fingerprint: 'f'.repeat(32), resource: { ...alg.resource, uid: added.uid, name: added.name } });
  const withFindings = new Set(current.findings.map((finding) => finding.resource.uid));
  const removed = current.inventory.find((item) => !withFindings.has(item.uid))!;
  const inventory = [...current.inventory.filter((item) => item !== removed), added].map((item) => (item.name === 'orders' ? { ...item, algorithm: 'AES-128' } : item));
  const comparison = compareWithBaseline(findings, baseline, inventory, current.sources.map((source) => source.id));
  return {
    ...current,
    findings: comparison.findings,
    inventory,
    summary: { ...current.summary, items: inventory.length, findings: countBySeverity(comparison.findings), waived: comparison.findings.filter((finding) => finding.waiver).length, new: comparison.new, fixed: comparison.fixed },
    drift: comparison.drift,
  };
}

// --- the structure contract ---------------------------------------------------------------------

function checkContract(report: Report, html: string): Element {
  const root = parse(html);
  const ids = all(root, (element) => element.attrs.has('id')).map((element) => element.attrs.get('id')!);
  assert.deepEqual(ids.filter((id, index) => ids.indexOf(id) !== index), [], 'ids are unique');
  for (const id of ids) assert.match(id, /^[A-Za-z0-9_-]+$/, 'ids carry no character a selector or URL would trip on');
  for (const link of all(root, (element) => element.tag === 'a')) {
    const href = link.attrs.get('href')!;
    assert.match(href, /^#/, 'only links within the page');
    assert.ok(ids.includes(href.slice(1)), `link target ${href} exists`);
  }

  // CSP: exactly the page's one inline script, by hash; the data block is JSON and not code.
  const meta = all(root, (element) => element.tag === 'meta' && element.attrs.get('http-equiv') === 'Content-Security-Policy');
  assert.equal(meta.length, 1);
  const scripts = all(root, (element) => element.tag === 'script');
  assert.equal(scripts.length, 2, 'the JSON block and the script');
  const [data, code] = scripts;
  assert.equal(data!.attrs.get('type'), 'application/json');
  assert.equal(data!.attrs.get('id'), 'keydrift-data');
  assert.equal(code!.attrs.size, 0);
  assert.equal(rawText(code!), SCRIPT, 'the script is the static one, whatever the report');
  const hash = createHash('sha256').update(rawText(code!), 'utf8').digest('base64');
  assert.equal(meta[0]!.attrs.get('content'), `default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'sha256-${hash}'`);
  assert.ok(html.indexOf('Content-Security-Policy') < html.indexOf('<title>'), 'the policy comes before any content');
  const parsedData = JSON.parse(rawText(data!)) as { findings: number; configName: string };
  assert.equal(parsedData.findings, report.findings.length);
  assert.equal(parsedData.configName, report.scan.configName);

  // Section order: what must not be missed first.
  const overview = byId(root, 'overview');
  const coverage = byId(root, 'coverage');
  assert.ok(within(coverage, overview), 'coverage is part of the overview');
  const order = ['overview', 'coverage', 'compliance', 'findings', 'inventory', 'metadata'].map((id) => html.indexOf(`<section id="${id}"`));
  assert.deepEqual([...order].sort((a, b) => a - b), order, `sections in order: ${order}`);
  assert.ok(all(coverage, (element) => element.tag === 'details').length === 0, 'coverage is never collapsed');
  const sourceRows = all(byId(root, 'sources-table'), (element) => element.tag === 'tr' && element.attrs.has('data-status') && element.attrs.get('data-status') !== 'none');
  assert.deepEqual(sourceRows.map((row) => row.attrs.get('data-source')).sort(), report.sources.map((source) => source.id).sort());

  // Every table is described and its header cells scoped.
  for (const table of all(root, (element) => element.tag === 'table')) {
    assert.equal(table.children[0]?.tag, 'caption', `table ${table.attrs.get('id') ?? table.attrs.get('data-framework')} has a caption first`);
    for (const th of all(table, (element) => element.tag === 'th')) assert.ok(['col', 'row'].includes(th.attrs.get('scope')!), 'th has a scope');
  }
  // Every form control is labelled.
  for (const control of all(root, (element) => element.tag === 'select' || element.tag === 'input')) {
    const id = control.attrs.get('id')!;
    assert.ok(all(root, (element) => element.tag === 'label' && element.attrs.get('for') === id).length === 1, `${id} has a label`);
  }

  // Compliance: one table per framework the catalogue maps, one row per control.
  const rules = catalogue();
  const frameworks = new Map<string, Set<string>>();
  for (const rule of rules.values()) for (const control of rule.controls) frameworks.set(control.framework, (frameworks.get(control.framework) ?? new Set()).add(control.id));
  const compliance = byId(root, 'compliance');
  const tables = all(compliance, (element) => element.tag === 'table');
  assert.deepEqual(tables.map((table) => table.attrs.get('data-framework')).sort(), [...frameworks.keys()].sort());
  for (const table of tables) {
    const framework = table.attrs.get('data-framework')!;
    assert.ok(textOf(table.children[0]!).startsWith(FRAMEWORK_NAMES[framework]!), `${framework} caption names it`);
    const rows = all(table, (element) => element.tag === 'tr' && element.attrs.has('data-control'));
    assert.deepEqual(rows.map((row) => row.attrs.get('data-control')).sort(), [...frameworks.get(framework)!].sort());
    for (const row of rows) {
      assert.match(row.attrs.get('data-status')!, /^(pass|fail|not-assessed)$/);
      const links = all(row, (element) => element.tag === 'a').map((link) => link.attrs.get('href')!);
      assert.ok(links.some((href) => href.startsWith('#rule-')), 'each control lists its rules');
      if (row.attrs.get('data-status') === 'fail') assert.ok(links.some((href) => href.startsWith('#finding-')), 'a failed control links to its findings');
    }
  }

  // Inventory: one row per item, sortable, searchable.
  const inventory = byId(root, 'inventory-table');
  const itemRows = all(inventory, (element) => element.tag === 'tr' && element.attrs.has('data-uid'));
  assert.deepEqual(itemRows.map((row) => row.attrs.get('data-uid')), report.inventory.map((item) => item.uid));
  for (const row of itemRows) assert.equal(row.children.length, 11);
  assert.deepEqual(all(inventory, (element) => element.tag === 'button').map((button) => button.attrs.get('data-sort')).sort(), ['age', 'expiry', 'findings', 'name', 'provider']);
  assert.equal(byId(root, 'inventory-search').attrs.get('type'), 'search');

  // Findings: filters, counter, one row per finding with its details, header counts equal to rows.
  const section = byId(root, 'findings');
  for (const name of ['severity', 'rule', 'provider', 'source', 'tier', 'state']) assert.equal(byId(root, `filter-${name}`).tag, 'select');
  assert.deepEqual(all(byId(root, 'filter-state'), (element) => element.tag === 'option').map((option) => option.attrs.get('value')), ['', 'new', 'unchanged', 'updated', 'absent', 'none']);
  assert.equal(byId(root, 'findings-search').attrs.get('type'), 'search');
  const rows = all(byId(root, 'findings-table'), (element) => element.tag === 'tr' && element.attrs.has('data-finding'));
  assert.equal(rows.length, report.findings.length);
  assert.equal(textOf(byId(root, 'findings-count')), `${rows.length} of ${rows.length} findings`);
  assert.deepEqual(rows.map((row) => row.attrs.get('data-finding')).sort(), report.findings.map((finding) => finding.fingerprint).sort());
  const stateOf = (finding: Finding) => (finding.baselineState === 'absent' ? 'fixed' : (finding.baselineState ?? 'none'));
  for (const row of rows) {
    const fingerprint = row.attrs.get('data-finding')!;
    const finding = report.findings.find((candidate) => candidate.fingerprint === fingerprint)!;
    assert.equal(row.attrs.get('id'), `finding-${fingerprint}`);
    assert.equal(row.attrs.get('data-severity'), finding.severity);
    assert.equal(row.attrs.get('data-rule'), finding.ruleId);
    assert.equal(row.attrs.get('data-provider'), finding.resource.provider);
    assert.equal(row.attrs.get('data-source'), finding.resource.sourceId);
    assert.equal(row.attrs.get('data-tier'), report.inventory.find((item) => item.uid === finding.resource.uid)?.tier ?? 'none');
    assert.equal(row.attrs.get('data-state'), stateOf(finding));
    assert.equal(textOf(row.children[1]!).trim(), stateOf(finding), 'the state column says the state');
    const details = all(row, (element) => element.tag === 'details');
    assert.equal(details.length, 1);
    assert.equal(details[0]!.attrs.get('data-finding-details'), fingerprint);
    assert.ok(all(details[0]!, (element) => element.attrs.has('data-rule-help')).length === 1, 'a place for the rule help');
    if (finding.waiver) assert.ok(textOf(details[0]!).includes(finding.waiver.owner), 'the waiver owner is shown');
  }
  const count = (name: string) => {
    const found = all(section, (element) => element.attrs.get('data-count') === name);
    return found.length === 0 ? null : Number(textOf(found[0]!));
  };
  const open = rows.filter((row) => row.attrs.get('data-state') !== 'fixed' && row.attrs.get('class') !== 'waived');
  assert.equal(count('open'), open.length);
  assert.equal(count('waived'), rows.filter((row) => row.attrs.get('class') === 'waived').length);
  assert.equal(count('total'), rows.length);
  const fixedRows = rows.filter((row) => row.attrs.get('data-state') === 'fixed');
  assert.equal(count('fixed'), report.drift ? fixedRows.length : null, 'fixed counted apart, when there is a baseline');
  for (const severity of SEVERITIES) {
    const shown = Number(textOf(all(byId(root, 'severity-counts'), (element) => element.attrs.get('data-count') === severity)[0]!));
    assert.equal(shown, open.filter((row) => row.attrs.get('data-severity') === severity).length, `${severity}: header equals rows`);
    assert.equal(shown, report.summary.findings[severity], `${severity}: header equals the summary`);
  }

  // Rule help once per rule, not once per finding.
  for (const id of new Set(report.findings.map((finding) => finding.ruleId))) {
    assert.equal(all(root, (element) => element.attrs.get('data-rule') === id && element.tag === 'article').length, 1);
  }
  const firstHelp = rules.get(report.findings[0]!.ruleId)!.help.split('\n').find((line) => line.length > 40 && !/[`*#|]/.test(line))!.trim();
  assert.equal(html.split(firstHelp.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll("'", '&#39;')).length - 1, 1, 'help text appears once');

  // Charts and metadata.
  for (const id of ['chart-age', 'chart-expiry']) {
    const svg = byId(root, id);
    assert.equal(svg.tag, 'svg');
    assert.ok(svg.children.some((child) => child.tag === 'title') && svg.children.some((child) => child.tag === 'desc'));
  }
  assert.ok(all(byId(root, 'chart-age'), (element) => element.tag === 'rect').length <= 50);
  assert.equal(textOf(byId(root, 'reproduce-command')), `keydrift evaluate --inventory keydrift.json --now ${report.scan.now}`);
  for (const value of [report.tool.version, report.scan.policy.profile, report.scan.policyDigest, report.scan.inventoryDigest, report.scan.configDigest!]) {
    assert.ok(textOf(byId(root, 'metadata')).includes(value), `metadata shows ${value}`);
  }

  // Nothing left unfilled or unknown.
  const visible = html.replace(/<script>[\s\S]*?<\/script>/, '').replace(/<style>[\s\S]*?<\/style>/, '');
  assert.doesNotMatch(visible, /\{(name|uid|location|evidence\.[A-Za-z0-9_]+)\}/, 'a placeholder left in');
  assert.doesNotMatch(visible, /\bundefined\b|\bNaN\b|\[object Object\]/, 'an unknown value shown as code would print it');
  return root;
}

test('HTML: the demo report keeps the structure contract: sections, framework tables, inventory and findings rows, counts, CSP', () => {
  const report = demo();
  const html = toHtml(report);
  const root = checkContract(report, html);
  assert.ok(!html.includes('<section id="drift"'), 'no drift section without a baseline');
  assert.equal(byId(root, 'chart-trend-none').tag, 'p', 'no history: a note instead of a trend');
  assert.ok(Buffer.byteLength(html) < 1024 * 1024, `the demo page is ${Buffer.byteLength(html)} bytes`);
  // The demo: a rotation finding on an AWS key fails CIS AWS 3.6; the AWS findings do not fail CIS GCP 1.10.
  const status = (framework: string, control: string) => all(root, (element) => element.attrs.get('data-control') === control && element.parent?.parent?.attrs.get('data-framework') === framework)[0]?.attrs.get('data-status');
  assert.equal(status('cis-aws', '3.6'), 'fail');
  assert.equal(status('cis-gcp', '1.10'), 'pass');
  assert.equal(status('pci-dss-4.0', '4.2.1'), 'fail');
});

test('HTML: a report compared with a baseline lists fixed findings with state fixed, counted apart, and shows the drift', () => {
  const report = baselineReport();
  const html = toHtml(report);
  const root = checkContract(report, html);
  const rows = all(byId(root, 'findings-table'), (element) => element.tag === 'tr' && element.attrs.has('data-finding'));
  const fixed = rows.filter((row) => row.attrs.get('data-state') === 'fixed');
  assert.equal(fixed.length, report.summary.fixed);
  assert.equal(fixed.length, 2, 'KD-ROT-001 and one KD-CRT-011 fixed');
  assert.equal(rows.filter((row) => row.attrs.get('data-state') === 'new').length, 1);
  assert.equal(rows.filter((row) => row.attrs.get('data-state') === 'updated').length, 1);
  // Fixed rows come after every open and waived row.
  const firstFixed = rows.findIndex((row) => row.attrs.get('data-state') === 'fixed');
  assert.ok(rows.slice(firstFixed).every((row) => row.attrs.get('data-state') === 'fixed'));
  for (const [state, expected] of [['new', 1], ['updated', 1], ['fixed', 2], ['unchanged', rows.length - 4]] as const) {
    const cell = all(byId(root, 'baseline-summary'), (element) => element.attrs.get('data-state-count') === state)[0]!;
    assert.equal(Number(textOf(cell)), expected, `baseline summary: ${state}`);
  }
  const drift = byId(root, 'drift');
  const driftCount = (what: string) => Number(textOf(all(drift, (element) => element.attrs.get('data-drift-count') === what)[0]!));
  assert.deepEqual([driftCount('added'), driftCount('removed'), driftCount('changed')], [report.drift!.added.length, report.drift!.removed.length, report.drift!.changed.length]);
  assert.deepEqual([driftCount('added'), driftCount('removed'), driftCount('changed')], [1, 1, 1]);
  // The rotation finding that failed CIS AWS 3.6 is fixed: the control passes, the AWS keys were read.
  const cisAws = all(root, (element) => element.attrs.get('data-framework') === 'cis-aws')[0]!;
  assert.equal(all(cisAws, (element) => element.attrs.get('data-control') === '3.6')[0]!.attrs.get('data-status'), 'pass');
});

test('HTML: a control is not assessed when no scanned source could show it, or every source that could was not fully read', () => {
  const certsOnly = demo();
  certsOnly.sources = certsOnly.sources.filter((source) => source.id === 'demo-certs');
  certsOnly.inventory = certsOnly.inventory.filter((item) => item.sourceId === 'demo-certs');
  certsOnly.findings = certsOnly.findings.filter((finding) => finding.resource.sourceId === 'demo-certs');
  const rows = [...complianceMatrix(buildView(certsOnly)).values()].flat();
  for (const row of rows) {
    const kinds = new Set(row.rules.flatMap((rule) => rule.appliesTo));
    if (row.open.length > 0) assert.equal(row.status, 'fail', `${row.framework} ${row.id}`);
    else if (kinds.has('source') || kinds.has('certificate')) assert.equal(row.status, 'pass', `${row.framework} ${row.id}`);
    else assert.equal(row.status, 'not-assessed', `${row.framework} ${row.id}: only key rules, and no keys were scanned`);
  }
  const cisAws = rows.find((row) => row.framework === 'cis-aws' && row.id === '3.6')!;
  assert.equal(cisAws.status, 'not-assessed');
  assert.match(cisAws.reason, /No scanned source produced keys from AWS/);

  // A key source that failed could have shown the key controls: still not assessed, and the reason names it.
  const withFailed = { ...certsOnly, sources: [...certsOnly.sources, { id: 'prod-kms', type: 'aws-kms', status: 'failed' as const, items: 0, errors: [{ code: 'AccessDenied', message: 'denied' }] }] };
  const failedRows = [...complianceMatrix(buildView(withFailed)).values()].flat();
  const again = failedRows.find((row) => row.framework === 'cis-aws' && row.id === '3.6')!;
  assert.equal(again.status, 'not-assessed');
  assert.match(again.reason, /prod-kms \(failed\)/);
  const html = toHtml(withFailed);
  assert.match(html, /<tr data-control="3\.6" data-status="not-assessed">/);
  const root = parse(html);
  const statement = byId(root, 'coverage-statement');
  assert.match(textOf(statement), /1 of 2 sources were not fully collected \(prod-kms failed\)/);
  assert.ok(textOf(byId(root, 'sources-table')).includes('denied'), 'the source error is shown');

  // Every source partial: nothing is assessed, though findings still fail their controls.
  const partial = demo();
  for (const source of partial.sources) source.status = 'partial';
  for (const row of [...complianceMatrix(buildView(partial)).values()].flat()) {
    assert.equal(row.status, row.open.length > 0 ? 'fail' : 'not-assessed', `${row.framework} ${row.id}`);
  }
});

test('HTML: toHtml(report) and toHtml(report, { history }) draw the trend from a history', () => {
  const report = demo();
  const later = { ...demo(), scan: { ...report.scan, now: '2026-11-02T00:00:00.000Z' } };
  const history = trendSeries([historyLine(report), historyLine(later)]);
  const html = toHtml(report, { history });
  const root = checkContract(report, html);
  const trend = byId(root, 'chart-trend');
  assert.equal(trend.tag, 'svg');
  assert.equal(all(trend, (element) => element.tag === 'polyline').length, SEVERITIES.length);
  assert.match(textOf(all(trend, (element) => element.tag === 'desc')[0]!), /2 runs from 2026-11-01T00:00:00.000Z to 2026-11-02T00:00:00.000Z: open findings went from 25 to 25/);
  assert.ok(!html.includes('id="chart-trend-none"'));
  assert.equal(toHtml(report), toHtml(report, {}), 'the same page with and without empty options');
});

test('HTML: a custom policy\'s rules get their own framework table and help, and a crafted entry is skipped', () => {
  const report = demo();
  report.scan.customRules = {
    'ACME-001': { title: 'Key lacks a cost centre', severity: 'low', description: 'Every key names its cost centre.', help: '## Why\n\nFinance asks.', controls: [{ framework: 'acme-policy', id: 'KM-7', title: 'Keys are attributed' }] },
    'ACME-002': { title: 'Broken', severity: 'low', description: 'x', controls: 'not a list' } as never,
  };
  const template = report.findings.find((finding) => finding.resource.provider === 'aws-kms')!;
  report.findings.push({ ...template, fingerprint: 'a'.repeat(32), ruleId: 'ACME-001', severity: 'low', title: 'Key lacks a cost centre' });
  const root = parse(toHtml(report));
  const table = all(root, (element) => element.attrs.get('data-framework') === 'acme-policy')[0]!;
  assert.ok(textOf(table.children[0]!).startsWith('acme-policy'), 'a framework without a display name is shown by its id');
  assert.equal(all(table, (element) => element.attrs.get('data-control') === 'KM-7')[0]!.attrs.get('data-status'), 'fail');
  assert.ok(textOf(byId(root, 'rule-ACME-001')).includes('Finance asks.'));
  assert.equal(all(root, (element) => element.attrs.get('data-rule') === 'ACME-002' && element.tag === 'article').length, 0);
});

const HOSTILE = `</script><script>alert(1)</script><!--<script>"><img src=x onerror=alert(2)>\u2028\u2029'</style><svg onload=alert(3)>&amp;`;

test('HTML: hostile strings from the report (</script>, "><img onerror>, U+2028) are inert text and data', () => {
  const report = demo();
  report.scan.configName = `cfg${HOSTILE}`;
  report.scan.policy.profile = `profile${HOSTILE}` as never;
  report.sources[0]!.id = `src${HOSTILE}`;
  report.sources[0]!.status = 'partial';
  report.sources[0]!.errors = [{ code: `code${HOSTILE}`, message: `msg${HOSTILE}`, resource: `res${HOSTILE}` }];
  for (const finding of report.findings) {
    Object.assign(finding.resource, { name: `name${HOSTILE}`, provider: `provider${HOSTILE}`, location: `loc${HOSTILE}` });
    finding.message = `message${HOSTILE}`;
    finding.evidence = { ...finding.evidence, [`key${HOSTILE}`]: `value${HOSTILE}`, nested: [HOSTILE] };
  }
  report.findings[0]!.fingerprint = `fp${HOSTILE}`;
  report.findings[1]!.fingerprint = `fp${HOSTILE}`;
  for (const item of report.inventory) Object.assign(item, { name: `item${HOSTILE}`, tier: `tier${HOSTILE}`, location: `loc${HOSTILE}` });
  report.inventory[0]!.uid = `uid${HOSTILE}`;
  const html = toHtml(report, { history: [{ at: `at${HOSTILE}`, bySeverity: { critical: 1, high: 0, medium: 0, low: 0, info: 0 }, items: 1, sourcesNotOk: [] }] });

  const root = parse(html);
  assert.equal((html.match(/<script/gi) ?? []).length, 2, 'no script element from data');
  assert.equal((html.match(/<img|<svg onload/gi) ?? []).length, 0, 'no element from data');
  for (const element of all(root, () => true)) {
    for (const name of element.attrs.keys()) assert.doesNotMatch(name, /^on/i, `<${element.tag} ${name}> from data`);
  }
  const markup = html.replace(/<script type="application\/json"[\s\S]*?<\/script>/, '');
  assert.doesNotMatch(markup.replace(/&lt;img src=x onerror=alert\(2\)&gt;/g, ''), /onerror=/, 'onerror= only as escaped text');
  assert.ok(!/[\u2028\u2029]/.test(html.slice(html.indexOf('id="keydrift-data"'), html.indexOf('</script>'))), 'no raw U+2028/2029 in the data block');
  const data = rawText(all(root, (element) => element.attrs.get('id') === 'keydrift-data')[0]!);
  assert.ok(!/<\/script|<!--/i.test(data), 'the data block cannot end early');
  assert.equal((JSON.parse(data) as { configName: string }).configName, `cfg${HOSTILE}`, 'the data is exact after JSON.parse');
  assert.ok(textOf(byId(root, 'coverage')).includes(`src${HOSTILE}`), 'the text is kept, escaped');
  // Ids made from hostile fingerprints and uids are plain tokens, the same on every render, and unique.
  const ids = all(root, (element) => element.attrs.has('id')).map((element) => element.attrs.get('id')!);
  for (const id of ids) assert.match(id, /^[A-Za-z0-9_-]+$/);
  assert.equal(new Set(ids).size, ids.length);
  assert.equal(toHtml(report), toHtml(report), 'deterministic');
  const rows = all(root, (element) => element.attrs.get('data-finding') === `fp${HOSTILE}`);
  assert.equal(rows.length, 2, 'the attribute holds the fingerprint exactly');
  assert.notEqual(rows[0]!.attrs.get('id'), rows[1]!.attrs.get('id'));
  assert.equal(all(root, (element) => element.attrs.get('data-uid') === `uid${HOSTILE}`).length, 1);
});

test('HTML: a report whose every string and number is an attack renders as well-formed, inert HTML', () => {
  for (const attack of ['<script>alert(1)</script>', `"'><img src=x onerror=alert(1)>`, '</script><!--\u2028']) {
    const craft = (value: unknown): unknown =>
      Array.isArray(value) ? value.map(craft)
        : value && typeof value === 'object' ? Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, craft(inner)]))
          : typeof value === 'string' || typeof value === 'number' ? `${String(value)}${attack}` : value;
    const report = craft(demo()) as Report;
    const html = toHtml(report);
    const root = parse(html);
    assert.equal(all(root, (element) => element.tag === 'script').length, 2);
    assert.equal(all(root, (element) => element.tag === 'img').length, 0);
    for (const element of all(root, () => true)) {
      for (const name of element.attrs.keys()) assert.doesNotMatch(name, /^on/i, `<${element.tag} ${name}> from data`);
    }
    assert.equal(all(root, (element) => element.attrs.has('data-finding')).length, report.findings.length);
    assert.equal(all(root, (element) => element.attrs.has('data-uid') && element.tag === 'tr' && element.parent?.parent?.attrs.get('id') === 'inventory-table').length, report.inventory.length);
  }
});

test('HTML: a crafted report with missing or mistyped fields renders without throwing or printing undefined', () => {
  const report = demo() as unknown as Record<string, unknown>;
  const scan = report['scan'] as Record<string, unknown>;
  delete scan['configDigest'];
  scan['policy'] = { profile: 'default' };
  scan['now'] = 'not a time';
  report['summary'] = { items: 'x', findings: {}, compliant: 'no' };
  (report['findings'] as Record<string, unknown>[])[0]!['severity'] = 'catastrophic';
  (report['findings'] as Record<string, unknown>[])[1]!['baselineState'] = 'sideways';
  const html = toHtml(report as unknown as Report);
  parse(html);
  const visible = html.replace(/<script>[\s\S]*?<\/script>/, '').replace(/<style>[\s\S]*?<\/style>/, '');
  assert.doesNotMatch(visible, /\bundefined\b|\bNaN\b|\[object Object\]/);
  assert.match(html, /data-severity="catastrophic"/);
  assert.match(html, /data-state="none"/);
});

/** The demo's items and findings repeated to `items` and `findings`. */
function scaled(items: number, findings: number): Report {
  const report = demo();
  const inventory = Array.from({ length: items }, (_, index) => {
    const item = report.inventory[index % report.inventory.length]!;
    return { ...item, uid: `${item.uid}/copy-${index}`, name: `${item.name}-${index}` };
  });
  const copies = Array.from({ length: findings }, (_, index) => {
    const finding = report.findings[index % report.findings.length]!;
    const item = inventory[(index * 2) % items]!;
    return { ...finding, fingerprint: index.toString(16).padStart(32, '0'), resource: { ...finding.resource, uid: item.uid, name: item.name } };
  });
  return { ...report, inventory, findings: copies, summary: { ...report.summary, items, findings: countBySeverity(copies) } };
}

test('HTML: 20,000 items and 10,000 findings render under 25 MB, in size and time linear in the estate', (t) => {
  toHtml(scaled(100, 50));
  const runs = [[5_000, 2_500], [10_000, 5_000], [20_000, 10_000]].map(([items, findings]) => {
    const report = scaled(items!, findings!);
    const started = performance.now();
    const html = toHtml(report);
    const ms = performance.now() - started;
    const bytes = Buffer.byteLength(html);
    t.diagnostic(`${items} items, ${findings} findings: ${bytes} bytes, ${ms.toFixed(0)} ms`);
    return { items: items!, findings: findings!, bytes, ms, html };
  });
  const largest = runs.at(-1)!;
  assert.ok(largest.bytes < 25 * 1024 * 1024, `${largest.bytes} bytes`);
  // Linear: each doubling of the estate roughly doubles the page (a per-finding copy of the rule help would not show here, a quadratic link list would).
  for (let index = 1; index < runs.length; index++) {
    const ratio = runs[index]!.bytes / runs[index - 1]!.bytes;
    assert.ok(ratio > 1.8 && ratio < 2.2, `size ratio ${ratio.toFixed(2)}`);
  }
  const root = parse(largest.html);
  assert.equal(all(byId(root, 'inventory-table'), (element) => element.attrs.has('data-uid')).length, 20_000);
  assert.equal(all(byId(root, 'findings-table'), (element) => element.attrs.has('data-finding')).length, 10_000);
  assert.ok(all(byId(root, 'compliance'), (element) => element.tag === 'a' && element.attrs.get('href')!.startsWith('#finding-')).length < 2_000, 'the compliance matrix links a few findings per rule, not all');
});
