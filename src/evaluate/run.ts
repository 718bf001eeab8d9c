import { availableParallelism } from 'node:os';
import { closeSync, openSync, writeSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import type { CertificateEntry } from '../certificates/relations.ts';
import type { DriftEntry } from '../drift/index.ts';
import { policyDataFrom } from '../engine/input.ts';
import { PolicyError } from '../engine/engine.ts';
import { inventoryDigestOf } from '../findings/fingerprint.ts';
import { EvidenceScanError, EvidenceScanner } from '../inventory/evidence-scanner.ts';
import { evidenceHeader, InventoryFileError, type EvidenceHeader } from '../inventory/file.ts';
import { FileReadError, MIB, openRegularFile } from '../util/read-regular-file.ts';
import { redactLive } from '../util/redact.ts';
import { BatchError, type EvaluateSetup } from './batch.ts';
import type { EvaluatedEvidence, FindingRecords } from '../report/streamed.ts';
import { localLane, workerLane, type Lane, type LaneSetup } from './lanes.ts';

// `evaluate --inventory` for estates of any size: the file is split into items as it is read
// (never held whole, never parsed on this thread), batches are loaded and evaluated on lanes
// (worker threads, one wasm instance each), and what comes back is each item's and each
// finding's JSON, in order, for the writers to stream out. docs/scale.md has the figures.

/**
 * Items per batch. Measured (bench/): the wasm evaluator slows down more than linearly with the
 * batch, 100-250 items per call is fastest; per-call costs rise below that.
 */
export const BATCH_ITEMS = 200;
/** Batches a lane is given before it answers: enough to keep it busy, few enough to bound memory. */
const IN_FLIGHT_PER_LANE = 2;
const CHUNK_BYTES = 4 * MIB;
/** The largest evidence file read; items are streamed, so this bounds time and disk, not memory. */
export const MAX_STREAMED_FILE_BYTES = 64 * 1024 * MIB;
export const MAX_ITEM_BYTES = 16 * MIB;
const MAX_FIELD_BYTES = 256 * MIB;
/** Below this an evidence file is evaluated on the calling thread: starting threads would cost more than they save. */
const SMALL_FILE_BYTES = 4 * MIB;

/** How many evaluation threads: `requested` (--threads / KEYDRIFT_THREADS) or one per core, up to 8; small files use one. */
export function threadCount(requested: number | undefined, fileBytes: number): number {
  if (requested !== undefined) return requested;
  if (fileBytes < SMALL_FILE_BYTES) return 1;
  return Math.max(1, Math.min(8, availableParallelism()));
}

export interface LoadOptions {
  file: string;
  shown: string;
  lane: Omit<LaneSetup, 'load'>;
  shard?: LaneSetup['load']['shard'];
  /** Evaluation threads: 1 evaluates on this thread, more start that many worker threads. */
  threads?: number;
}

interface BatchPlace {
  id: number;
  lane: Lane;
}

/** An evidence file loaded onto lanes, ready to evaluate. */
export class LoadedEvidenceRun {
  readonly header: EvidenceHeader;
  /** Items in the file, and those this shard kept. */
  readonly read: number;
  readonly kept: number;
  readonly threads: number;
  readonly #lanes: Lane[];
  readonly #batches: BatchPlace[];
  readonly #certificates: CertificateEntry[];
  readonly #drift: DriftEntry[];

  private constructor(fields: { header: EvidenceHeader; read: number; kept: number; lanes: Lane[]; batches: BatchPlace[]; certificates: CertificateEntry[]; drift: DriftEntry[] }) {
    this.header = fields.header;
    this.read = fields.read;
    this.kept = fields.kept;
    this.threads = fields.lanes.length;
    this.#lanes = fields.lanes;
    this.#batches = fields.batches;
    this.#certificates = fields.certificates;
    this.#drift = fields.drift;
  }

  static async load(options: LoadOptions): Promise<LoadedEvidenceRun> {
    const handle = await openEvidence(options.file, options.shown);
    const size = (await handle.stat()).size;
    if (size > MAX_STREAMED_FILE_BYTES) {
      await handle.close();
      throw new InventoryFileError(`${options.shown}: larger than ${MAX_STREAMED_FILE_BYTES / 1024 / MIB} GiB (${size} bytes), refused`, 'too-large');
    }
    const threads = threadCount(options.threads, size);
    const setup: LaneSetup = { ...options.lane, load: { file: options.shown, ...(options.shard ? { shard: options.shard } : {}) } };
    const lanes: Lane[] = threads <= 1 ? [await localLane(setup)] : await Promise.all(Array.from({ length: threads }, () => workerLane(setup)));
    try {
      return await LoadedEvidenceRun.#read(handle, options.shown, lanes);
    } catch (error) {
      await Promise.all(lanes.map((lane) => lane.close()));
      throw error;
    } finally {
      await handle.close();
    }
  }

  static async #read(handle: FileHandle, shown: string, lanes: Lane[]): Promise<LoadedEvidenceRun> {
    const batches: BatchPlace[] = [];
    const certificates: CertificateEntry[][] = [];
    const drift: DriftEntry[][] = [];
    const inFlight = new Map<Lane, number>(lanes.map((lane) => [lane, 0]));
    const running = new Set<Promise<void>>();
    let kept = 0;
    let failure: unknown = null;
    let pending: Buffer[] = [];
    let firstIndex = 0;
    let nextIndex = 0;
    const ready: { bytes: Buffer; firstIndex: number }[] = [];
    const cut = () => {
      if (pending.length === 0) return;
      const parts: Buffer[] = [OPEN];
      for (let i = 0; i < pending.length; i++) {
        if (i > 0) parts.push(COMMA);
        parts.push(pending[i]!);
      }
      parts.push(CLOSE);
      ready.push({ bytes: Buffer.concat(parts), firstIndex });
      firstIndex = nextIndex;
      pending = [];
    };
    const scanner = new EvidenceScanner(
      (bytes) => {
        pending.push(bytes);
        nextIndex++;
        if (pending.length >= BATCH_ITEMS) cut();
      },
      { maxItemBytes: MAX_ITEM_BYTES, maxFieldBytes: MAX_FIELD_BYTES },
    );
    const dispatch = async () => {
      while (ready.length > 0) {
        let lane = leastBusy(inFlight);
        while (inFlight.get(lane)! >= IN_FLIGHT_PER_LANE) {
          await Promise.race(running);
          if (failure) throw failure;
          lane = leastBusy(inFlight);
        }
        const { bytes, firstIndex: first } = ready.shift()!;
        const id = batches.length;
        batches.push({ id, lane });
        inFlight.set(lane, inFlight.get(lane)! + 1);
        const task = lane.load(id, bytes, first).then(
          (loaded) => {
            kept += loaded.kept;
            certificates[id] = loaded.certificates;
            drift[id] = loaded.drift;
          },
          (error: unknown) => {
            failure ??= error;
          },
        );
        const tracked: Promise<void> = task.finally(() => {
          inFlight.set(lane, inFlight.get(lane)! - 1);
          running.delete(tracked);
        });
        running.add(tracked);
      }
    };
    const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
    let position = 0;
    try {
      for (;;) {
        const { bytesRead } = await handle.read(buffer, 0, CHUNK_BYTES, position);
        if (bytesRead === 0) break;
        const chunk = buffer.subarray(0, bytesRead);
        if (position === 0) {
          if (chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) chunk.fill(0x20, 0, 3);
          if (EvidenceScanner.sniffJsonLines(chunk, shown)) scanner.startJsonLines();
        }
        position += bytesRead;
        if (position > MAX_STREAMED_FILE_BYTES) throw new InventoryFileError(`${shown}: larger than ${MAX_STREAMED_FILE_BYTES / 1024 / MIB} GiB (it grew while read), refused`, 'too-large');
        scanner.push(chunk);
        await dispatch();
        if (failure) throw failure;
      }
      scanner.end();
      cut();
      await dispatch();
      await Promise.all(running);
      if (failure) throw failure;
    } catch (error) {
      await Promise.allSettled(running);
      throw describe(error, shown);
    }
    if (scanner.shape === null) throw new InventoryFileError(`${shown}: neither a keydrift inventory, a JSON report nor an array of items`);
    const header = evidenceHeader(scanner.shape, parsedFields(scanner.fields, shown), shown);
    return new LoadedEvidenceRun({ header, read: scanner.items, kept, lanes, batches, certificates: certificates.flat(), drift: drift.flat() });
  }

  /**
   * Every batch's findings and items. The inventory's JSON goes to `inventoryFile` (comma-separated
   * items, in file order) as batches finish; findings stay here as JSON, in the engine's order.
   */
  async evaluate(setup: EvaluateSetup, inventoryFile: string): Promise<EvaluatedEvidence> {
    const data = policyDataFrom(setup.policy, { certificates: this.#certificates, drift: this.#drift }, setup.sources);
    await Promise.all(this.#lanes.map((lane) => lane.setData(data, setup)));
    const out = openSync(inventoryFile, 'w', 0o600);
    const findings: FindingRecords & { batch: number[]; position: number[] } = { ruleIds: [], uids: [], severities: [], waived: [], json: [], batch: [], position: [] };
    const digests: string[] = [];
    try {
      const done = new Map<number, string>();
      let nextToWrite = 0;
      let wroteAny = false;
      const write = () => {
        for (let text = done.get(nextToWrite); text !== undefined; text = done.get(nextToWrite)) {
          done.delete(nextToWrite);
          nextToWrite++;
          if (text === '') continue;
          writeSync(out, (wroteAny ? ',' : '') + redactLive(text));
          wroteAny = true;
        }
      };
      const take = (batch: number, result: Awaited<ReturnType<Lane['evaluate']>>) => {
        const records = result.findings;
        for (let i = 0; i < records.ruleIds.length; i++) {
          findings.ruleIds.push(records.ruleIds[i]!);
          findings.uids.push(records.uids[i]!);
          findings.severities.push(records.severities[i]!);
          findings.waived.push(records.waived[i]!);
          findings.json.push(records.json[i]!);
          findings.batch.push(batch);
          findings.position.push(i);
        }
        for (const digest of result.digests) digests.push(digest);
        if (batch >= 0) {
          done.set(batch, result.itemsJson);
          write();
        }
      };
      take(-1, await this.#lanes[0]!.evaluate(-1).catch((error: unknown) => Promise.reject(asPolicyError(error))));
      await runBounded(this.#batches, this.#lanes, async (place) => take(place.id, await place.lane.evaluate(place.id).catch((error: unknown) => Promise.reject(asPolicyError(error)))));
    } finally {
      closeSync(out);
    }
    return { findings, order: engineOrder(findings), items: digests.length, inventoryDigest: inventoryDigestOf(digests), inventoryFile };
  }

  async close(): Promise<void> {
    await Promise.all(this.#lanes.map((lane) => lane.close()));
  }
}

const OPEN = Buffer.from('[');
const COMMA = Buffer.from(',');
const CLOSE = Buffer.from(']');

function leastBusy(inFlight: Map<Lane, number>): Lane {
  let best: Lane | null = null;
  for (const [lane, count] of inFlight) if (best === null || count < inFlight.get(best)!) best = lane;
  return best!;
}

/** Each batch on the lane that holds it, at most IN_FLIGHT_PER_LANE at a time per lane. */
async function runBounded(batches: readonly BatchPlace[], lanes: readonly Lane[], work: (place: BatchPlace) => Promise<void>): Promise<void> {
  const queues = new Map<Lane, BatchPlace[]>(lanes.map((lane) => [lane, []]));
  for (const place of batches) queues.get(place.lane)!.push(place);
  await Promise.all(
    [...queues.values()].flatMap((queue) =>
      Array.from({ length: IN_FLIGHT_PER_LANE }, async () => {
        for (let place = queue.shift(); place !== undefined; place = queue.shift()) await work(place);
      }),
    ),
  );
}

/** The order one thread gives (PolicyEngine: rule, then uid); batches and positions keep it stable across thread counts. */
function engineOrder(findings: EvaluatedEvidence['findings']): Uint32Array {
  const order = new Uint32Array(findings.ruleIds.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  const { ruleIds, uids, batch, position } = findings;
  return order.sort((a, b) => {
    const ruleA = ruleIds[a]!;
    const ruleB = ruleIds[b]!;
    if (ruleA !== ruleB) return ruleA < ruleB ? -1 : 1;
    const uidA = uids[a]!;
    const uidB = uids[b]!;
    if (uidA !== uidB) return uidA < uidB ? -1 : 1;
    return batch[a]! - batch[b]! || position[a]! - position[b]!;
  });
}

async function openEvidence(file: string, shown: string): Promise<FileHandle> {
  try {
    return await openRegularFile(file);
  } catch (error) {
    if (error instanceof FileReadError) throw new InventoryFileError(`${shown}: ${error.message}`, error.reason);
    throw error;
  }
}

function parsedFields(fields: Map<string, Buffer>, shown: string): Record<string, unknown> {
  const header = fields.get('(header)');
  if (header) return parseField(header, '(header line)', shown) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [key, bytes] of fields) out[key] = parseField(bytes, key, shown);
  return out;
}

function parseField(bytes: Buffer, name: string, shown: string): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new InventoryFileError(`${shown}: "${name}" is not valid JSON`);
  }
}

function describe(error: unknown, shown: string): unknown {
  if (error instanceof EvidenceScanError) return new InventoryFileError(`${shown}: not valid JSON: ${error.message}`);
  if (error instanceof BatchError) return new InventoryFileError(error.message);
  return error;
}

function asPolicyError(error: unknown): unknown {
  if (error instanceof BatchError || error instanceof PolicyError) return error;
  return new PolicyError(`policy evaluation failed in built-in policies: ${error instanceof Error ? error.message : String(error)}`);
}
