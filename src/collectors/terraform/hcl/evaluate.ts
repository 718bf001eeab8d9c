// Evaluates HCL expressions to values. What a name means (var, local, a resource...) is the
// scope's business; this file knows the expression language: operators, templates, for
// expressions, splats, indexes and function calls. Anything not known before apply evaluates to
// an unknown value, which spreads through every operation that reads it and is never taken for
// false or null.

import type { Expression, Pos, TemplatePart } from './ast.ts';
import { callFunction } from './functions.ts';
import {
  checkSize,
  checkString,
  containsUnknown,
  entries,
  equal,
  EvalError,
  isRecord,
  isUnknown,
  LimitError,
  record,
  Reference,
  sequence,
  SetValue,
  toBool,
  toNum,
  toStr,
  typeName,
  Unknown,
  UNKNOWN,
  type Value,
} from './values.ts';

export interface Scope {
  /** The value of a root name (`var`, `local`, `each`, a for-expression variable...). Throws EvalError when there is none. */
  lookup(name: string, pos: Pos): Value;
}

/** A scope adding names (for-expression variables, dynamic block iterators) over another. */
export class ChildScope implements Scope {
  private readonly parent: Scope;
  private readonly names: Map<string, Value>;
  constructor(parent: Scope, names: Map<string, Value>) {
    this.parent = parent;
    this.names = names;
  }
  lookup(name: string, pos: Pos): Value {
    return this.names.has(name) ? this.names.get(name)! : this.parent.lookup(name, pos);
  }
}

/** A scope where no name is defined: variable defaults and tfvars files may use literals and functions only. */
export const CONSTANT_SCOPE: Scope = {
  lookup(name, pos) {
    throw new EvalError(`variables are not allowed here: "${name}" cannot be referenced`, pos);
  },
};

const SPLAT_ITEM = '\u0000splat';

/** Nested evaluations (expressions inside expressions, references inside references) past this fail. */
export const MAX_EVAL_DEPTH = 400;
/** Expression evaluations one configuration may cost; bounds for-expression and module fan-out. */
export const DEFAULT_EVAL_BUDGET = 5_000_000;
/** Characters of large new strings (templates, function results) one configuration may build. */
export const MAX_BUILT_CHARS = 128 * 1024 * 1024;
const LARGE_STRING = 4096;

export class Evaluator {
  private depth = 0;
  private steps = 0;
  private built = 0;
  private readonly budget: number;

  constructor(budget = DEFAULT_EVAL_BUDGET) {
    this.budget = budget;
  }

  /** Runs `work` one level deeper (for references resolved lazily: locals, variables, outputs). */
  nested<T>(pos: Pos, work: () => T): T {
    if (++this.depth > MAX_EVAL_DEPTH) {
      this.depth--;
      throw new LimitError(`references and expressions nested deeper than ${MAX_EVAL_DEPTH} levels`, pos);
    }
    try {
      return work();
    } finally {
      this.depth--;
    }
  }

  evaluate(expr: Expression, scope: Scope): Value {
    if (++this.steps > this.budget) throw new LimitError(`the configuration needs more than ${this.budget} evaluation steps`, expr.pos);
    if (++this.depth > MAX_EVAL_DEPTH) {
      this.depth--;
      throw new LimitError(`references and expressions nested deeper than ${MAX_EVAL_DEPTH} levels`, expr.pos);
    }
    try {
      const value = this.evaluateNode(expr, scope);
      // Every string is bounded, but a for expression could still build thousands of large ones.
      if (typeof value === 'string' && value.length >= LARGE_STRING && (expr.kind === 'template' || expr.kind === 'call')) {
        this.built += value.length;
        if (this.built > MAX_BUILT_CHARS) throw new LimitError(`the configuration builds more than ${MAX_BUILT_CHARS} characters of strings`, expr.pos);
      }
      return value;
    } catch (error) {
      // The limits above keep well inside the stack; should it overflow all the same, fail cleanly.
      if (error instanceof RangeError) {
        if (/call stack/i.test(error.message)) throw new LimitError('nested too deep to evaluate', expr.pos);
        throw new EvalError(error.message, expr.pos);
      }
      throw error;
    } finally {
      this.depth--;
    }
  }

  private evaluateNode(expr: Expression, scope: Scope): Value {
    switch (expr.kind) {
      case 'literal':
        return expr.value;
      case 'wrap':
      case 'parens':
        return this.evaluate(expr.expr, scope);
      case 'template':
        return this.renderTemplate(expr.parts, scope, expr.pos);
      case 'variable':
        return scope.lookup(expr.name, expr.pos);
      case 'splat-item':
        return scope.lookup(SPLAT_ITEM, expr.pos);
      case 'getattr':
        return getAttr(this.evaluate(expr.source, scope), expr.name, expr.pos);
      case 'index':
        return index(this.evaluate(expr.source, scope), this.evaluate(expr.key, scope), expr.pos);
      case 'splat':
        return this.splat(expr.source, expr.each, scope);
      case 'call':
        return this.call(expr, scope);
      case 'tuple':
        return checkSize(
          expr.items.map((item) => this.evaluate(item, scope)),
          expr.pos,
        );
      case 'object':
        return this.object(expr, scope);
      case 'for':
        return this.forExpression(expr, scope);
      case 'conditional': {
        const cond = this.evaluate(expr.cond, scope);
        if (isUnknown(cond)) return UNKNOWN;
        if (cond === null) throw new EvalError('the condition is null: a conditional needs true or false', expr.cond.pos);
        return toBool(cond, expr.cond.pos, 'a bool condition') ? this.evaluate(expr.then, scope) : this.evaluate(expr.else, scope);
      }
      case 'unary': {
        const operand = this.evaluate(expr.operand, scope);
        if (isUnknown(operand)) return UNKNOWN;
        return expr.op === '-' ? -toNum(operand, expr.operand.pos, 'a number operand') : !toBool(operand, expr.operand.pos, 'a bool operand');
      }
      case 'binary':
        return this.binary(expr, scope);
    }
  }

  private binary(expr: Extract<Expression, { kind: 'binary' }>, scope: Scope): Value {
    const left = this.evaluate(expr.left, scope);
    const right = this.evaluate(expr.right, scope);
    switch (expr.op) {
      case '==':
      case '!=': {
        if (containsUnknown(left) || containsUnknown(right)) return UNKNOWN;
        const same = equal(left, right);
        return expr.op === '==' ? same : !same;
      }
      case '&&':
      case '||': {
        const l = isUnknown(left) ? null : toBool(left, expr.left.pos, 'a bool operand');
        const r = isUnknown(right) ? null : toBool(right, expr.right.pos, 'a bool operand');
        // A known false (&&) or true (||) decides the result whatever the other side is.
        const decisive = expr.op === '&&' ? false : true;
        if (l === decisive || r === decisive) return decisive;
        if (l === null || r === null) return UNKNOWN;
        return !decisive;
      }
      default:
        break;
    }
    if (isUnknown(left) || isUnknown(right)) return UNKNOWN;
    const a = toNum(left, expr.left.pos, 'a number operand');
    const b = toNum(right, expr.right.pos, 'a number operand');
    switch (expr.op) {
      case '+':
        return a + b;
      case '-':
        return a - b;
      case '*':
        return a * b;
      case '/':
        if (b === 0) throw new EvalError('division by zero', expr.right.pos);
        return a / b;
      case '%':
        if (b === 0) throw new EvalError('modulo by zero', expr.right.pos);
        return a % b;
      case '<':
        return a < b;
      case '<=':
        return a <= b;
      case '>':
        return a > b;
      default:
        return a >= b;
    }
  }

  private renderTemplate(parts: TemplatePart[], scope: Scope, pos: Pos): Value {
    let out = '';
    let unknown = false;
    const render = (list: TemplatePart[], inner: Scope): void => {
      for (const part of list) {
        switch (part.kind) {
          case 'literal':
            out += part.value;
            break;
          case 'interp': {
            const value = this.evaluate(part.expr, inner);
            if (containsUnknown(value)) unknown = true;
            else out += toStr(value, part.expr.pos, 'a string, number or bool to interpolate');
            break;
          }
          case 'if': {
            const cond = this.evaluate(part.cond, inner);
            if (isUnknown(cond)) unknown = true;
            else render(toBool(cond, part.cond.pos, 'a bool condition') ? part.then : part.else, inner);
            break;
          }
          case 'for': {
            const collection = this.evaluate(part.collection, inner);
            if (isUnknown(collection)) {
              unknown = true;
              break;
            }
            const pairs = iterable(collection, part.collection.pos);
            for (const [key, value] of pairs) {
              const names = new Map<string, Value>([[part.valueVar, value]]);
              if (part.keyVar) names.set(part.keyVar, key);
              render(part.body, new ChildScope(inner, names));
              if (unknown) break;
            }
            break;
          }
        }
        checkString(out, pos);
      }
    };
    render(parts, scope);
    return unknown ? UNKNOWN : out;
  }

  private splat(source: Expression, each: Expression, scope: Scope): Value {
    const value = this.evaluate(source, scope);
    if (isUnknown(value)) return UNKNOWN;
    if (value === null) return [];
    const items = sequence(value) ?? [value];
    return items.map((item) => this.evaluate(each, new ChildScope(scope, new Map([[SPLAT_ITEM, item]]))));
  }

  private object(expr: Extract<Expression, { kind: 'object' }>, scope: Scope): Value {
    const out = record();
    let unknownKey = false;
    for (const item of expr.items) {
      let key: string;
      if (item.key.kind === 'variable') {
        key = item.key.name;
      } else {
        const keyValue = this.evaluate(item.key, scope);
        if (isUnknown(keyValue)) {
          unknownKey = true;
          this.evaluate(item.value, scope);
          continue;
        }
        key = toStr(keyValue, item.key.pos, 'a string object key');
      }
      out[key] = this.evaluate(item.value, scope);
    }
    return unknownKey ? UNKNOWN : out;
  }

  private forExpression(expr: Extract<Expression, { kind: 'for' }>, scope: Scope): Value {
    const collection = this.evaluate(expr.collection, scope);
    if (isUnknown(collection)) return UNKNOWN;
    const pairs = iterable(collection, expr.collection.pos);
    const tuple: Value[] = [];
    const object = record();
    const grouped = new Map<string, Value[]>();
    for (const [key, value] of pairs) {
      const names = new Map<string, Value>([[expr.valueVar, value]]);
      if (expr.keyVar) names.set(expr.keyVar, key);
      const inner = new ChildScope(scope, names);
      if (expr.cond) {
        const keep = this.evaluate(expr.cond, inner);
        if (isUnknown(keep)) return UNKNOWN;
        if (!toBool(keep, expr.cond.pos, 'a bool condition')) continue;
      }
      if (!expr.object) {
        tuple.push(this.evaluate(expr.valueExpr, inner));
        checkSize(tuple, expr.pos);
        continue;
      }
      const keyValue = this.evaluate(expr.keyExpr!, inner);
      if (isUnknown(keyValue)) return UNKNOWN;
      const name = toStr(keyValue, expr.keyExpr!.pos, 'a string key');
      const item = this.evaluate(expr.valueExpr, inner);
      if (expr.group) {
        const group = grouped.get(name) ?? [];
        group.push(item);
        grouped.set(name, group);
        continue;
      }
      if (Object.hasOwn(object, name)) throw new EvalError(`two elements have the key "${name}" in this for expression; add "..." after the value to group them`, expr.keyExpr!.pos);
      object[name] = item;
      checkSize(Object.keys(object), expr.pos);
    }
    if (!expr.object) return tuple;
    if (expr.group) for (const [name, items] of grouped) object[name] = items;
    return object;
  }

  private call(expr: Extract<Expression, { kind: 'call' }>, scope: Scope): Value {
    if (expr.name === 'try') {
      if (expr.args.length === 0) throw new EvalError('try() needs at least one argument', expr.pos);
      let last: EvalError | null = null;
      for (const arg of expr.args) {
        try {
          return this.evaluate(arg, scope);
        } catch (error) {
          if (!(error instanceof EvalError) || error instanceof LimitError) throw error;
          last = error;
        }
      }
      throw new EvalError(`no argument of try() could be evaluated: ${last!.message}`, expr.pos);
    }
    if (expr.name === 'can') {
      if (expr.args.length !== 1) throw new EvalError('can() takes exactly one argument', expr.pos);
      try {
        const value = this.evaluate(expr.args[0]!, scope);
        return containsUnknown(value) ? UNKNOWN : true;
      } catch (error) {
        if (!(error instanceof EvalError) || error instanceof LimitError) throw error;
        return false;
      }
    }
    let args = expr.args.map((arg) => this.evaluate(arg, scope));
    if (expr.expandFinal) {
      const last = args[args.length - 1];
      if (last === undefined || isUnknown(last)) return UNKNOWN;
      const spread = sequence(last);
      if (!spread) throw new EvalError(`the argument before "..." must be a list, set or tuple, not a ${typeName(last)}`, expr.args[expr.args.length - 1]!.pos);
      args = [...args.slice(0, -1), ...spread];
    }
    return callFunction(expr.name, args, expr.pos);
  }
}

/** The pairs a for expression or directive walks, or an error naming what cannot be walked. */
function iterable(collection: Value, pos: Pos): [Value, Value][] {
  if (collection === null) throw new EvalError('a for expression cannot iterate over null', pos);
  const pairs = entries(collection);
  if (!pairs) throw new EvalError(`a for expression needs a list, set, tuple, map or object, not a ${typeName(collection)}`, pos);
  return pairs;
}

export function getAttr(value: Value, name: string, pos: Pos): Value {
  if (value instanceof Reference) return value.getAttr(name, pos);
  if (value instanceof Unknown) return UNKNOWN;
  if (isRecord(value)) {
    if (Object.hasOwn(value, name)) return value[name]!;
    throw new EvalError(`this object has no attribute "${name}"`, pos);
  }
  if (value === null) throw new EvalError(`cannot read attribute "${name}" of a null value`, pos);
  throw new EvalError(`cannot read attribute "${name}" of a ${typeName(value)}`, pos);
}

export function index(value: Value, key: Value, pos: Pos): Value {
  if (value instanceof Reference) return isUnknown(key) ? UNKNOWN : value.index(key, pos);
  if (value instanceof Unknown || isUnknown(key)) return UNKNOWN;
  if (key === null) throw new EvalError('an index cannot be null', pos);
  if (Array.isArray(value)) {
    const at = toNum(key, pos, 'a number index');
    if (!Number.isInteger(at) || at < 0 || at >= value.length) throw new EvalError(`index ${toStr(key, pos)} is out of range for a list of ${value.length} elements`, pos);
    return value[at]!;
  }
  if (isRecord(value)) {
    const name = toStr(key, pos, 'a string key');
    if (Object.hasOwn(value, name)) return value[name]!;
    throw new EvalError(`the map has no element with the key ${JSON.stringify(name)}`, pos);
  }
  if (value instanceof SetValue) throw new EvalError('a set cannot be indexed: its elements have no order; convert it with tolist()', pos);
  if (value === null) throw new EvalError('cannot index a null value', pos);
  throw new EvalError(`cannot index a ${typeName(value)}`, pos);
}
