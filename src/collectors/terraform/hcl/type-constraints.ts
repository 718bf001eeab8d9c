// A variable's `type` constraint, and the conversion Terraform applies to the value it is given:
// `set(string)` turns a tuple into a set (so for_each accepts it), `number` turns "5" into 5,
// `object({ x = optional(bool, true) })` fills in the missing attribute.

import type { Expression, Pos } from './ast.ts';
import { CONSTANT_SCOPE, type Evaluator } from './evaluate.ts';
import { EvalError, formatNumber, isRecord, isUnknown, makeSet, record, sequence, toBool, toNum, typeName, type Value } from './values.ts';

export type TypeConstraint =
  | { kind: 'any' | 'string' | 'number' | 'bool' }
  | { kind: 'list' | 'set' | 'map'; element: TypeConstraint }
  | { kind: 'tuple'; elements: TypeConstraint[] }
  | { kind: 'object'; attributes: Map<string, ObjectAttribute> };

interface ObjectAttribute {
  type: TypeConstraint;
  optional: boolean;
  fallback: Value;
}

const ANY: TypeConstraint = { kind: 'any' };

/** Reads a type expression; `optional(...)` is allowed only as an object attribute's type. */
export function parseTypeConstraint(expr: Expression, evaluator: Evaluator, depth = 0): TypeConstraint {
  if (depth > 32) throw new EvalError('the type constraint is nested too deep', expr.pos);
  const inner = (e: Expression) => parseTypeConstraint(e, evaluator, depth + 1);
  if (expr.kind === 'variable' || (expr.kind === 'template' && expr.parts.length === 1 && expr.parts[0]!.kind === 'literal')) {
    // Quoted "string", "list" and "map" are Terraform 0.11 spellings it still reads.
    const name = expr.kind === 'variable' ? expr.name : (expr.parts[0] as { value: string }).value;
    switch (name) {
      case 'any':
      case 'string':
      case 'number':
      case 'bool':
        return { kind: name };
      case 'list':
      case 'set':
      case 'map':
        return { kind: name, element: ANY };
      default:
        throw new EvalError(`"${name}" is not a type: expected string, number, bool, any, list(...), set(...), map(...), tuple([...]) or object({...})`, expr.pos);
    }
  }
  if (expr.kind === 'call' && expr.args.length === 1) {
    const [arg] = expr.args as [Expression];
    switch (expr.name) {
      case 'list':
      case 'set':
      case 'map':
        return { kind: expr.name, element: inner(arg) };
      case 'tuple':
        if (arg.kind !== 'tuple') throw new EvalError('tuple() takes a list of types: tuple([string, number])', arg.pos);
        return { kind: 'tuple', elements: arg.items.map(inner) };
      case 'object': {
        if (arg.kind !== 'object') throw new EvalError('object() takes an object of attribute types: object({ name = string })', arg.pos);
        const attributes = new Map<string, ObjectAttribute>();
        for (const item of arg.items) {
          const keyPart = item.key.kind === 'template' && item.key.parts.length === 1 ? item.key.parts[0]! : null;
          const name = item.key.kind === 'variable' ? item.key.name : keyPart?.kind === 'literal' ? keyPart.value : null;
          if (name === null) throw new EvalError('an object type attribute name must be a name or a quoted string', item.key.pos);
          const type = item.value;
          if (type.kind === 'call' && type.name === 'optional') {
            if (type.args.length < 1 || type.args.length > 2) throw new EvalError('optional() takes a type and an optional default', type.pos);
            const attributeType = inner(type.args[0]!);
            const fallback = type.args[1] ? convert(evaluator.evaluate(type.args[1], CONSTANT_SCOPE), attributeType, type.args[1].pos) : null;
            attributes.set(name, { type: attributeType, optional: true, fallback });
          } else {
            attributes.set(name, { type: inner(type), optional: false, fallback: null });
          }
        }
        return { kind: 'object', attributes };
      }
      default:
        break;
    }
  }
  throw new EvalError('not a type constraint: expected string, number, bool, any, list(...), set(...), map(...), tuple([...]) or object({...})', expr.pos);
}

/** The value converted to the type, as Terraform converts a variable's value; unknown parts stay unknown. */
export function convert(value: Value, type: TypeConstraint, pos: Pos, depth = 0): Value {
  if (isUnknown(value) || value === null || type.kind === 'any') return value;
  if (depth > 64) throw new EvalError('the value is nested too deep to convert', pos);
  const fail = (): never => {
    throw new EvalError(`a ${describeType(type)} is required, but the value is a ${typeName(value)}`, pos);
  };
  switch (type.kind) {
    case 'string':
      if (typeof value === 'string') return value;
      if (typeof value === 'number') return formatNumber(value);
      if (typeof value === 'boolean') return value ? 'true' : 'false';
      return fail();
    case 'number':
      if (typeof value === 'object') return fail();
      return toNum(value, pos, 'a number');
    case 'bool':
      if (typeof value === 'object') return fail();
      return toBool(value, pos, 'a bool');
    case 'list':
    case 'set': {
      const items = sequence(value);
      if (!items) return fail();
      const converted = items.map((item) => convert(item, type.element, pos, depth + 1));
      return type.kind === 'set' ? makeSet(converted, pos) : converted;
    }
    case 'map': {
      if (!isRecord(value)) return fail();
      const out = record();
      for (const key of Object.keys(value)) out[key] = convert(value[key]!, type.element, pos, depth + 1);
      return out;
    }
    case 'tuple': {
      const items = sequence(value);
      if (!items) return fail();
      if (items.length !== type.elements.length) throw new EvalError(`a tuple of ${type.elements.length} elements is required, but the value has ${items.length}`, pos);
      return items.map((item, i) => convert(item, type.elements[i]!, pos, depth + 1));
    }
    case 'object': {
      if (!isRecord(value)) return fail();
      const out = record();
      for (const [name, attribute] of type.attributes) {
        if (Object.hasOwn(value, name) && value[name] !== null) out[name] = convert(value[name]!, attribute.type, pos, depth + 1);
        else if (attribute.optional) out[name] = attribute.fallback;
        else if (Object.hasOwn(value, name)) out[name] = null;
        else throw new EvalError(`the attribute "${name}" is required`, pos);
      }
      return out;
    }
  }
}

function describeType(type: TypeConstraint): string {
  switch (type.kind) {
    case 'list':
    case 'set':
    case 'map':
      return `${type.kind}(${describeType(type.element)})`;
    case 'tuple':
      return 'tuple';
    case 'object':
      return 'object';
    default:
      return type.kind;
  }
}
