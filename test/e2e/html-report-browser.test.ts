import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { Finding } from '../../src/findings/types.ts';
import type { InventoryItem } from '../../src/inventory/types.ts';
import { SEVERITIES } from '../../src/model/severity.ts';
import { toHtml } from '../../src/report/html.ts';
import type { Report } from '../../src/report/types.ts';
import { catalogue } from '../../src/rules/catalogue.ts';
import { withPage, type BrowserPage } from '../support/browser.ts';
import { removeDir, tempDir } from '../support/certs.ts';
import { readValidReport } from '../support/reports.ts';

// The HTML report (src/report/html.ts) in headless Chromium, through its contract: the element ids, data
// attributes and "N of M findings" counter below are what the page promises, not how it is built. Each test
// opens the page in a fresh browser and ends by checking the page stayed self-contained: no request but
// its own file, no console error, no CSP violation. Screenshots go to test-artifacts/browser/.

// What the functions run in the page use of its globals (the project's TypeScript has no DOM library).
declare const document: { querySelector(selector: string): { textContent: string | null } | null };
declare const window: { scrollY: number };

const DEMO_REPORT = path.resolve(import.meta.dirname, '../../reports/keydrift.json');
const CONTROL_STATUSES = new Set(['pass', 'fail', 'not-assessed']);
const PCI = 'pci-dss-4.0';
/** The demo page is small: anything it shows, it shows well within this. */
const DEMO_PAGE = { timeoutMs: 15_000 };

async function assertSelfContained(session: BrowserPage): Promise<void> {
  await session.settle();
  assert.deepEqual(session.requests, [session.url], 'the report requested nothing but its own file');
  assert.deepEqual(session.consoleErrors, [], 'console errors');
  assert.deepEqual(session.cspViolations, [], 'CSP violations');
}

interface FindingsCount {
  shown: number;
  total: number;
}

// Digit groups may be separated ("10,000", "10 000"): only the digits count.
const COUNT_PATTERN = /^\s*([\d.,\s\u00a0\u202f]+?)\s+of\s+([\d.,\s\u00a0\u202f]+?)\s+findings?\s*$/;

function parseFindingsCount(text: string | null): FindingsCount | null {
  const match = COUNT_PATTERN.exec(text ?? '');
  if (!match) return null;
  return { shown: Number(match[1]!.replace(/\D/g, '')), total: Number(match[2]!.replace(/\D/g, '')) };
}

async function findingsCount(page: Page): Promise<FindingsCount> {
  const text = await page.locator('output#findings-count').textContent();
  const count = parseFindingsCount(text);
  assert.ok(count, `#findings-count says "N of M findings", not ${JSON.stringify(text)}`);
  return count;
}

/** Waits until #findings-count shows `shown` (a filter may be applied after a debounce or a frame). */
async function waitForShown(page: Page, shown: number): Promise<void> {
  await page.waitForFunction(
    ([pattern, expected]) => {
      const match = new RegExp(pattern).exec(document.querySelector('#findings-count')?.textContent ?? '');
      return match !== null && Number(match[1]!.replace(/\D/g, '')) === expected;
    },
    [COUNT_PATTERN.source, shown] as const,
    { polling: 'raf' },
  );
}

interface FindingRow {
  id: string;
  rule: string | null;
  hidden: boolean;
}

async function findingRows(page: Page): Promise<FindingRow[]> {
  return page.$$eval('tr[data-finding]', (rows) => rows.map((row) => ({ id: row.id, rule: row.getAttribute('data-rule'), hidden: row.hidden })));
}

/** Age in days from what the age column shows ("412 d", "1y 2mo", "3 days"); null when it shows none (unknown). */
function parseAgeDays(text: string): number | null {
  const unitDays: Record<string, number> = { '': 1, d: 1, day: 1, days: 1, h: 1 / 24, hr: 1 / 24, hour: 1 / 24, hours: 1 / 24, w: 7, wk: 7, week: 7, weeks: 7, mo: 30.44, month: 30.44, months: 30.44, y: 365.25, yr: 365.25, year: 365.25, years: 365.25 };
  let days: number | null = null;
  for (const [, value, unit] of text.replaceAll(',', '').matchAll(/(-?\d+(?:\.\d+)?)\s*([a-z]*)/gi)) {
    days = (days ?? 0) + Number(value) * (unitDays[unit!.toLowerCase()] ?? 1);
  }
  return days;
}

interface InventoryRow {
  uid: string;
  age: number | null;
}

/** The inventory's rows in page order with their age: the row's data-age if present, else the "age" column. */
async function inventoryRows(page: Page): Promise<InventoryRow[]> {
  const rows = await page.$eval('#inventory-table', (element) => {
    const table = element;
    const headerRow = table.tHead?.rows[0] ?? [...table.rows].find((row) => !row.hasAttribute('data-uid') && row.querySelector('th'));
    const headers = headerRow ? [...headerRow.cells] : [];
    let column = headers.findIndex((cell) => /\bage\b/i.test(cell.textContent ?? ''));
    if (column < 0) column = headers.findIndex((cell) => cell.querySelector('button[data-sort="age"]'));
    return [...table.querySelectorAll('tr[data-uid]')].map((row) => ({
      uid: row.getAttribute('data-uid') ?? '',
      dataAge: row.getAttribute('data-age'),
      ageText: column >= 0 ? (row.cells[column]?.textContent ?? null) : null,
    }));
  });
  const useDataAge = rows.some((row) => row.dataAge !== null);
  return rows.map((row) => {
    if (useDataAge) {
      const value = row.dataAge === null || row.dataAge.trim() === '' ? Number.NaN : Number(row.dataAge);
      return { uid: row.uid, age: Number.isFinite(value) ? value : null };
    }
    assert.notEqual(row.ageText, null, 'no row has data-age and no inventory column header contains "age"');
    return { uid: row.uid, age: parseAgeDays(row.ageText!) };
  });
}

/** Known ages in one direction (either), unknown ones together at one end. */
function sortedByAge(rows: InventoryRow[]): boolean {
  const known = rows.map((row) => row.age);
  const firstKnown = known.findIndex((age) => age !== null);
  const lastKnown = known.findLastIndex((age) => age !== null);
  if (firstKnown < 0) return false;
  if (known.slice(firstKnown, lastKnown + 1).some((age) => age === null)) return false;
  const ages = known.slice(firstKnown, lastKnown + 1) as number[];
  const ascending = ages.every((age, index) => index === 0 || ages[index - 1]! <= age);
  const descending = ages.every((age, index) => index === 0 || ages[index - 1]! >= age);
  return ascending || descending;
}

function stringLeaves(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(stringLeaves);
  if (value !== null && typeof value === 'object') return Object.values(value).flatMap(stringLeaves);
  return [];
}

/** A finding with an evidence string shown nowhere else in its row (title, message, resource, remediation). */
function findingWithDistinctEvidence(findings: Finding[]): { finding: Finding; evidence: string } {
  for (const finding of findings) {
    const elsewhere = [finding.title, finding.message, finding.resource.name, finding.resource.uid, finding.resource.location, finding.remediation.text].join('\n');
    const evidence = stringLeaves(finding.evidence).find((leaf) => leaf.length >= 4 && leaf.length <= 120 && !/["\\<>&]/.test(leaf) && !elsewhere.includes(leaf));
    if (evidence && finding.remediation.text) return { finding, evidence };
  }
  throw new Error('the demo report has no finding with an evidence string of its own');
}

const normalizeSpace = (text: string): string => text.replace(/\s+/g, ' ').trim();

function mostFrequentRule(findings: Finding[]): string {
  const counts = new Map<string, number>();
  for (const finding of findings) counts.set(finding.ruleId, (counts.get(finding.ruleId) ?? 0) + 1);
  return [...counts].sort(([a, countA], [b, countB]) => countB - countA || a.localeCompare(b))[0]![0];
}

describe('HTML report of the demo scan in a headless browser', () => {
  let dir = '';
  let file = '';
  let html = '';
  let report: Report;

  before(() => {
    report = readValidReport(DEMO_REPORT);
    html = toHtml(report);
    dir = tempDir('keydrift-html-browser-');
    file = path.join(dir, 'keydrift.html');
    writeFileSync(file, html);
  });
  after(() => removeDir(dir));

  test('the demo report is one file under 1 MB', () => {
    const bytes = Buffer.byteLength(html);
    assert.ok(bytes < 1_000_000, `${bytes} bytes`);
  });

  test('one self-contained file: the CSP allows only its hashed scripts, and the data is a JSON script', async () => {
    await withPage(file, DEMO_PAGE, async (session) => {
      const { page } = session;
      const policy: string = await page.$eval('meta[http-equiv="Content-Security-Policy" i]', (meta) => meta.getAttribute('content') ?? '');
      const directives = new Map(policy.split(';').map((part) => part.trim().split(/\s+/)).filter((tokens) => tokens[0]).map((tokens) => [tokens[0]!.toLowerCase(), tokens.slice(1)]));
      assert.deepEqual(directives.get('default-src'), ["'none'"], policy);
      assert.deepEqual(directives.get('img-src'), ['data:'], policy);
      assert.deepEqual(directives.get('style-src'), ["'unsafe-inline'"], policy);
      const scriptSources = directives.get('script-src') ?? [];
      assert.ok(scriptSources.length > 0 && scriptSources.every((source) => /^'sha256-[A-Za-z0-9+/]+={0,2}'$/.test(source)), policy);
      const data = await page.$eval('script#keydrift-data', (script) => ({ type: script.getAttribute('type'), text: script.textContent ?? '' }));
      assert.equal(data.type, 'application/json');
      assert.doesNotThrow(() => JSON.parse(data.text) as unknown, 'keydrift-data holds JSON');
      await assertSelfContained(session);
    });
  });

  test('the overview and the coverage are visible at the top of the page', async () => {
    await withPage(file, DEMO_PAGE, async (session) => {
      const { page } = session;
      const viewport = page.viewportSize()!;
      assert.equal(await page.evaluate(() => window.scrollY), 0);
      for (const selector of ['#overview', '#coverage']) {
        const section = page.locator(selector);
        assert.ok(await section.isVisible(), `${selector} is visible`);
        const box = await section.boundingBox();
        assert.ok(box && box.y < viewport.height && box.y + box.height > 0, `${selector} starts in the first screen (${JSON.stringify(box)})`);
        assert.notEqual(normalizeSpace(await section.innerText()), '', `${selector} shows something`);
      }
      await session.screenshot('overview.png');
      await assertSelfContained(session);
    });
  });

  test('filtering by a rule leaves only that rule\'s findings visible, and the counter says how many', async () => {
    await withPage(file, DEMO_PAGE, async (session) => {
      const { page } = session;
      const rule = mostFrequentRule(report.findings);
      const rows = await findingRows(page);
      assert.equal(rows.length, report.findings.length, 'one row per finding');
      assert.deepEqual(rows.map((row) => row.id).sort(), report.findings.map((finding) => `finding-${finding.fingerprint}`).sort());
      const initial = await findingsCount(page);
      assert.equal(initial.total, report.findings.length);
      assert.equal(initial.shown, rows.filter((row) => !row.hidden).length);
      assert.equal(rows.filter((row) => row.rule === rule).length, report.findings.filter((finding) => finding.ruleId === rule).length);
      // Whatever the other filters show by default, the rule filter narrows it to this rule.
      const expected = rows.filter((row) => !row.hidden && row.rule === rule).length;
      assert.ok(expected > 0 && expected < initial.shown, `${rule}: ${expected} of ${initial.shown} shown findings`);

      await page.selectOption('select#filter-rule', rule);
      await waitForShown(page, expected);
      const filtered = await findingRows(page);
      const visible = filtered.filter((row) => !row.hidden);
      assert.equal(visible.length, expected);
      assert.ok(visible.every((row) => row.rule === rule), JSON.stringify(visible));
      assert.match((await page.locator('output#findings-count').textContent()) ?? '', new RegExp(`^\\s*${expected} of ${report.findings.length} findings?\\s*$`));
      await assertSelfContained(session);
    });
  });

  test('sorting the inventory by age orders its rows by the age they show', async () => {
    await withPage(file, DEMO_PAGE, async (session) => {
      const { page } = session;
      const initial = await inventoryRows(page);
      assert.equal(initial.length, report.inventory.length, 'one row per inventory item');
      assert.ok(new Set(initial.map((row) => row.age).filter((age) => age !== null)).size >= 2, `ages shown: ${JSON.stringify(initial.map((row) => row.age))}`);

      await page.locator('#inventory button[data-sort="age"]').click();
      let sorted = await inventoryRows(page);
      // A sort may be applied a frame later.
      for (const deadline = Date.now() + 5_000; !sortedByAge(sorted) && Date.now() < deadline;) {
        await session.settle();
        sorted = await inventoryRows(page);
      }
      assert.ok(sortedByAge(sorted), `rows by age after the sort: ${JSON.stringify(sorted.map((row) => row.age))}`);
      assert.deepEqual(sorted.map((row) => row.uid).sort(), initial.map((row) => row.uid).sort(), 'the same rows, reordered');
      await assertSelfContained(session);
    });
  });

  test('expanding a finding shows its evidence and remediation', async () => {
    await withPage(file, DEMO_PAGE, async (session) => {
      const { page } = session;
      const { finding, evidence } = findingWithDistinctEvidence(report.findings);
      const selector = `details[data-finding-details="${finding.fingerprint}"]`;
      const details = page.locator(selector);
      assert.ok(await page.locator(`tr[id="finding-${finding.fingerprint}"][data-finding]`).isVisible(), `the row of ${finding.ruleId} is shown`);
      assert.equal(await details.evaluate((element) => element.open), false, 'details start collapsed');

      await details.locator(':scope > summary').click();
      assert.equal(await details.evaluate((element) => element.open), true, 'a click on the summary expands it');
      const shown = normalizeSpace(await details.innerText());
      assert.ok(shown.includes(normalizeSpace(finding.remediation.text)), `remediation of ${finding.ruleId} shown: ${shown}`);
      assert.ok(shown.includes(evidence), `evidence ${JSON.stringify(evidence)} of ${finding.ruleId} shown: ${shown}`);
      await details.scrollIntoViewIfNeeded();
      await session.screenshot('finding-expanded.png', { selector });
      await assertSelfContained(session);
    });
  });

  test('the compliance matrix has a PCI DSS 4.0 table whose controls are pass, fail or not-assessed', async () => {
    await withPage(file, DEMO_PAGE, async (session) => {
      const { page } = session;
      const compliance = page.locator('#compliance');
      await compliance.scrollIntoViewIfNeeded();
      const viewport = page.viewportSize()!;
      const box = await compliance.boundingBox();
      assert.ok(box && box.y < viewport.height && box.y + box.height > 0, `#compliance is on screen after scrolling (${JSON.stringify(box)})`);

      const table = page.locator(`#compliance table[data-framework="${PCI}"]`);
      assert.ok(await table.isVisible(), `table[data-framework="${PCI}"] is visible`);
      const controls = await table.locator('tr[data-control]').evaluateAll((rows) => rows.map((row) => ({ control: row.getAttribute('data-control') ?? '', status: row.getAttribute('data-status') })));
      assert.ok(controls.length > 0, 'the table has control rows');
      for (const { control, status } of controls) {
        assert.notEqual(control, '', 'data-control names the control');
        assert.ok(status !== null && CONTROL_STATUSES.has(status), `control ${control}: data-status ${JSON.stringify(status)}`);
      }
      // A control that a rule with an open (unwaived) finding maps to cannot pass.
      const rules = catalogue();
      const failing = new Set(report.findings.filter((finding) => !finding.waiver).flatMap((finding) => (rules.get(finding.ruleId)?.controls ?? []).filter((mapping) => mapping.framework === PCI).map((mapping) => mapping.id)));
      assert.ok(failing.size > 0, 'the demo has open findings of rules mapped to PCI DSS');
      const statusOf = new Map(controls.map(({ control, status }) => [control, status]));
      for (const control of failing) assert.equal(statusOf.get(control), 'fail', `PCI DSS ${control}: a mapped rule has an open finding`);

      await session.screenshot('compliance.png', { selector: '#compliance' });
      await assertSelfContained(session);
    });
  });
});

// --- A report of 20,000 items and 10,000 findings, built from the demo's by copying with unique ids ---

const SCALE_ITEMS = 20_000;
const SCALE_FINDINGS = 10_000;
/** In every copy's resource name and uid, and nowhere else: a search for one copy's marker finds exactly its findings. */
const copyMarker = (copy: number): string => `kdscale-${String(copy).padStart(5, '0')}`;

function scaleReport(demo: Report): Report {
  const inventory: InventoryItem[] = Array.from({ length: SCALE_ITEMS }, (_, index) => {
    const item = demo.inventory[index % demo.inventory.length]!;
    const marker = copyMarker(Math.floor(index / demo.inventory.length));
    return { ...structuredClone(item), uid: `${item.uid}~${marker}`, name: `${item.name}~${marker}` };
  });
  const findings: Finding[] = Array.from({ length: SCALE_FINDINGS }, (_, index) => {
    const finding = demo.findings[index % demo.findings.length]!;
    const copy = Math.floor(index / demo.findings.length);
    const marker = copyMarker(copy);
    return {
      ...structuredClone(finding),
      fingerprint: createHash('sha256').update(`${finding.fingerprint}:${copy}`).digest('hex').slice(0, finding.fingerprint.length),
      resource: { ...finding.resource, uid: `${finding.resource.uid}~${marker}`, name: `${finding.resource.name}~${marker}` },
    };
  });
  const severities = Object.fromEntries(SEVERITIES.map((severity) => [severity, findings.filter((finding) => finding.severity === severity && !finding.waiver).length]));
  return {
    ...demo,
    inventory,
    findings,
    summary: { ...demo.summary, items: inventory.length, findings: severities as Report['summary']['findings'], waived: findings.filter((finding) => finding.waiver).length },
  };
}

describe('HTML report of 20,000 items and 10,000 findings in a headless browser', () => {
  let dir = '';
  let file = '';
  let report: Report;

  before(() => {
    report = scaleReport(readValidReport(DEMO_REPORT));
    assert.equal(new Set(report.findings.map((finding) => finding.fingerprint)).size, SCALE_FINDINGS, 'unique fingerprints');
    assert.equal(new Set(report.inventory.map((item) => item.uid)).size, SCALE_ITEMS, 'unique uids');
    const started = performance.now();
    const html = toHtml(report);
    console.log(`scale: toHtml ${Math.round(performance.now() - started)} ms, ${(Buffer.byteLength(html) / 1e6).toFixed(1)} MB`);
    dir = tempDir('keydrift-html-browser-scale-');
    file = path.join(dir, 'keydrift.html');
    writeFileSync(file, html);
  });
  after(() => removeDir(dir));

  test('loads, searches and filters by rule with the right counts (times are logged, not asserted)', { timeout: 600_000 }, async () => {
    await withPage(file, { timeoutMs: 120_000 }, async (session) => {
      const { page } = session;
      const sinceLoad = performance.now();
      await page.waitForFunction(() => document.querySelector('#findings-count')?.textContent?.includes('of'), undefined, { polling: 'raf', timeout: 60_000 });
      const readyMs = session.loadMs + performance.now() - sinceLoad;

      const rows = await findingRows(page);
      assert.equal(rows.length, SCALE_FINDINGS, 'one row per finding');
      assert.equal(await page.locator('#inventory-table tr[data-uid]').count(), SCALE_ITEMS, 'one inventory row per item');
      const initial = await findingsCount(page);
      assert.equal(initial.total, SCALE_FINDINGS);
      assert.equal(initial.shown, rows.filter((row) => !row.hidden).length);

      // Search: one copy's marker finds that copy's findings (those the default filters show).
      const copy = 3;
      const copyRows = new Set(report.findings.filter((finding) => finding.resource.uid.endsWith(`~${copyMarker(copy)}`)).map((finding) => `finding-${finding.fingerprint}`));
      const searchExpected = rows.filter((row) => !row.hidden && copyRows.has(row.id)).length;
      assert.ok(searchExpected > 0);
      let started = performance.now();
      await page.locator('input#findings-search').fill(copyMarker(copy));
      await waitForShown(page, searchExpected);
      const searchMs = performance.now() - started;
      const searched = (await findingRows(page)).filter((row) => !row.hidden);
      assert.equal(searched.length, searchExpected);
      assert.ok(searched.every((row) => copyRows.has(row.id)), 'only that copy\'s findings are shown');

      started = performance.now();
      await page.locator('input#findings-search').fill('');
      await waitForShown(page, initial.shown);
      const clearMs = performance.now() - started;

      // Filter by the demo's most frequent rule.
      const rule = mostFrequentRule(report.findings);
      const ruleExpected = rows.filter((row) => !row.hidden && row.rule === rule).length;
      assert.equal(rows.filter((row) => row.rule === rule).length, report.findings.filter((finding) => finding.ruleId === rule).length);
      started = performance.now();
      await page.selectOption('select#filter-rule', rule);
      await waitForShown(page, ruleExpected);
      const filterMs = performance.now() - started;
      const filtered = (await findingRows(page)).filter((row) => !row.hidden);
      assert.equal(filtered.length, ruleExpected);
      assert.ok(filtered.every((row) => row.rule === rule));
      assert.equal((await findingsCount(page)).total, SCALE_FINDINGS);

      console.log(`scale (${SCALE_ITEMS} items, ${SCALE_FINDINGS} findings): load event ${Math.round(session.loadMs)} ms, counter ready ${Math.round(readyMs)} ms, ` +
        `search ${Math.round(searchMs)} ms (${searchExpected} shown), clear search ${Math.round(clearMs)} ms, filter by ${rule} ${Math.round(filterMs)} ms (${ruleExpected} shown)`);
      await assertSelfContained(session);
    });
  });
});
