// Terraform's built-in functions that matter for reading key settings, computed the way Terraform
// computes them. A function not listed here (file(), timestamp(), a provider function...)
// evaluates to unknown: never an error, and never a guess.

import { createHash } from 'node:crypto';
import type { Pos } from './ast.ts';
import {
  checkSize,
  checkString,
  containsUnknown,
  equal,
  EvalError,
  formatNumber,
  fromJson,
  isRecord,
  isUnknown,
  LimitError,
  makeSet,
  MAX_COLLECTION,
  MAX_VALUE_DEPTH,
  record,
  recordOf,
  sequence,
  sortedKeys,
  toBool,
  toNum,
  toStr,
  typeName,
  UNKNOWN,
  valueDepth,
  type Record_,
  type Value,
} from './values.ts';

interface Builtin {
  /** Fewest and most arguments. */
  arity: [number, number];
  /** Whether it can work with unknown parts inside its arguments (a wholly unknown argument still makes the result unknown). */
  partial?: boolean;
  /** Whether a wholly unknown argument is handed to it rather than making the result unknown. */
  unknownArgs?: boolean;
  fn: (args: Value[], pos: Pos) => Value;
}

const MANY = Number.POSITIVE_INFINITY;

export function callFunction(name: string, args: Value[], pos: Pos): Value {
  const builtin = Object.hasOwn(BUILTINS, name) ? BUILTINS[name] : undefined;
  if (!builtin) return UNKNOWN;
  const [min, max] = builtin.arity;
  if (args.length < min || args.length > max) {
    const expected = min === max ? `${min}` : max === MANY ? `at least ${min}` : `${min} to ${max}`;
    throw new EvalError(`${name}() takes ${expected} argument${expected === '1' ? '' : 's'}, not ${args.length}`, pos);
  }
  if (!builtin.unknownArgs && args.some(isUnknown)) return UNKNOWN;
  if (!builtin.partial && !builtin.unknownArgs && args.some(containsUnknown)) return UNKNOWN;
  return builtin.fn(args, pos);
}

// ---- argument helpers ---------------------------------------------------------------------

function notNull(value: Value, pos: Pos, what: string): Exclude<Value, null> {
  if (value === null) throw new EvalError(`${what} must not be null`, pos);
  return value;
}

function str(value: Value, pos: Pos, what = 'the argument'): string {
  return toStr(notNull(value, pos, what), pos, `${what}: a string`);
}

function num(value: Value, pos: Pos, what = 'the argument'): number {
  return toNum(notNull(value, pos, what), pos, `${what}: a number`);
}

function int(value: Value, pos: Pos, what = 'the argument'): number {
  const n = num(value, pos, what);
  if (!Number.isInteger(n)) throw new EvalError(`${what} must be a whole number, not ${formatNumber(n)}`, pos);
  return n;
}

function list(value: Value, pos: Pos, what = 'the argument'): Value[] {
  const items = sequence(notNull(value, pos, what));
  if (!items) throw new EvalError(`${what} must be a list, set or tuple, not a ${typeName(value)}`, pos);
  return items;
}

function map(value: Value, pos: Pos, what = 'the argument'): Record_ {
  const checked = notNull(value, pos, what);
  if (!isRecord(checked)) throw new EvalError(`${what} must be a map or object, not a ${typeName(value)}`, pos);
  return checked;
}

const chars = (text: string): string[] => Array.from(text);

// ---- format ---------------------------------------------------------------------------------

function jsonString(text: string): string {
  return JSON.stringify(text).replace(/[<>&\u2028\u2029]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function jsonEncode(value: Value, pos: Pos): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return jsonString(value);
  if (typeof value === 'number') return formatNumber(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  const items = sequence(value);
  let out: string;
  if (items) out = `[${items.map((item) => jsonEncode(item, pos)).join(',')}]`;
  else if (isRecord(value)) out = `{${sortedKeys(value).map((key) => `${jsonString(key)}:${jsonEncode(value[key]!, pos)}`).join(',')}}`;
  else throw new EvalError('an unknown value cannot be encoded', pos);
  return checkString(out, pos);
}

function exponent(text: string): string {
  // Go writes two exponent digits at least (1.5e+02), JavaScript as few as needed (1.5e+2).
  return text.replace(/e([+-])(\d)$/, 'e$10$2');
}

function formatVerb(verb: string, flags: string, precision: number | null, arg: Value, pos: Pos): string {
  const signed = (n: number, text: string) => (n >= 0 && flags.includes('+') ? `+${text}` : n >= 0 && flags.includes(' ') ? ` ${text}` : text);
  switch (verb) {
    case 'v':
      if (flags.includes('#') || (arg !== null && typeof arg === 'object')) return jsonEncode(arg, pos);
      return arg === null ? 'null' : toStr(arg, pos);
    case 's': {
      const text = str(arg, pos, 'a %s argument');
      return precision === null ? text : chars(text).slice(0, precision).join('');
    }
    case 'q':
      return jsonString(str(arg, pos, 'a %q argument'));
    case 't':
      return toBool(notNull(arg, pos, 'a %t argument'), pos) ? 'true' : 'false';
    case 'd': {
      const n = int(arg, pos, 'a %d argument');
      return signed(n, formatNumber(n));
    }
    case 'b':
    case 'o':
    case 'x':
    case 'X': {
      const n = int(arg, pos, `a %${verb} argument`);
      const text = Math.abs(n).toString(verb === 'b' ? 2 : verb === 'o' ? 8 : 16);
      const prefixed = flags.includes('#') ? (verb === 'o' ? `0${text}` : verb === 'b' ? text : `0x${text}`) : text;
      const cased = verb === 'X' ? prefixed.toUpperCase() : prefixed;
      return n < 0 ? `-${cased}` : signed(n, cased);
    }
    case 'e':
    case 'E': {
      const n = num(arg, pos, `a %${verb} argument`);
      const text = exponent(n.toExponential(Math.min(precision ?? 6, 100)));
      return signed(n, verb === 'E' ? text.toUpperCase() : text);
    }
    case 'f':
    case 'F': {
      const n = num(arg, pos, `a %${verb} argument`);
      return signed(n, n.toFixed(Math.min(precision ?? 6, 100)));
    }
    case 'g':
    case 'G': {
      const n = num(arg, pos, `a %${verb} argument`);
      const text = precision === null ? String(n) : exponent(String(Number(n.toPrecision(Math.min(Math.max(precision, 1), 100)))));
      return signed(n, verb === 'G' ? text.toUpperCase() : text);
    }
    default:
      throw new EvalError(`format: unknown verb %${verb}`, pos);
  }
}

function format(spec: string, args: Value[], pos: Pos): string {
  let out = '';
  let next = 0;
  let index = 0;
  while (index < spec.length) {
    const percent = spec.indexOf('%', index);
    if (percent < 0) {
      out += spec.slice(index);
      break;
    }
    out += spec.slice(index, percent);
    index = percent + 1;
    if (spec[index] === '%') {
      out += '%';
      index++;
      continue;
    }
    let flags = '';
    while (index < spec.length && '+- #0'.includes(spec[index]!)) flags += spec[index++];
    if (spec[index] === '[') {
      const close = spec.indexOf(']', index);
      const position = close > index ? Number(spec.slice(index + 1, close)) : Number.NaN;
      if (!Number.isInteger(position) || position < 1) throw new EvalError('format: an explicit argument index must be [1] or more', pos);
      next = position - 1;
      index = close + 1;
    }
    let width = 0;
    while (index < spec.length && spec[index]! >= '0' && spec[index]! <= '9') width = width * 10 + Number(spec[index++]);
    let precision: number | null = null;
    if (spec[index] === '.') {
      index++;
      precision = 0;
      while (index < spec.length && spec[index]! >= '0' && spec[index]! <= '9') precision = precision * 10 + Number(spec[index++]);
    }
    const verb = spec[index++];
    if (verb === undefined) throw new EvalError('format: the specification ends in the middle of a verb', pos);
    if (next >= args.length) throw new EvalError(`format: not enough arguments for %${verb}`, pos);
    let text = formatVerb(verb, flags, precision, args[next++]!, pos);
    const length = chars(text).length;
    if (width > MAX_COLLECTION) throw new LimitError(`format: a width over ${MAX_COLLECTION}`, pos);
    if (length < width) {
      const pad = width - length;
      if (flags.includes('-')) text += ' '.repeat(pad);
      else if (flags.includes('0') && 'dbboxXeEfFgG'.includes(verb)) text = /^[+-]/.test(text) ? text[0] + '0'.repeat(pad) + text.slice(1) : '0'.repeat(pad) + text;
      else text = ' '.repeat(pad) + text;
    }
    out += text;
    checkString(out, pos);
  }
  return out;
}

// ---- helpers for collections ------------------------------------------------------------------

function flatten(items: Value[], pos: Pos, depth = 0): Value[] | null {
  if (depth > MAX_VALUE_DEPTH) throw new LimitError('flatten: lists nested too deep', pos);
  const out: Value[] = [];
  for (const item of items) {
    if (isUnknown(item)) return null;
    const inner = sequence(item);
    if (inner) {
      const flat = flatten(inner, pos, depth + 1);
      if (!flat) return null;
      out.push(...flat);
    } else {
      out.push(item);
    }
    checkSize(out, pos);
  }
  return out;
}

function rangeOf(args: number[], pos: Pos): number[] {
  const [start, limit, step] = args.length === 1 ? [0, args[0]!, 1] : args.length === 2 ? [args[0]!, args[1]!, args[0]! <= args[1]! ? 1 : -1] : [args[0]!, args[1]!, args[2]!];
  if (step === 0) throw new EvalError('range: the step must not be zero', pos);
  if ((step > 0 && start > limit) || (step < 0 && start < limit)) {
    if (args.length === 3) throw new EvalError('range: the step goes away from the limit', pos);
    return [];
  }
  const count = Math.ceil((limit - start) / step);
  if (!Number.isFinite(count) || count > MAX_COLLECTION) throw new LimitError(`range: more than ${MAX_COLLECTION} elements`, pos);
  return Array.from({ length: Math.max(count, 0) }, (_, i) => start + i * step);
}

function hash(algorithm: string, encoding: 'hex' | 'base64') {
  return (args: Value[], pos: Pos) => createHash(algorithm).update(str(args[0]!, pos), 'utf8').digest(encoding);
}

const BUILTINS: Record<string, Builtin> = {
  // strings
  lower: { arity: [1, 1], fn: ([s], pos) => str(s!, pos).toLowerCase() },
  upper: { arity: [1, 1], fn: ([s], pos) => str(s!, pos).toUpperCase() },
  title: { arity: [1, 1], fn: ([s], pos) => str(s!, pos).replace(/(^|[^\p{L}\p{N}'])(\p{L})/gu, (_m, before: string, letter: string) => before + letter.toUpperCase()) },
  trimspace: { arity: [1, 1], fn: ([s], pos) => str(s!, pos).trim() },
  chomp: { arity: [1, 1], fn: ([s], pos) => str(s!, pos).replace(/(?:\r\n|\n|\r)+$/, '') },
  trim: {
    arity: [2, 2],
    fn: ([s, cut], pos) => {
      const set = new Set(chars(str(cut!, pos)));
      const list = chars(str(s!, pos));
      let start = 0;
      let end = list.length;
      while (start < end && set.has(list[start]!)) start++;
      while (end > start && set.has(list[end - 1]!)) end--;
      return list.slice(start, end).join('');
    },
  },
  trimprefix: { arity: [2, 2], fn: ([s, prefix], pos) => (str(s!, pos).startsWith(str(prefix!, pos)) ? str(s!, pos).slice(str(prefix!, pos).length) : str(s!, pos)) },
  trimsuffix: { arity: [2, 2], fn: ([s, suffix], pos) => (str(suffix!, pos) !== '' && str(s!, pos).endsWith(str(suffix!, pos)) ? str(s!, pos).slice(0, -str(suffix!, pos).length) : str(s!, pos)) },
  startswith: { arity: [2, 2], fn: ([s, prefix], pos) => str(s!, pos).startsWith(str(prefix!, pos)) },
  endswith: { arity: [2, 2], fn: ([s, suffix], pos) => str(s!, pos).endsWith(str(suffix!, pos)) },
  strcontains: { arity: [2, 2], fn: ([s, part], pos) => str(s!, pos).includes(str(part!, pos)) },
  strrev: { arity: [1, 1], fn: ([s], pos) => chars(str(s!, pos)).reverse().join('') },
  substr: {
    arity: [3, 3],
    fn: ([s, offset, length], pos) => {
      const list = chars(str(s!, pos));
      let start = int(offset!, pos, 'the offset');
      let count = int(length!, pos, 'the length');
      if (start < 0) start = list.length + start;
      if (start < 0 || start > list.length) throw new EvalError('substr: the offset is outside the string', pos);
      if (count < 0) count = list.length - start;
      return list.slice(start, start + count).join('');
    },
  },
  indent: {
    arity: [2, 2],
    fn: ([spaces, s], pos) => {
      const n = int(spaces!, pos, 'the number of spaces');
      if (n < 0 || n > MAX_COLLECTION) throw new EvalError('indent: the number of spaces is out of range', pos);
      return checkString(str(s!, pos).replace(/\n/g, `\n${' '.repeat(n)}`), pos);
    },
  },
  replace: {
    arity: [3, 3],
    fn: ([s, search, replacement], pos) => {
      const needle = str(search!, pos);
      // A /regex/ search needs RE2 semantics; left unknown rather than approximated.
      if (needle.length > 1 && needle.startsWith('/') && needle.endsWith('/')) return UNKNOWN;
      if (needle === '') return str(s!, pos);
      return checkString(str(s!, pos).split(needle).join(str(replacement!, pos)), pos);
    },
  },
  split: {
    arity: [2, 2],
    fn: ([separator, s], pos) => {
      const text = str(s!, pos);
      const sep = str(separator!, pos);
      return checkSize(sep === '' ? chars(text) : text.split(sep), pos);
    },
  },
  join: {
    arity: [2, MANY],
    fn: ([separator, ...lists], pos) => {
      const sep = str(separator!, pos);
      const parts = lists.flatMap((items) => list(items, pos).map((item) => str(item, pos, 'each element')));
      return checkString(parts.join(sep), pos);
    },
  },
  format: { arity: [1, MANY], fn: ([spec, ...rest], pos) => format(str(spec!, pos), rest, pos) },
  formatlist: {
    arity: [1, MANY],
    fn: ([spec, ...rest], pos) => {
      const lengths = rest.map((arg) => sequence(arg)?.length).filter((length): length is number => length !== undefined);
      if (lengths.some((length) => length !== lengths[0])) throw new EvalError('formatlist: the lists have different lengths', pos);
      const count = lengths[0] ?? 1;
      return checkSize(
        Array.from({ length: count }, (_, i) => format(str(spec!, pos), rest.map((arg) => sequence(arg)?.[i] ?? arg), pos)),
        pos,
      );
    },
  },

  // numbers
  abs: { arity: [1, 1], fn: ([n], pos) => Math.abs(num(n!, pos)) },
  ceil: { arity: [1, 1], fn: ([n], pos) => Math.ceil(num(n!, pos)) },
  floor: { arity: [1, 1], fn: ([n], pos) => Math.floor(num(n!, pos)) },
  signum: { arity: [1, 1], fn: ([n], pos) => Math.sign(num(n!, pos)) },
  pow: { arity: [2, 2], fn: ([a, b], pos) => num(a!, pos) ** num(b!, pos) },
  log: { arity: [2, 2], fn: ([a, b], pos) => Math.log(num(a!, pos)) / Math.log(num(b!, pos)) },
  max: { arity: [1, MANY], fn: (args, pos) => args.reduce<number>((best, arg) => Math.max(best, num(arg, pos)), Number.NEGATIVE_INFINITY) },
  min: { arity: [1, MANY], fn: (args, pos) => args.reduce<number>((best, arg) => Math.min(best, num(arg, pos)), Number.POSITIVE_INFINITY) },
  parseint: {
    arity: [2, 2],
    fn: ([s, base], pos) => {
      const radix = int(base!, pos, 'the base');
      const text = str(s!, pos);
      if (radix < 2 || radix > 62) throw new EvalError('parseint: the base must be between 2 and 62', pos);
      const digits = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
      const body = text.replace(/^[+-]/, '');
      if (body === '') throw new EvalError(`parseint: ${JSON.stringify(text)} is not a number in base ${radix}`, pos);
      let value = 0;
      for (const char of body) {
        const digit = radix <= 36 ? digits.indexOf(char.toLowerCase()) : digits.indexOf(char);
        if (digit < 0 || digit >= radix) throw new EvalError(`parseint: ${JSON.stringify(text)} is not a number in base ${radix}`, pos);
        value = value * radix + digit;
      }
      return text.startsWith('-') ? -value : value;
    },
  },
  sum: {
    arity: [1, 1],
    fn: ([items], pos) => {
      const values = list(items!, pos);
      if (values.length === 0) throw new EvalError('sum: the list is empty', pos);
      return values.reduce<number>((total, item) => total + num(item, pos, 'each element'), 0);
    },
  },

  // collections
  length: {
    arity: [1, 1],
    partial: true,
    fn: ([value], pos) => {
      const checked = notNull(value!, pos, 'the argument');
      if (typeof checked === 'string') return chars(checked).length;
      const items = sequence(checked);
      if (items) return items.length;
      if (isRecord(checked)) return Object.keys(checked).length;
      throw new EvalError(`length: a string, list, set, map or object is required, not a ${typeName(checked)}`, pos);
    },
  },
  keys: { arity: [1, 1], partial: true, fn: ([value], pos) => sortedKeys(map(value!, pos)) },
  values: {
    arity: [1, 1],
    partial: true,
    fn: ([value], pos) => {
      const object = map(value!, pos);
      return sortedKeys(object).map((key) => object[key]!);
    },
  },
  concat: {
    arity: [0, MANY],
    partial: true,
    fn: (args, pos) => checkSize(args.flatMap((arg) => list(arg, pos)), pos),
  },
  merge: {
    arity: [0, MANY],
    partial: true,
    fn: (args, pos) => {
      const out = record();
      for (const arg of args) {
        if (arg === null) continue;
        const object = map(arg, pos);
        for (const key of Object.keys(object)) out[key] = object[key]!;
      }
      return out;
    },
  },
  lookup: {
    arity: [2, 3],
    partial: true,
    fn: ([value, key, fallback], pos) => {
      const object = map(value!, pos);
      if (containsUnknown(key!)) return UNKNOWN;
      const name = str(key!, pos, 'the key');
      if (Object.hasOwn(object, name)) return object[name]!;
      if (fallback === undefined) throw new EvalError(`lookup: the map has no key ${JSON.stringify(name)} and no default was given`, pos);
      return fallback;
    },
  },
  element: {
    arity: [2, 2],
    partial: true,
    fn: ([items, at], pos) => {
      const values = list(items!, pos);
      if (containsUnknown(at!)) return UNKNOWN;
      if (values.length === 0) throw new EvalError('element: the list is empty', pos);
      const i = int(at!, pos, 'the index');
      if (i < 0) throw new EvalError('element: the index must not be negative', pos);
      return values[i % values.length]!;
    },
  },
  index: {
    arity: [2, 2],
    fn: ([items, value], pos) => {
      const at = list(items!, pos).findIndex((item) => equal(item, value!));
      if (at < 0) throw new EvalError('index: the value is not in the list', pos);
      return at;
    },
  },
  contains: { arity: [2, 2], fn: ([items, value], pos) => list(items!, pos).some((item) => equal(item, value!)) },
  distinct: {
    arity: [1, 1],
    fn: ([items], pos) => {
      const out: Value[] = [];
      for (const item of list(items!, pos)) if (!out.some((other) => equal(other, item))) out.push(item);
      return out;
    },
  },
  flatten: { arity: [1, 1], partial: true, fn: ([items], pos) => flatten(list(items!, pos), pos) ?? UNKNOWN },
  reverse: { arity: [1, 1], partial: true, fn: ([items], pos) => [...list(items!, pos)].reverse() },
  slice: {
    arity: [3, 3],
    partial: true,
    fn: ([items, from, to], pos) => {
      const values = list(items!, pos);
      if (containsUnknown(from!) || containsUnknown(to!)) return UNKNOWN;
      const start = int(from!, pos, 'the start index');
      const end = int(to!, pos, 'the end index');
      if (start < 0 || end > values.length || start > end) throw new EvalError('slice: the indexes are out of range', pos);
      return values.slice(start, end);
    },
  },
  sort: {
    arity: [1, 1],
    fn: ([items], pos) =>
      list(items!, pos)
        .map((item) => str(item, pos, 'each element'))
        .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)),
  },
  range: { arity: [1, 3], fn: (args, pos) => rangeOf(args.map((arg) => num(arg, pos)), pos) },
  zipmap: {
    arity: [2, 2],
    partial: true,
    fn: ([names, items], pos) => {
      const keys = list(names!, pos);
      const values = list(items!, pos);
      if (keys.some(containsUnknown)) return UNKNOWN;
      if (keys.length !== values.length) throw new EvalError('zipmap: the lists of keys and values have different lengths', pos);
      return recordOf(keys.map((key, i) => [str(key, pos, 'each key'), values[i]!]));
    },
  },
  chunklist: {
    arity: [2, 2],
    partial: true,
    fn: ([items, size], pos) => {
      const values = list(items!, pos);
      if (containsUnknown(size!)) return UNKNOWN;
      const n = int(size!, pos, 'the chunk size');
      if (n < 0) throw new EvalError('chunklist: the size must not be negative', pos);
      if (n === 0) return [values];
      const out: Value[] = [];
      for (let i = 0; i < values.length; i += n) out.push(values.slice(i, i + n));
      return out;
    },
  },
  coalesce: {
    arity: [1, MANY],
    unknownArgs: true,
    fn: (args, pos) => {
      for (const arg of args) {
        if (isUnknown(arg)) return UNKNOWN;
        if (arg !== null && arg !== '') return arg;
      }
      throw new EvalError('coalesce: every argument is null or an empty string', pos);
    },
  },
  coalescelist: {
    arity: [1, MANY],
    unknownArgs: true,
    fn: (args, pos) => {
      for (const arg of args) {
        if (isUnknown(arg)) return UNKNOWN;
        if (arg !== null && list(arg, pos).length > 0) return arg;
      }
      throw new EvalError('coalescelist: every argument is empty', pos);
    },
  },
  compact: { arity: [1, 1], fn: ([items], pos) => list(items!, pos).filter((item) => item !== null && str(item, pos, 'each element') !== '') },
  one: {
    arity: [1, 1],
    partial: true,
    fn: ([items], pos) => {
      const values = list(items!, pos);
      if (values.length > 1) throw new EvalError(`one: the list has ${values.length} elements; it must have zero or one`, pos);
      return values[0] ?? null;
    },
  },
  alltrue: { arity: [1, 1], fn: ([items], pos) => list(items!, pos).every((item) => toBool(notNull(item, pos, 'each element'), pos)) },
  anytrue: { arity: [1, 1], fn: ([items], pos) => list(items!, pos).some((item) => toBool(notNull(item, pos, 'each element'), pos)) },
  setunion: { arity: [1, MANY], fn: (args, pos) => makeSet(args.flatMap((arg) => list(arg, pos)), pos) },
  setintersection: {
    arity: [1, MANY],
    fn: (args, pos) => {
      const [first, ...rest] = args.map((arg) => list(arg, pos));
      return makeSet(first!.filter((item) => rest.every((other) => other.some((candidate) => equal(candidate, item)))), pos);
    },
  },
  setsubtract: {
    arity: [2, 2],
    fn: ([a, b], pos) => {
      const remove = list(b!, pos);
      return makeSet(list(a!, pos).filter((item) => !remove.some((other) => equal(other, item))), pos);
    },
  },
  transpose: {
    arity: [1, 1],
    fn: ([value], pos) => {
      const object = map(value!, pos);
      const out = new Map<string, string[]>();
      for (const key of sortedKeys(object)) {
        for (const item of list(object[key]!, pos)) {
          const name = str(item, pos, 'each element');
          out.set(name, [...(out.get(name) ?? []), key]);
        }
      }
      return recordOf([...out].map(([key, items]) => [key, items]));
    },
  },

  // conversions
  tostring: {
    arity: [1, 1],
    fn: ([value], pos) => {
      if (value === null) return null;
      if (typeof value === 'object') throw new EvalError(`tostring: a ${typeName(value!)} cannot become a string`, pos);
      return toStr(value!, pos);
    },
  },
  tonumber: { arity: [1, 1], fn: ([value], pos) => (value === null ? null : toNum(value!, pos, 'tonumber: a number or a numeric string')) },
  tobool: { arity: [1, 1], fn: ([value], pos) => (value === null ? null : toBool(value!, pos, 'tobool: a bool or "true"/"false"')) },
  tolist: { arity: [1, 1], partial: true, fn: ([value], pos) => (value === null ? null : [...list(value!, pos)]) },
  toset: { arity: [1, 1], partial: true, fn: ([value], pos) => (value === null ? null : makeSet(list(value!, pos), pos)) },
  tomap: { arity: [1, 1], partial: true, fn: ([value], pos) => (value === null ? null : map(value!, pos)) },
  sensitive: { arity: [1, 1], partial: true, fn: ([value]) => value! },
  nonsensitive: { arity: [1, 1], partial: true, fn: ([value]) => value! },

  // encodings
  jsonencode: { arity: [1, 1], fn: ([value], pos) => jsonEncode(value!, pos) },
  jsondecode: {
    arity: [1, 1],
    fn: ([value], pos) => {
      const text = str(value!, pos);
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch (error) {
        throw new EvalError(`jsondecode: not valid JSON (${(error as Error).message})`, pos);
      }
      if (valueDepth(json) > MAX_VALUE_DEPTH) throw new LimitError(`jsondecode: JSON nested deeper than ${MAX_VALUE_DEPTH} levels`, pos);
      return fromJson(json);
    },
  },
  base64encode: { arity: [1, 1], fn: ([s], pos) => checkString(Buffer.from(str(s!, pos), 'utf8').toString('base64'), pos) },
  base64decode: {
    arity: [1, 1],
    fn: ([s], pos) => {
      const text = str(s!, pos);
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) throw new EvalError('base64decode: not valid base64', pos);
      return Buffer.from(text, 'base64').toString('utf8');
    },
  },
  urlencode: { arity: [1, 1], fn: ([s], pos) => encodeURIComponent(str(s!, pos)).replace(/%20/g, '+') },
  md5: { arity: [1, 1], fn: hash('md5', 'hex') },
  sha1: { arity: [1, 1], fn: hash('sha1', 'hex') },
  sha256: { arity: [1, 1], fn: hash('sha256', 'hex') },
  sha512: { arity: [1, 1], fn: hash('sha512', 'hex') },
  base64sha256: { arity: [1, 1], fn: hash('sha256', 'base64') },
  base64sha512: { arity: [1, 1], fn: hash('sha512', 'base64') },
};

export const BUILTIN_NAMES: readonly string[] = Object.keys(BUILTINS);
