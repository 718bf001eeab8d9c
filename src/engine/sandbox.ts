import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { loadPolicy } from '@open-policy-agent/opa-wasm';

// A custom policy is the user's code: a wasm evaluation cannot be interrupted on the thread that
// runs it, so custom bundles run on a worker thread that is terminated when their time is up.
// The worker is this same module (in the bundled Action: the bundle itself), started with a flag.

const SANDBOX_FLAG = 'keydriftPolicySandbox';
export const DEFAULT_SANDBOX_TIMEOUT_MS = 60_000;

export interface SandboxJob {
  /** The bundle's policy.wasm. */
  wasm: Uint8Array;
  entrypoint: string;
  data: unknown;
  /** Each input as an ArrayBuffer of JSON (as the in-process engine passes it), or a plain value. */
  inputs: (ArrayBuffer | unknown)[];
}

export class SandboxError extends Error {}

/** Every input's result set, in order; rejects with SandboxError on an error or past the deadline. */
export function evaluateInSandbox(job: SandboxJob, timeoutMs: number): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: { [SANDBOX_FLAG]: true } });
    let settled = false;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void worker.terminate();
      outcome();
    };
    const timer = setTimeout(() => settle(() => reject(new SandboxError(`evaluation did not finish within ${timeoutMs} ms and was stopped`))), timeoutMs);
    worker.once('message', (message: { results?: unknown[]; error?: string }) =>
      settle(() => (message.error !== undefined ? reject(new SandboxError(message.error)) : resolve(message.results ?? []))),
    );
    worker.once('error', (error) => settle(() => reject(new SandboxError(error.message))));
    worker.once('exit', (code) => settle(() => reject(new SandboxError(`the policy worker exited (code ${code}) before answering`))));
    // A copy of its own (a Buffer's slice() is a view into the whole tarball), transferred, not cloned.
    const wasm = new Uint8Array(job.wasm).buffer;
    const transfer = [wasm, ...job.inputs.filter((input): input is ArrayBuffer => input instanceof ArrayBuffer)];
    worker.postMessage({ ...job, wasm }, transfer);
  });
}

async function serve(job: SandboxJob & { wasm: ArrayBuffer }): Promise<unknown[]> {
  const policy = await loadPolicy(job.wasm);
  policy.setData(job.data as object);
  return job.inputs.map((input) => policy.evaluate(input as object, job.entrypoint));
}

if (!isMainThread && (workerData as Record<string, unknown> | null)?.[SANDBOX_FLAG] === true) {
  parentPort!.once('message', (job: SandboxJob & { wasm: ArrayBuffer }) => {
    serve(job).then(
      (results) => parentPort!.postMessage({ results }),
      (error: unknown) => parentPort!.postMessage({ error: error instanceof Error ? error.message : String(error) }),
    );
  });
}
