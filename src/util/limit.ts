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

type Pulled<R> = { index: number } & ({ ok: true; result: IteratorResult<R> } | { ok: false; error: unknown });

/**
 * Runs `produce` over `items` with at most `concurrency` producers in flight, yielding each value
 * as soon as any producer has one (values of different items interleave). A producer's failure
 * surfaces when it arrives; the others are then closed. Each producer is pulled only as the
 * consumer asks, so a slow consumer holds back at most one value per producer.
 */
export async function* mergeBounded<T, R>(
  items: readonly T[],
  concurrency: number,
  produce: (item: T) => AsyncIterable<R>,
): AsyncGenerator<R> {
  const limit = Math.max(1, Math.floor(concurrency));
  const running = new Map<number, { iterator: AsyncIterator<R>; next: Promise<Pulled<R>> }>();
  const pull = (index: number, iterator: AsyncIterator<R>): Promise<Pulled<R>> =>
    iterator.next().then(
      (result): Pulled<R> => ({ index, ok: true, result }),
      (error: unknown): Pulled<R> => ({ index, ok: false, error }),
    );
  let started = 0;
  const launch = () => {
    while (running.size < limit && started < items.length) {
      const index = started++;
      const iterator = produce(items[index]!)[Symbol.asyncIterator]();
      running.set(index, { iterator, next: pull(index, iterator) });
    }
  };
  try {
    launch();
    while (running.size > 0) {
      const pulled = await Promise.race([...running.values()].map((entry) => entry.next));
      const entry = running.get(pulled.index)!;
      if (!pulled.ok) {
        running.delete(pulled.index);
        throw pulled.error;
      }
      if (pulled.result.done) {
        running.delete(pulled.index);
        launch();
        continue;
      }
      entry.next = pull(pulled.index, entry.iterator);
      yield pulled.result.value;
    }
  } finally {
    // Stopped early (a failure, or the consumer left): close whatever still runs, without waiting on it.
    for (const { iterator } of running.values()) void iterator.return?.()?.catch(() => undefined);
  }
}
