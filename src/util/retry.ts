import { setTimeout as sleep } from 'node:timers/promises';

export interface RetryOptions {
  /** Most calls made, the first one included. */
  attempts: number;
  /** Whether a failure may go away on its own (throttling, a restarting server). */
  retriable(error: unknown): boolean;
  /** Once aborted, no further attempt starts and a wait in progress ends at once. */
  signal?: AbortSignal;
  /** Ceiling of the first wait; it doubles after each failed attempt, up to `maxMs`. */
  baseMs: number;
  maxMs: number;
  /** Called before every attempt, the first one included (e.g. to count API calls). */
  onAttempt?(attempt: number): void;
}

/**
 * Calls `call` until it succeeds, fails with an error that is not retriable, runs out of
 * attempts or is aborted; then throws the last error the call threw. Waits between attempts
 * use full jitter (a uniform draw below the exponential ceiling), so that many callers
 * throttled at once do not come back in step.
 */
export async function retry<T>(call: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    options.onAttempt?.(attempt);
    try {
      return await call(attempt);
    } catch (error) {
      if (attempt >= options.attempts || options.signal?.aborted || !options.retriable(error)) throw error;
      try {
        await sleep(Math.random() * backoffCeiling(attempt, options.baseMs, options.maxMs), undefined, options.signal ? { signal: options.signal } : {});
      } catch {
        // Aborted while waiting: the caller reports the failure it already has.
        throw error;
      }
    }
  }
}

/** The longest wait after failed attempt number `attempt` (1-based). */
export function backoffCeiling(attempt: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** (attempt - 1));
}
