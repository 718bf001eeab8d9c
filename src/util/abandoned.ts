// A scan cut off by its deadline may leave a collector blocked in a call that ignores the abort
// signal. The reports are written regardless; the process then exits instead of waiting on it.

let abandoned = false;

export function markAbandoned(): void {
  abandoned = true;
}

/** True when some work was left running on purpose: the caller should exit once its output is written. */
export function hasAbandonedWork(): boolean {
  return abandoned;
}
