import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { toOpenMetrics } from '../../src/report/openmetrics.ts';
import type { Report } from '../../src/report/types.ts';

// examples/metrics/: the Grafana dashboard is valid dashboard JSON whose every query (panels,
// variables) and the README's example queries use only the metric names and labels that
// toOpenMetrics writes, and the nightly script passes shellcheck.

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DIR = path.join(ROOT, 'examples', 'metrics');
const DEMO = JSON.parse(readFileSync(path.join(ROOT, 'reports', 'keydrift.json'), 'utf8')) as Report;

/** Every family toOpenMetrics writes for the demo report, with the label names its samples carry. */
function emitted(): Map<string, Set<string>> {
  const families = new Map<string, Set<string>>();
  for (const line of toOpenMetrics(DEMO).split('\n')) {
    const type = /^# TYPE (\S+) /.exec(line);
    if (type) families.set(type[1]!, new Set());
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)\{(.*)\} \S+$/.exec(line);
    if (sample) for (const [, label] of sample[2]!.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="/g)) families.get(sample[1]!)!.add(label!);
  }
  return families;
}

const METRICS = emitted();

const KEYWORDS = new Set([
  ...['sum', 'min', 'max', 'avg', 'count', 'group', 'stddev', 'stdvar', 'topk', 'bottomk', 'quantile', 'count_values'],
  ...['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or', 'unless', 'bool', 'offset'],
]);

/** The metric names and label names a PromQL expression uses; fails on one toOpenMetrics does not write. */
function checkPromQl(expr: string, where: string): string[] {
  // Label values and Grafana variables live in strings: they name no metric.
  const code = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  const used: string[] = [];
  const labelsOf = (names: string[]) => new Set(names.flatMap((name) => [...(METRICS.get(name) ?? [])]));
  // name{matchers}: each matcher's label is one the metric carries.
  for (const [, name, matchers] of code.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{([^}]*)\}/g)) {
    for (const [, label] of matchers!.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)/g)) {
      assert.ok(METRICS.get(name!)?.has(label!), `${where}: ${name} has no label ${label} (${expr})`);
    }
  }
  const withoutMatchers = code.replace(/\{[^}]*\}/g, '');
  const lists = [...withoutMatchers.matchAll(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g)].flatMap(([, list]) =>
    list!.split(',').map((label) => label.trim()).filter(Boolean),
  );
  const bare = withoutMatchers.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '$1');
  for (const [, identifier] of bare.matchAll(/(?<![\w:.])([a-zA-Z_:][a-zA-Z0-9_:]*)(?![\w:])(?!\s*\()/g)) {
    if (KEYWORDS.has(identifier!) || /^\d/.test(identifier!)) continue;
    assert.ok(METRICS.has(identifier!), `${where}: "${identifier}" is not a metric toOpenMetrics writes (${expr})`);
    used.push(identifier!);
  }
  const available = labelsOf(used);
  for (const label of lists) assert.ok(available.has(label), `${where}: no metric of "${expr}" has the label ${label}`);
  assert.ok(used.length > 0, `${where}: "${expr}" uses no keydrift metric`);
  return used;
}

interface Target {
  refId: string;
  expr: string;
  datasource: { type: string; uid: string };
}

interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { h: number; w: number; x: number; y: number };
  datasource: { type: string; uid: string };
  targets: Target[];
}

interface Dashboard {
  title: string;
  uid: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: { name: string; type: string; query: unknown; definition?: string }[] };
}

const dashboard = JSON.parse(readFileSync(path.join(DIR, 'grafana-dashboard.json'), 'utf8')) as Dashboard;

test('the Grafana dashboard is dashboard JSON: panels with unique ids on the 24-column grid, each on the chosen Prometheus data source', () => {
  assert.equal(typeof dashboard.title, 'string');
  assert.match(dashboard.uid, /^[a-zA-Z0-9_-]{1,40}$/);
  assert.ok(Number.isInteger(dashboard.schemaVersion) && dashboard.schemaVersion >= 36);
  assert.equal(new Set(dashboard.panels.map((panel) => panel.id)).size, dashboard.panels.length);
  const datasource = dashboard.templating.list.find((variable) => variable.type === 'datasource');
  assert.ok(datasource && datasource.query === 'prometheus', 'a Prometheus data source variable');
  for (const panel of dashboard.panels) {
    const { x, y, w, h } = panel.gridPos;
    assert.ok(x >= 0 && w > 0 && x + w <= 24 && y >= 0 && h > 0, `${panel.title}: gridPos ${JSON.stringify(panel.gridPos)}`);
    assert.ok(panel.targets.length > 0, `${panel.title} has queries`);
    for (const target of [panel, ...panel.targets]) assert.deepEqual(target.datasource, { type: 'prometheus', uid: `\${${datasource.name}}` }, panel.title);
    assert.equal(new Set(panel.targets.map((target) => target.refId)).size, panel.targets.length, `${panel.title}: unique refIds`);
  }
});

test('the dashboard has the panels the issue asks for', () => {
  const byTitle = new Map(dashboard.panels.map((panel) => [panel.title, panel]));
  const expiry = byTitle.get('Days to expiry');
  assert.equal(expiry?.type, 'table');
  assert.match(expiry.targets[0]!.expr, /^sort\(keydrift_item_days_to_expiry\b/);
  assert.equal(byTitle.get('Findings by severity')?.type, 'timeseries');
  assert.match(byTitle.get('Sources not ok')!.targets[0]!.expr, /keydrift_source_status\{.*status!="ok"/);
  const material = byTitle.get('Key material age vs rotation period')!;
  assert.deepEqual(new Set(material.targets.flatMap((target) => checkPromQl(target.expr, material.title))), new Set(['keydrift_key_material_age_days', 'keydrift_key_rotation_period_days']));
});

test('every dashboard query uses only metrics and labels toOpenMetrics writes', () => {
  const used = new Set<string>();
  for (const panel of dashboard.panels) for (const target of panel.targets) for (const name of checkPromQl(target.expr, `panel "${panel.title}" ${target.refId}`)) used.add(name);
  for (const variable of dashboard.templating.list.filter((entry) => entry.type === 'query')) {
    const query = typeof variable.query === 'string' ? variable.query : (variable.query as { query: string }).query;
    const labelValues = /^label_values\(([a-zA-Z_:][a-zA-Z0-9_:]*)\s*,\s*([a-zA-Z_][a-zA-Z0-9_]*)\)$/.exec(query);
    assert.ok(labelValues, `variable ${variable.name}: ${query}`);
    assert.ok(METRICS.get(labelValues[1]!)?.has(labelValues[2]!), `variable ${variable.name}: ${labelValues[1]} has no label ${labelValues[2]}`);
    assert.equal(variable.definition, query);
  }
  // The checker is not vacuous: it rejects a metric keydrift does not write and a label a metric lacks.
  assert.throws(() => checkPromQl('sum(node_textfile_mtime_seconds)', 'probe'), /node_textfile_mtime_seconds/);
  assert.throws(() => checkPromQl('keydrift_findings{status="ok"}', 'probe'), /has no label status/);
  assert.throws(() => checkPromQl('sum by (uid) (keydrift_findings)', 'probe'), /the label uid/);
  assert.ok(used.has('keydrift_item_days_to_expiry') && used.has('keydrift_findings_by_severity') && used.has('keydrift_source_status'));
});

test("the README's example queries use only metrics and labels toOpenMetrics writes", () => {
  const readme = readFileSync(path.join(DIR, 'README.md'), 'utf8');
  const blocks = [...readme.matchAll(/```promql\n([\s\S]*?)```/g)].map(([, body]) => body!);
  assert.ok(blocks.length > 0);
  const queries = blocks.flatMap((body) => body.split('\n').filter((line) => line.trim() && !line.startsWith('#')));
  assert.ok(queries.length >= 3);
  for (const query of queries) checkPromQl(query, 'README');
  // The metric table documents every family, and nothing else.
  const documented = new Set([...readme.matchAll(/^\| `(keydrift_[a-z_]+)` \|/gm)].map(([, name]) => name!));
  assert.deepEqual([...documented].sort(), [...METRICS.keys()].sort());
});

test('the nightly textfile script passes shellcheck', () => {
  const result = spawnSync('shellcheck', [path.join(DIR, 'keydrift-textfile.sh')], { encoding: 'utf8' });
  assert.ok(!result.error, `shellcheck is not installed: run "bash scripts/provision.sh" (Debian package shellcheck): ${result.error?.message}`);
  assert.equal(result.status, 0, result.stdout + result.stderr);
});
