import { closeSync, openSync, readSync } from 'node:fs';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { loadPolicy, type LoadedPolicy } from '@open-policy-agent/opa-wasm';
import type { RuleEntry } from '../rules/catalogue.ts';
import { toArrayBuffer } from '../engine/engine.ts';
import { BatchError, batchText, evaluateItems, indexEntries, readBatch, type EvaluateSetup, type EvaluatedBatch, type IndexEntries, type LoadSetup } from './batch.ts';
import { LaneFiles, type Piece, type StoredFindings } from './lane-files.ts';

// Where batches are evaluated: a lane. A worker lane is a worker thread with its own wasm
// instance; the local lane runs the same functions on the calling thread ("one thread"). A batch
// is a byte range of the evidence file: each lane reads it itself, so items never pass through
// the calling thread, and nothing is held once the batch is answered.
// The worker is this same module (in the bundled Action: the bundle itself), started with a flag.

const LANE_FLAG = 'keydriftEvaluationLane';

export interface LaneSetup {
  load: LoadSetup;
  wasm: Uint8Array;
  entrypoint: string;
}

/** A batch: the bytes [start, end) of the evidence file, its first item's position in the file. */
export interface BatchRange {
  start: number;
  end: number;
  firstIndex: number;
}

/** What a lane answers for a batch: where it wrote the items' JSON (null: not written again) and the findings, and the items' digests. */
export interface LaneResult {
  items: Piece | null;
  digests: string[];
  findings: StoredFindings;
  /** The lane's files so far, by the index pieces and findings name. */
  files: string[];
}

/** A batch evaluated the first time: also how many items it held and its index entries. */
export interface FirstEvaluation extends LaneResult, IndexEntries {
  read: number;
}

export interface Lane {
  /** The policy data (indexes, settings), how to evaluate, and the folder results are written to, for the batches that follow. */
  setData(data: unknown, evaluate: EvaluateSetup, dir: string): Promise<void>;
  /** Reads, checks and evaluates a batch, and lists its index entries. */
  first(batch: BatchRange): Promise<FirstEvaluation>;
  /** Evaluates a batch again (with other data), its items written again or not; null: the sources and waivers on their own. */
  again(batch: BatchRange | null, withItems: boolean): Promise<LaneResult>;
  /** Stops the lane; `discard`: its files are removed too (the run failed, nothing will read them). */
  close(discard?: boolean): Promise<void>;
}

/** The state of one lane: its policy, its handle on the evidence file, how to evaluate. */
class LaneState {
  readonly #setup: LaneSetup;
  #rules = new Map<string, RuleEntry>();
  #policy: LoadedPolicy | null = null;
  #evaluate: EvaluateSetup | null = null;
  #fd: number | null = null;
  #files: LaneFiles | null = null;

  constructor(setup: LaneSetup) {
    this.#setup = setup;
  }

  async start(): Promise<void> {
    this.#policy = await loadPolicy(toArrayBuffer(this.#setup.wasm));
  }

  #text(batch: BatchRange): string {
    this.#fd ??= openSync(this.#setup.load.path, 'r');
    const bytes = Buffer.allocUnsafe(batch.end - batch.start);
    let filled = 0;
    while (filled < bytes.length) {
      const read = readSync(this.#fd, bytes, filled, bytes.length - filled, batch.start + filled);
      if (read === 0) throw new BatchError(`${this.#setup.load.file}: changed while it was read (it ends before byte ${batch.end})`);
      filled += read;
    }
    return batchText(this.#setup.load, bytes);
  }

  setData(data: unknown, evaluate: EvaluateSetup, dir: string): void {
    this.#policy!.setData(data as object);
    this.#evaluate = evaluate;
    this.#rules = new Map(evaluate.rules);
    if (this.#files === null) this.#files = new LaneFiles(dir);
  }

  first(batch: BatchRange): FirstEvaluation {
    const { read, items } = readBatch(this.#setup.load, this.#text(batch), batch.firstIndex, true);
    return { read, ...indexEntries(items), ...this.#stored(this.#evaluateItems(items), true) };
  }

  again(batch: BatchRange | null, withItems: boolean): LaneResult {
    const items = batch === null ? null : readBatch(this.#setup.load, this.#text(batch), batch.firstIndex, false).items;
    return this.#stored(this.#evaluateItems(items), withItems);
  }

  #stored(result: EvaluatedBatch, withItems: boolean): LaneResult {
    const files = this.#files!;
    return { items: withItems ? files.addItems(result.itemsJson) : null, digests: result.digests, findings: files.addFindings(result.findings), files: files.files };
  }

  #evaluateItems(items: Parameters<typeof evaluateItems>[3]): EvaluatedBatch {
    const policy = this.#policy!;
    const entrypoint = this.#setup.entrypoint;
    return evaluateItems(this.#evaluate!, { evaluate: (input: ArrayBuffer) => policy.evaluate(input, entrypoint) }, this.#rules, items);
  }

  close(discard = false): void {
    if (this.#fd !== null) closeSync(this.#fd);
    this.#fd = null;
    this.#files?.close(discard);
  }
}

export async function localLane(setup: LaneSetup): Promise<Lane> {
  const state = new LaneState(setup);
  await state.start();
  return {
    setData: async (data, evaluate, dir) => state.setData(data, evaluate, dir),
    first: async (batch) => state.first(batch),
    again: async (batch, withItems) => state.again(batch, withItems),
    close: async (discard) => state.close(discard),
  };
}

type Operation = { op: 'setData'; data: unknown; evaluate: EvaluateSetup | null; dir: string } | { op: 'first'; batch: BatchRange } | { op: 'again'; batch: BatchRange | null; withItems: boolean } | { op: 'close'; discard: boolean };
type Request = Operation & { call: number };
type Reply = { call: number; value?: unknown; error?: { message: string; batch: boolean } };

export async function workerLane(setup: LaneSetup): Promise<Lane> {
  const worker = new Worker(new URL(import.meta.url), { workerData: { [LANE_FLAG]: true, setup } });
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let calls = 0;
  let closed = false;
  let failure: Error | null = null;
  const failAll = (error: Error) => {
    failure ??= error;
    for (const { reject } of pending.values()) reject(failure);
    pending.clear();
  };
  worker.on('message', (reply: Reply) => {
    const waiting = pending.get(reply.call);
    if (!waiting) return;
    pending.delete(reply.call);
    if (reply.error) waiting.reject(reply.error.batch ? new BatchError(reply.error.message) : new Error(reply.error.message));
    else waiting.resolve(reply.value);
  });
  worker.on('error', (error) => failAll(new Error(`an evaluation thread failed: ${error.message}`)));
  worker.on('exit', (code) => failAll(new Error(`an evaluation thread exited (code ${code})`)));
  const call = <T>(request: Operation): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      if (failure) return reject(failure);
      const id = ++calls;
      pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      worker.postMessage({ ...request, call: id });
    });
  // The first answer says the thread is up and its policy compiled.
  await call({ op: 'setData', data: null, evaluate: null, dir: '' });
  return {
    setData: (data, evaluate, dir) => call<void>({ op: 'setData', data, evaluate, dir }),
    first: (batch) => call<FirstEvaluation>({ op: 'first', batch }),
    again: (batch, withItems) => call<LaneResult>({ op: 'again', batch, withItems }),
    close: async (discard = false) => {
      if (closed) return;
      closed = true;
      // Its files are closed by the thread itself, so it is asked to stop rather than cut off.
      await call({ op: 'close', discard }).catch(() => undefined);
      worker.removeAllListeners('exit');
      await worker.terminate();
    },
  };
}

function serve(setup: LaneSetup): void {
  const state = new LaneState(setup);
  const started = state.start();
  parentPort!.on('message', (request: Request) => {
    void (async () => {
      try {
        await started;
        let value: unknown;
        if (request.op === 'setData') value = request.evaluate === null ? undefined : state.setData(request.data, request.evaluate, request.dir);
        else if (request.op === 'first') value = state.first(request.batch);
        else if (request.op === 'again') value = state.again(request.batch, request.withItems);
        else value = state.close(request.discard);
        parentPort!.postMessage({ call: request.call, value } satisfies Reply);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        parentPort!.postMessage({ call: request.call, error: { message, batch: error instanceof BatchError } } satisfies Reply);
      }
    })();
  });
}

if (!isMainThread && (workerData as Record<string, unknown> | null)?.[LANE_FLAG] === true) {
  serve((workerData as { setup: LaneSetup }).setup);
}
