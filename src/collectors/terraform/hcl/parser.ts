// A recursive-descent parser for HCL2 native syntax: bodies of attributes and blocks, and the
// expression and template language. Nesting is bounded twice over: by recursion depth while
// parsing, and by the height of every node built (a long `a.b.c...` or `1+1+1...` chain is
// shallow to parse but deep to evaluate), so a hostile file fails with a syntax problem instead
// of exhausting the stack.

import type { Attribute, BinaryOperator, Block, Body, Expression, ObjectItem, Pos, TemplatePart } from './ast.ts';
import { HclSyntaxError, tokenize, type Token } from './lexer.ts';

/** Deeper than any real configuration nests; well inside the stack the evaluator needs per level. */
export const MAX_NESTING = 128;

const BINARY_PRECEDENCE: Record<string, number> = { '||': 1, '&&': 2, '==': 3, '!=': 3, '<': 4, '<=': 4, '>': 4, '>=': 4, '+': 5, '-': 5, '*': 6, '/': 6, '%': 6 };

/** Parses a whole file into its body. Throws HclSyntaxError (with line and column) on the first error. */
export function parseBody(text: string, file: string): Body {
  return new Parser(tokenize(text), file).parseFile();
}

/** Parses a standalone expression (tests, and type constraints read back). */
export function parseExpression(text: string, file = '<expression>'): Expression {
  const parser = new Parser(tokenize(text), file);
  return parser.parseStandaloneExpression();
}

/** A token as an error names it: strings never (they may hold secrets), anything else cut short. */
function describe(token: Token): string {
  const shown = token.value.length > 40 ? `${token.value.slice(0, 40)}...` : token.value;
  switch (token.type) {
    case 'eof':
      return 'the end of the file';
    case 'newline':
      return 'a line end';
    case 'ident':
      return `"${shown}"`;
    case 'number':
      return `the number ${shown}`;
    case 'oquote':
    case 'cquote':
      return 'a quoted string';
    case 'oheredoc':
      return 'a heredoc';
    case 'interp':
    case 'control':
      return `"${shown}"`;
    case 'seqend':
      return '"}"';
    default:
      return `"${shown}"`;
  }
}

type TemplateToken =
  | { kind: 'lit'; value: string }
  | { kind: 'interp'; expr: Expression }
  | { kind: 'if'; cond: Expression; pos: Pos }
  | { kind: 'for'; keyVar: string | null; valueVar: string; collection: Expression; pos: Pos }
  | { kind: 'else' | 'endif' | 'endfor'; pos: Pos };

class Parser {
  private index = 0;
  /** Whether newlines are tokens here (bodies, object constructors) or whitespace (parentheses, brackets, interpolations). */
  private readonly newlineModes: boolean[] = [true];
  private depth = 0;
  private readonly heights = new Map<object, number>();

  private readonly tokens: Token[];
  private readonly file: string;

  constructor(tokens: Token[], file: string) {
    this.tokens = tokens;
    this.file = file;
  }

  parseFile(): Body {
    return this.parseBodyUntil(null);
  }

  parseStandaloneExpression(): Expression {
    this.newlineModes.push(false);
    const expr = this.parseExpression();
    const next = this.peek();
    if (next.type !== 'eof') this.fail(`expected the end of the expression, found ${describe(next)}`, next);
    return expr;
  }

  // ---- tokens -------------------------------------------------------------------------------

  private get includeNewlines(): boolean {
    return this.newlineModes[this.newlineModes.length - 1]!;
  }

  private peek(): Token {
    if (!this.includeNewlines) while (this.tokens[this.index]!.type === 'newline') this.index++;
    return this.tokens[this.index]!;
  }

  private next(): Token {
    const token = this.peek();
    if (token.type !== 'eof') this.index++;
    return token;
  }

  private isPunct(token: Token, value: string): boolean {
    return token.type === 'punct' && token.value === value;
  }

  private expectPunct(value: string, context: string): Token {
    const token = this.peek();
    if (!this.isPunct(token, value)) this.fail(`expected "${value}" ${context}, found ${describe(token)}`, token);
    return this.next();
  }

  private pos(token: Token): Pos {
    return { file: this.file, line: token.line, column: token.column };
  }

  private fail(message: string, at: { line: number; column: number }): never {
    throw new HclSyntaxError(message, { line: at.line, column: at.column });
  }

  private enter(at: { line: number; column: number }): void {
    if (++this.depth > MAX_NESTING) this.fail(`nested deeper than ${MAX_NESTING} levels`, at);
  }

  private leave(): void {
    this.depth--;
  }

  /** Records a node's height (1 + its tallest child) and refuses one taller than MAX_NESTING. */
  private node<T extends Expression>(expr: T, ...children: (Expression | null | undefined)[]): T {
    let height = 0;
    for (const child of children) if (child) height = Math.max(height, this.heights.get(child) ?? 1);
    if (height + 1 > MAX_NESTING) this.fail(`expression nested deeper than ${MAX_NESTING} levels`, expr.pos);
    this.heights.set(expr, height + 1);
    return expr;
  }

  private withNewlines<T>(include: boolean, parse: () => T): T {
    this.newlineModes.push(include);
    try {
      return parse();
    } finally {
      this.newlineModes.pop();
    }
  }

  // ---- structure ----------------------------------------------------------------------------

  /** Attributes and blocks up to `}` (not consumed) or the end of the file (when `open` is null). */
  private parseBodyUntil(open: Token | null): Body {
    const body: Body = { attributes: [], blocks: [] };
    for (;;) {
      const token = this.peek();
      if (token.type === 'newline') {
        this.index++;
        continue;
      }
      if (token.type === 'eof') {
        if (open) this.fail(`expected "}" to close the block opened at line ${open.line}`, token);
        return body;
      }
      if (open && this.isPunct(token, '}')) return body;
      if (token.type !== 'ident') this.fail(`expected an attribute name or a block type, found ${describe(token)}`, token);
      this.index++;
      const after = this.peek();
      if (this.isPunct(after, '=')) {
        this.index++;
        body.attributes.push(this.parseAttributeValue(token));
        this.endOfItem(open, 'the attribute');
        continue;
      }
      body.blocks.push(this.parseBlock(token));
      this.endOfItem(open, 'the block');
    }
  }

  private parseAttributeValue(name: Token): Attribute {
    const value = this.peek();
    if (value.type === 'newline' || value.type === 'eof') this.fail(`expected a value for "${name.value}" after "="`, value);
    return { name: name.value, pos: this.pos(name), expr: this.parseExpression() };
  }

  /** After an attribute or block: a line end, the end of the file, or the `}` of the enclosing block. */
  private endOfItem(open: Token | null, what: string): void {
    const token = this.peek();
    if (token.type === 'newline') {
      this.index++;
      return;
    }
    if (token.type === 'eof' || (open && this.isPunct(token, '}'))) return;
    this.fail(`expected a line end after ${what}, found ${describe(token)}`, token);
  }

  private parseBlock(type: Token): Block {
    const labels: string[] = [];
    for (;;) {
      const token = this.peek();
      if (token.type === 'ident') {
        labels.push(token.value);
        this.index++;
      } else if (token.type === 'oquote') {
        labels.push(this.parseLabel());
      } else {
        break;
      }
    }
    const brace = this.peek();
    if (!this.isPunct(brace, '{')) {
      const what = labels.length === 0 ? `"=" or a block` : 'a block';
      this.fail(`expected ${what} after "${type.value}": found ${describe(brace)}`, brace);
    }
    this.index++;
    this.enter(brace);
    const body = this.parseBodyUntil(brace);
    this.leave();
    this.index++; // the closing brace, checked by parseBodyUntil
    return { type: type.value, labels, pos: this.pos(type), body };
  }

  private parseLabel(): string {
    const open = this.next();
    let value = '';
    for (;;) {
      const token = this.next();
      if (token.type === 'cquote') return value;
      if (token.type === 'lit') value += token.value;
      else this.fail('a block label cannot contain interpolations or directives', token.type === 'eof' ? open : token);
    }
  }

  // ---- expressions --------------------------------------------------------------------------

  private parseExpression(): Expression {
    const start = this.peek();
    this.enter(start);
    try {
      const cond = this.parseBinary(1);
      if (!this.isPunct(this.peek(), '?')) return cond;
      this.index++;
      const then = this.parseExpression();
      this.expectPunct(':', 'in a conditional expression (cond ? a : b)');
      const otherwise = this.parseExpression();
      return this.node({ kind: 'conditional', cond, then, else: otherwise, pos: cond.pos }, cond, then, otherwise);
    } finally {
      this.leave();
    }
  }

  /** Precedence climbing: one recursion per precedence step, left-associative. */
  private parseBinary(minPrecedence: number): Expression {
    let left = this.parseUnary();
    for (;;) {
      const token = this.peek();
      const precedence = token.type === 'punct' ? BINARY_PRECEDENCE[token.value] : undefined;
      if (precedence === undefined || precedence < minPrecedence) return left;
      this.index++;
      const right = this.parseBinary(precedence + 1);
      left = this.node({ kind: 'binary', op: token.value as BinaryOperator, left, right, pos: left.pos }, left, right);
    }
  }

  private parseUnary(): Expression {
    const token = this.peek();
    if (this.isPunct(token, '-') || this.isPunct(token, '!')) {
      this.index++;
      this.enter(token);
      try {
        const operand = this.parseUnary();
        return this.node({ kind: 'unary', op: token.value as '-' | '!', operand, pos: this.pos(token) }, operand);
      } finally {
        this.leave();
      }
    }
    return this.parsePostfix(this.parsePrimary());
  }

  /** Attribute access, indexes, and splats after a term. */
  private parsePostfix(term: Expression): Expression {
    let expr = term;
    for (;;) {
      const token = this.peek();
      if (this.isPunct(token, '.')) {
        const step = this.tokens[this.index + 1]!;
        if (this.isPunct(step, '*')) {
          this.index += 2;
          expr = this.parseSplat(expr, this.pos(token), false);
          continue;
        }
        this.index++;
        expr = this.parseDotStep(expr, token);
        continue;
      }
      if (this.isPunct(token, '[')) {
        const star = this.tokens[this.index + 1]!;
        const close = this.tokens[this.index + 2]!;
        if (this.isPunct(star, '*') && this.isPunct(close, ']')) {
          this.index += 3;
          expr = this.parseSplat(expr, this.pos(token), true);
          continue;
        }
        this.index++;
        const key = this.withNewlines(false, () => this.parseExpression());
        this.withNewlines(false, () => this.expectPunct(']', 'to close the index'));
        expr = this.node({ kind: 'index', source: expr, key, pos: this.pos(token) }, expr, key);
        continue;
      }
      return expr;
    }
  }

  /** `.name`, or a legacy `.0` index (a `.0.1` pair lexes as one number). */
  private parseDotStep(source: Expression, dot: Token): Expression {
    const step = this.tokens[this.index]!;
    if (step.type === 'ident') {
      this.index++;
      return this.node({ kind: 'getattr', source, name: step.value, pos: this.pos(step) }, source);
    }
    if (step.type === 'number' && /^\d+(\.\d+)?$/.test(step.value)) {
      this.index++;
      let expr = source;
      for (const part of step.value.split('.')) {
        const key = { kind: 'literal' as const, value: Number(part), pos: this.pos(step) };
        expr = this.node({ kind: 'index', source: expr, key, pos: this.pos(step) }, expr);
      }
      return expr;
    }
    return this.fail(`expected an attribute name after ".", found ${describe(step)}`, step.type === 'eof' ? dot : step);
  }

  /** The traversal after `.*` (attribute steps only) or `[*]` (attributes and indexes), applied per element. */
  private parseSplat(source: Expression, pos: Pos, full: boolean): Expression {
    let each: Expression = { kind: 'splat-item', pos };
    for (;;) {
      const token = this.peek();
      if (this.isPunct(token, '.') && !this.isPunct(this.tokens[this.index + 1]!, '*')) {
        this.index++;
        each = this.parseDotStep(each, token);
        continue;
      }
      if (full && this.isPunct(token, '[') && !this.isPunct(this.tokens[this.index + 1]!, '*')) {
        this.index++;
        const key = this.withNewlines(false, () => this.parseExpression());
        this.withNewlines(false, () => this.expectPunct(']', 'to close the index'));
        each = this.node({ kind: 'index', source: each, key, pos: this.pos(token) }, each, key);
        continue;
      }
      break;
    }
    return this.node({ kind: 'splat', source, each, pos }, source, each);
  }

  private parsePrimary(): Expression {
    const token = this.peek();
    const pos = this.pos(token);
    switch (token.type) {
      case 'number': {
        this.index++;
        return this.node({ kind: 'literal', value: Number(token.value), pos });
      }
      case 'ident': {
        this.index++;
        if (token.value === 'true' || token.value === 'false') return this.node({ kind: 'literal', value: token.value === 'true', pos });
        if (token.value === 'null') return this.node({ kind: 'literal', value: null, pos });
        let name = token.value;
        // provider::aws::arn_parse(...): a provider-defined function.
        while (this.isPunct(this.tokens[this.index]!, '::') && this.tokens[this.index + 1]?.type === 'ident') {
          name += `::${this.tokens[this.index + 1]!.value}`;
          this.index += 2;
        }
        if (this.isPunct(this.tokens[this.index]!, '(')) return this.parseCall(name, token);
        if (name !== token.value) this.fail(`expected "(" after the function name ${name}`, this.tokens[this.index]!);
        return this.node({ kind: 'variable', name, pos });
      }
      case 'oquote':
        return this.parseTemplate(token, 'cquote', false);
      case 'oheredoc':
        return this.parseTemplate(token, 'cheredoc', token.flush === true);
      case 'punct':
        if (token.value === '[') return this.parseTuple(token);
        if (token.value === '{') return this.parseObject(token);
        if (token.value === '(') {
          this.index++;
          return this.withNewlines(false, () => {
            const expr = this.parseExpression();
            this.expectPunct(')', `to close the "(" at line ${token.line}, column ${token.column}`);
            return this.node({ kind: 'parens', expr, pos }, expr);
          });
        }
        break;
      default:
        break;
    }
    return this.fail(`expected an expression, found ${describe(token)}`, token);
  }

  private parseCall(name: string, start: Token): Expression {
    const open = this.next();
    return this.withNewlines(false, () => {
      const args: Expression[] = [];
      let expandFinal = false;
      for (;;) {
        if (this.isPunct(this.peek(), ')')) break;
        args.push(this.parseExpression());
        if (this.isPunct(this.peek(), '...')) {
          this.index++;
          expandFinal = true;
          const close = this.peek();
          if (!this.isPunct(close, ')')) this.fail(`expected ")" after "..." (it may only follow the last argument), found ${describe(close)}`, close);
          break;
        }
        const separator = this.peek();
        if (this.isPunct(separator, ',')) {
          this.index++;
          continue;
        }
        if (this.isPunct(separator, ')')) break;
        this.fail(`expected "," or ")" in the arguments of ${name}(), found ${describe(separator)}`, separator.type === 'eof' ? open : separator);
      }
      this.index++;
      return this.node({ kind: 'call', name, args, expandFinal, pos: this.pos(start) }, ...args);
    });
  }

  private isForIntro(): boolean {
    const keyword = this.peek();
    if (keyword.type !== 'ident' || keyword.value !== 'for') return false;
    let at = this.index + 1;
    while (this.tokens[at]!.type === 'newline') at++;
    return this.tokens[at]!.type === 'ident';
  }

  private parseTuple(open: Token): Expression {
    this.index++;
    return this.withNewlines(false, () => {
      if (this.isForIntro()) return this.parseFor(open, false);
      const items: Expression[] = [];
      for (;;) {
        if (this.isPunct(this.peek(), ']')) break;
        items.push(this.parseExpression());
        const separator = this.peek();
        if (this.isPunct(separator, ',')) {
          this.index++;
          continue;
        }
        if (this.isPunct(separator, ']')) break;
        this.fail(`expected "," or "]" to continue the list opened at line ${open.line}, found ${describe(separator)}`, separator);
      }
      this.index++;
      return this.node({ kind: 'tuple', items, pos: this.pos(open) }, ...items);
    });
  }

  private parseObject(open: Token): Expression {
    this.index++;
    const forIntro = this.withNewlines(false, () => this.isForIntro());
    if (forIntro) return this.withNewlines(false, () => this.parseFor(open, true));
    return this.withNewlines(true, () => {
      const items: ObjectItem[] = [];
      for (;;) {
        const token = this.peek();
        if (token.type === 'newline') {
          this.index++;
          continue;
        }
        if (this.isPunct(token, '}')) break;
        if (token.type === 'eof') this.fail(`expected "}" to close the object opened at line ${open.line}`, token);
        const key = this.withNewlines(false, () => this.parseExpression());
        const separator = this.peek();
        if (!this.isPunct(separator, '=') && !this.isPunct(separator, ':')) this.fail(`expected "=" or ":" after the object key, found ${describe(separator)}`, separator);
        this.index++;
        const valueStart = this.peek();
        if (valueStart.type === 'newline') this.fail('expected a value after "=" in the object', valueStart);
        const value = this.parseExpression();
        items.push({ key, value, pos: key.pos });
        const after = this.peek();
        if (this.isPunct(after, ',') || after.type === 'newline') {
          this.index++;
          continue;
        }
        if (this.isPunct(after, '}')) break;
        this.fail(`expected "," a line end or "}" after the object item, found ${describe(after)}`, after);
      }
      this.index++;
      return this.node({ kind: 'object', items, pos: this.pos(open) }, ...items.flatMap((item) => [item.key, item.value]));
    });
  }

  /** `[for k, v in coll : value if cond]` or `{for k, v in coll : key => value... if cond}`; `for` is next. */
  private parseFor(open: Token, object: boolean): Expression {
    this.index++; // for
    const first = this.next();
    let keyVar: string | null = null;
    let valueVar = first.value;
    if (this.isPunct(this.peek(), ',')) {
      this.index++;
      const second = this.next();
      if (second.type !== 'ident') this.fail(`expected a variable name after ",", found ${describe(second)}`, second);
      keyVar = valueVar;
      valueVar = second.value;
    }
    const keyword = this.next();
    if (keyword.type !== 'ident' || keyword.value !== 'in') this.fail(`expected "in" in the for expression, found ${describe(keyword)}`, keyword);
    const collection = this.parseExpression();
    this.expectPunct(':', 'after the collection of the for expression');
    let keyExpr: Expression | null = null;
    if (object) {
      keyExpr = this.parseExpression();
      this.expectPunct('=>', 'between the key and the value of a for expression building an object');
    }
    const valueExpr = this.parseExpression();
    let group = false;
    if (object && this.isPunct(this.peek(), '...')) {
      this.index++;
      group = true;
    }
    let cond: Expression | null = null;
    const maybeIf = this.peek();
    if (maybeIf.type === 'ident' && maybeIf.value === 'if') {
      this.index++;
      cond = this.parseExpression();
    }
    this.expectPunct(object ? '}' : ']', `to close the for expression opened at line ${open.line}`);
    return this.node({ kind: 'for', object, keyVar, valueVar, collection, keyExpr, valueExpr, cond, group, pos: this.pos(open) }, collection, keyExpr, valueExpr, cond);
  }

  // ---- templates ----------------------------------------------------------------------------

  private parseTemplate(open: Token, end: 'cquote' | 'cheredoc', flush: boolean): Expression {
    this.index++;
    this.enter(open);
    try {
      const tokens = this.withNewlines(false, () => this.templateTokens(open, end));
      if (flush) flushHeredoc(tokens);
      const pos = this.pos(open);
      const only = tokens.length === 1 ? tokens[0]! : null;
      if (only?.kind === 'interp') {
        const expr = only.expr;
        return this.node({ kind: 'wrap', expr, pos }, expr);
      }
      const { parts } = this.templateTree(tokens, { at: 0 }, null);
      return this.node({ kind: 'template', parts, pos }, ...templateChildren(parts));
    } finally {
      this.leave();
    }
  }

  /** The flat sequence of literals, interpolations and directives, strip markers applied. */
  private templateTokens(open: Token, end: 'cquote' | 'cheredoc'): TemplateToken[] {
    const parts: TemplateToken[] = [];
    let trimNext = false;
    for (;;) {
      const token = this.tokens[this.index]!;
      if (token.type === end) {
        this.index++;
        return parts;
      }
      if (token.type === 'lit') {
        this.index++;
        parts.push({ kind: 'lit', value: trimNext ? token.value.trimStart() : token.value });
        trimNext = false;
        continue;
      }
      if (token.type === 'interp' || token.type === 'control') {
        this.index++;
        const previous = parts[parts.length - 1];
        if (token.strip && previous?.kind === 'lit') previous.value = previous.value.trimEnd();
        trimNext = false;
        if (token.type === 'interp') {
          parts.push({ kind: 'interp', expr: this.parseExpression() });
        } else {
          parts.push(this.parseDirective(token));
        }
        const close = this.peek();
        if (close.type !== 'seqend') {
          this.fail(
            token.type === 'interp' ? `expected "}" to close the interpolation opened at line ${token.line}, column ${token.column}, found ${describe(close)}` : `expected "}" to close the directive opened at line ${token.line}, column ${token.column}, found ${describe(close)}`,
            close,
          );
        }
        this.index++;
        trimNext = close.strip === true;
        continue;
      }
      this.fail(end === 'cquote' ? `unterminated string opened at line ${open.line}, column ${open.column}` : `unterminated heredoc opened at line ${open.line}`, token);
    }
  }

  private parseDirective(open: Token): TemplateToken {
    const keyword = this.next();
    const pos = this.pos(open);
    if (keyword.type !== 'ident') this.fail(`expected a template directive (if, else, endif, for, endfor) after "%{", found ${describe(keyword)}`, keyword);
    switch (keyword.value) {
      case 'if':
        return { kind: 'if', cond: this.parseExpression(), pos };
      case 'else':
      case 'endif':
      case 'endfor':
        return { kind: keyword.value, pos };
      case 'for': {
        const first = this.next();
        if (first.type !== 'ident') this.fail(`expected a variable name after "for", found ${describe(first)}`, first);
        let keyVar: string | null = null;
        let valueVar = first.value;
        if (this.isPunct(this.peek(), ',')) {
          this.index++;
          const second = this.next();
          if (second.type !== 'ident') this.fail(`expected a variable name after ",", found ${describe(second)}`, second);
          keyVar = valueVar;
          valueVar = second.value;
        }
        const inKeyword = this.next();
        if (inKeyword.type !== 'ident' || inKeyword.value !== 'in') this.fail(`expected "in" in the for directive, found ${describe(inKeyword)}`, inKeyword);
        return { kind: 'for', keyVar, valueVar, collection: this.parseExpression(), pos };
      }
      default:
        return this.fail(`"${keyword.value}" is not a template directive: expected if, else, endif, for or endfor`, keyword);
    }
  }

  /** Builds the nested parts up to the directive that closes `opener` (or the end, when it is null). */
  private templateTree(tokens: TemplateToken[], cursor: { at: number }, opener: Extract<TemplateToken, { kind: 'if' | 'for' }> | null, allowed: readonly string[] = []): { parts: TemplatePart[]; closer: string | null } {
    const parts: TemplatePart[] = [];
    for (;;) {
      const token = tokens[cursor.at];
      if (!token) {
        if (opener) this.fail(`expected %{ end${opener.kind} } to close the %{ ${opener.kind} } at line ${opener.pos.line}, column ${opener.pos.column}`, opener.pos);
        return { parts, closer: null };
      }
      cursor.at++;
      switch (token.kind) {
        case 'lit':
          if (token.value !== '') parts.push({ kind: 'literal', value: token.value });
          break;
        case 'interp':
          parts.push({ kind: 'interp', expr: token.expr });
          break;
        case 'if': {
          this.enter(token.pos);
          const then = this.templateTree(tokens, cursor, token, ['else', 'endif']);
          const otherwise = then.closer === 'else' ? this.templateTree(tokens, cursor, token, ['endif']).parts : [];
          this.leave();
          parts.push({ kind: 'if', cond: token.cond, then: then.parts, else: otherwise, pos: token.pos });
          break;
        }
        case 'for': {
          this.enter(token.pos);
          const body = this.templateTree(tokens, cursor, token, ['endfor']);
          this.leave();
          parts.push({ kind: 'for', keyVar: token.keyVar, valueVar: token.valueVar, collection: token.collection, body: body.parts, pos: token.pos });
          break;
        }
        default: {
          if (!opener || !allowed.includes(token.kind)) {
            const want = opener ? `${allowed.map((name) => `%{ ${name} }`).join(' or ')} for the %{ ${opener.kind} } at line ${opener.pos.line}, column ${opener.pos.column}` : 'an opening %{ if } or %{ for } before it';
            this.fail(`unexpected %{ ${token.kind} }: expected ${want}`, token.pos);
          }
          return { parts, closer: token.kind };
        }
      }
    }
  }
}

/** The expressions inside template parts, for node heights. */
function templateChildren(parts: TemplatePart[]): Expression[] {
  const children: Expression[] = [];
  for (const part of parts) {
    if (part.kind === 'interp') children.push(part.expr);
    else if (part.kind === 'if') children.push(part.cond);
    else if (part.kind === 'for') children.push(part.collection);
  }
  return children;
}

/**
 * `<<-` heredocs: the smallest indentation of the lines (blank lines aside; a line starting with an
 * interpolation counts as unindented) is removed from every line's leading literal.
 */
function flushHeredoc(tokens: TemplateToken[]): void {
  let smallest = Number.MAX_SAFE_INTEGER;
  const adjust: Extract<TemplateToken, { kind: 'lit' }>[] = [];
  let newline = true;
  for (const token of tokens) {
    if (newline) {
      newline = false;
      if (token.kind === 'lit') {
        const trimmed = token.value.trimStart();
        if (!(trimmed === '' && token.value.endsWith('\n'))) {
          smallest = Math.min(smallest, leadingSpaces(token.value));
          adjust.push(token);
        }
      } else {
        smallest = 0;
      }
    }
    if (token.kind === 'lit' && token.value.endsWith('\n')) newline = true;
  }
  if (smallest === Number.MAX_SAFE_INTEGER) return;
  for (const token of adjust) token.value = [...token.value].slice(smallest).join('');
}

function leadingSpaces(text: string): number {
  let count = 0;
  for (const char of text) {
    if (!/\s/u.test(char) || char === '\n') break;
    count++;
  }
  return count;
}
