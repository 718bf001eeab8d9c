// The values an HCL expression evaluates to, modelled on Terraform's: strings, numbers, bools,
// null, tuples/lists (arrays), sets, objects/maps (null-prototype records), and values not known
// until apply. An unknown value may remember the resource attribute it stands for, so a key
// that takes another resource's id can say which.

import type { Pos } from './ast.ts';

/** A value known only after apply. `ref` names the managed resource attribute it is, when it is exactly one. */
export class Unknown {
  readonly ref: string | null;
  constructor(ref: string | null = null) {
    this.ref = ref;
  }
}

export const UNKNOWN = new Unknown();

/** A set: its elements are known, distinct, and (for strings and numbers) in Terraform's order. */
export class SetValue {
  readonly items: Value[];
  constructor(items: Value[]) {
    this.items = items;
  }
}

/**
 * A value that stands for something evaluated lazily (a resource, a module call, a namespace like
 * `var`). Only attribute access and indexing see inside it; every other use treats it as unknown.
 */
export abstract class Reference {
  abstract getAttr(name: string, pos: Pos): Value;
  abstract index(key: Value, pos: Pos): Value;
}

export type Record_ = { [key: string]: Value };
export type Value = null | boolean | number | string | Value[] | SetValue | Record_ | Unknown | Reference;

/** A problem in the configuration that Terraform would reject too; `pos` is where. */
export class EvalError extends Error {
  readonly pos: Pos;
  constructor(message: string, pos: Pos) {
    super(message);
    this.pos = pos;
  }
}

/** A resource limit hit while evaluating (depth, work, sizes). Never caught by try() or can(). */
export class LimitError extends EvalError {}

/** Longest string any operation may build: keeps a doubling chain of locals from filling memory. */
export const MAX_STRING = 1024 * 1024;
/** Most elements any collection may have. */
export const MAX_COLLECTION = 100_000;

export function record(): Record_ {
  return Object.create(null) as Record_;
}

export function recordOf(entries: Iterable<[string, Value]>): Record_ {
  const out = record();
  for (const [key, value] of entries) out[key] = value;
  return out;
}

export const isRecord = (value: Value): value is Record_ => typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === null;
export const isUnknown = (value: Value): value is Unknown | Reference => value instanceof Unknown || value instanceof Reference;

/** Whether any part of the value is unknown. */
export function containsUnknown(value: Value): boolean {
  if (isUnknown(value)) return true;
  if (Array.isArray(value)) return value.some(containsUnknown);
  if (value instanceof SetValue) return value.items.some(containsUnknown);
  if (isRecord(value)) return Object.values(value).some(containsUnknown);
  return false;
}

export function typeName(value: Value): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return 'string';
  if (typeof value === 'number') return 'number';
  if (typeof value === 'boolean') return 'bool';
  if (Array.isArray(value)) return 'tuple';
  if (value instanceof SetValue) return 'set';
  if (isRecord(value)) return 'object';
  return 'unknown';
}

export function checkString(text: string, pos: Pos): string {
  if (text.length > MAX_STRING) throw new LimitError(`a string longer than ${MAX_STRING} characters`, pos);
  return text;
}

export function checkSize<T>(items: T[], pos: Pos): T[] {
  if (items.length > MAX_COLLECTION) throw new LimitError(`a collection of more than ${MAX_COLLECTION} elements`, pos);
  return items;
}

/** Numbers as Terraform prints them: integers without exponent or fraction. */
export function formatNumber(value: number): string {
  if (Number.isInteger(value) && Math.abs(value) < 1e21) return value.toFixed(0);
  return String(value);
}

const NUMBER = /^-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

export function toStr(value: Value, pos: Pos, what = 'a string'): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return formatNumber(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (value === null) throw new EvalError(`${what} is required, but the value is null`, pos);
  throw new EvalError(`${what} is required, but the value is a ${typeName(value)}`, pos);
}

export function toNum(value: Value, pos: Pos, what = 'a number'): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && NUMBER.test(value.trim())) return Number(value.trim());
  if (value === null) throw new EvalError(`${what} is required, but the value is null`, pos);
  throw new EvalError(`${what} is required, but the value is ${typeof value === 'string' ? JSON.stringify(value) : `a ${typeName(value)}`}`, pos);
}

export function toBool(value: Value, pos: Pos, what = 'a bool'): boolean {
  if (typeof value === 'boolean') return value;
  if (value === 'true') return true;
  if (value === 'false') return false;
  if (value === null) throw new EvalError(`${what} is required, but the value is null`, pos);
  throw new EvalError(`${what} is required, but the value is ${typeof value === 'string' ? JSON.stringify(value) : `a ${typeName(value)}`}`, pos);
}

/** Sorted keys: Terraform orders object and map attributes lexically. */
export function sortedKeys(value: Record_): string[] {
  return Object.keys(value).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Equality as `==` judges it: same type and same value, deeply. Callers rule out unknowns first. */
export function equal(a: Value, b: Value): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((item, index) => equal(item, b[index]!));
  }
  if (a instanceof SetValue || b instanceof SetValue) {
    return a instanceof SetValue && b instanceof SetValue && a.items.length === b.items.length && a.items.every((item) => b.items.some((other) => equal(item, other)));
  }
  if (isRecord(a) && isRecord(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((key) => Object.hasOwn(b, key) && equal(a[key]!, b[key]!));
  }
  return false;
}

/** A set of distinct values; strings and numbers sorted the way Terraform lists a set. */
export function makeSet(items: Value[], pos: Pos): Value {
  if (items.some(containsUnknown)) return UNKNOWN;
  const distinct: Value[] = [];
  const seen = new Set<string | number | boolean | null>();
  for (const item of items) {
    if (item === null || typeof item !== 'object') {
      if (seen.has(item)) continue;
      seen.add(item);
      distinct.push(item);
    } else if (!distinct.some((other) => equal(other, item))) {
      distinct.push(item);
    }
    checkSize(distinct, pos);
  }
  if (distinct.every((item) => typeof item === 'string')) distinct.sort((a, b) => ((a as string) < (b as string) ? -1 : (a as string) > (b as string) ? 1 : 0));
  else if (distinct.every((item) => typeof item === 'number')) distinct.sort((a, b) => (a as number) - (b as number));
  return new SetValue(distinct);
}

/** The elements of a tuple, list or set, or null when the value is not one. */
export function sequence(value: Value): Value[] | null {
  if (Array.isArray(value)) return value;
  if (value instanceof SetValue) return value.items;
  return null;
}

/** Key/value pairs in iteration order: index and element, element twice (sets), or sorted key and value. */
export function entries(value: Value): [Value, Value][] | null {
  if (Array.isArray(value)) return value.map((item, index) => [index, item]);
  if (value instanceof SetValue) return value.items.map((item) => [item, item]);
  if (isRecord(value)) return sortedKeys(value).map((key) => [key, value[key]!]);
  return null;
}

/** A JSON value as an HCL value (objects become records). */
export function fromJson(json: unknown): Value {
  if (json === null || typeof json === 'string' || typeof json === 'number' || typeof json === 'boolean') return json;
  if (Array.isArray(json)) return json.map(fromJson);
  if (typeof json === 'object') return recordOf(Object.entries(json as object).map(([key, value]) => [key, fromJson(value)]));
  return null;
}

/** Deeper than any JSON a configuration decodes; keeps later recursive walks inside the stack. */
export const MAX_VALUE_DEPTH = 200;

export function valueDepth(json: unknown, limit = MAX_VALUE_DEPTH, depth = 0): number {
  if (depth > limit) return depth;
  let deepest = depth;
  if (Array.isArray(json)) for (const item of json) deepest = Math.max(deepest, valueDepth(item, limit, depth + 1));
  else if (json !== null && typeof json === 'object') for (const item of Object.values(json)) deepest = Math.max(deepest, valueDepth(item, limit, depth + 1));
  return deepest;
}

/** A plain-object property set that cannot touch the prototype, whatever the key. */
function setPlain(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

/**
 * The value as `terraform show -json` writes a planned value: `value` without its unknown parts
 * (left out of objects, null in lists), and `unknown` with true where they were (undefined when
 * the whole value is known).
 */
export function toPlanned(value: Value): { value: unknown; unknown: unknown } {
  if (isUnknown(value)) return { value: undefined, unknown: true };
  const items = sequence(value);
  if (items) {
    const values: unknown[] = [];
    const unknowns: unknown[] = [];
    let anyUnknown = false;
    for (const item of items) {
      const planned = toPlanned(item);
      values.push(planned.value === undefined ? null : planned.value);
      unknowns.push(planned.unknown ?? false);
      if (planned.unknown !== undefined) anyUnknown = true;
    }
    return { value: values, unknown: anyUnknown ? unknowns : undefined };
  }
  if (isRecord(value)) {
    const values: Record<string, unknown> = {};
    const unknowns: Record<string, unknown> = {};
    let anyUnknown = false;
    for (const key of Object.keys(value)) {
      const planned = toPlanned(value[key]!);
      if (planned.value !== undefined) setPlain(values, key, planned.value);
      if (planned.unknown !== undefined) {
        setPlain(unknowns, key, planned.unknown);
        anyUnknown = true;
      }
    }
    return { value: values, unknown: anyUnknown ? unknowns : undefined };
  }
  return { value, unknown: undefined };
}

export { setPlain };
