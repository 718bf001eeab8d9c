import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backoffCeiling, retry, type RetryOptions } from '../../src/util/retry.ts';

class Throttled extends Error {}
class Denied extends Error {}

const fast: RetryOptions = { attempts: 4, retriable: (error) => error instanceof Throttled, baseMs: 1, maxMs: 2 };

/** A call that fails with the given errors in turn, then answers `value`; it records each attempt. */
function scripted<T>(failures: Error[], value: T): { call: (attempt: number) => Promise<T>; attempts: number[] } {
  const attempts: number[] = [];
  return {
    attempts,
    call: async (attempt) => {
      attempts.push(attempt);
      const failure = failures.shift();
      if (failure) throw failure;
      return value;
    },
  };
}

describe('retry with full-jitter exponential backoff', () => {
  test('a call that succeeds at once is made once', async () => {
    const { call, attempts } = scripted([], 'ok');
    assert.equal(await retry(call, fast), 'ok');
    assert.deepEqual(attempts, [1]);
  });

  test('retriable failures are retried until the call succeeds, and every attempt is announced', async () => {
    const { call, attempts } = scripted([new Throttled('429'), new Throttled('429')], 'ok');
    const announced: number[] = [];
    assert.equal(await retry(call, { ...fast, onAttempt: (attempt) => announced.push(attempt) }), 'ok');
    assert.deepEqual(attempts, [1, 2, 3]);
    assert.deepEqual(announced, [1, 2, 3]);
  });

  test('after `attempts` retriable failures the last error is thrown', async () => {
    const failures = [1, 2, 3, 4, 5].map((n) => new Throttled(`throttled ${n}`));
    const { call, attempts } = scripted(failures, 'never');
    await assert.rejects(retry(call, fast), (error: Error) => error.message === 'throttled 4');
    assert.deepEqual(attempts, [1, 2, 3, 4]);
  });

  test('a failure that is not retriable stops at once', async () => {
    const { call, attempts } = scripted([new Throttled('429'), new Denied('403')], 'never');
    await assert.rejects(retry(call, fast), Denied);
    assert.deepEqual(attempts, [1, 2]);
  });

  test('an aborted signal starts no further attempt', async () => {
    const controller = new AbortController();
    controller.abort();
    const { call, attempts } = scripted([new Throttled('429')], 'never');
    await assert.rejects(retry(call, { ...fast, signal: controller.signal }), Throttled);
    assert.deepEqual(attempts, [1], 'the first attempt is made; the retry is not');
  });

  // The wait would last minutes to hours: only an abort that ends it lets the test finish in time.
  test('an abort during the wait ends the wait and throws the call\'s error', { timeout: 10_000 }, async () => {
    const controller = new AbortController();
    const attempts: number[] = [];
    const call = async (attempt: number): Promise<string> => {
      attempts.push(attempt);
      setImmediate(() => controller.abort());
      throw new Throttled('503');
    };
    await assert.rejects(retry(call, { attempts: 5, retriable: () => true, signal: controller.signal, baseMs: 3_600_000, maxMs: 3_600_000 }), Throttled);
    assert.deepEqual(attempts, [1]);
  });

  test('the ceiling of the wait doubles after each failed attempt and is capped at maxMs', () => {
    assert.deepEqual([1, 2, 3, 4, 5, 6].map((attempt) => backoffCeiling(attempt, 400, 8000)), [400, 800, 1600, 3200, 6400, 8000]);
  });
});
