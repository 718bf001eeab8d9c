import { createHash } from 'node:crypto';
import { loadPolicy, type LoadedPolicy } from '@open-policy-agent/opa-wasm';
import type { EffectivePolicy } from '../config/settings.ts';
import type { InventoryItem } from '../inventory/types.ts';
import type { RawFinding, SourceStatus } from '../findings/types.ts';
import { BUILTIN_BUNDLE, ENTRYPOINT, readBundle } from './bundle.ts';
import { policyData, policyItem, policySources, policyWaivers } from './input.ts';

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
}

export async function loadModule(bundleFile: string, entrypoint: string, name = bundleFile): Promise<PolicyModule> {
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
  return { name, policy, entrypoint, digest };
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

  /** Findings in a stable order (rule, then uid), so two runs over the same evidence compare equal. */
  evaluate(input: EvaluationInput): RawFinding[] {
    const data = policyData(input.policy);
    for (const module of this.modules) module.policy.setData(data);
    const nowSeconds = Math.floor(input.now.getTime() / 1000);
    const now = input.now.toISOString();
    const findings: RawFinding[] = [];
    // Sources and waivers are judged once, on their own, so no batch repeats those findings.
    findings.push(
      ...this.#run({ now, now_s: nowSeconds, items: [], sources: policySources([...input.sources]), waivers: policyWaivers(input.policy.waivers) }),
    );
    for (let start = 0; start < input.items.length; start += this.#batchSize) {
      const batch = input.items.slice(start, start + this.#batchSize).map(policyItem);
      findings.push(...this.#run({ now, now_s: nowSeconds, items: batch, sources: [], waivers: [] }));
    }
    return findings.sort(compareFindings);
  }

  #run(input: unknown): RawFinding[] {
    // Encoded once, handed to every module as an ArrayBuffer of JSON (no per-item marshalling).
    const encoded = toArrayBuffer(new TextEncoder().encode(JSON.stringify(input)));
    const out: RawFinding[] = [];
    for (const module of this.modules) {
      let resultSet: unknown;
      try {
        resultSet = module.policy.evaluate(encoded, module.entrypoint);
      } catch (error) {
        throw new PolicyError(`policy evaluation failed in ${module.name}: ${errorText(error)}`);
      }
      const first = Array.isArray(resultSet) ? (resultSet[0] as { result?: unknown } | undefined) : undefined;
      if (first && Array.isArray(first.result)) out.push(...(first.result as RawFinding[]));
    }
    return out;
  }
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
