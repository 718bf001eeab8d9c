import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node, type Pair, type ScalarTag, type CollectionTag, type YAMLMap } from 'yaml';
import { PositionedSyntaxError, type TextPosition as Position } from '../../util/positioned-error.ts';

// A CloudFormation template read as a YAML document (JSON is YAML), keeping the nodes so every
// value keeps its line and column, and a small evaluator for the intrinsic functions whose result
// the template itself fixes (parameter defaults, mappings, conditions over them). Anything decided
// only at deploy time (pseudo parameters, other resources' attributes, imports) is UNRESOLVED:
// unknown, never false.

/** A value the template alone cannot fix. */
export const UNRESOLVED: unique symbol = Symbol('unresolved');
/** `Ref: AWS::NoValue`: the property is left out, so the service default applies. */
export const ABSENT: unique symbol = Symbol('absent');

export type Resolved = string | number | boolean | Resolved[] | { [key: string]: Resolved } | typeof UNRESOLVED | typeof ABSENT;

export type { TextPosition as Position } from '../../util/positioned-error.ts';

export class TemplateSyntaxError extends PositionedSyntaxError {}

/** Every short-form intrinsic (`!Ref`, `!Sub`, ...). Each may take a scalar, a list or a map, so each is declared thrice. */
const SHORT_FORMS = [
  'Ref', 'Condition', 'Base64', 'Cidr', 'FindInMap', 'GetAtt', 'GetAZs', 'ImportValue', 'Join', 'Select', 'Split', 'Sub',
  'Transform', 'And', 'Equals', 'If', 'Not', 'Or', 'Length', 'ToJsonString', 'ForEach',
];

// resolve() returns the node itself: the tag stays on it, so the evaluator sees `!If` with the
// positions of its arguments intact, and the parser never warns about an unknown tag.
const CUSTOM_TAGS: (ScalarTag | CollectionTag)[] = SHORT_FORMS.flatMap((name): (ScalarTag | CollectionTag)[] => [
  { tag: `!${name}`, resolve: (value: string) => value },
  { tag: `!${name}`, collection: 'seq', resolve: (seq) => seq },
  { tag: `!${name}`, collection: 'map', resolve: (map) => map },
]);

/** What a short-form tag stands for in the long form. */
function longName(tag: string): string {
  const name = tag.slice(1);
  return name === 'Ref' || name === 'Condition' ? name : `Fn::${name}`;
}

export class Template {
  readonly root: YAMLMap;
  private readonly lines: LineCounter;
  private readonly parameters: YAMLMap | null;
  private readonly mappings: YAMLMap | null;
  private readonly conditions: YAMLMap | null;
  private readonly conditionCache = new Map<string, boolean | typeof UNRESOLVED>();
  private readonly conditionsInProgress = new Set<string>();

  private constructor(root: YAMLMap, lines: LineCounter) {
    this.root = root;
    this.lines = lines;
    this.parameters = mapAt(root, 'Parameters');
    this.mappings = mapAt(root, 'Mappings');
    this.conditions = mapAt(root, 'Conditions');
  }

  /** Parses a template; throws TemplateSyntaxError (with line and column) for text that is neither YAML nor JSON. Null when it is not a template (no Resources map). */
  static parse(text: string): Template | null {
    const lines = new LineCounter();
    const document = parseDocument(text, { customTags: CUSTOM_TAGS, lineCounter: lines, prettyErrors: false, uniqueKeys: true });
    const first = document.errors[0];
    if (first) {
      const at = first.linePos?.[0] ?? lines.linePos(first.pos[0]);
      throw new TemplateSyntaxError(first.message.split('\n')[0]!, { line: at.line, column: at.col });
    }
    const root = document.contents;
    if (!isMap(root) || !isMap(root.get('Resources', true))) return null;
    return new Template(root, lines);
  }

  position(node: Node | Pair['key'] | null | undefined): Position {
    const offset = (node as Node | null | undefined)?.range?.[0] ?? 0;
    const at = this.lines.linePos(offset);
    return { line: at.line, column: at.col };
  }

  /** The Resources entries: logical id, its key node (for the position) and its body. */
  resources(): { logicalId: string; key: Node; body: YAMLMap | null }[] {
    const resources = this.root.get('Resources', true) as unknown as YAMLMap;
    return resources.items.flatMap((pair) => {
      const key = pair.key as Node;
      if (!isScalar(key)) return [];
      return [{ logicalId: String(key.value), key, body: isMap(pair.value) ? pair.value : null }];
    });
  }

  /** Whether a named condition holds with every parameter at its default. */
  condition(name: string): boolean | typeof UNRESOLVED {
    const cached = this.conditionCache.get(name);
    if (cached !== undefined) return cached;
    const node = this.conditions?.get(name, true) as Node | undefined;
    // A cycle or a missing condition is the template's error; CloudFormation would reject it, we just do not know.
    if (!node || this.conditionsInProgress.has(name)) return UNRESOLVED;
    this.conditionsInProgress.add(name);
    const value = this.resolve(node);
    this.conditionsInProgress.delete(name);
    const result = typeof value === 'boolean' ? value : UNRESOLVED;
    this.conditionCache.set(name, result);
    return result;
  }

  /** The value a node takes when the template is deployed with every parameter at its default. */
  resolve(node: unknown): Resolved {
    if (node === null || node === undefined) return UNRESOLVED;
    if (typeof node === 'string' || typeof node === 'number' || typeof node === 'boolean') return node;
    if (isScalar(node)) {
      // A short form's scalar argument is the scalar's own text (`!Ref Name`, `!GetAtt Key.Arn`).
      if (node.tag?.startsWith('!')) return this.call(longName(node.tag), node.value);
      const value = node.value;
      return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? value : UNRESOLVED;
    }
    if (isSeq(node)) {
      if (node.tag?.startsWith('!')) return this.call(longName(node.tag), untagged(node));
      return this.list(node.items);
    }
    if (isMap(node)) {
      if (node.tag?.startsWith('!')) return this.call(longName(node.tag), untagged(node));
      const only = node.items.length === 1 ? node.items[0]! : null;
      const name = only && isScalar(only.key) ? String(only.key.value) : '';
      if (only && (name === 'Ref' || name === 'Condition' || name.startsWith('Fn::'))) return this.call(name, only.value);
      const object: Record<string, Resolved> = {};
      for (const pair of node.items) {
        const value = this.resolve(pair.value);
        if (value !== ABSENT && isScalar(pair.key)) object[String(pair.key.value)] = value;
      }
      return object;
    }
    return UNRESOLVED;
  }

  private list(items: unknown[]): Resolved[] {
    return items.map((item) => this.resolve(item)).filter((value) => value !== ABSENT);
  }

  private args(node: unknown): Resolved[] | typeof UNRESOLVED {
    const value = this.resolve(node);
    return Array.isArray(value) ? value : UNRESOLVED;
  }

  private call(name: string, argument: unknown): Resolved {
    switch (name) {
      case 'Ref':
        return this.ref(this.resolve(argument));
      case 'Condition': {
        const conditionName = this.resolve(argument);
        return typeof conditionName === 'string' ? this.condition(conditionName) : UNRESOLVED;
      }
      case 'Fn::If': {
        // Only the chosen branch is evaluated: the other may well be unresolvable.
        const items = isSeq(argument) ? argument.items : null;
        if (!items || items.length !== 3) return UNRESOLVED;
        const conditionName = this.resolve(items[0]);
        const holds = typeof conditionName === 'string' ? this.condition(conditionName) : UNRESOLVED;
        return holds === UNRESOLVED ? UNRESOLVED : this.resolve(items[holds ? 1 : 2]);
      }
      case 'Fn::Equals': {
        const args = this.args(argument);
        if (args === UNRESOLVED || args.length !== 2 || !args.every(isPlain)) return UNRESOLVED;
        return String(args[0]) === String(args[1]);
      }
      case 'Fn::Not': {
        const args = this.args(argument);
        return args !== UNRESOLVED && args.length === 1 && typeof args[0] === 'boolean' ? !args[0] : UNRESOLVED;
      }
      case 'Fn::And':
      case 'Fn::Or': {
        const args = this.args(argument);
        if (args === UNRESOLVED) return UNRESOLVED;
        const decisive = name === 'Fn::Or';
        // One decisive operand settles it even when another is unknown.
        if (args.some((value) => value === decisive)) return decisive;
        return args.every((value) => typeof value === 'boolean') ? !decisive : UNRESOLVED;
      }
      case 'Fn::FindInMap': {
        const args = this.args(argument);
        if (args === UNRESOLVED || args.length < 3 || !args.slice(0, 3).every((value) => typeof value === 'string')) return UNRESOLVED;
        const [map, top, second] = args as string[];
        const found = this.mappings?.getIn([map, top, second], true);
        return found === undefined ? UNRESOLVED : this.resolve(found);
      }
      case 'Fn::Sub':
        return this.sub(argument);
      case 'Fn::Join': {
        const args = this.args(argument);
        if (args === UNRESOLVED || args.length !== 2 || typeof args[0] !== 'string' || !Array.isArray(args[1])) return UNRESOLVED;
        const parts = args[1];
        return parts.every(isPlain) ? parts.map(String).join(args[0]) : UNRESOLVED;
      }
      case 'Fn::Select': {
        const args = this.args(argument);
        if (args === UNRESOLVED || args.length !== 2 || !Array.isArray(args[1])) return UNRESOLVED;
        const index = Number(args[0]);
        return Number.isInteger(index) && index >= 0 && index < args[1].length ? args[1][index]! : UNRESOLVED;
      }
      case 'Fn::Split': {
        const args = this.args(argument);
        if (args === UNRESOLVED || args.length !== 2 || typeof args[0] !== 'string' || typeof args[1] !== 'string') return UNRESOLVED;
        return args[1].split(args[0]);
      }
      default:
        // GetAtt, ImportValue, GetAZs, Base64, Cidr, Transform...: known only once deployed.
        return UNRESOLVED;
    }
  }

  private ref(name: Resolved): Resolved {
    if (typeof name !== 'string') return UNRESOLVED;
    if (name === 'AWS::NoValue') return ABSENT;
    const parameter = this.parameters?.get(name, true);
    if (!isMap(parameter)) return UNRESOLVED; // a pseudo parameter or a resource: known once deployed
    const fallback = parameter.get('Default', true) as Node | undefined;
    if (fallback === undefined) return UNRESOLVED;
    const value = this.resolve(fallback);
    const type = parameter.get('Type');
    if (typeof value === 'string' && typeof type === 'string' && (type === 'CommaDelimitedList' || type.startsWith('List<'))) {
      return value.split(',').map((part) => part.trim());
    }
    return value;
  }

  private sub(argument: unknown): Resolved {
    let text: Resolved;
    let variables: Record<string, Resolved> = {};
    if (isSeq(argument)) {
      if (argument.items.length !== 2) return UNRESOLVED;
      text = this.resolve(argument.items[0]);
      const resolved = this.resolve(argument.items[1]);
      if (typeof resolved !== 'object' || Array.isArray(resolved)) return UNRESOLVED;
      variables = resolved;
    } else {
      text = this.resolve(argument);
    }
    if (typeof text !== 'string') return UNRESOLVED;
    let unresolved = false;
    const result = text.replace(/\$\{([^}]*)\}/g, (whole, inner: string) => {
      if (inner.startsWith('!')) return `\${${inner.slice(1)}}`;
      const value = Object.hasOwn(variables, inner) ? variables[inner]! : this.ref(inner);
      if (!isPlain(value)) {
        unresolved = true;
        return whole;
      }
      return String(value);
    });
    return unresolved ? UNRESOLVED : result;
  }
}

function isPlain(value: Resolved | undefined): value is string | number | boolean {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

function mapAt(root: YAMLMap, key: string): YAMLMap | null {
  const node = root.get(key, true);
  return isMap(node) ? node : null;
}

/** The same collection without its short-form tag, so it reads as the function's plain argument. */
function untagged<T extends Node>(node: T): T {
  const copy = node.clone() as T;
  copy.tag = undefined;
  return copy;
}
