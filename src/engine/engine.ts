import { createHash } from 'node:crypto';
import { loadPolicy, type LoadedPolicy } from '@open-policy-agent/opa-wasm';
import type { EffectivePolicy } from '../config/settings.ts';
import type { InventoryItem } from '../inventory/types.ts';
import type { RawFinding, SourceStatus } from '../findings/types.ts';
import { BUILTIN_BUNDLE, ENTRYPOINT, readBundle } from './bundle.ts';
import { policyData, policyItem, policySources, policyWaivers } from './input.ts';

/** Items per evaluation: large enough to amortise the call, small enough to keep wasm memory flat. */
export const DEFAULT_BATCH_SIZE = 2000;

export class PolicyError extends Error {}

export interface EvaluationInput {
  items: readonly InventoryItem[];
  sources: readonly SourceStatus[];
  now: Date;
  policy: EffectivePolicy;
}

export class PolicyEngine {
  readonly digest: string;
  readonly #policy: LoadedPolicy;
  readonly #batchSize: number;

  private constructor(policy: LoadedPolicy, digest: string, batchSize: number) {
    this.#policy = policy;
    this.digest = digest;
    this.#batchSize = batchSize;
  }

  static async load(bundleFile: string = BUILTIN_BUNDLE, batchSize = DEFAULT_BATCH_SIZE): Promise<PolicyEngine> {
    let bundle;
    try {
      bundle = await readBundle(bundleFile);
    } catch (error) {
      throw new PolicyError(`cannot read policy bundle ${bundleFile}: ${(error as Error).message}`);
    }
    const policy = await loadPolicy(toArrayBuffer(bundle.wasm));
    if (!(ENTRYPOINT in policy.entrypoints)) {
      throw new PolicyError(`policy bundle ${bundleFile} has no entrypoint ${ENTRYPOINT}`);
    }
    const digest = 'sha256:' + createHash('sha256').update(bundle.wasm).digest('hex');
    return new PolicyEngine(policy, digest, batchSize);
  }

  /** Findings in a stable order (rule, then uid), so two runs over the same evidence compare equal. */
  evaluate(input: EvaluationInput): RawFinding[] {
    this.#policy.setData(policyData(input.policy));
    const nowSeconds = Math.floor(input.now.getTime() / 1000);
    const now = input.now.toISOString();
    const findings: RawFinding[] = [];
    // Sources are judged once, on their own, so no batch repeats a coverage finding.
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
    const encoded = new TextEncoder().encode(JSON.stringify(input));
    let resultSet: unknown;
    try {
      resultSet = this.#policy.evaluate(toArrayBuffer(encoded), ENTRYPOINT);
    } catch (error) {
      throw new PolicyError(`policy evaluation failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    const first = Array.isArray(resultSet) ? (resultSet[0] as { result?: unknown } | undefined) : undefined;
    if (!first || !Array.isArray(first.result)) return [];
    return first.result as RawFinding[];
  }
}

export function compareFindings(a: RawFinding, b: RawFinding): number {
  return order(a.rule, b.rule) || order(a.uid, b.uid) || order(JSON.stringify(a), JSON.stringify(b));
}

// Code-unit order, not locale order: the same on every machine.
function order(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}
