import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ErrorObject } from 'ajv/dist/2020.js';
import { itemProblem } from '../../src/inventory/file.ts';
import { baseItem, type InventoryItem } from '../../src/inventory/types.ts';
import { describeError, mostSpecificError } from '../../src/util/schemas.ts';

// A bad item's error names the field really at fault. Most item fields are unions with null
// (`oneOf: [null, object]`): ajv reports every branch, and the first, "must be null", is the
// branch the value was never meant for.

const STATES = '"enabled", "disabled", "pending-deletion", "destroyed", "unavailable"';

function key(fields: Partial<InventoryItem> = {}): InventoryItem {
  return baseItem({ uid: 'arn:aws:kms:us-east-1:111122223333:key/k1', kind: 'key', provider: 'aws-kms', sourceId: 'prod', name: 'k1', location: 'us-east-1', algorithm: 'AES-256', ...fields });
}

const ROTATION = { supported: true, automatic: true, periodDays: 365, lastRotatedAt: null, nextRotationAt: null };
const ATTRIBUTES = { extractable: false, sensitive: true, exportable: null, plaintextBackup: null };

describe('inventory item errors name the field at fault', () => {
  test('a valid item has no problem', () => {
    assert.equal(itemProblem(key({ rotation: ROTATION, attributes: ATTRIBUTES })), null);
  });

  const cases: [string, unknown, string][] = [
    ['a missing attribute key', key({ attributes: { extractable: false, exportable: null, plaintextBackup: null } as never }), 'attributes: missing required field "sensitive"'],
    ['a string for rotation.periodDays', key({ rotation: { ...ROTATION, periodDays: '90' as never } }), 'rotation.periodDays: must be number or null'],
    ['NaN for rotation.periodDays (JSON would turn it into null)', key({ rotation: { ...ROTATION, periodDays: Number.NaN } }), 'rotation.periodDays: must be number or null'],
    ['a bad enum in state', key({ state: 'on' as never }), `state: must be one of ${STATES}`],
    ['a bad enum in a version\'s state', key({ versions: [{ id: '1', state: 'live' as never, createdAt: null, primary: true, decryptable: null }] }), `versions[0].state: must be one of ${STATES}`],
    ['an unknown top-level field', { ...key(), colour: 'red' }, '(top level): unknown field "colour"'],
    ['an unknown field inside attributes', key({ attributes: { ...ATTRIBUTES, wrapped: true } as never }), 'attributes: unknown field "wrapped"'],
    ['a string where an object or null goes', key({ rotation: 'yes' as never }), 'rotation: must be object or null'],
    ['a number for a nullable timestamp', key({ createdAt: 5 as never }), 'createdAt: must be string or null'],
    ['a timestamp that is not RFC 3339 UTC', key({ createdAt: '2026-01-31 10:00' }), 'createdAt: must match pattern "^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?Z$"'],
    ['a missing top-level field', (({ attributes: _, ...rest }) => rest)(key()), '(top level): missing required field "attributes"'],
    ['not an object at all', 42, '(top level): must be object'],
    ['evidence nested too deep', key({ evidence: { a: JSON.parse(`${'{"a":'.repeat(40)}{}${'}'.repeat(40)}`) as unknown } }), '"evidence" nests objects or arrays more than 32 levels deep'],
  ];
  for (const [name, item, expected] of cases) {
    test(name, () => assert.equal(itemProblem(item), expected));
  }

  test('type errors left side by side merge into one list, null named last', () => {
    const error = (instancePath: string, keyword: string, params: Record<string, unknown>): ErrorObject => ({ instancePath, keyword, params, schemaPath: '#' });
    const chosen = mostSpecificError([error('/a', 'type', { type: 'null' }), error('/a', 'type', { type: 'string' }), error('/a', 'type', { type: ['integer', 'boolean'] }), error('/a', 'oneOf', {})]);
    assert.equal(describeError(chosen), 'must be string, integer, boolean or null');
    // With no union in play the first error stays the one reported.
    assert.equal(mostSpecificError([error('/a', 'required', { missingProperty: 'x' }), error('/b', 'required', { missingProperty: 'y' })]).instancePath, '/a');
  });
});
