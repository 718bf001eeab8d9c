// The syntax tree of an HCL2 native-syntax file, as the parser builds it and the evaluator reads
// it. Every node keeps the file, line and column it starts at, so a problem found while
// evaluating (possibly in another file of the module) can still name where it is.

/** Where a node starts: 1-based line and column, and the file it is in. */
export interface Pos {
  file: string;
  line: number;
  column: number;
}

export type BinaryOperator = '||' | '&&' | '==' | '!=' | '<' | '<=' | '>' | '>=' | '+' | '-' | '*' | '/' | '%';

export type Expression =
  | { kind: 'literal'; value: null | boolean | number | string; pos: Pos }
  | { kind: 'template'; parts: TemplatePart[]; pos: Pos }
  /** A template that is exactly one interpolation: its value is the expression's own, not a string. */
  | { kind: 'wrap'; expr: Expression; pos: Pos }
  | { kind: 'variable'; name: string; pos: Pos }
  | { kind: 'getattr'; source: Expression; name: string; pos: Pos }
  | { kind: 'index'; source: Expression; key: Expression; pos: Pos }
  /** `source.*.rest` or `source[*].rest`: `each` is evaluated once per element, with `splat-item` standing for the element. */
  | { kind: 'splat'; source: Expression; each: Expression; pos: Pos }
  | { kind: 'splat-item'; pos: Pos }
  | { kind: 'call'; name: string; args: Expression[]; expandFinal: boolean; pos: Pos }
  | { kind: 'tuple'; items: Expression[]; pos: Pos }
  | { kind: 'object'; items: ObjectItem[]; pos: Pos }
  | {
      kind: 'for';
      /** Whether it builds an object (`{for ...}`) or a tuple (`[for ...]`). */
      object: boolean;
      keyVar: string | null;
      valueVar: string;
      collection: Expression;
      keyExpr: Expression | null;
      valueExpr: Expression;
      cond: Expression | null;
      group: boolean;
      pos: Pos;
    }
  | { kind: 'conditional'; cond: Expression; then: Expression; else: Expression; pos: Pos }
  | { kind: 'binary'; op: BinaryOperator; left: Expression; right: Expression; pos: Pos }
  | { kind: 'unary'; op: '-' | '!'; operand: Expression; pos: Pos }
  | { kind: 'parens'; expr: Expression; pos: Pos };

export interface ObjectItem {
  /** A bare identifier key (`{ name = 1 }`) is the string itself; `(expr)` or any other expression is evaluated. */
  key: Expression;
  value: Expression;
  pos: Pos;
}

export type TemplatePart =
  | { kind: 'literal'; value: string }
  | { kind: 'interp'; expr: Expression }
  | { kind: 'if'; cond: Expression; then: TemplatePart[]; else: TemplatePart[]; pos: Pos }
  | { kind: 'for'; keyVar: string | null; valueVar: string; collection: Expression; body: TemplatePart[]; pos: Pos };

export interface Attribute {
  name: string;
  /** Position of the name. */
  pos: Pos;
  expr: Expression;
}

export interface Block {
  type: string;
  labels: string[];
  /** Position of the block type keyword. */
  pos: Pos;
  body: Body;
}

export interface Body {
  attributes: Attribute[];
  blocks: Block[];
}

/** The identifier a bare `name` key or `name` expression stands for, else null. */
export function bareName(expr: Expression): string | null {
  return expr.kind === 'variable' ? expr.name : null;
}
