import { DEFAULT_SETTINGS } from '../config/settings.ts';
import type { SourceStatus } from '../findings/types.ts';
import { FileReadError, MIB, readRegularFile, type FileReadFailure } from '../util/read-regular-file.ts';
import { describeError, fieldPath, partValidator, validator } from '../util/schemas.ts';
import { displayPath } from '../util/paths.ts';
import type { InventoryItem } from './types.ts';

export const TOOL = { name: 'keydrift', version: '0.1.0' } as const;

/** V8 cannot hold a string much longer than this, so a larger evidence file could not be parsed anyway. */
export const DEFAULT_MAX_EVIDENCE_FILE_BYTES = 512 * MIB;

/**
 * How deep objects and arrays may nest inside one item (the item itself is level 1), source entry
 * or recorded policy. Real evidence is a few levels deep; thousands would overflow the stack of
 * every recursive consumer downstream (the engine's JSON input, digests, report writers).
 */
export const MAX_NESTING = 32;

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
  items: InventoryItem[];
  sources: SourceStatus[];
  /** Present when the file is a JSON report: its clock, policy and findings, for re-derivation. */
  report: Record<string, unknown> | null;
}

/**
 * Reads an inventory file, a JSON report (its `inventory`), or a bare array of items. Validates
 * every item, every source entry and a report's recorded scan settings before anything uses them,
 * so a damaged file is one clear error naming the file and field.
 */
export async function loadEvidence(file: string, options: { maxFileBytes?: number } = {}): Promise<LoadedEvidence> {
  const shown = displayPath(file);
  const parsed = parseJson(await readText(file, shown, options.maxFileBytes ?? DEFAULT_MAX_EVIDENCE_FILE_BYTES), shown);
  let items: unknown;
  let itemsField: string;
  let sources: unknown = [];
  let report: Record<string, unknown> | null = null;
  if (Array.isArray(parsed)) {
    items = parsed;
    itemsField = '(top level)';
  } else if (isObject(parsed) && 'items' in parsed) {
    items = parsed['items'];
    itemsField = 'items';
    sources = parsed['sources'] ?? [];
  } else if (isObject(parsed) && 'inventory' in parsed && 'findings' in parsed) {
    report = parsed;
    items = report['inventory'];
    itemsField = 'inventory';
    sources = report['sources'] ?? [];
  } else {
    throw new InventoryFileError(`${shown}: neither a keydrift inventory, a JSON report nor an array of items`);
  }
  if (!Array.isArray(items)) throw new InventoryFileError(`${shown}: "${itemsField}" must be an array`);
  checkItems(items, shown);
  const checkedSources = checkSources(sources, shown);
  if (report && report['scan'] !== undefined) checkScan(report['scan'], shown);
  return { items: items as InventoryItem[], sources: checkedSources, report };
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

function whereParsingStopped(message: string, text: string): string {
  if (/end of JSON input/i.test(message)) return ' (the file ends early)';
  const position = /at position (\d+)/.exec(message);
  if (!position) return '';
  const offset = Number(position[1]);
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return ` (line ${line}, column ${offset - before.lastIndexOf('\n')})`;
}

function checkItems(items: unknown[], shown: string): void {
  const validate = validator('inventory-item');
  for (const [index, item] of items.entries()) {
    const uid = isObject(item) ? item['uid'] : undefined;
    const where = `${shown}: item ${index}${typeof uid === 'string' ? ` (${uid})` : ''}`;
    // Before the schema: validation, like everything downstream, may recurse.
    const deep = tooDeepField(item);
    if (deep !== null) throw new InventoryFileError(`${where}: "${deep}" nests objects or arrays more than ${MAX_NESTING} levels deep`);
    if (!validate(item)) {
      const error = validate.errors![0]!;
      throw new InventoryFileError(`${where}: ${fieldPath(error.instancePath)}: ${describeError(error)}`);
    }
  }
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
    const error = validate.errors![0]!;
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
 * itself is level 1), or null. Walks with an explicit stack: recursion is what deep input breaks.
 */
function tooDeepField(value: unknown): string | null {
  if (!isContainer(value)) return null;
  const stack: { node: unknown; depth: number; field: string }[] = Object.entries(value).map(([field, node]) => ({ node, depth: 2, field }));
  for (let next = stack.pop(); next; next = stack.pop()) {
    if (!isContainer(next.node)) continue;
    if (next.depth > MAX_NESTING) return next.field;
    for (const node of Object.values(next.node)) stack.push({ node, depth: next.depth + 1, field: next.field });
  }
  return null;
}

function isContainer(value: unknown): value is object {
  return typeof value === 'object' && value !== null;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return isContainer(value) && !Array.isArray(value);
}
