import { createHash } from 'node:crypto';
import { loadPolicy, type LoadedPolicy } from '@open-policy-agent/opa-wasm';
import type { EffectivePolicy } from '../config/settings.ts';
import type { Waiver } from '../config/types.ts';
import type { InventoryItem } from '../inventory/types.ts';
import type { RawFinding } from '../findings/types.ts';
import type { SourceStatus } from '../model/source.ts';
import { BUILTIN_BUNDLE, ENTRYPOINT, readBundle } from './bundle.ts';
import { policyData, policyItem, policySources, policyWaivers } from './input.ts';
import { DEFAULT_SANDBOX_TIMEOUT_MS, evaluateInSandbox, SandboxError } from './sandbox.ts';

/**
 * Items per evaluation. Measured (bench/): 250-1,000 items per call is fastest; larger batches
 * slow down more than linearly inside the wasm evaluator and grow its memory for good.
 */
export const DEFAULT_BATCH_SIZE = 500;

export class PolicyError extends Error {}

export interface EvaluationInput {
  items: readonly InventoryItem[];
  sources: readonly SourceStatus[];
  now: Date;
  policy: EffectivePolicy;
}

/** One compiled wasm policy and the entrypoint that yields its findings. */
export interface PolicyModule {
  name: string;
  policy: LoadedPolicy;
  entrypoint: string;
  digest: string;
  /** The user's code (a custom bundle): evaluated on a worker thread under a deadline, never in-process. */
  sandboxed: boolean;
  wasm: Uint8Array;
}

export async function loadModule(bundleFile: string, entrypoint: string, name = bundleFile, options: { sandboxed?: boolean } = {}): Promise<PolicyModule> {
  let bundle;
  try {
    bundle = await readBundle(bundleFile);
  } catch (error) {
    throw new PolicyError(`cannot read policy bundle ${name}: ${(error as Error).message}`);
  }
  let policy: LoadedPolicy;
  try {
    policy = await loadPolicy(toArrayBuffer(bundle.wasm));
  } catch (error) {
    throw new PolicyError(`policy bundle ${name} is not a loadable opa wasm module: ${errorText(error)}`);
  }
  if (!(entrypoint in policy.entrypoints)) {
    throw new PolicyError(`policy bundle ${name} has no entrypoint ${entrypoint} (it has: ${Object.keys(policy.entrypoints).join(', ') || 'none'})`);
  }
  const digest = 'sha256:' + createHash('sha256').update(bundle.wasm).digest('hex');
  return { name, policy, entrypoint, digest, sandboxed: options.sandboxed ?? false, wasm: bundle.wasm };
}

/** Evaluates the built-in bundle and any custom ones over the same input, batch by batch. */
export class PolicyEngine {
  readonly digest: string;
  readonly modules: readonly PolicyModule[];
  readonly #batchSize: number;

  constructor(modules: PolicyModule[], batchSize = DEFAULT_BATCH_SIZE) {
    this.modules = modules;
    this.#batchSize = batchSize;
    this.digest =
      modules.length === 1
        ? modules[0]!.digest
        : 'sha256:' + createHash('sha256').update(modules.map((module) => module.digest).join('\n')).digest('hex');
  }

  static async load(bundleFile: string = BUILTIN_BUNDLE, batchSize = DEFAULT_BATCH_SIZE): Promise<PolicyEngine> {
    return new PolicyEngine([await loadModule(bundleFile, ENTRYPOINT, 'built-in policies')], batchSize);
  }

  /**
   * The built-in policies' findings, in-process, in a stable order (rule, then uid), so two runs
   * over the same evidence compare equal. Custom bundles need evaluateAll.
   */
  evaluate(input: EvaluationInput): RawFinding[] {
    if (this.modules.some((module) => module.sandboxed)) throw new PolicyError('custom policy bundles are loaded: evaluate them with evaluateAll');
    const findings: RawFinding[] = [];
    const data = policyData(input.policy, input.items, input.sources);
    for (const module of this.modules) {
      module.policy.setData(data);
      for (const encoded of this.#batches(input)) appendResult(findings, evaluateHere(module, encoded));
    }
    return findings.sort(compareFindings);
  }

  /** Every module's findings: built-in ones in-process, custom ones on a worker under `timeoutMs` each. */
  async evaluateAll(input: EvaluationInput, timeoutMs = DEFAULT_SANDBOX_TIMEOUT_MS): Promise<RawFinding[]> {
    const findings: RawFinding[] = [];
    const data = policyData(input.policy, input.items, input.sources);
    for (const module of this.modules) {
      if (!module.sandboxed) {
        module.policy.setData(data);
        for (const encoded of this.#batches(input)) appendResult(findings, evaluateHere(module, encoded));
        continue;
      }
      let resultSets: unknown[];
      try {
        resultSets = await evaluateInSandbox({ wasm: module.wasm, entrypoint: module.entrypoint, data, inputs: [...this.#batches(input)] }, timeoutMs);
      } catch (error) {
        if (!(error instanceof SandboxError)) throw error;
        throw new PolicyError(`policy evaluation failed in ${module.name}: ${error.message}`);
      }
      for (const resultSet of resultSets) appendResult(findings, resultSet);
    }
    return findings.sort(compareFindings);
  }

  /**
   * Sources and waivers are judged once, on their own, so no batch repeats those findings; items
   * follow in batches. Each input is encoded once as an ArrayBuffer of JSON (no per-item marshalling).
   */
  *#batches(input: EvaluationInput): Generator<ArrayBuffer> {
    yield encodedInput(input.now, null, input.sources, input.policy.waivers);
    for (let start = 0; start < input.items.length; start += this.#batchSize) {
      yield encodedInput(input.now, input.items.slice(start, start + this.#batchSize), [], []);
    }
  }
}

/**
 * One evaluation's input as the policy reads it, encoded once as an ArrayBuffer of JSON (no
 * per-item marshalling): a batch of items (`items`), or with `items` null the sources and waivers
 * on their own, judged once so that no batch repeats those findings.
 */
export function encodedInput(now: Date, items: readonly InventoryItem[] | null, sources: readonly SourceStatus[], waivers: readonly Waiver[]): ArrayBuffer {
  if (items !== null) return encodedItemsInput(now, items.map((item) => JSON.stringify(policyItem(item))));
  const input = { now: now.toISOString(), now_s: Math.floor(now.getTime() / 1000), items: [], sources: policySources([...sources]), waivers: policyWaivers(waivers) };
  return encoded(JSON.stringify(input));
}

/** The same for a batch of items given as their policy JSON (policyItemJson): the input is assembled as text. */
export function encodedItemsInput(now: Date, itemsJson: readonly string[]): ArrayBuffer {
  return encoded(`{"now":${JSON.stringify(now.toISOString())},"now_s":${Math.floor(now.getTime() / 1000)},"items":[${itemsJson.join(',')}],"sources":[],"waivers":[]}`);
}

function encoded(text: string): ArrayBuffer {
  const bytes = new TextEncoder().encode(text);
  // Encoded into a buffer of its own: handed over as it is, not copied again.
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? (bytes.buffer as ArrayBuffer) : toArrayBuffer(bytes);
}

function evaluateHere(module: PolicyModule, encoded: ArrayBuffer): unknown {
  try {
    return module.policy.evaluate(encoded, module.entrypoint);
  } catch (error) {
    throw new PolicyError(`policy evaluation failed in ${module.name}: ${errorText(error)}`);
  }
}

/** Appended one by one: a spread of ~100k arguments overflows the call stack. */
function appendResult(findings: RawFinding[], resultSet: unknown): void {
  for (const finding of resultFindings(resultSet)) findings.push(finding);
}

/** The findings an entrypoint's result set holds (none when it holds no list). */
export function resultFindings(resultSet: unknown): RawFinding[] {
  const first = Array.isArray(resultSet) ? (resultSet[0] as { result?: unknown } | undefined) : undefined;
  return first && Array.isArray(first.result) ? (first.result as RawFinding[]) : [];
}

export function compareFindings(a: RawFinding, b: RawFinding): number {
  return order(a.rule, b.rule) || order(a.uid, b.uid) || order(JSON.stringify(a), JSON.stringify(b));
}

// Code-unit order, not locale order: the same on every machine.
function order(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}
