// A JSON parser that also records where each value starts. `terraform show -json` output carries no
// line numbers, yet a finding should land on the line of the attribute it judges: this pass gives
// every object member and array element its line and column, keyed by JSON Pointer.

import type { DeclaredPosition } from '../../inventory/types.ts';

/** Deeper nesting than any plan or state has; it keeps a hostile file from exhausting the stack. */
const MAX_DEPTH = 256;

export class JsonSyntaxError extends Error {
  readonly line: number;
  readonly column: number;
  constructor(message: string, line: number, column: number) {
    super(`line ${line}, column ${column}: ${message}`);
    this.line = line;
    this.column = column;
  }
}

export interface PositionedJson {
  value: unknown;
  /**
   * JSON Pointer (RFC 6901) -> where it is declared: for an object member the position of its key,
   * for an array element the position of the element itself.
   */
  positions: Map<string, DeclaredPosition>;
}

export function pointer(parent: string, token: string | number): string {
  return `${parent}/${String(token).replaceAll('~', '~0').replaceAll('/', '~1')}`;
}

export function parsePositionedJson(text: string): PositionedJson {
  const positions = new Map<string, DeclaredPosition>();
  let index = 0;
  let line = 1;
  let lineStart = 0;

  const here = (): DeclaredPosition => ({ line, column: index - lineStart + 1 });
  const fail = (message: string): never => {
    const at = here();
    throw new JsonSyntaxError(message, at.line, at.column);
  };
  const skipWhitespace = () => {
    while (index < text.length) {
      const char = text.charCodeAt(index);
      if (char === 0x0a) {
        line++;
        lineStart = index + 1;
      } else if (char !== 0x20 && char !== 0x09 && char !== 0x0d) {
        return;
      }
      index++;
    }
  };
  const describe = () => (index >= text.length ? 'end of file' : JSON.stringify(text[index]));

  const readString = (): string => {
    const start = index;
    index++; // opening quote
    while (index < text.length) {
      const char = text[index]!;
      if (char === '"') {
        index++;
        try {
          return JSON.parse(text.slice(start, index)) as string;
        } catch {
          index = start;
          return fail('invalid string (a bad escape or control character)');
        }
      }
      if (char === '\\') index++;
      else if (char === '\n') return fail('unterminated string');
      index++;
    }
    return fail('unterminated string');
  };

  const readLiteral = (): unknown => {
    const match = /^(?:-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(text.slice(index, index + 64));
    if (!match) return fail(`unexpected ${describe()}`);
    index += match[0].length;
    return JSON.parse(match[0]) as unknown;
  };

  const readValue = (path: string, depth: number): unknown => {
    if (depth > MAX_DEPTH) fail(`nested deeper than ${MAX_DEPTH} levels`);
    skipWhitespace();
    const char = text[index];
    if (char === '{') {
      index++;
      const object: Record<string, unknown> = {};
      skipWhitespace();
      if (text[index] === '}') {
        index++;
        return object;
      }
      for (;;) {
        skipWhitespace();
        if (text[index] !== '"') fail(`expected a property name, found ${describe()}`);
        const at = here();
        const key = readString();
        const member = pointer(path, key);
        positions.set(member, at);
        skipWhitespace();
        if (text[index] !== ':') fail(`expected ":" after property "${key}", found ${describe()}`);
        index++;
        object[key] = readValue(member, depth + 1);
        skipWhitespace();
        if (text[index] === ',') {
          index++;
          continue;
        }
        if (text[index] === '}') {
          index++;
          return object;
        }
        fail(`expected "," or "}", found ${describe()}`);
      }
    }
    if (char === '[') {
      index++;
      const array: unknown[] = [];
      skipWhitespace();
      if (text[index] === ']') {
        index++;
        return array;
      }
      for (;;) {
        skipWhitespace();
        const element = pointer(path, array.length);
        positions.set(element, here());
        array.push(readValue(element, depth + 1));
        skipWhitespace();
        if (text[index] === ',') {
          index++;
          continue;
        }
        if (text[index] === ']') {
          index++;
          return array;
        }
        fail(`expected "," or "]", found ${describe()}`);
      }
    }
    if (char === '"') return readString();
    return readLiteral();
  };

  // A byte-order mark is not JSON, but editors write one; skip it rather than refuse the file.
  if (text.charCodeAt(0) === 0xfeff) {
    index = 1;
    lineStart = 1;
  }
  const value = readValue('', 0);
  skipWhitespace();
  if (index < text.length) fail(`unexpected ${describe()} after the end of the document`);
  return { value, positions };
}
