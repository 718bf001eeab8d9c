import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import type { Finding } from '../../src/findings/types.ts';
import { toCsv } from '../../src/report/csv.ts';
import { toHtml } from '../../src/report/html.ts';
import { toMarkdown } from '../../src/report/markdown.ts';
import type { Report } from '../../src/report/types.ts';
import { markdownCode, markdownText } from '../../src/util/escape-markdown.ts';

// Reports show names, paths and messages from data, and `keydrift report --from` or `evaluate
// --inventory` render whatever a crafted JSON file holds. Data must render as text in every
// format: no Markdown structure, links or mentions; no HTML; no spreadsheet formulas.

const MARKDOWN_ATTACK =
  'a\r# Injected heading\n| forged | row |\r\n[x](http://evil) ![img](http://evil/x.png) <script>alert(1)</script> ' +
  '<https://evil> @org/team #123 `tick` ``two`` *em* _em_ ~~s~~ $x$ &amp; www.evil.com https://evil.com/p \\| end';

function finding(text: (field: string) => string, overrides: Partial<Finding> = {}): Finding {
  return {
    fingerprint: 'f'.repeat(32),
    ruleId: text('ruleId'),
    severity: text('severity') as Finding['severity'],
    title: text('title'),
    message: text('message'),
    resource: { uid: text('uid'), kind: 'key', provider: text('provider'), name: text('name'), location: text('location'), sourceId: text('sourceId') },
    evidence: {},
    remediation: { text: text('remediation'), automatic: false },
    declaredAt: { file: 'keydrift.yaml', region: { startLine: 1, startColumn: 1, endLine: 1, endColumn: 2 } },
    ...overrides,
  };
}

/** A report whose every string (and, where noted, every number) comes from `text`. */
function craftedReport(text: (field: string) => string, options: { numbersAsText?: boolean } = {}): Report {
  const number = (field: string, value: number) => (options.numbersAsText ? text(field) : value) as number;
  return {
    schemaVersion: '1',
    tool: { name: 'keydrift', version: '0.0.0' },
    scan: {
      startedAt: text('startedAt'),
      finishedAt: text('finishedAt'),
      now: text('now'),
      configDigest: text('configDigest'),
      policyDigest: text('policyDigest'),
      inventoryDigest: text('inventoryDigest'),
      configName: text('configName'),
      failOn: text('failOn'),
      policy: { profile: text('profile') },
      customRules: {},
    },
    sources: [
      { id: text('source.id'), type: text('source.type'), status: text('source.status'), items: number('source.items', 3), errors: [{ code: 'x', message: text('error') }] },
    ],
    summary: {
      items: number('items', 3),
      findings: { critical: number('critical', 1), high: number('high', 1), medium: 0, low: 0, info: 0 },
      waived: number('waived', 1),
      new: number('new', 1),
      fixed: number('fixed', 1),
      compliant: false,
      exitCode: number('exitCode', 1),
    },
    findings: [
      finding(text, { baselineState: 'new' }),
      finding((field) => (field === 'name' || field === 'message' ? `${text(field)} second` : text(field)), { baselineState: 'new' }),
      finding(text, { baselineState: 'absent' }),
      finding(text, { waiver: { rule: 'r', resource: 'x', reason: text('reason'), owner: text('owner'), expires: '2027-01-01' } }),
    ],
    inventory: [],
    drift: {
      baselineNow: text('baselineNow'),
      added: [{ uid: text('added.uid'), name: text('added.name') }],
      removed: [{ uid: text('removed.uid'), name: text('removed.name') }],
      changed: [{ uid: text('changed.uid'), name: text('changed.name'), changes: { [text('field')]: { before: text('before'), after: 1 } } }],
    },
  } as unknown as Report;
}

/** Replaces each code span (CommonMark: a backtick run closed by a run of the same length) with `CODE`. */
function withoutCodeSpans(line: string): string {
  let out = '';
  let index = 0;
  while (index < line.length) {
    const open = /(?<!\\)`+/g;
    open.lastIndex = index;
    const start = open.exec(line);
    if (!start) break;
    const fence = start[0];
    const close = new RegExp(`(?<!\`)${fence}(?!\`)`, 'g');
    close.lastIndex = start.index + fence.length;
    const end = close.exec(line);
    if (!end) break;
    out += line.slice(index, start.index) + 'CODE';
    index = end.index + fence.length;
  }
  return out + line.slice(index);
}

/** Unescaped pipes: the cell separators GitHub sees. */
const cellSeparators = (line: string) => (line.match(/(?<!\\)\|/g) ?? []).length;

const OWN_HEADINGS = /^(# keydrift report: |## Coverage gaps: \d+ of \d+ sources not fully read, so findings may be missing$|## New since the baseline: \d+$|## Findings by severity$|## Findings by rule$|## Top findings|## Sources$|## Since the baseline|### Fixed findings$|### Inventory drift$)/;
/** The summary's own links to a built-in rule's catalogue entry (only ids of the KD-XXX-NNN shape get one). */
const OWN_RULE_LINK = /\[KD-[A-Z]{3}-\d{3}\]\(https:\/\/github\.com\/keydrift\/keydrift\/blob\/main\/rules\/KD-[A-Z]{3}-\d{3}\.yaml\)/g;

test('Markdown: crafted names, messages and report fields add no line, heading, row, link, image, HTML or mention', () => {
  const md = toMarkdown(craftedReport((field) => `${field}:${MARKDOWN_ATTACK}`));
  const lines = md.split('\n');
  assert.ok(!md.includes('\r'), 'a CR is a line break on GitHub');
  for (const line of lines.filter((line) => line.startsWith('#'))) assert.match(line, OWN_HEADINGS, line);
  assert.equal(lines.filter((line) => line.startsWith('#')).length, 10);
  assert.ok(lines.some((line) => line.startsWith('# keydrift report: configName:a \\# Injected heading')), 'the config name is in the title, on one line');

  for (const line of lines) {
    // The verdict's bold is the report's own.
    const text = withoutCodeSpans(line).replace(/^\*\*[^*]*\*\*/, '').replace(OWN_RULE_LINK, 'rule');
    assert.doesNotMatch(text, /(?<!\\)[[\]]/, `unescaped bracket (link or image): ${line}`);
    assert.doesNotMatch(text, /(?<!\\)<(?!br>)|(?<!\\|<br)>/, `raw HTML or autolink: ${line}`);
    assert.doesNotMatch(text, /(?<!\\)[*_~$]|(?<!\\)`/, `unescaped emphasis, strikethrough, math or code: ${line}`);
    assert.doesNotMatch(text, /@(?!&#8203;)/, `a mention: ${line}`);
    assert.doesNotMatch(text, /(?<!&)#\d/, `an issue reference: ${line}`);
    assert.doesNotMatch(text, /https?:\/\/|www\./i, `an extended autolink: ${line}`);
    assert.doesNotMatch(text, /(?<!\\)&(?!#8203;)/, `an entity from data: ${line}`);
  }

  // One row per finding, every row with exactly its columns.
  const section = (title: string) => {
    const start = lines.findIndex((line) => line.startsWith(title));
    const end = lines.indexOf('', start + 2);
    const table = lines.slice(start + 2, end);
    for (const line of table) assert.match(line, /^\|.*\|$/, `a stray line in ${title}: ${line}`);
    return table.slice(2);
  };
  assert.equal(section('## Top findings').length, 2, 'the two standing findings; waived and fixed ones are left out');
  for (const row of section('## Top findings')) assert.equal(cellSeparators(row), 6, row);
  assert.equal(section('## New since the baseline').length, 2);
  for (const row of section('## New since the baseline')) assert.equal(cellSeparators(row), 5, row);
  assert.equal(section('## Coverage gaps').length, 1);
  for (const row of section('## Coverage gaps')) assert.equal(cellSeparators(row), 4, row);
  assert.equal(section('### Fixed findings').length, 1);
  for (const row of section('### Fixed findings')) assert.equal(cellSeparators(row), 4, row);
  assert.equal(section('## Sources').length, 1);
  for (const row of section('## Sources')) assert.equal(cellSeparators(row), 6, row);
  assert.equal(section('## Findings by rule').length, 1);
  const drift = lines.slice(lines.indexOf('### Inventory drift') + 2, lines.indexOf('', lines.indexOf('### Inventory drift') + 2));
  assert.deepEqual(drift.map((line) => line.slice(0, line.indexOf(':'))), ['- added', '- removed', '- changed']);
});

test('Markdown: identifiers are code spans that show the name exactly, on one line', () => {
  const name = 'alias/x`y``z\nnext | [x](http://evil) @org #1';
  const md = toMarkdown(craftedReport((field) => (field === 'name' ? name : field === 'ruleId' ? 'KD-ROT-001' : field === 'severity' ? 'high' : 'plain')));
  const row = md.split('\n').find((line) => line.startsWith('| high | [KD-ROT-001](') && line.endsWith('| plain | plain |'))!;
  assert.equal(row, '| high | [KD-ROT-001](https://github.com/keydrift/keydrift/blob/main/rules/KD-ROT-001.yaml) | ```alias/x`y``z\\nnext \\| [x](http://evil) @org #1``` | plain | plain |');
  assert.equal(markdownCode('`edge`', 'text'), '`` `edge` ``');
  assert.equal(markdownCode(' padded', 'text'), '`  padded `');
  assert.equal(markdownCode('a|b', 'text'), '`a|b`');
  assert.equal(markdownCode(''), '');
});

test('Markdown: ordinary report text reads as before, its punctuation escaped only where Markdown would act on it', () => {
  assert.equal(markdownText('Certificate api.example.com expired on 2026-10-15T00:00:00Z, 17 days ago.'), 'Certificate api.example.com expired on 2026-10-15T00:00:00Z, 17 days ago.');
  assert.equal(markdownText('Key a (eu-west-1) uses 3DES.'), 'Key a \\(eu-west-1\\) uses 3DES.');
  assert.equal(markdownText('owner ops@example.com, see #12'), 'owner ops\\@&#8203;example.com, see \\#&#8203;12');
  assert.equal(markdownText('line one\r\nline two\u0000'), 'line one  line two ');
});

test('Markdown: the demo-shaped report keeps its tables and plain severity, rule and status words', () => {
  const md = toMarkdown(craftedReport((field) => ({ ruleId: 'KD-CRT-002', severity: 'medium', 'source.status': 'ok', failOn: 'high', configName: 'demo' })[field] ?? 'text'));
  assert.match(md, /^# keydrift report: demo$/m);
  assert.match(md, /^\| KD-CRT-002 \| text \| 2 \|$/m);
  assert.match(md, /^\| `text` \| `text` \| ok \| 3 \| text \|$/m);
  assert.match(md, /\*\*Not compliant \(fail-on: high\)\.\*\*/);
});

const HTML_ATTACKS = ['<script>alert(1)</script>', `"'><img src=x onerror=alert(1)>`];

test('HTML: every field of a crafted report is escaped, numbers and source status included', () => {
  for (const attack of HTML_ATTACKS) {
    const html = toHtml(craftedReport(() => attack, { numbersAsText: true }));
    // The page's own two scripts only: the data block (JSON, read with JSON.parse) and the one inline script the CSP hashes.
    assert.equal((html.match(/<script/gi) ?? []).length, 2, 'a script element from data');
    const data = /<script type="application\/json" id="keydrift-data">([\s\S]*?)<\/script>/.exec(html);
    assert.ok(data, 'the data block');
    assert.ok(!/[<>]/.test(data[1]!), 'the data block holds no raw < or > that could close it');
    const outsideData = html.replace(data[0], '');
    assert.ok(!/<img/i.test(outsideData), 'an image element');
    assert.ok(!/onerror=/i.test(outsideData.replace(/&lt;img src=x onerror=alert\(1\)&gt;/g, '')), 'onerror= only as escaped text');
    assert.ok(outsideData.includes('&lt;'), 'the text is kept, escaped');
    if (attack.startsWith('"')) assert.ok(outsideData.includes('&quot;&#39;&gt;&lt;img src=x onerror=alert(1)&gt;'));
  }
});

test('HTML: the page allows only its own hashed script and no remote content, by a Content-Security-Policy', () => {
  const html = toHtml(craftedReport(() => 'x'));
  const meta = /<meta http-equiv="Content-Security-Policy" content="([^"]*)">/.exec(html);
  assert.ok(meta, 'a CSP meta element');
  const hash = /^default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'sha256-([A-Za-z0-9+/=]+)'$/.exec(meta[1]!)?.[1];
  assert.ok(hash, meta[1]);
  const script = /<script>([\s\S]*?)<\/script>/.exec(html)?.[1] ?? '';
  assert.equal(createHash('sha256').update(script).digest('base64'), hash, 'the hash is the inline script\'s');
  assert.ok(html.indexOf('Content-Security-Policy') < html.indexOf('<title>'), 'the policy comes before any content');
});

/** Splits RFC 4180 CSV (quoted fields may hold commas, quotes and line breaks). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let index = 0; index < text.length; index++) {
    const character = text[index]!;
    if (quoted) {
      if (character === '"' && text[index + 1] === '"') {
        cell += '"';
        index++;
      } else if (character === '"') quoted = false;
      else cell += character;
    } else if (character === '"') quoted = true;
    else if (character === ',') {
      row.push(cell);
      cell = '';
    } else if (character === '\r' && text[index + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      index++;
    } else cell += character;
  }
  return rows;
}

function csvMessage(message: string): string {
  const report = craftedReport((field) => (field === 'message' ? message : 'x'));
  const rows = parseCsv(toCsv({ ...report, findings: [report.findings[0]!] }));
  assert.equal(rows.length, 2);
  return rows[1]![9]!;
}

test('CSV: a formula after leading whitespace, in fullwidth, or in any ;- or ,-separated segment is made inert', () => {
  const dangerous = [
    '=1+1', '+1', '-1+2', '@SUM(A1)',
    ' =HYPERLINK("http://evil","x")', '   +1', '\t=1', '\r=1', '\n=1', '\u00a0=1', '\u3000=1',
    '＝1+1', '＋1', '－1', '＠SUM(A1)', ' ＝1',
    'a;=1+1', 'a; =1+1', 'a;+cmd', 'a,=1+1', 'a, -1', 'a,@x', 'a;＝1', 'ok\t=1', 'ok\n=1',
    '\tplain', '\rplain',
  ];
  for (const value of dangerous) {
    const cell = csvMessage(value);
    assert.equal(cell, `'${value}`, JSON.stringify(value));
  }
});

test('CSV: ordinary values stay as they are; a ; is quoted so no locale splits the cell', () => {
  for (const value of ['alias/orders-data', 'a = b', '1-2', 'x;y', 'Key a (eu-west-1), in 4 days (warn at 30, fail at 7).', 'arn:aws:kms:us-east-1:1:key/1234-ab']) {
    assert.equal(csvMessage(value), value, value);
  }
  const report = craftedReport((field) => (field === 'message' ? 'x;y' : 'x'));
  assert.match(toCsv({ ...report, findings: [report.findings[0]!] }), /,"x;y",/);
});
