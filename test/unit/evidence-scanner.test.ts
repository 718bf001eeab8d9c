import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EvidenceScanner, EvidenceScanError } from '../../src/inventory/evidence-scanner.ts';

const LIMITS = { maxItemBytes: 1 << 20, maxFieldBytes: 1 << 20 };

// Awkward on purpose: escaped quotes and backslashes, brackets inside strings, unicode, nesting.
const ITEMS = [
  { uid: 'a"b', name: 'x\\', tags: { '}': ']', '[': '{' }, n: [1, [2, [3]]] },
  { uid: 'c\\"d', name: '\u00e9\u4e2d\ud83d\ude00', empty: {}, list: [] },
  { uid: 'e', s: '\\\\\\"', t: null, u: true, v: -1.5e3 },
];

function scan(text: string, chunkSize: number, jsonLines = false): { items: unknown[]; scanner: EvidenceScanner } {
  const items: unknown[] = [];
  const bytes = Buffer.from(text);
  // Items are byte ranges of the file: each must be exactly one item (and whitespace).
  const scanner = new EvidenceScanner((start, end) => items.push(JSON.parse(bytes.subarray(start, end).toString('utf8'))), LIMITS);
  if (jsonLines) scanner.startJsonLines();
  for (let at = 0; at < bytes.length; at += chunkSize) scanner.push(bytes.subarray(at, at + chunkSize));
  scanner.end();
  return { items, scanner };
}

test('every item of an inventory is handed on whole, however the file is cut into chunks', () => {
  const inventory = { schemaVersion: '1', kind: 'inventory', sources: [{ id: 's', note: '"items": [' }], items: ITEMS, collectedAt: '2026-01-01T00:00:00Z' };
  for (const text of [JSON.stringify(inventory), JSON.stringify(inventory, null, 2)]) {
    for (const size of [...Array.from({ length: 40 }, (_, i) => i + 1), 64, 1 << 16]) {
      const { items, scanner } = scan(text, size);
      assert.deepEqual(items, ITEMS, `chunk ${size}`);
      assert.equal(scanner.shape, 'inventory');
      assert.deepEqual(JSON.parse(scanner.fields.get('sources')!.toString()), inventory.sources);
      assert.equal(JSON.parse(scanner.fields.get('collectedAt')!.toString()), inventory.collectedAt);
    }
  }
});

test("a report's inventory is streamed and its findings skipped", () => {
  const report = { schemaVersion: '1', scan: { now: '2026-01-01T00:00:00Z' }, findings: [{ uid: 'not an item', text: ']}' }], inventory: ITEMS, sources: [] };
  for (const size of [1, 5, 4096]) {
    const { items, scanner } = scan(JSON.stringify(report, null, 1), size);
    assert.deepEqual(items, ITEMS);
    assert.equal(scanner.shape, 'report');
    assert.equal(scanner.fields.has('findings'), false);
    assert.deepEqual(JSON.parse(scanner.fields.get('scan')!.toString()), report.scan);
  }
});

test('a bare array of items, and JSON Lines with a header line', () => {
  assert.deepEqual(scan(JSON.stringify(ITEMS), 3).items, ITEMS);
  const header = { schemaVersion: '1', kind: 'inventory', sources: [] };
  const lines = [JSON.stringify(header), ...ITEMS.map((item) => JSON.stringify(item)), ''].join('\n');
  assert.equal(EvidenceScanner.sniffJsonLines(Buffer.from(lines), 'inventory.json'), true);
  assert.equal(EvidenceScanner.sniffJsonLines(Buffer.from(JSON.stringify({ items: ITEMS }, null, 2)), 'inventory.json'), false);
  for (const size of [1, 9, 4096]) {
    const { items, scanner } = scan(lines.replaceAll('\n', '\r\n'), size, true);
    assert.deepEqual(items, ITEMS);
    assert.deepEqual(JSON.parse(scanner.fields.get('(header)')!.toString()), header);
  }
});

test('a truncated file, a second document and an oversized item are refused', () => {
  assert.throws(() => scan('{"items": [{"uid": "a"}', 4), EvidenceScanError);
  assert.throws(() => scan('{"items": []} {"items": []}', 4), /more than one JSON value/);
  assert.throws(() => scan('"just a string"', 4), /neither a keydrift inventory/);
  const big = JSON.stringify({ items: [{ uid: 'x', pad: 'y'.repeat(2 << 20) }] });
  assert.throws(() => scan(big, 1 << 16), /item 0 is larger than/);
});

test('the scanner says when the items begin, with every field before them already read', () => {
  for (const [text, shape] of [
    ['{"sources": [], "items": [{"uid": "a"}', 'inventory'],
    ['{"scan": {"now": "x"}, "inventory": [{"uid": "a"}', 'report'],
    ['[{"uid": "a"}', 'array'],
  ] as const) {
    const scanner = new EvidenceScanner(() => undefined, LIMITS);
    scanner.push(Buffer.from(text));
    assert.equal(scanner.itemsStarted, true, shape);
    assert.equal(scanner.shape, shape);
  }
  const lines = new EvidenceScanner(() => undefined, LIMITS);
  lines.startJsonLines();
  lines.push(Buffer.from('{"kind": "inventory", "sources": []}\n'));
  assert.equal(lines.itemsStarted, false);
  lines.push(Buffer.from('{"uid": "a"}\n'));
  assert.equal(lines.itemsStarted, true);
});
