type Settled<R> = { ok: true; value: R } | { ok: false; error: unknown };

/**
 * Runs `task` over `items` with at most `concurrency` in flight, yielding results in input order.
 * A rejection surfaces when its turn comes, never as an unhandled rejection meanwhile.
 */
export async function* mapBounded<T, R>(
  items: readonly T[],
  concurrency: number,
  task: (item: T) => Promise<R>,
): AsyncGenerator<R> {
  const limit = Math.max(1, Math.floor(concurrency));
  const pending: Promise<Settled<R>>[] = [];
  let next = 0;
  const launch = () => {
    if (next >= items.length) return;
    const item = items[next++]!;
    pending.push(
      task(item).then(
        (value): Settled<R> => ({ ok: true, value }),
        (error: unknown): Settled<R> => ({ ok: false, error }),
      ),
    );
  };
  for (let i = 0; i < limit; i++) launch();
  while (pending.length > 0) {
    const settled = await pending.shift()!;
    launch();
    if (!settled.ok) throw settled.error;
    yield settled.value;
  }
}
