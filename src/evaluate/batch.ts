import type { EffectivePolicy } from '../config/settings.ts';
import type { TierRule } from '../config/types.ts';
import { assignTier } from '../collectors/tiers.ts';
import { certificateEntry, type CertificateEntry } from '../certificates/relations.ts';
import { driftEntry, type DriftEntry } from '../drift/index.ts';
import { compareFindings, encodedInput, encodedItemsInput, resultFindings } from '../engine/engine.ts';
import { policyItemJson } from '../engine/input.ts';
import { assembleFindings } from '../findings/assemble.ts';
import { digestOfText } from '../findings/fingerprint.ts';
import type { Finding } from '../findings/types.ts';
import { applyWaivers } from '../findings/waivers.ts';
import { EvidenceScanner } from '../inventory/evidence-scanner.ts';
import { itemLabel, itemProblem } from '../inventory/file.ts';
import type { InventoryItem } from '../inventory/types.ts';
import type { SourceStatus } from '../model/source.ts';
import type { RuleEntry } from '../rules/catalogue.ts';
import type { FindingRecords } from '../report/streamed.ts';
import { inShard, itemShardKey, type Shard } from '../shard/shard.ts';

// The work of one batch of items (a byte range of the evidence file), in two steps, the same on
// a worker thread and in-process: load (parse, validate, shard, the index entries) and evaluate
// (parse again, tiers, each item's report JSON and digest, the policy, then findings assembled,
// waived and written as JSON). Nothing here depends on other batches except through the index
// data the caller builds between the steps; nothing is held between them.

/** What reading a batch needs; plain data, so it crosses to a worker as it is. */
export interface LoadSetup {
  /** The evidence file as shown in messages. */
  file: string;
  /** Its path, to read batches from. */
  path: string;
  /** One item per line (JSON Lines) rather than elements of a JSON array. */
  jsonLines: boolean;
  shard?: Shard;
}

/** A batch's bytes (from its first item's first byte to its last item's last) as a JSON array's text. */
export function batchText(setup: LoadSetup, bytes: Uint8Array): string {
  // A byte-order mark can only open the file: before a JSON Lines file's first item.
  const text = new TextDecoder().decode(bytes).replace(/^\uFEFF/, '');
  if (!setup.jsonLines) return `[${text}]`;
  const lines = text.split('\n').filter((line) => line.trim() !== '');
  return `[${lines.join(',')}]`;
}

/** What evaluating needs: known only once the whole file is read (its sources, the recorded clock and policy). */
export interface EvaluateSetup {
  /** The config's tier rules: re-assigned as a scan would; absent keeps the saved tiers. */
  tiers?: TierRule[];
  now: string;
  policy: EffectivePolicy;
  sources: SourceStatus[];
  fallbackFile: string;
  /** The rules' catalogue entries, read once by the caller: each thread would otherwise parse rules/ again. */
  rules: [string, RuleEntry][];
}

export class BatchError extends Error {}

/** A batch read: its valid items this shard keeps, and how many the file held. */
export interface ReadBatch {
  read: number;
  items: InventoryItem[];
}

/**
 * `text` is a JSON array of the batch's items; `firstIndex` the first one's position in the file,
 * so an invalid item is named as loadEvidence names it ("item 17 (uid): field: problem").
 * `check`: validate every item (the first time a batch is read; a batch read again was checked).
 */
export function readBatch(setup: LoadSetup, text: string, firstIndex: number, check: boolean): ReadBatch {
  const parsed = parseItems(setup, text, firstIndex);
  const items: InventoryItem[] = [];
  for (const [offset, raw] of parsed.entries()) {
    if (check) {
      const problem = itemProblem(raw);
      if (problem !== null) throw new BatchError(`${setup.file}: ${itemLabel(raw, firstIndex + offset)}: ${problem}`);
    }
    const item = raw as InventoryItem;
    if (setup.shard && !inShard(itemShardKey(item), setup.shard)) continue;
    items.push(item);
  }
  return { read: parsed.length, items };
}

/** What the run's policy data needs of a batch's items: the certificate and drift index entries. */
export interface IndexEntries {
  certificates: CertificateEntry[];
  drift: DriftEntry[];
}

export function indexEntries(items: readonly InventoryItem[]): IndexEntries {
  const certificates: CertificateEntry[] = [];
  const drift: DriftEntry[] = [];
  for (const item of items) {
    const certificate = certificateEntry(item);
    if (certificate) certificates.push(certificate);
    const key = driftEntry(item);
    if (key) drift.push(key);
  }
  return { certificates, drift };
}

/** The items' JSON, comma-separated, each one's digest and its JSON as the policy reads it: one JSON.stringify per item for all three. */
function itemsText(items: readonly InventoryItem[]): { json: string; digests: string[]; policyJson: string[] } {
  let json = '';
  const digests: string[] = [];
  const policyJson: string[] = [];
  for (let i = 0; i < items.length; i++) {
    const text = JSON.stringify(items[i]);
    json += (i > 0 ? ',' : '') + text;
    digests.push(digestOfText(text));
    policyJson.push(policyItemJson(items[i]!, text));
  }
  return { json, digests, policyJson };
}

export function parseItems(setup: LoadSetup, text: string, firstIndex: number): unknown[] {
  try {
    return JSON.parse(text) as unknown[];
  } catch {
    // Which one: parsed one by one only when the batch as a whole is not JSON.
    const parts = splitTopLevel(text);
    for (const [offset, part] of parts.entries()) {
      try {
        JSON.parse(part);
      } catch {
        // JSON.parse's own message quotes the text: the file may hold anything (a key, a shadow file).
        throw new BatchError(`${setup.file}: item ${firstIndex + offset} is not valid JSON`);
      }
    }
    throw new BatchError(`${setup.file}: items ${firstIndex}..${firstIndex + parts.length - 1} are not valid JSON`);
  }
}

/** The elements of a JSON array's text, as the evidence scanner splits them (strings and nesting respected). */
function splitTopLevel(text: string): string[] {
  const bytes = Buffer.from(text);
  const parts: string[] = [];
  const scanner = new EvidenceScanner((start, end) => parts.push(bytes.subarray(start, end).toString('utf8')), { maxItemBytes: bytes.length, maxFieldBytes: bytes.length });
  try {
    scanner.push(bytes);
  } catch {
    // Broken past repair: what was split before the break still names the first bad item.
  }
  return parts;
}

/** An evaluated batch: its items as the report lists them, and its findings. */
export interface EvaluatedBatch {
  /** The items' report JSON, comma-separated (tiers assigned). */
  itemsJson: string;
  /** Each item's digest (itemDigest), for the inventory digest. */
  digests: string[];
  findings: FindingRecords;
}

/** A compiled policy that evaluates one encoded input (opa-wasm's LoadedPolicy, set up with the run's data). */
export interface BatchPolicy {
  evaluate(input: ArrayBuffer): unknown;
}

/**
 * Evaluates a batch's items, or with `items` null the run's sources and waivers on their own
 * (judged once, so no batch repeats those findings). Findings come back in the engine's order
 * (rule, uid, decision) and as the report writes them.
 */
export function evaluateItems(setup: EvaluateSetup, policy: BatchPolicy, rules: ReadonlyMap<string, RuleEntry>, read: readonly InventoryItem[] | null): EvaluatedBatch {
  const now = new Date(setup.now);
  const tiers = setup.tiers;
  const items = read === null ? [] : tiers ? read.map((item) => assignTier(item, tiers)) : read;
  const { json: reportJson, digests, policyJson } = itemsText(items);
  const input = read === null ? encodedInput(now, null, setup.sources, setup.policy.waivers) : encodedItemsInput(now, policyJson);
  const raw = resultFindings(policy.evaluate(input)).sort(compareFindings);
  const findings: Finding[] = applyWaivers(assembleFindings(raw, items, setup.sources, setup.fallbackFile, setup.policy.waivers, rules), setup.policy.waivers, now);
  const records: FindingRecords = { ruleIds: [], uids: [], severities: [], waived: [], json: [] };
  for (const finding of findings) {
    records.ruleIds.push(finding.ruleId);
    records.uids.push(finding.resource.uid);
    records.severities.push(finding.severity);
    records.waived.push(finding.waiver !== undefined);
    records.json.push(JSON.stringify(finding));
  }
  return { itemsJson: reportJson, digests, findings: records };
}
