import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { loadPolicy, type LoadedPolicy } from '@open-policy-agent/opa-wasm';
import { catalogue, type RuleEntry } from '../rules/catalogue.ts';
import { customRuleEntry, type CustomRuleMeta } from '../rules/custom-rule.ts';
import { toArrayBuffer } from '../engine/engine.ts';
import { BatchError, evaluateBatch, loadBatch, type EvaluateSetup, type EvaluatedBatch, type LoadedBatch, type LoadSetup } from './batch.ts';

// Where batches are loaded and evaluated: a lane. A worker lane is a worker thread with its own
// wasm instance; the local lane runs the same functions on the calling thread ("one thread").
// Each lane keeps the items it loaded until it evaluates them, so items cross threads once.
// The worker is this same module (in the bundled Action: the bundle itself), started with a flag.

const LANE_FLAG = 'keydriftEvaluationLane';

/** What the caller learns of a loaded batch; the items themselves stay on the lane. */
export type LoadSummary = Omit<LoadedBatch, 'itemsJson' | 'digests'>;

export interface LaneSetup {
  load: LoadSetup;
  wasm: Uint8Array;
  entrypoint: string;
  customRules: Record<string, CustomRuleMeta>;
}

export interface Lane {
  /** Loads a batch and keeps its items; answers what the run's index needs of them. */
  load(id: number, batch: Buffer, firstIndex: number): Promise<LoadSummary>;
  /** The run's policy data (indexes, settings) and how to evaluate, once every batch is loaded. */
  setData(data: unknown, evaluate: EvaluateSetup): Promise<void>;
  /** A loaded batch's items and findings; id -1: the sources and waivers on their own. */
  evaluate(id: number): Promise<EvaluatedBatch>;
  close(): Promise<void>;
}

/** The state of one lane: its policy and the batches it loaded, by id. */
class LaneState {
  readonly #setup: LaneSetup;
  readonly #rules: Map<string, RuleEntry>;
  #policy: LoadedPolicy | null = null;
  #evaluate: EvaluateSetup | null = null;
  readonly #batches = new Map<number, LoadedBatch>();

  constructor(setup: LaneSetup) {
    this.#setup = setup;
    this.#rules = new Map(catalogue());
    for (const [id, meta] of Object.entries(setup.customRules)) this.#rules.set(id, customRuleEntry(id, meta));
  }

  async start(): Promise<void> {
    this.#policy = await loadPolicy(toArrayBuffer(this.#setup.wasm));
  }

  load(id: number, batch: Uint8Array, firstIndex: number): LoadSummary {
    const loaded = loadBatch(this.#setup.load, new TextDecoder().decode(batch), firstIndex);
    this.#batches.set(id, loaded);
    return { read: loaded.read, kept: loaded.kept, certificates: loaded.certificates, drift: loaded.drift };
  }

  setData(data: unknown, evaluate: EvaluateSetup): void {
    this.#policy!.setData(data as object);
    this.#evaluate = evaluate;
  }

  evaluate(id: number): EvaluatedBatch {
    const loaded = id < 0 ? null : this.#batches.get(id);
    if (loaded === undefined) throw new BatchError(`batch ${id} was not loaded on this lane`);
    this.#batches.delete(id);
    const policy = this.#policy!;
    const entrypoint = this.#setup.entrypoint;
    return evaluateBatch(this.#evaluate!, { evaluate: (input) => policy.evaluate(input, entrypoint) }, this.#rules, loaded);
  }
}

export async function localLane(setup: LaneSetup): Promise<Lane> {
  const state = new LaneState(setup);
  await state.start();
  return {
    load: async (id, batch, firstIndex) => state.load(id, batch, firstIndex),
    setData: async (data, evaluate) => state.setData(data, evaluate),
    evaluate: async (id) => state.evaluate(id),
    close: async () => {},
  };
}

type Operation = { op: 'load'; id: number; batch: Uint8Array; firstIndex: number } | { op: 'setData'; data: unknown; evaluate: EvaluateSetup | null } | { op: 'evaluate'; id: number };
type Request = Operation & { call: number };
type Reply = { call: number; value?: unknown; error?: { message: string; batch: boolean } };

export async function workerLane(setup: LaneSetup): Promise<Lane> {
  const worker = new Worker(new URL(import.meta.url), { workerData: { [LANE_FLAG]: true, setup } });
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let calls = 0;
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
  const call = <T>(request: Operation, transfer: ArrayBuffer[] = []): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      if (failure) return reject(failure);
      const id = ++calls;
      pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      worker.postMessage({ ...request, call: id }, transfer);
    });
  // The first answer says the thread is up and its policy compiled.
  await call({ op: 'setData', data: null, evaluate: null });
  return {
    load: (id, batch, firstIndex) => {
      // Its own copy, transferred: the scanner's buffers may be views into larger ones.
      const bytes = new Uint8Array(batch);
      return call<LoadSummary>({ op: 'load', id, batch: bytes, firstIndex }, [bytes.buffer]);
    },
    setData: (data, evaluate) => call<void>({ op: 'setData', data, evaluate }),
    evaluate: (id) => call<EvaluatedBatch>({ op: 'evaluate', id }),
    close: async () => {
      worker.removeAllListeners('exit');
      await worker.terminate();
    },
  };
}

async function serve(setup: LaneSetup): Promise<void> {
  const state = new LaneState(setup);
  const started = state.start();
  parentPort!.on('message', (request: Request) => {
    void (async () => {
      try {
        await started;
        let value: unknown;
        if (request.op === 'load') value = state.load(request.id, request.batch, request.firstIndex);
        else if (request.op === 'setData') value = request.evaluate === null ? undefined : state.setData(request.data, request.evaluate);
        else value = state.evaluate(request.id);
        parentPort!.postMessage({ call: request.call, value } satisfies Reply);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        parentPort!.postMessage({ call: request.call, error: { message, batch: error instanceof BatchError } } satisfies Reply);
      }
    })();
  });
}

if (!isMainThread && (workerData as Record<string, unknown> | null)?.[LANE_FLAG] === true) {
  void serve((workerData as { setup: LaneSetup }).setup);
}
