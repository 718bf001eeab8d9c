// A module instance under evaluation: what its names mean (var, local, each, count, module,
// resources), its count/for_each expansion, and its resource blocks turned into plan-like values
// with positions. Names are resolved lazily and remembered, so locals may use each other in any
// order and a cycle is caught where it closes.

import path from 'node:path';
import { pointer } from '../json-positions.ts';
import type { Attribute, Block, Body, Expression, Pos } from './ast.ts';
import type { HclResource } from './configuration.ts';
import { ChildScope, CONSTANT_SCOPE, type Scope } from './evaluate.ts';
import { attributeOf, literalString, type ModuleDef, type ModuleNode } from './module-loader.ts';
import { INVALID, type Session } from './session.ts';
import { convert, parseTypeConstraint, type TypeConstraint } from './type-constraints.ts';
import { entries, EvalError, isRecord, isUnknown, record, recordOf, Reference, SetValue, toNum, toPlanned, Unknown, UNKNOWN, type Value } from './values.ts';

/** Instances one resource or module block may expand to. */
export const MAX_INSTANCES = 10_000;
/** Module instances and resource instances one load may produce in all. */
export const MAX_MODULE_INSTANCES = 10_000;
export const MAX_RESOURCES = 100_000;

/** Resource meta-arguments: not values of the resource. */
const META_ATTRIBUTES = new Set(['count', 'for_each', 'provider', 'depends_on']);
const META_BLOCKS = new Set(['lifecycle', 'provisioner', 'connection']);

/** One instance of count/for_each: its key in the address and what each/count mean inside it. */
interface Repetition {
  key: string | number | null;
  each?: { key: Value; value: Value };
  countIndex?: Value;
}

const SINGLE: Repetition = { key: null };

function addressKey(key: string | number | null): string {
  if (key === null) return '';
  return typeof key === 'number' ? `[${key}]` : `[${JSON.stringify(key)}]`;
}

/** A lazily resolved name space: `var`, `local`, `module`, `data`, or a resource type. */
class Namespace extends Reference {
  private readonly what: string;
  private readonly attr: (name: string, pos: Pos) => Value;
  constructor(what: string, attr: (name: string, pos: Pos) => Value) {
    super();
    this.what = what;
    this.attr = attr;
  }
  getAttr(name: string, pos: Pos): Value {
    return this.attr(name, pos);
  }
  index(_key: Value, pos: Pos): Value {
    throw new EvalError(`"${this.what}" cannot be indexed: use ${this.what}.<name>`, pos);
  }
}

/** A managed resource (or one of its instances): its attributes are known only after apply. */
class ResourceRef extends Reference {
  private readonly address: string;
  private readonly keyed: boolean;
  constructor(address: string, keyed: boolean) {
    super();
    this.address = address;
    this.keyed = keyed;
  }
  getAttr(name: string): Value {
    return this.keyed ? UNKNOWN : new Unknown(`${this.address}.${name}`);
  }
  index(key: Value, pos: Pos): Value {
    if (!this.keyed) return UNKNOWN;
    if (typeof key === 'number' && Number.isInteger(key)) return new ResourceRef(`${this.address}${addressKey(key)}`, false);
    if (typeof key === 'string') return new ResourceRef(`${this.address}${addressKey(key)}`, false);
    throw new EvalError('a resource instance key must be a number or a string', pos);
  }
}

/** An instance of a module: its outputs, evaluated when read. */
class ModuleInstanceRef extends Reference {
  private readonly instance: ModuleInstance;
  constructor(instance: ModuleInstance) {
    super();
    this.instance = instance;
  }
  getAttr(name: string, pos: Pos): Value {
    return this.instance.output(name, pos);
  }
  index(): Value {
    return UNKNOWN;
  }
}

type Expansion = { kind: 'single'; instance: ModuleInstance } | { kind: 'unknown'; instance: ModuleInstance } | { kind: 'keyed'; instances: Map<string | number, ModuleInstance> };

/** `module.x`: one instance, or a map of them under count/for_each. */
class ModuleCallRef extends Reference {
  private readonly expansion: Expansion;
  private readonly name: string;
  constructor(name: string, expansion: Expansion) {
    super();
    this.name = name;
    this.expansion = expansion;
  }
  getAttr(name: string, pos: Pos): Value {
    if (this.expansion.kind === 'single') return this.expansion.instance.output(name, pos);
    return UNKNOWN;
  }
  index(key: Value, pos: Pos): Value {
    if (this.expansion.kind !== 'keyed') return UNKNOWN;
    const instance = typeof key === 'string' || typeof key === 'number' ? this.expansion.instances.get(key) : undefined;
    if (!instance) throw new EvalError(`module "${this.name}" has no instance with the key ${JSON.stringify(key)}`, pos);
    return new ModuleInstanceRef(instance);
  }
}

const DATA_SOURCE = new Namespace('data', () => new Namespace('data source', () => UNKNOWN));

type Memo = { state: 'running' } | { state: 'done'; value: Value } | { state: 'failed'; error: unknown };

export class ModuleInstance {
  readonly session: Session;
  readonly node: ModuleNode;
  /** '' for a root, else module.a["x"].module.b */
  readonly address: string;
  private readonly parent: ModuleInstance | null;
  private readonly call: { block: Block; repetition: Repetition } | null;
  private readonly memos = new Map<string, Memo>();
  private readonly expansions = new Map<string, Expansion | null>();
  private readonly types = new Map<string, TypeConstraint | null>();
  private readonly scopes = new Map<Repetition, Scope>();

  constructor(session: Session, node: ModuleNode, address: string, parent: ModuleInstance | null, call: { block: Block; repetition: Repetition } | null) {
    this.session = session;
    this.node = node;
    this.address = address;
    this.parent = parent;
    this.call = call;
  }

  private get def(): ModuleDef {
    return this.node.def;
  }

  /** The names an expression in this module sees, with the given count/for_each instance. */
  scope(repetition: Repetition = SINGLE): Scope {
    let scope = this.scopes.get(repetition);
    if (scope) return scope;
    const modulePath = path.relative(this.node.rootDir, this.def.dir).split(path.sep).join('/') || '.';
    const pathObject = recordOf([
      ['module', modulePath],
      ['root', '.'],
      ['cwd', this.node.rootDir],
    ]);
    const namespaces = new Map<string, Value>([
      ['var', new Namespace('var', (name, pos) => this.variable(name, pos))],
      ['local', new Namespace('local', (name, pos) => this.local(name, pos))],
      ['module', new Namespace('module', (name, pos) => this.moduleCall(name, pos))],
      ['data', DATA_SOURCE],
      ['path', pathObject],
      ['terraform', recordOf([['workspace', UNKNOWN]])],
      ['self', UNKNOWN],
    ]);
    scope = {
      lookup: (name, pos) => {
        const known = namespaces.get(name);
        if (known !== undefined) return known;
        if (name === 'each') {
          if (!repetition.each) throw new EvalError('each.key and each.value exist only in a block with for_each', pos);
          return recordOf([
            ['key', repetition.each.key],
            ['value', repetition.each.value],
          ]);
        }
        if (name === 'count') {
          if (repetition.countIndex === undefined) throw new EvalError('count.index exists only in a block with count', pos);
          return recordOf([['index', repetition.countIndex]]);
        }
        return new Namespace(name, (resourceName) => this.resourceRef(name, resourceName));
      },
    };
    this.scopes.set(repetition, scope);
    return scope;
  }

  /** Evaluates a named value once, remembering the result (or the failure), and refusing a cycle. */
  private memo(key: string, pos: Pos, cycle: string, compute: () => Value): Value {
    const found = this.memos.get(key);
    if (found?.state === 'done') return found.value;
    if (found?.state === 'failed') throw found.error;
    if (found?.state === 'running') throw new EvalError(cycle, pos);
    this.memos.set(key, { state: 'running' });
    try {
      const value = compute();
      this.memos.set(key, { state: 'done', value });
      return value;
    } catch (error) {
      // Remembered even when a limit was hit: re-evaluating a long chain from each of its links would cost its length squared.
      this.memos.set(key, { state: 'failed', error });
      throw error;
    }
  }

  local(name: string, pos: Pos): Value {
    const attribute = this.def.locals.get(name);
    if (!attribute) throw new EvalError(`there is no local value "${name}" in this module`, pos);
    return this.memo(`local.${name}`, attribute.pos, `local.${name} refers to itself (a cycle of local values)`, () => this.session.evaluator.evaluate(attribute.expr, this.scope()));
  }

  variable(name: string, pos: Pos): Value {
    const block = this.def.variables.get(name);
    if (!block) throw new EvalError(`there is no variable "${name}" declared in this module`, pos);
    return this.memo(`var.${name}`, block.pos, `var.${name} refers to itself`, () => {
      const fallback = attributeOf(block.body, 'default');
      let value: Value | undefined;
      let at: Pos = block.pos;
      if (this.call && this.parent) {
        const argument = attributeOf(this.call.block.body, name);
        if (argument) {
          value = this.session.evaluator.evaluate(argument.expr, this.parent.scope(this.call.repetition));
          at = argument.pos;
        }
      } else if (this.node.tfvars.has(name)) {
        value = this.node.tfvars.get(name)!;
      }
      if (value === undefined || (value === null && isNotNullable(block) && fallback)) {
        if (!fallback) return UNKNOWN;
        value = this.session.evaluator.evaluate(fallback.expr, CONSTANT_SCOPE);
        at = fallback.pos;
      }
      const type = this.typeOf(name, block);
      return type ? convert(value, type, at) : value;
    });
  }

  private typeOf(name: string, block: Block): TypeConstraint | null {
    if (this.types.has(name)) return this.types.get(name)!;
    const attribute = attributeOf(block.body, 'type');
    let type: TypeConstraint | null = null;
    if (attribute) {
      try {
        type = parseTypeConstraint(attribute.expr, this.session.evaluator);
      } catch (error) {
        this.session.failed(error);
      }
    }
    this.types.set(name, type);
    return type;
  }

  output(name: string, pos: Pos): Value {
    const block = this.def.outputs.get(name);
    if (!block) throw new EvalError(`the module has no output "${name}"`, pos);
    const value = attributeOf(block.body, 'value');
    if (!value) return UNKNOWN;
    return this.memo(`output.${name}`, block.pos, `output "${name}" refers to itself`, () => this.session.evaluator.evaluate(value.expr, this.scope()));
  }

  private resourceRef(type: string, name: string): Value {
    const block = this.def.declared.get(`${type}.${name}`);
    if (!block) return UNKNOWN;
    const keyed = attributeOf(block.body, 'count') !== undefined || attributeOf(block.body, 'for_each') !== undefined;
    return new ResourceRef(`${this.address ? `${this.address}.` : ''}${type}.${name}`, keyed);
  }

  private moduleCall(name: string, pos: Pos): Value {
    if (!this.node.children.has(name)) throw new EvalError(`there is no module call "${name}" in this module`, pos);
    const expansion = this.expansion(name);
    return expansion ? new ModuleCallRef(name, expansion) : UNKNOWN;
  }

  /** The instances of a module call (evaluated once); null when the module could not be loaded. */
  expansion(name: string): Expansion | null {
    if (this.expansions.has(name)) return this.expansions.get(name)!;
    const node = this.node.children.get(name);
    const block = this.def.calls.get(name);
    let expansion: Expansion | null = null;
    if (node && block) {
      this.expansions.set(name, null); // a module whose count depends on its own outputs would loop
      const repetitions = expand(this.session, block, this.scope(), `module "${name}"`);
      const make = (repetition: Repetition) => {
        this.session.moduleInstances++;
        return new ModuleInstance(this.session, node, `${this.address ? `${this.address}.` : ''}module.${name}${addressKey(repetition.key)}`, this, { block, repetition });
      };
      if (repetitions === 'unknown') {
        expansion = { kind: 'unknown', instance: make({ key: null, each: { key: UNKNOWN, value: UNKNOWN }, countIndex: UNKNOWN }) };
      } else if (repetitions.length === 1 && repetitions[0] === SINGLE) {
        expansion = { kind: 'single', instance: make(SINGLE) };
      } else {
        const room = MAX_MODULE_INSTANCES - this.session.moduleInstances;
        if (repetitions.length > room) this.session.problem(block.pos, INVALID, `module "${name}": more than ${MAX_MODULE_INSTANCES} module instances in all; the rest are left out`);
        expansion = { kind: 'keyed', instances: new Map(repetitions.slice(0, Math.max(room, 0)).map((repetition) => [repetition.key!, make(repetition)])) };
      }
    }
    this.expansions.set(name, expansion);
    return expansion;
  }

  /** Every resource instance of this module instance, then of the modules it calls. */
  emit(): void {
    for (const block of this.def.resources) {
      if (this.session.stopped) return;
      const [type, name] = block.labels as [string, string];
      const repetitions = expand(this.session, block, this.scope(), `resource "${type}" "${name}"`);
      const list = repetitions === 'unknown' ? [{ key: null, each: { key: UNKNOWN, value: UNKNOWN }, countIndex: UNKNOWN }] : repetitions;
      for (const repetition of list) {
        if (this.session.resources.length >= MAX_RESOURCES) {
          this.session.problem(block.pos, INVALID, `more than ${MAX_RESOURCES} resource instances; the rest are left out`);
          return;
        }
        this.session.resources.push(this.resource(block, type, name, repetition));
      }
    }
    // Locals nothing reads still have their problems (a cycle, a bad call) reported.
    for (const [name, attribute] of this.def.locals) {
      if (this.session.stopped) return;
      try {
        this.local(name, attribute.pos);
      } catch (error) {
        this.session.failed(error);
      }
    }
    for (const name of this.node.children.keys()) {
      const expansion = this.expansion(name);
      if (!expansion) continue;
      const instances = expansion.kind === 'keyed' ? [...expansion.instances.values()] : [expansion.instance];
      for (const instance of instances) instance.emit();
    }
  }

  private resource(block: Block, type: string, name: string, repetition: Repetition): HclResource {
    const positions = new Map<string, { line: number; column: number }>();
    const refs: Record<string, string> = {};
    const { values, unknown } = evaluateBody(this.session, block.body, this.scope(repetition), '', positions, refs);
    return {
      address: `${this.address ? `${this.address}.` : ''}${type}.${name}${addressKey(repetition.key)}`,
      type,
      values,
      unknown,
      at: '',
      valuesAt: '',
      file: block.pos.file,
      block: { line: block.pos.line, column: block.pos.column },
      positions,
      refs,
    };
  }
}

function isNotNullable(block: Block): boolean {
  const nullable = attributeOf(block.body, 'nullable');
  return nullable !== undefined && nullable.expr.kind === 'literal' && nullable.expr.value === false;
}

/** count / for_each of a resource or module block: its instances, or 'unknown' when they are not known before apply. */
function expand(session: Session, block: Block, scope: Scope, what: string): Repetition[] | 'unknown' {
  const count = attributeOf(block.body, 'count');
  const forEach = attributeOf(block.body, 'for_each');
  if (count && forEach) session.problem(forEach.pos, INVALID, `${what}: count and for_each cannot both be set`);
  if (count) {
    const value = session.evaluate(count.expr, scope);
    if (isUnknown(value)) return 'unknown';
    let n: number;
    try {
      n = toNum(value, count.pos, 'count: a whole number');
    } catch (error) {
      session.failed(error);
      return [];
    }
    if (!Number.isInteger(n) || n < 0) {
      session.problem(count.pos, INVALID, `${what}: count must be a whole number of 0 or more, not ${String(value)}`);
      return [];
    }
    if (n > MAX_INSTANCES) session.problem(count.pos, INVALID, `${what}: count is ${n}; only the first ${MAX_INSTANCES} instances are read`);
    return Array.from({ length: Math.min(n, MAX_INSTANCES) }, (_, index) => ({ key: index, countIndex: index }));
  }
  if (forEach) {
    const value = session.evaluate(forEach.expr, scope);
    if (isUnknown(value)) return 'unknown';
    const fail = (message: string): Repetition[] => {
      session.problem(forEach.pos, INVALID, `${what}: ${message}`);
      return [];
    };
    let repetitions: Repetition[];
    if (value instanceof SetValue) {
      if (value.items.some(isUnknown)) return 'unknown';
      if (!value.items.every((item) => typeof item === 'string')) return fail('for_each over a set needs a set of strings');
      repetitions = value.items.map((item) => ({ key: item as string, each: { key: item, value: item } }));
    } else if (isRecord(value)) {
      repetitions = (entries(value) ?? []).map(([key, item]) => ({ key: key as string, each: { key, value: item } }));
    } else if (Array.isArray(value)) {
      return fail('for_each needs a map or a set of strings, and this is a list or tuple; convert it with toset() (or build a map)');
    } else if (value === null) {
      return fail('for_each cannot be null');
    } else {
      return fail(`for_each needs a map or a set of strings, not a ${typeof value === 'string' ? 'string' : typeof value === 'number' ? 'number' : 'bool'}`);
    }
    if (repetitions.length > MAX_INSTANCES) {
      session.problem(forEach.pos, INVALID, `${what}: for_each has ${repetitions.length} elements; only the first ${MAX_INSTANCES} instances are read`);
      repetitions = repetitions.slice(0, MAX_INSTANCES);
    }
    return repetitions;
  }
  return [SINGLE];
}

/**
 * A block body as plan values: attributes by name, nested blocks as lists of objects (dynamic
 * blocks expanded in place). Positions go in `positions` keyed by JSON Pointer under `at`.
 * `refs` is given only for the resource's own body (top-level attributes).
 */
function evaluateBody(session: Session, body: Body, scope: Scope, at: string, positions: Map<string, { line: number; column: number }>, refs: Record<string, string> | null): { values: Record<string, unknown>; unknown: Record<string, unknown> } {
  const values: Record<string, unknown> = {};
  const unknown: Record<string, unknown> = {};
  const top = refs !== null;
  const seen = new Map<string, Attribute>();
  for (const attribute of body.attributes) {
    if (top && META_ATTRIBUTES.has(attribute.name)) continue;
    const earlier = seen.get(attribute.name);
    if (earlier) {
      session.problem(attribute.pos, INVALID, `the attribute "${attribute.name}" is set twice (first at line ${earlier.pos.line})`);
      continue;
    }
    seen.set(attribute.name, attribute);
    const value = session.evaluate(attribute.expr, scope);
    const member = pointer(at, attribute.name);
    positions.set(member, { line: attribute.pos.line, column: attribute.pos.column });
    constructorPositions(attribute.expr, member, positions, 0);
    const planned = toPlanned(value);
    if (planned.value !== undefined) setMember(values, attribute.name, planned.value);
    if (planned.unknown !== undefined) setMember(unknown, attribute.name, planned.unknown);
    if (refs && value instanceof Unknown && value.ref) setMember(refs, attribute.name, value.ref);
  }

  // Nested blocks, grouped by type in the order they first appear.
  const groups = new Map<string, Block[]>();
  for (const block of body.blocks) {
    const type = block.type === 'dynamic' ? block.labels[0] : block.type;
    if (type === undefined) {
      session.problem(block.pos, INVALID, 'a dynamic block needs a label: the type of block it generates');
      continue;
    }
    if (top && META_BLOCKS.has(type)) continue;
    if (seen.has(type)) {
      session.problem(block.pos, INVALID, `"${type}" is set both as an attribute and as a block`);
      continue;
    }
    const group = groups.get(type) ?? [];
    group.push(block);
    groups.set(type, group);
  }
  for (const [type, blocks] of groups) {
    const items: { values: Record<string, unknown>; unknown: Record<string, unknown> }[] = [];
    let wholeUnknown = false;
    const member = pointer(at, type);
    for (const block of blocks) {
      if (block.type !== 'dynamic') {
        const itemAt = pointer(member, items.length);
        positions.set(itemAt, { line: block.pos.line, column: block.pos.column });
        items.push(evaluateBody(session, block.body, scope, itemAt, positions, null));
        continue;
      }
      const generated = dynamicBlocks(session, block, type, scope);
      if (generated === 'unknown') {
        wholeUnknown = true;
        continue;
      }
      for (const { content, inner } of generated) {
        const itemAt = pointer(member, items.length);
        positions.set(itemAt, { line: block.pos.line, column: block.pos.column });
        items.push(evaluateBody(session, content.body, inner, itemAt, positions, null));
      }
    }
    if (wholeUnknown) {
      setMember(unknown, type, true);
      continue;
    }
    setMember(
      values,
      type,
      items.map((item) => item.values),
    );
    if (items.some((item) => Object.keys(item.unknown).length > 0)) {
      setMember(
        unknown,
        type,
        items.map((item) => item.unknown),
      );
    }
  }
  return { values, unknown };
}

/** The blocks a `dynamic "type"` generates: its content once per for_each element, with the iterator in scope. */
function dynamicBlocks(session: Session, block: Block, type: string, scope: Scope): { content: Block; inner: Scope }[] | 'unknown' {
  const forEach = attributeOf(block.body, 'for_each');
  const content = block.body.blocks.find((nested) => nested.type === 'content');
  if (!forEach || !content) {
    session.problem(block.pos, INVALID, `the dynamic "${type}" block needs for_each and a content block`);
    return [];
  }
  const iteratorAttribute = attributeOf(block.body, 'iterator');
  let iterator = type;
  if (iteratorAttribute) {
    if (iteratorAttribute.expr.kind !== 'variable') {
      session.problem(iteratorAttribute.pos, INVALID, 'iterator must be a bare name');
      return 'unknown';
    }
    iterator = iteratorAttribute.expr.name;
  }
  const collection = session.evaluate(forEach.expr, scope);
  if (isUnknown(collection)) return 'unknown';
  if (collection === null) {
    session.problem(forEach.pos, INVALID, `the dynamic "${type}" block: for_each cannot be null`);
    return 'unknown';
  }
  const pairs = entries(collection);
  if (!pairs) {
    session.problem(forEach.pos, INVALID, `the dynamic "${type}" block: for_each needs a collection`);
    return 'unknown';
  }
  if (pairs.length > MAX_INSTANCES) {
    session.problem(forEach.pos, INVALID, `the dynamic "${type}" block: for_each has more than ${MAX_INSTANCES} elements`);
    return 'unknown';
  }
  return pairs.map(([key, value]) => {
    const iteration = record();
    iteration['key'] = key;
    iteration['value'] = value;
    return { content, inner: new ChildScope(scope, new Map([[iterator, iteration]])) };
  });
}

/** Positions of the keys of an object (and elements of a tuple) written in place, so `/tags/env` has a line too. */
function constructorPositions(expr: Expression, at: string, positions: Map<string, { line: number; column: number }>, depth: number): void {
  if (depth > 16) return;
  if (expr.kind === 'object') {
    for (const item of expr.items) {
      const key = item.key.kind === 'variable' ? item.key.name : literalString(item.key);
      if (key === null) continue;
      const member = pointer(at, key);
      positions.set(member, { line: item.key.pos.line, column: item.key.pos.column });
      constructorPositions(item.value, member, positions, depth + 1);
    }
  } else if (expr.kind === 'tuple') {
    expr.items.forEach((item, index) => {
      const member = pointer(at, index);
      positions.set(member, { line: item.pos.line, column: item.pos.column });
      constructorPositions(item, member, positions, depth + 1);
    });
  }
}

function setMember(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}
