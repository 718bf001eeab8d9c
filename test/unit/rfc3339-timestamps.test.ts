import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { rfc3339, rfc3339FromSeconds, rfc3339OrNull } from '../../src/util/rfc3339.ts';

// Inventory bytes depend on this form: whole seconds without a fraction, milliseconds kept.

describe('RFC 3339 timestamps as the inventory writes them', () => {
  test('a whole second has no fraction; milliseconds are kept', () => {
    assert.equal(rfc3339(new Date('2026-11-01T00:00:00Z')), '2026-11-01T00:00:00Z');
    assert.equal(rfc3339(Date.UTC(2026, 10, 1, 12, 30, 5, 250)), '2026-11-01T12:30:05.250Z');
    assert.equal(rfc3339(Date.UTC(2026, 10, 1, 12, 30, 5, 1)), '2026-11-01T12:30:05.001Z');
  });

  test('epoch seconds, fractional ones rounded to the millisecond', () => {
    assert.equal(rfc3339FromSeconds(1_790_000_000), '2026-09-21T14:13:20Z');
    assert.equal(rfc3339FromSeconds(1_790_000_000.5), '2026-09-21T14:13:20.500Z');
    assert.equal(rfc3339FromSeconds(1.0004), '1970-01-01T00:00:01Z');
    assert.equal(rfc3339FromSeconds(1.0006), '1970-01-01T00:00:01.001Z');
  });

  test('an invalid instant is an error, not a made-up date', () => {
    assert.throws(() => rfc3339(new Date('not a date')), RangeError);
    assert.throws(() => rfc3339FromSeconds(Number.NaN), RangeError);
  });

  test('a missing or unparseable optional date is null', () => {
    assert.equal(rfc3339OrNull(undefined), null);
    assert.equal(rfc3339OrNull(null), null);
    assert.equal(rfc3339OrNull(new Date(Number.NaN)), null);
    assert.equal(rfc3339OrNull(new Date('2027-01-01T00:00:00.000Z')), '2027-01-01T00:00:00Z');
  });
});
