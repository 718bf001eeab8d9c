/**
 * Splits an evidence file into its items without parsing it: a byte scanner that tracks strings,
 * escapes and nesting, so a file far larger than V8's longest string (an inventory of a million
 * items) is read chunk by chunk and each item handed on as its byte range in the file (nothing of
 * it is copied here). The items are parsed
 * where they are evaluated (on worker threads); the file's other top-level fields (sources, the
 * recorded scan) are small and kept as bytes for the caller to parse. A report's `findings` are
 * skipped: re-deriving them never reads them.
 *
 * Shapes: `{..., "items": [...]}` (an inventory), `{..., "inventory": [...], "findings": [...]}`
 * (a JSON report), `[...]` (a bare array of items), and JSON Lines (one value per line; a first line
 * with `"kind": "inventory"` and no `uid` is the inventory's header).
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const NEWLINE = 0x0a;

export class EvidenceScanError extends Error {}

export interface ScannerLimits {
  /** One item's bytes; a larger one is refused (every read is bounded). */
  maxItemBytes: number;
  /** A captured top-level field's bytes (sources, scan, ...). */
  maxFieldBytes: number;
}

export type EvidenceShape = 'inventory' | 'report' | 'array' | 'jsonl';

/** Fields the scanner streams as items rather than keeping. */
const ITEM_FIELDS = new Set(['items', 'inventory']);
/** Fields it skips: a report's findings can be most of the file and are never needed to re-derive them. */
const SKIPPED_FIELDS = new Set(['findings']);

export class EvidenceScanner {
  /** An item's bytes are [start, end) of the file; `end` may include whitespace after it. */
  readonly #onItem: (start: number, end: number) => void;
  readonly #limits: ScannerLimits;
  /** Top-level fields of the document (or the JSON Lines header), as bytes. */
  readonly fields = new Map<string, Buffer>();
  shape: EvidenceShape | null = null;
  /** The items have begun: every field before them is in `fields` (what a caller may act on before the end). */
  itemsStarted = false;
  #depth = 0;
  #inString = false;
  #escaped = false;
  /** Container kinds, outermost first: only the first two levels matter. */
  #stack: number[] = [];
  #expectKey = false;
  #key: number[] | null = null;
  #currentKey: string | null = null;
  /** What the value now being read is: an item, a kept field, a skipped field, or nothing. */
  #mode: 'none' | 'item' | 'field' | 'skip' = 'none';
  #parts: Buffer[] = [];
  #partsBytes = 0;
  #start = -1;
  #valueCount = 0;
  #itemsSeen = 0;
  #sawItemsField = false;
  #line = 1;
  /** Where the item being read began, in the file. */
  #itemStart = 0;
  /** JSON Lines: where the current line began, and whether it has anything but whitespace so far. */
  #lineStart = 0;
  #lineHasContent = false;
  #offset = 0;

  constructor(onItem: (start: number, end: number) => void, limits: ScannerLimits) {
    this.#onItem = onItem;
    this.#limits = limits;
  }

  /** Items emitted so far. */
  get items(): number {
    return this.#itemsSeen;
  }

  /** Decides JSON vs JSON Lines from the start of the file: a first line that is a whole value, with more after it, is JSON Lines. */
  static sniffJsonLines(head: Buffer, name: string): boolean {
    if (/\.(jsonl|ndjson)$/i.test(name)) return true;
    const text = head.toString('utf8').replace(/^\uFEFF/, '');
    const newline = text.indexOf('\n');
    if (newline === -1) return false;
    const first = text.slice(0, newline).trim();
    if (!first.startsWith('{')) return false;
    let value: unknown;
    try {
      value = JSON.parse(first);
    } catch {
      return false;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
    if ('items' in value || 'inventory' in value) return false;
    return text.slice(newline + 1).trim() !== '';
  }

  push(chunk: Buffer): void {
    if (this.shape === 'jsonl') this.#pushLines(chunk);
    else this.#pushJson(chunk);
    this.#offset += chunk.length;
  }

  /** Called once after the last chunk. */
  end(): void {
    if (this.shape === 'jsonl') {
      this.#endLine(this.#offset);
      return;
    }
    if (this.#inString || this.#depth > 0) throw new EvidenceScanError('the file ends early (an unterminated string, object or array)');
    if (this.#valueCount === 0) throw new EvidenceScanError('the file is empty: neither a keydrift inventory, a JSON report nor an array of items');
    if (this.shape !== 'array' && !this.#sawItemsField) this.shape = null;
  }

  startJsonLines(): void {
    this.shape = 'jsonl';
  }

  #pushLines(chunk: Buffer): void {
    let from = 0;
    for (;;) {
      const newline = chunk.indexOf(NEWLINE, from);
      const to = newline === -1 ? chunk.length : newline;
      if (!this.#lineHasContent) this.#lineHasContent = hasContent(chunk, from, to);
      // Only the first line can be the header: it alone is kept as bytes.
      if (this.#valueCount === 0 && this.#lineHasContent) this.#collect(chunk, from, to);
      if (this.#offset + to - this.#lineStart > this.#limits.maxItemBytes) {
        throw new EvidenceScanError(`line ${this.#line} is longer than ${this.#limits.maxItemBytes} bytes`);
      }
      if (newline === -1) return;
      this.#endLine(this.#offset + newline);
      from = newline + 1;
      this.#lineStart = this.#offset + from;
    }
  }

  #endLine(end: number): void {
    if (this.#lineHasContent) {
      this.#valueCount++;
      const first = this.#valueCount === 1 ? (this.#parts.length === 1 ? this.#parts[0]! : Buffer.concat(this.#parts)) : null;
      this.#parts = [];
      this.#partsBytes = 0;
      if (first && looksLikeHeader(first)) {
        this.fields.set('(header)', first);
      } else {
        this.itemsStarted = true;
        this.#itemsSeen++;
        this.#onItem(this.#lineStart, end);
      }
    }
    this.#lineHasContent = false;
    this.#line++;
  }

  #collect(chunk: Buffer, from: number, to: number): void {
    if (to <= from) return;
    this.#partsBytes += to - from;
    // Copied: the chunk's memory is reused by the reader.
    this.#parts.push(Buffer.from(chunk.subarray(from, to)));
  }

  #pushJson(chunk: Buffer): void {
    const n = chunk.length;
    let i = 0;
    // A value still being read when the last chunk ended continues from this chunk's first byte.
    if (this.#mode !== 'none') this.#start = 0;
    // The hot loop works on locals: most bytes are inside items, where only strings and nesting matter.
    let depth = this.#depth;
    let inString = this.#inString;
    let escaped = this.#escaped;
    let deep = this.#stack.length === 0 ? Infinity : this.#stack[0] === OPEN_BRACKET ? 1 : 2;
    let inKey = this.#key !== null;
    // Where the next backslash is (n: none in the rest of the chunk), found once per backslash, not per string.
    let nextBackslash = -1;
    while (i < n) {
      if (inString && !escaped && !inKey) {
        // Most of the file is string contents: jump to the closing quote unless an escape comes first.
        if (nextBackslash < i) {
          nextBackslash = chunk.indexOf(BACKSLASH, i);
          if (nextBackslash === -1) nextBackslash = n;
        }
        const quote = chunk.indexOf(QUOTE, i);
        const close = quote === -1 ? n : quote;
        if (nextBackslash < close) {
          escaped = true;
          i = nextBackslash + 1;
        } else {
          i = quote === -1 ? n : quote + 1;
          if (quote !== -1) inString = false;
        }
        continue;
      }
      const byte = chunk[i]!;
      if (inString) {
        if (escaped) escaped = false;
        else if (byte === BACKSLASH) escaped = true;
        else if (byte === QUOTE) inString = false;
        if (inKey) {
          if (inString) {
            if (this.#key!.length > 256) throw new EvidenceScanError('a top-level key is longer than 256 bytes');
            this.#key!.push(byte);
          } else {
            this.#currentKey = decodeKey(this.#key!);
            this.#key = null;
            inKey = false;
          }
        }
        i++;
        continue;
      }
      if (depth > deep) {
        if (byte === QUOTE) inString = true;
        else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) depth++;
        else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) depth--;
        i++;
        continue;
      }
      this.#depth = depth;
      this.#inString = false;
      this.#structural(byte, chunk, i);
      depth = this.#depth;
      inString = this.#inString;
      escaped = false;
      inKey = this.#key !== null;
      deep = this.#stack.length === 0 ? Infinity : this.#stack[0] === OPEN_BRACKET ? 1 : 2;
      i++;
    }
    this.#depth = depth;
    this.#inString = inString;
    this.#escaped = escaped;
    if (this.#mode === 'field') this.#keep(chunk, this.#start, n);
    if (this.#mode === 'item' && this.#offset + n - this.#itemStart > this.#limits.maxItemBytes) {
      throw new EvidenceScanError(`item ${this.#itemsSeen} is larger than ${this.#limits.maxItemBytes} bytes`);
    }
  }

  /** A byte outside strings at the top two levels: where values, keys and items begin and end. */
  #structural(byte: number, chunk: Buffer, i: number): void {
    switch (byte) {
      case QUOTE:
        if (this.#depth === 0) throw new EvidenceScanError(`neither a keydrift inventory, a JSON report nor an array of items (unexpected content at byte ${this.#offset + i})`);
        this.#valueStarts(i);
        this.#inString = true;
        if (this.#depth === 1 && this.#stack[0] === OPEN_BRACE && this.#expectKey) {
          this.#key = [];
          this.#expectKey = false;
        }
        return;
      case OPEN_BRACE:
      case OPEN_BRACKET:
        this.#valueStarts(i);
        if (this.#depth === 0 && this.#valueCount > 0) throw new EvidenceScanError(`more than one JSON value (a second one at byte ${this.#offset + i})`);
        if (this.#depth < 2) this.#stack[this.#depth] = byte;
        this.#depth++;
        if (this.#depth === 1) {
          this.#valueCount++;
          if (byte === OPEN_BRACKET) {
            this.shape = 'array';
            this.itemsStarted = true;
          } else {
            this.#expectKey = true;
          }
        } else if (this.#depth === 2 && this.#stack[0] === OPEN_BRACE && byte === OPEN_BRACKET && this.#currentKey !== null && ITEM_FIELDS.has(this.#currentKey)) {
          // The items array itself: its elements, not the array, are what is streamed.
          this.#mode = 'none';
          this.#start = -1;
          this.#parts = [];
          this.#partsBytes = 0;
          this.#sawItemsField = true;
          this.itemsStarted = true;
          this.shape = this.#currentKey === 'inventory' ? 'report' : 'inventory';
        }
        return;
      case CLOSE_BRACE:
      case CLOSE_BRACKET:
        if (this.#depth === 0) throw new EvidenceScanError(`unexpected "${String.fromCharCode(byte)}" at byte ${this.#offset + i}`);
        if (this.#atElementEnd()) this.#valueEnds(chunk, i);
        this.#depth--;
        if (this.#depth === 1 && this.#stack[0] === OPEN_BRACE && this.#currentKey !== null && ITEM_FIELDS.has(this.#currentKey) && byte === CLOSE_BRACKET) {
          this.#currentKey = null;
        }
        return;
      case COMMA:
        if (this.#atElementEnd()) this.#valueEnds(chunk, i);
        if (this.#depth === 1 && this.#stack[0] === OPEN_BRACE) this.#expectKey = true;
        return;
      case COLON:
        return;
      default:
        if (isSpace(byte)) return;
        if (this.#depth === 0) throw new EvidenceScanError(`neither a keydrift inventory, a JSON report nor an array of items (unexpected content at byte ${this.#offset + i})`);
        this.#valueStarts(i);
    }
  }

  /** A value begins at `i`: an item (an element of the items array), or a top-level field's value. */
  #valueStarts(i: number): void {
    if (this.#mode !== 'none') return;
    if (this.#depth === 2 && this.#stack[0] === OPEN_BRACE && this.#stack[1] === OPEN_BRACKET && this.#currentKey !== null && ITEM_FIELDS.has(this.#currentKey)) {
      this.#mode = 'item';
    } else if (this.#depth === 1 && this.#stack[0] === OPEN_BRACKET) {
      this.#mode = 'item';
    } else if (this.#depth === 1 && this.#stack[0] === OPEN_BRACE && !this.#expectKey && this.#key === null && this.#currentKey !== null) {
      this.#mode = SKIPPED_FIELDS.has(this.#currentKey) ? 'skip' : 'field';
    } else {
      return;
    }
    this.#start = i;
    this.#itemStart = this.#offset + i;
    this.#parts = [];
    this.#partsBytes = 0;
  }

  /** Whether a `,` or closing bracket here ends the item or field value being read. */
  #atElementEnd(): boolean {
    if (this.#mode === 'none') return false;
    if (this.#mode === 'item') return this.#stack[0] === OPEN_BRACKET ? this.#depth === 1 : this.#depth === 2;
    return this.#depth === 1;
  }

  #valueEnds(chunk: Buffer, end: number): void {
    const mode = this.#mode;
    if (mode === 'field') this.#keep(chunk, this.#start, end);
    const bytes = mode === 'field' ? trimEnd(this.#parts.length === 1 ? this.#parts[0]! : Buffer.concat(this.#parts)) : null;
    this.#parts = [];
    this.#partsBytes = 0;
    this.#mode = 'none';
    this.#start = -1;
    if (mode === 'item') {
      if (this.#offset + end - this.#itemStart > this.#limits.maxItemBytes) {
        throw new EvidenceScanError(`item ${this.#itemsSeen} is larger than ${this.#limits.maxItemBytes} bytes`);
      }
      this.#itemsSeen++;
      this.#onItem(this.#itemStart, this.#offset + end);
    } else if (mode === 'field' && this.#currentKey !== null) {
      this.fields.set(this.#currentKey, bytes!);
      this.#currentKey = null;
    } else if (mode === 'skip') {
      this.#currentKey = null;
    }
  }

  #keep(chunk: Buffer, from: number, to: number): void {
    if (to <= from) return;
    this.#partsBytes += to - from;
    const limit = this.#limits.maxFieldBytes;
    if (this.#partsBytes > limit) throw new EvidenceScanError(`"${this.#currentKey}" is larger than ${limit} bytes`);
    this.#parts.push(Buffer.from(chunk.subarray(from, to)));
  }
}

function isSpace(byte: number): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

function hasContent(chunk: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (!isSpace(chunk[i]!)) return true;
  return false;
}

function trimEnd(bytes: Buffer): Buffer {
  let end = bytes.length;
  while (end > 0 && isSpace(bytes[end - 1]!)) end--;
  return end === bytes.length ? bytes : bytes.subarray(0, end);
}

function decodeKey(bytes: number[]): string {
  try {
    return JSON.parse(`"${Buffer.from(bytes).toString('utf8')}"`) as string;
  } catch {
    return '';
  }
}

/** A JSON Lines inventory's first line: its header, not an item. */
function looksLikeHeader(line: Buffer): boolean {
  if (line.length > 64 * 1024 * 1024) return false;
  try {
    const value = JSON.parse(line.toString('utf8').replace(/^\uFEFF/, '')) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value) && (value as Record<string, unknown>)['kind'] === 'inventory' && !('uid' in value);
  } catch {
    return false;
  }
}
