import { availableParallelism } from 'node:os';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { CertificateEntry } from '../certificates/relations.ts';
import type { DriftEntry } from '../drift/index.ts';
import { policyDataFrom } from '../engine/input.ts';
import { PolicyError } from '../engine/engine.ts';
import { inventoryDigestOf } from '../findings/fingerprint.ts';
import { EvidenceScanError, EvidenceScanner } from '../inventory/evidence-scanner.ts';
import { evidenceHeader, InventoryFileError, type EvidenceHeader } from '../inventory/file.ts';
import type { EvaluatedEvidence, FindingJson, FindingRecords } from '../report/streamed.ts';
import { FileReader, type StoredFindings } from './lane-files.ts';
import { FileReadError, MIB, openRegularFile } from '../util/read-regular-file.ts';
import { BatchError, type EvaluateSetup } from './batch.ts';
import { localLane, workerLane, type BatchRange, type FirstEvaluation, type Lane, type LaneResult, type LaneSetup } from './lanes.ts';

// `evaluate --inventory` for estates of any size, in one pass: the file is split into items as it
// is read (never held whole, never parsed on this thread), and each batch is read, checked and
// evaluated on a lane (a worker thread with its own wasm instance) while the next is found.
//
// A few rules compare an item with others (a certificate's issuer, chain and key reuse; declared
// and live keys), through indexes over the whole inventory that only exist at the end. So the
// first pass evaluates with empty indexes, and then evaluates again exactly the batches whose
// result could differ: those holding a certificate whose issuer, chain or key has a group in the
// final index, or every batch when drift is in play or the file named its sources, clock or
// policy only after its items. The findings are those of one evaluation with the whole index.
// docs/scale.md has the figures.

/**
 * Items per batch. Measured (bench/): the wasm evaluator slows down more than linearly with the
 * batch, 100-250 items per call is fastest; per-call costs rise below that.
 */
const BATCH_ITEMS = 200;
/** A batch also ends at this many bytes: items are bounded one by one, batches are too. */
const BATCH_BYTES = 16 * MIB;
/** Batches a lane is given before it answers: enough to keep it busy, few enough to bound memory. */
const IN_FLIGHT_PER_LANE = 2;
const CHUNK_BYTES = 4 * MIB;
/** The largest evidence file read; items are streamed, so this bounds time and disk, not memory. */
export const MAX_STREAMED_FILE_BYTES = 64 * 1024 * MIB;
const MAX_ITEM_BYTES = 16 * MIB;
const MAX_FIELD_BYTES = 256 * MIB;
/** Below this an evidence file is evaluated on the calling thread: starting threads would cost more than they save. */
const SMALL_FILE_BYTES = 4 * MIB;

/** How many evaluation threads: `requested` (--threads / KEYDRIFT_THREADS) or one per core, up to 8; small files use one. */
function threadCount(requested: number | undefined, fileBytes: number): number {
  if (requested !== undefined) return requested;
  if (fileBytes < SMALL_FILE_BYTES) return 1;
  return Math.max(1, Math.min(8, availableParallelism()));
}

/** How to evaluate, decided from what the file says about itself; null: not streamed at all (the caller evaluates otherwise). */
export interface RunPlan {
  setup: EvaluateSetup;
  /** The folder the lanes write the items' and findings' JSON to until the reports are written (the output folder). */
  dir: string;
}

export interface StreamOptions {
  file: string;
  shown: string;
  lane: Omit<LaneSetup, 'load'>;
  shard?: LaneSetup['load']['shard'];
  /** Evaluation threads: 1 evaluates on this thread, more start that many worker threads. */
  threads?: number;
  /**
   * Decides the plan from the header: first with what precedes the items (may be called again
   * with the whole header at the end; a different plan then means evaluating everything again).
   */
  plan(header: EvidenceHeader): Promise<RunPlan | null>;
}

export interface StreamOutcome {
  header: EvidenceHeader;
  plan: RunPlan;
  evaluated: EvaluatedEvidence;
  read: number;
  threads: number;
  /** Batches evaluated a second time (with the whole index, or a plan known only at the end). */
  again: number;
  batches: number;
}

interface BatchState {
  range: BatchRange;
  /** Where the lane wrote the items' JSON, and their digests. */
  items: Placed | null;
  digests: string[] | null;
  findings: PlacedFindings | null;
  certificates: CertificateEntry[];
}

/** A piece of a lane's file, by path. */
interface Placed {
  file: string;
  offset: number;
  length: number;
}

/** Stored findings with the paths of the files they name. */
interface PlacedFindings extends StoredFindings {
  paths: string[];
}

function placed(result: LaneResult): { items: Placed | null; findings: PlacedFindings } {
  return {
    items: result.items ? { file: result.files[result.items.file]!, offset: result.items.offset, length: result.items.length } : null,
    findings: { ...result.findings, paths: result.files },
  };
}

/** Evaluates an evidence file; null when the plan says it is not to be streamed. */
export async function evaluateStream(options: StreamOptions): Promise<StreamOutcome | null> {
  const handle = await openEvidence(options.file, options.shown);
  let lanes: Promise<Lane>[] = [];
  let failed = false;
  try {
    const size = (await handle.stat()).size;
    if (size > MAX_STREAMED_FILE_BYTES) throw new InventoryFileError(`${options.shown}: larger than ${MAX_STREAMED_FILE_BYTES / 1024 / MIB} GiB (${size} bytes), refused`, 'too-large');
    const head = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, size));
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    const jsonLines = EvidenceScanner.sniffJsonLines(head.subarray(0, bytesRead), options.shown);
    const threads = threadCount(options.threads, size);
    const setup: LaneSetup = { ...options.lane, load: { file: options.shown, path: path.resolve(options.file), jsonLines, ...(options.shard ? { shard: options.shard } : {}) } };
    // The threads start while the file is split into batches: neither waits for the other.
    const starting = threads <= 1 ? [localLane(setup)] : Array.from({ length: threads }, () => workerLane(setup));
    const up = Promise.all(starting);
    // Observed through the run (which records the failure) and the close below; never left unhandled.
    up.catch(() => undefined);
    lanes = starting;
    return await new StreamRun(options, up, jsonLines).run(handle);
  } catch (error) {
    failed = true;
    throw describe(error, options.shown);
  } finally {
    const started = await Promise.allSettled(lanes);
    await Promise.all(started.map((lane) => (lane.status === 'fulfilled' ? lane.value.close(failed) : undefined)));
    await handle.close();
  }
}

class StreamRun {
  readonly #options: StreamOptions;
  readonly #up: Promise<Lane[]>;
  /** The lanes, once every one has started (until then batches wait in line). */
  #lanes: Lane[] = [];
  readonly #jsonLines: boolean;
  readonly #batches: BatchState[] = [];
  readonly #drift: DriftEntry[][] = [];
  readonly #inFlight = new Map<Lane, number>();
  readonly #running = new Set<Promise<void>>();
  #failure: unknown = null;
  #plan: RunPlan | null = null;
  #started: Promise<void> = Promise.resolve();
  readonly #reader = new FileReader();

  constructor(options: StreamOptions, up: Promise<Lane[]>, jsonLines: boolean) {
    this.#options = options;
    this.#up = up;
    this.#jsonLines = jsonLines;
  }

  async run(handle: FileHandle): Promise<StreamOutcome | null> {
    const shown = this.#options.shown;
    const ready: BatchRange[] = [];
    let open: BatchRange | null = null;
    let openItems = 0;
    let nextIndex = 0;
    const cut = () => {
      if (open === null) return;
      ready.push(open);
      open = null;
      openItems = 0;
    };
    const scanner = new EvidenceScanner(
      (start, end) => {
        if (open === null) open = { start, end, firstIndex: nextIndex };
        else open.end = end;
        nextIndex++;
        if (++openItems >= BATCH_ITEMS || open.end - open.start >= BATCH_BYTES) cut();
      },
      { maxItemBytes: MAX_ITEM_BYTES, maxFieldBytes: MAX_FIELD_BYTES },
    );
    if (this.#jsonLines) scanner.startJsonLines();
    let early: EvidenceHeader | null = null;
    const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
    let position = 0;
    try {
      for (;;) {
        const { bytesRead } = await handle.read(buffer, 0, CHUNK_BYTES, position);
        if (bytesRead === 0) break;
        const chunk = buffer.subarray(0, bytesRead);
        // A byte-order mark is read as whitespace: the scanner sees JSON from the first byte.
        if (position === 0 && chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) chunk.fill(0x20, 0, 3);
        position += bytesRead;
        if (position > MAX_STREAMED_FILE_BYTES) throw new InventoryFileError(`${shown}: larger than ${MAX_STREAMED_FILE_BYTES / 1024 / MIB} GiB (it grew while read), refused`, 'too-large');
        scanner.push(chunk);
        if (scanner.itemsStarted && early === null) {
          early = headerOf(scanner, shown);
          if (!(await this.#start(early))) return null;
        }
        if (this.#failure) throw this.#failure;
        if (this.#lanes.length > 0) await this.#dispatch(ready);
      }
      scanner.end();
      cut();
      const header = headerOf(scanner, shown);
      if (early === null && !(await this.#start(header))) return null;
      await this.#started;
      if (this.#failure) throw this.#failure;
      await this.#dispatch(ready);
      await Promise.all(this.#running);
      if (this.#failure) throw this.#failure;
      return await this.#finish(header, scanner.items);
    } catch (error) {
      await Promise.allSettled(this.#running);
      // The lanes are closed by evaluateStream; what they wrote so far is removed here.
      this.#reader.close();
      throw error;
    }
  }

  /**
   * The plan from what precedes the items; the lanes get it with empty indexes once they are up.
   * Until then the file goes on being split (batches wait in line), so neither waits for the other.
   */
  async #start(header: EvidenceHeader): Promise<boolean> {
    const plan = await this.#options.plan(header);
    if (plan === null) return false;
    this.#plan = plan;
    const data = policyDataFrom(plan.setup.policy, { certificates: [], drift: [] }, plan.setup.sources);
    this.#started = this.#up
      .then(async (lanes) => {
        await Promise.all(lanes.map((lane) => lane.setData(data, plan.setup, plan.dir)));
        for (const lane of lanes) this.#inFlight.set(lane, 0);
        this.#lanes = lanes;
      })
      .catch((error: unknown) => {
        this.#failure ??= error;
      });
    return true;
  }

  async #dispatch(ready: BatchRange[]): Promise<void> {
    while (ready.length > 0) {
      const lane = await this.#freeLane();
      const range = ready.shift()!;
      const id = this.#batches.length;
      const state: BatchState = { range, items: null, digests: null, findings: null, certificates: [] };
      this.#batches.push(state);
      this.#track(
        lane,
        lane.first(range).then((first: FirstEvaluation) => {
          this.#reader.know(first.files);
          Object.assign(state, placed(first), { digests: first.digests, certificates: first.certificates });
          this.#drift[id] = first.drift;
        }),
      );
    }
  }

  async #freeLane(): Promise<Lane> {
    for (;;) {
      if (this.#failure) throw this.#failure;
      let best: Lane | null = null;
      for (const [lane, count] of this.#inFlight) if (count < IN_FLIGHT_PER_LANE && (best === null || count < this.#inFlight.get(best)!)) best = lane;
      if (best) return best;
      await Promise.race(this.#running);
    }
  }

  #track(lane: Lane, work: Promise<void>): void {
    this.#inFlight.set(lane, this.#inFlight.get(lane)! + 1);
    const tracked: Promise<void> = work
      .catch((error: unknown) => {
        this.#failure ??= asPolicyError(error);
      })
      .finally(() => {
        this.#inFlight.set(lane, this.#inFlight.get(lane)! - 1);
        this.#running.delete(tracked);
      });
    this.#running.add(tracked);
  }

  async #finish(header: EvidenceHeader, read: number): Promise<StreamOutcome> {
    let plan = this.#plan!;
    const final = await this.#options.plan(header);
    let redo: BatchState[];
    if (final === null || JSON.stringify(final) !== JSON.stringify(plan)) {
      // The file said what decides the evaluation (its sources, clock, policy) only after its items.
      if (final === null) throw new PolicyError('the evaluation plan changed at the end of the file');
      plan = final;
      this.#plan = final;
      redo = this.#batches;
    } else {
      redo = [];
    }
    const certificates = this.#batches.flatMap((state) => state.certificates);
    const drift = this.#drift.flat();
    const data = policyDataFrom(plan.setup.policy, { certificates, drift }, plan.setup.sources);
    await Promise.all(this.#lanes.map((lane) => lane.setData(data, plan.setup, plan.dir)));
    if (redo.length === 0) redo = this.#batches.filter((state) => (drift.some((entry) => entry.declared) ? true : touchesIndex(state.certificates, data['certificateIndex'] as Indexed)));
    const full = redo === this.#batches;
    for (const state of redo) {
      const lane = await this.#freeLane();
      this.#track(
        lane,
        // The items change only when the plan did (tiers): otherwise their JSON is not written twice.
        lane.again(state.range, full).then((result) => {
          this.#reader.know(result.files);
          const again = placed(result);
          state.findings = again.findings;
          if (full) Object.assign(state, { items: again.items, digests: result.digests });
        }),
      );
    }
    await Promise.all(this.#running);
    if (this.#failure) throw this.#failure;
    const sources = await this.#lanes[0]!.again(null, false).catch((error: unknown) => Promise.reject(asPolicyError(error)));
    this.#reader.know(sources.files);
    const evaluated = collect(this.#reader, placed(sources).findings, this.#batches);
    return { header, plan, evaluated, read, threads: this.#lanes.length, again: redo.length, batches: this.#batches.length };
  }
}

type Indexed = { issuers: Record<string, unknown>; publicKeys: Record<string, unknown>; chains: Record<string, unknown> };

/** Whether a certificate of the batch has a group in the final index: its result may differ from the first pass's. */
function touchesIndex(certificates: readonly CertificateEntry[], index: Indexed): boolean {
  return certificates.some(
    (entry) =>
      Object.hasOwn(index.issuers, entry.summary.issuer) ||
      (entry.chain !== null && Object.hasOwn(index.chains, entry.chain)) ||
      (entry.publicKey !== null && Object.hasOwn(index.publicKeys, entry.publicKey)),
  );
}

/** Every batch's findings, with the order one thread gives; the inventory digest over every item. */
function collect(reader: FileReader, sources: PlacedFindings, batches: readonly BatchState[]): EvaluatedEvidence {
  const all = [sources, ...batches.map((state) => state.findings!)];
  const total = all.reduce((sum, stored) => sum + stored.ruleIds.length, 0);
  const findings: Columns = { ruleIds: [], uids: [], severities: [], waived: [], batch: new Int32Array(total), position: new Uint32Array(total) };
  const paths: string[] = [];
  const pathIds = new Map<string, number>();
  const files = new Uint16Array(total);
  const offsets = new Float64Array(total);
  const lengths = new Uint32Array(total);
  let at = 0;
  for (const [slot, stored] of all.entries()) {
    const ids = stored.paths.map((file) => pathIds.get(file) ?? pathIds.set(file, paths.push(file) - 1).get(file)!);
    for (let i = 0; i < stored.ruleIds.length; i++, at++) {
      findings.ruleIds.push(stored.ruleIds[i]!);
      findings.uids.push(stored.uids[i]!);
      findings.severities.push(stored.severities[i]!);
      findings.waived.push(stored.waived[i]!);
      findings.batch[at] = slot - 1;
      findings.position[at] = i;
      files[at] = ids[stored.files[i]!]!;
      offsets[at] = stored.offsets[i]!;
      lengths[at] = stored.lengths[i]!;
    }
  }
  const digests: string[] = [];
  for (const state of batches) for (const digest of state.digests!) digests.push(digest);
  const json: FindingJson = {
    read: (indexes) => indexes.map((index) => reader.read(paths[files[index]!]!, offsets[index]!, lengths[index]!).toString('utf8')),
    *inOrder(order) {
      // One rule's files at a time (each lane wrote its own): read whole, then sliced.
      let rule: string | null = null;
      let loaded = new Map<number, Buffer>();
      for (const index of order) {
        if (findings.ruleIds[index] !== rule) {
          rule = findings.ruleIds[index]!;
          loaded = new Map();
        }
        const file = files[index]!;
        let bytes = loaded.get(file);
        if (bytes === undefined) {
          bytes = reader.whole(paths[file]!);
          loaded.set(file, bytes);
        }
        yield bytes.subarray(offsets[index]!, offsets[index]! + lengths[index]!);
      }
    },
    close: () => reader.close(),
  };
  const items = batches.map((state) => state.items!);
  return {
    findings,
    order: engineOrder(findings),
    json,
    items: digests.length,
    inventoryDigest: inventoryDigestOf(digests),
    *inventory() {
      for (const piece of items) if (piece.length > 0) yield reader.read(piece.file, piece.offset, piece.length);
    },
  };
}

type Columns = Omit<FindingRecords, 'json'> & { batch: Int32Array; position: Uint32Array };

/** The order one thread gives (PolicyEngine: rule, then uid); batches and positions keep it stable across thread counts. */
function engineOrder(findings: Columns): Uint32Array {
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

function headerOf(scanner: EvidenceScanner, shown: string): EvidenceHeader {
  if (scanner.shape === null) throw new InventoryFileError(`${shown}: neither a keydrift inventory, a JSON report nor an array of items`);
  return evidenceHeader(scanner.shape, parsedFields(scanner.fields, shown), shown);
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
  if (error instanceof BatchError || error instanceof PolicyError || error instanceof InventoryFileError) return error;
  return new PolicyError(`policy evaluation failed in built-in policies: ${error instanceof Error ? error.message : String(error)}`);
}
