import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createLogger } from '../../src/cli/logger.ts';
import { parseConfig } from '../../src/config/load.ts';
import { collectAll } from '../../src/collectors/run.ts';
import type { Collector } from '../../src/collectors/types.ts';
import { baseItem, type InventoryItem } from '../../src/inventory/types.ts';

// The collection loop checks every item a collector yields against the item schema, as
// `evaluate --inventory` checks a saved inventory: an invalid item is a source error naming the
// item and the field, it is left out, and the source is partial (failed when nothing valid came).
// The collectors here are test inputs yielding what a buggy collector might; the loop is real.

const NOW = new Date('2026-11-01T00:00:00Z');

function key(uid: string, fields: Partial<InventoryItem> = {}): InventoryItem {
  return baseItem({ uid, kind: 'key', provider: 'aws-kms', sourceId: 'toy', name: uid, location: 'us-east-1', algorithm: 'AES-256', ...fields });
}

async function collectFrom(yields: () => Iterable<unknown>) {
  const toy: Collector = {
    type: 'snapshot',
    provides: ['aws-kms'],
    operations: [],
    async *collect() {
      for (const item of yields()) yield item as InventoryItem;
    },
  };
  const config = parseConfig('version: 1\nsources:\n  - { id: toy, type: snapshot, path: unused.json }\n', '/tmp/keydrift-test/keydrift.yaml');
  const warnings: string[] = [];
  const logger = createLogger('quiet', false, (line) => warnings.push(line));
  const collected = await collectAll(config, { logger, now: NOW, collectors: new Map([['snapshot', async () => toy]]) });
  return { ...collected, source: collected.sources[0]!, warnings };
}

describe('the collection loop checks every item', () => {
  test('valid items only: the source is ok and every item is kept', async () => {
    const { items, source } = await collectFrom(() => [key('k1'), key('k2')]);
    assert.deepEqual(items.map((item) => item.uid), ['k1', 'k2']);
    assert.equal(source.status, 'ok');
    assert.deepEqual(source.errors, []);
  });

  test('invalid items are left out and named (uid, else index) with the field at fault; the source is partial', async () => {
    const deep = JSON.parse(`${'['.repeat(40)}${']'.repeat(40)}`) as unknown;
    const { items, source, warnings } = await collectFrom(() => [
      key('k1'),
      key('k2', { attributes: { extractable: false, exportable: null, plaintextBackup: null } as never }),
      42,
      key('k3', { rotation: { supported: true, automatic: true, periodDays: '90' as never, lastRotatedAt: null, nextRotationAt: null } }),
      key('k4', { evidence: { raw: deep } }),
      key('k5'),
    ]);
    assert.deepEqual(items.map((item) => item.uid), ['k1', 'k5']);
    assert.equal(source.status, 'partial');
    assert.equal(source.items, 2);
    assert.deepEqual(source.errors, [
      { code: 'item-invalid', message: 'item 1 (k2): attributes: missing required field "sensitive"; item left out', resource: 'k2' },
      { code: 'item-invalid', message: 'item 2: (top level): must be object; item left out' },
      { code: 'item-invalid', message: 'item 3 (k3): rotation.periodDays: must be number or null; item left out', resource: 'k3' },
      { code: 'item-invalid', message: 'item 4 (k4): "evidence" nests objects or arrays more than 32 levels deep; item left out', resource: 'k4' },
    ]);
    assert.equal(warnings.length, 4);
    assert.match(warnings[0]!, /toy: item 1 \(k2\): attributes: missing required field "sensitive"/);
  });

  test('nothing valid: the source failed', async () => {
    const { items, source } = await collectFrom(() => [key('k1', { state: 'on' as never }), null]);
    assert.deepEqual(items, []);
    assert.equal(source.status, 'failed');
    assert.deepEqual(source.errors.map((error) => error.message), [
      'item 0 (k1): state: must be one of "enabled", "disabled", "pending-deletion", "destroyed", "unavailable"; item left out',
      'item 1: (top level): must be object; item left out',
    ]);
  });

  test('an item whose field throws when read, or that refers to itself, is an invalid item: no crash, no hang', async () => {
    const throwing = key('k2');
    Object.defineProperty(throwing, 'evidence', { enumerable: true, get: () => { throw new Error('boom'); } });
    const cyclic = key('k3');
    cyclic.evidence['self'] = cyclic.evidence;
    const { items, source } = await collectFrom(() => [key('k1'), throwing, cyclic]);
    assert.deepEqual(items.map((item) => item.uid), ['k1']);
    assert.equal(source.status, 'partial');
    assert.deepEqual(source.errors, [
      { code: 'item-invalid', message: 'item 1 (k2): could not be checked: boom; item left out', resource: 'k2' },
      { code: 'item-invalid', message: 'item 2 (k3): "evidence" nests objects or arrays more than 32 levels deep; item left out', resource: 'k3' },
    ]);
  });

  test('many invalid items: the first 20 are listed, the rest counted in one more error', async () => {
    const { items, source } = await collectFrom(function* () {
      for (let i = 0; i < 25; i++) yield key(`bad-${i}`, { kind: 'gadget' as never });
      yield key('good');
    });
    assert.deepEqual(items.map((item) => item.uid), ['good']);
    assert.equal(source.status, 'partial');
    assert.equal(source.errors.length, 21);
    assert.equal(source.errors[19]!.message, 'item 19 (bad-19): kind: must be one of "key", "certificate"; item left out');
    assert.deepEqual(source.errors[20], { code: 'item-invalid', message: '5 more invalid items left out (the first 20 are listed)', resource: 'toy' });
  });
});
