import { closeSync, openSync, readSync, rmSync, statSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { FindingRecords } from '../report/streamed.ts';

// What a large run writes instead of holding: each lane appends its findings' JSON to a file per
// rule, and its items' JSON to one file, and answers only where they are. The main thread keeps
// what ordering, counting and selection need (rule, uid, severity, waived, and the places), and
// reads the JSON back when it writes the reports: rule by rule, so at most one rule's findings are
// in memory at a time (as bytes, outside the JavaScript heap).

/** Where a batch's findings are: their files (indexes into `files`), offsets and lengths, and the columns kept in memory. */
export interface StoredFindings {
  files: Uint16Array;
  offsets: Float64Array;
  lengths: Uint32Array;
  ruleIds: string[];
  uids: string[];
  severities: string[];
  waived: boolean[];
}

/** A place in a file: a batch's items, or one finding. */
export interface Piece {
  file: number;
  offset: number;
  length: number;
}

/** One lane's files. `files` lists their paths; the index is what pieces and stored findings name. */
export class LaneFiles {
  readonly files: string[] = [];
  readonly #dir: string;
  readonly #tag = randomBytes(8).toString('hex');
  readonly #fds: number[] = [];
  readonly #sizes: number[] = [];
  readonly #byRule = new Map<string, number>();
  #items = -1;

  constructor(dir: string) {
    this.#dir = dir;
  }

  /** Appends a batch's findings, one write per rule. */
  addFindings(records: FindingRecords): StoredFindings {
    const count = records.json.length;
    const stored: StoredFindings = {
      files: new Uint16Array(count),
      offsets: new Float64Array(count),
      lengths: new Uint32Array(count),
      ruleIds: records.ruleIds,
      uids: records.uids,
      severities: records.severities,
      waived: records.waived,
    };
    const pending = new Map<number, string[]>();
    for (let i = 0; i < count; i++) {
      const file = this.#ruleFile(records.ruleIds[i]!);
      const length = Buffer.byteLength(records.json[i]!);
      stored.files[i] = file;
      stored.offsets[i] = this.#sizes[file]!;
      stored.lengths[i] = length;
      this.#sizes[file]! += length;
      const texts = pending.get(file) ?? [];
      texts.push(records.json[i]!);
      pending.set(file, texts);
    }
    for (const [file, texts] of pending) writeSync(this.#fds[file]!, texts.join(''));
    return stored;
  }

  /** Appends a batch's items' JSON (comma-separated); where it went. */
  addItems(json: string): Piece {
    if (this.#items < 0) this.#items = this.#open('items');
    const length = Buffer.byteLength(json);
    const piece = { file: this.#items, offset: this.#sizes[this.#items]!, length };
    if (length > 0) writeSync(this.#fds[this.#items]!, json);
    this.#sizes[this.#items]! += length;
    return piece;
  }

  close(discard = false): void {
    for (const fd of this.#fds) closeSync(fd);
    this.#fds.length = 0;
    if (discard) for (const file of this.files) rmSync(file, { force: true });
  }

  #ruleFile(ruleId: string): number {
    let file = this.#byRule.get(ruleId);
    if (file === undefined) {
      file = this.#open(`rule-${this.#byRule.size}`);
      this.#byRule.set(ruleId, file);
    }
    return file;
  }

  #open(name: string): number {
    const file = path.join(this.#dir, `.keydrift-${this.#tag}.${name}.tmp`);
    this.#fds.push(openSync(file, 'wx', 0o600));
    this.#sizes.push(0);
    this.files.push(file);
    return this.files.length - 1;
  }
}

/** The main thread's side: reads what the lanes wrote, and removes it. */
export class FileReader {
  readonly #fds = new Map<string, number>();
  readonly #paths = new Set<string>();

  /** Every file a lane wrote, so each is removed at the end. */
  know(paths: readonly string[]): void {
    for (const file of paths) this.#paths.add(file);
  }

  read(file: string, offset: number, length: number): Buffer {
    let fd = this.#fds.get(file);
    if (fd === undefined) {
      fd = openSync(file, 'r');
      this.#fds.set(file, fd);
    }
    const bytes = Buffer.allocUnsafe(length);
    let filled = 0;
    while (filled < length) {
      const read = readSync(fd, bytes, filled, length - filled, offset + filled);
      if (read === 0) throw new Error(`${file}: ended early`);
      filled += read;
    }
    return bytes;
  }

  /** A file whole. */
  whole(file: string): Buffer {
    return this.read(file, 0, statSync(file).size);
  }

  close(): void {
    for (const fd of this.#fds.values()) closeSync(fd);
    this.#fds.clear();
    for (const file of this.#paths) rmSync(file, { force: true });
    this.#paths.clear();
  }
}
