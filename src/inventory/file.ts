import { DEFAULT_SETTINGS } from '../config/settings.ts';
import type { SourceStatus } from '../model/source.ts';
import { FileReadError, MIB, readRegularFile, type FileReadFailure } from '../util/read-regular-file.ts';
import { describeError, fieldPath, mostSpecificError, partValidator, validator } from '../util/schemas.ts';
import { displayPath } from '../util/paths.ts';
import type { InventoryItem } from './types.ts';
import { EvidenceScanner } from './evidence-scanner.ts';

/** V8 cannot hold a string much longer than this, so a larger evidence file could not be parsed anyway. */
export const DEFAULT_MAX_EVIDENCE_FILE_BYTES = 512 * MIB;

/**
 * How deep objects and arrays may nest inside one item (the item itself is level 1), source entry
 * or recorded policy. Real evidence is a few levels deep; thousands would overflow the stack of
 * every recursive consumer downstream (the engine's JSON input, digests, report writers).
 */
export const MAX_NESTING = 32;

/**
 * How many invalid items of one source are reported one by one; the rest are counted in one more
 * error. A snapshot from an older schema can fail every item: 100,000 warnings would drown the report.
 */
export const MAX_LISTED_INVALID_ITEMS = 20;

/** What `keydrift inventory` writes: the evidence, with how complete each source was. */
export interface InventoryFile {
  schemaVersion: '1';
  kind: 'inventory';
  tool: { name: string; version: string };
  collectedAt: string;
  configDigest?: string;
  sources: SourceStatus[];
  items: InventoryItem[];
}

export class InventoryFileError extends Error {
  /** Set when the file could not be read at all (missing, not a regular file, too large). */
  readonly reason: FileReadFailure | null;
  constructor(message: string, reason: FileReadFailure | null = null) {
    super(message);
    this.reason = reason;
  }
}

export interface LoadedEvidence {
  /** The valid items (with `invalidItems: 'reject'`, all of them). */
  items: InventoryItem[];
  sources: SourceStatus[];
  /** Present when the file is a JSON report: its clock, policy and findings, for re-derivation. */
  report: Record<string, unknown> | null;
  /** When the evidence was collected: an inventory's collectedAt, a report's scan.now; null when the file does not say. */
  collectedAt: string | null;
  /** The items left out, in file order (only with `invalidItems: 'report'`). */
  invalidItems: InvalidItem[];
}

/** An item of an evidence file that is not a valid inventory item. */
export interface InvalidItem {
  index: number;
  uid: string | null;
  /** "<file>: item <index> (<uid>): <field>: <problem>", the same line `reject` throws. */
  message: string;
}

export interface LoadEvidenceOptions {
  /** A larger file is refused unread. */
  maxFileBytes?: number;
  /**
   * What an invalid item does. `reject` (the default) refuses the whole file: an auditor
   * re-deriving findings (`evaluate --inventory`) must never silently get a subset. `report`
   * leaves the item out and lists it in `invalidItems`: a snapshot source keeps the good items
   * and reports the bad ones, so its coverage gap is a finding rather than a failed scan.
   */
  invalidItems?: 'reject' | 'report';
}

/**
 * Reads an inventory file, a JSON report (its `inventory`), or a bare array of items. Validates
 * every item, every source entry and a report's recorded scan settings before anything uses them,
 * so a damaged file is one clear error naming the file and field.
 */
export async function loadEvidence(file: string, options: LoadEvidenceOptions = {}): Promise<LoadedEvidence> {
  const shown = displayPath(file);
  const text = await readText(file, shown, options.maxFileBytes ?? DEFAULT_MAX_EVIDENCE_FILE_BYTES);
  const parsed = EvidenceScanner.sniffJsonLines(Buffer.from(text.slice(0, 4 * 1024 * 1024)), file) ? parseJsonLines(text, shown) : parseJson(text, shown);
  let items: unknown;
  let itemsField: string;
  let sources: unknown = [];
  let report: Record<string, unknown> | null = null;
  let collectedAt: string | null = null;
  if (Array.isArray(parsed)) {
    items = parsed;
    itemsField = '(top level)';
  } else if (isObject(parsed) && 'items' in parsed) {
    items = parsed['items'];
    itemsField = 'items';
    sources = parsed['sources'] ?? [];
    collectedAt = typeof parsed['collectedAt'] === 'string' && !Number.isNaN(Date.parse(parsed['collectedAt'])) ? parsed['collectedAt'] : null;
  } else if (isObject(parsed) && 'inventory' in parsed && 'findings' in parsed) {
    report = parsed;
    items = report['inventory'];
    itemsField = 'inventory';
    sources = report['sources'] ?? [];
  } else {
    throw new InventoryFileError(`${shown}: neither a keydrift inventory, a JSON report nor an array of items`);
  }
  if (!Array.isArray(items)) throw new InventoryFileError(`${shown}: "${itemsField}" must be an array`);
  const invalidItems = checkItems(items, shown, options.invalidItems ?? 'reject');
  const checkedSources = checkSources(sources, shown);
  if (report && report['scan'] !== undefined) checkScan(report['scan'], shown);
  if (report && isObject(report['scan']) && typeof report['scan']['now'] === 'string') collectedAt = report['scan']['now'];
  const left = new Set(invalidItems.map((invalid) => invalid.index));
  const valid = left.size === 0 ? items : items.filter((_, index) => !left.has(index));
  return { items: valid as InventoryItem[], sources: checkedSources, report, invalidItems, collectedAt };
}

/** The evidence without its items: what a file streamed item by item says about itself. */
export interface EvidenceHeader {
  sources: SourceStatus[];
  report: Record<string, unknown> | null;
  collectedAt: string | null;
}

/**
 * The header of a file read as a stream: `shape` is what the scanner found, `fields` its other
 * top-level fields parsed (a JSON Lines file: its header line's). Checked as loadEvidence checks them.
 */
export function evidenceHeader(shape: 'inventory' | 'report' | 'array' | 'jsonl', fields: Record<string, unknown>, shown: string): EvidenceHeader {
  if (shape === 'array') return { sources: [], report: null, collectedAt: null };
  const sources = checkSources(fields['sources'] ?? [], shown);
  if (shape === 'report') {
    if (fields['scan'] !== undefined) checkScan(fields['scan'], shown);
    const scan = fields['scan'];
    return { sources, report: fields, collectedAt: isObject(scan) && typeof scan['now'] === 'string' ? scan['now'] : null };
  }
  const collectedAt = typeof fields['collectedAt'] === 'string' && !Number.isNaN(Date.parse(fields['collectedAt'])) ? fields['collectedAt'] : null;
  return { sources, report: null, collectedAt };
}

/**
 * What is wrong with `item` as a normalized inventory item ("<field>: <problem>"), or null when
 * nothing is. The one test of an item, applied where items are collected and where evidence is
 * read, so whatever a scan keeps, `evaluate` accepts.
 */
export function itemProblem(item: unknown): string | null {
  // Before the schema: validation, like everything downstream, may recurse.
  const deep = tooDeepField(item);
  if (deep !== null) return `"${deep}" nests objects or arrays more than ${MAX_NESTING} levels deep`;
  const validate = validator('inventory-item');
  if (validate(item)) return null;
  const error = mostSpecificError(validate.errors!);
  return `${fieldPath(error.instancePath)}: ${describeError(error)}`;
}

/** "item 3 (arn:...)", or "item 3" when it has no uid to name it by. */
export function itemLabel(item: unknown, index: number): string {
  const uid = itemUid(item);
  return `item ${index}${uid !== null ? ` (${uid})` : ''}`;
}

/** The item's uid when it has a usable one. */
export function itemUid(item: unknown): string | null {
  const uid = isObject(item) ? item['uid'] : undefined;
  return typeof uid === 'string' && uid !== '' ? uid : null;
}

async function readText(file: string, shown: string, maxBytes: number): Promise<string> {
  let bytes: Buffer;
  try {
    bytes = await readRegularFile(file, maxBytes);
  } catch (error) {
    if (!(error instanceof FileReadError)) throw error;
    throw new InventoryFileError(`${shown}: ${error.message}`, error.reason);
  }
  try {
    return bytes.toString('utf8').replace(/^\uFEFF/, '');
  } catch {
    // Within the byte cap yet past V8's longest string (ERR_STRING_TOO_LONG).
    throw new InventoryFileError(`${shown}: too large to read as text, skipped`, 'too-large');
  }
}

/** JSON.parse's own message quotes the text around the error: the file may be anything (a shadow file, a key). */
function parseJson(text: string, shown: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new InventoryFileError(`${shown}: not valid JSON${whereParsingStopped((error as Error).message, text)}`);
  }
}

/** JSON Lines: one item per line, the first line optionally the inventory's header; read as the inventory it spells. */
function parseJsonLines(text: string, shown: string): unknown {
  const items: unknown[] = [];
  let header: Record<string, unknown> | null = null;
  for (const [index, line] of text.split('\n').entries()) {
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new InventoryFileError(`${shown}: line ${index + 1} is not valid JSON`);
    }
    if (items.length === 0 && header === null && isObject(value) && value['kind'] === 'inventory' && !('uid' in value)) header = value;
    else items.push(value);
  }
  return { ...(header ?? {}), items };
}

function whereParsingStopped(message: string, text: string): string {
  if (/end of JSON input/i.test(message)) return ' (the file ends early)';
  const position = /at position (\d+)/.exec(message);
  if (!position) return '';
  const offset = Number(position[1]);
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return ` (line ${line}, column ${offset - before.lastIndexOf('\n')})`;
}

function checkItems(items: unknown[], shown: string, invalidItems: 'reject' | 'report'): InvalidItem[] {
  const invalid: InvalidItem[] = [];
  for (const [index, item] of items.entries()) {
    const problem = itemProblem(item);
    if (problem === null) continue;
    const message = `${shown}: ${itemLabel(item, index)}: ${problem}`;
    if (invalidItems === 'reject') throw new InventoryFileError(message);
    invalid.push({ index, uid: itemUid(item), message });
  }
  return invalid;
}

function checkSources(sources: unknown, shown: string): SourceStatus[] {
  if (!Array.isArray(sources)) throw new InventoryFileError(`${shown}: "sources" must be an array`);
  const validate = partValidator('report', '#/$defs/source');
  for (const [index, source] of sources.entries()) {
    checkPart(source, `/sources/${index}`, validate, shown);
  }
  return sources as SourceStatus[];
}

// The fields of a report's `scan` that evaluate re-uses to re-derive the findings.
const RECORDED_SCAN_FIELDS = ['policy', 'failOn', 'configName', 'configDigest'] as const;

function checkScan(scan: unknown, shown: string): void {
  if (!isObject(scan)) throw new InventoryFileError(`${shown}: "scan" must be an object`);
  for (const field of RECORDED_SCAN_FIELDS) {
    if (scan[field] === undefined) continue;
    checkPart(scan[field], `/scan/${field}`, partValidator('report', `#/properties/scan/properties/${field}`), shown);
  }
  const policy = scan['policy'];
  if (!isObject(policy)) return;
  // The report schema accepts any object as settings; the engine needs every setting, well typed.
  checkPart(policy['profile'], '/scan/policy/profile', partValidator('config', '#/properties/policy/properties/profile'), shown);
  const settings = partValidator('config', '#/$defs/settings');
  const recorded: [string, unknown][] = [
    ['/scan/policy/settings', policy['settings']],
    ...Object.entries(policy['tierSettings'] as Record<string, unknown>).map(([tier, value]): [string, unknown] => [`/scan/policy/tierSettings/${tier.replaceAll('~', '~0').replaceAll('/', '~1')}`, value]),
  ];
  for (const [pointer, value] of recorded) {
    checkPart(value, pointer, settings, shown);
    const missing = missingSetting(DEFAULT_SETTINGS, value as Record<string, unknown>);
    if (missing) throw new InventoryFileError(`${shown}: ${fieldPath(`${pointer}/${missing}`)}: missing (a recorded policy holds every setting)`);
  }
}

function checkPart(value: unknown, pointer: string, validate: ReturnType<typeof validator>, shown: string): void {
  const deep = tooDeepField(value);
  if (deep !== null) {
    throw new InventoryFileError(`${shown}: ${fieldPath(`${pointer}/${deep}`)}: nests objects or arrays more than ${MAX_NESTING} levels deep`);
  }
  if (!validate(value)) {
    const error = mostSpecificError(validate.errors!);
    throw new InventoryFileError(`${shown}: ${fieldPath(`${pointer}${error.instancePath}`)}: ${describeError(error)}`);
  }
}

/** The first setting (as "section/name") that the defaults have and `recorded` lacks. */
function missingSetting(defaults: object, recorded: Record<string, unknown>): string | null {
  for (const [key, value] of Object.entries(defaults)) {
    if (!(key in recorded)) return key;
    const inner = recorded[key];
    if (isObject(value) && isObject(inner)) {
      const missing = missingSetting(value, inner);
      if (missing) return `${key}/${missing}`;
    }
  }
  return null;
}

/**
 * The field of `value` under which objects and arrays nest more than MAX_NESTING levels (`value`
 * itself is level 1), or null. Recursion is what deep input breaks, so this one stops descending
 * at the limit: it is never more than MAX_NESTING calls deep, whatever the input (a cycle too).
 */
function tooDeepField(value: unknown): string | null {
  if (!isContainer(value)) return null;
  for (const field in value) if (nestsTooDeep((value as Record<string, unknown>)[field], 2)) return field;
  return null;
}

/** Whether `node`, at nesting level `level`, holds a container past MAX_NESTING. Runs on every collected item, so it allocates nothing per value. */
function nestsTooDeep(node: unknown, level: number): boolean {
  if (!isContainer(node)) return false;
  if (level > MAX_NESTING) return true;
  if (Array.isArray(node)) {
    for (let i = 0; i < node.length; i++) if (nestsTooDeep(node[i], level + 1)) return true;
    return false;
  }
  for (const key in node) if (nestsTooDeep((node as Record<string, unknown>)[key], level + 1)) return true;
  return false;
}

function isContainer(value: unknown): value is object {
  return typeof value === 'object' && value !== null;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return isContainer(value) && !Array.isArray(value);
}
