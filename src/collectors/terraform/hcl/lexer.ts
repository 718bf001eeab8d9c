// The tokens of an HCL2 native-syntax file. One pass over the text, character by character, never
// slicing or matching the remainder: the cost is linear in the file's length. Templates (quoted
// strings and heredocs) are split here into literal pieces and `${` / `%{` openers; a stack of
// open braces tells a `}` that closes an interpolation from one that closes an object or block.

import { PositionedSyntaxError } from '../../../util/positioned-error.ts';

export type TokenType =
  | 'ident'
  | 'number'
  | 'newline'
  | 'eof'
  | 'punct'
  /** `"` opening a quoted template. */
  | 'oquote'
  | 'cquote'
  /** `<<EOT` or `<<-EOT`; `value` is the anchor, `flush` says whether it is `<<-`. */
  | 'oheredoc'
  | 'cheredoc'
  /** A piece of literal template text, escapes already applied (`value`). In a heredoc, one per line, newline included. */
  | 'lit'
  /** `${` or `${~` (strip: trim the literal before). */
  | 'interp'
  /** `%{` or `%{~`. */
  | 'control'
  /** `}` or `~}` (strip: trim the literal after) closing an interpolation or directive. */
  | 'seqend';

export interface Token {
  type: TokenType;
  /** The identifier, number text, punctuation, heredoc anchor or literal text. */
  value: string;
  line: number;
  column: number;
  strip: boolean;
  flush: boolean;
}

export class HclSyntaxError extends PositionedSyntaxError {}

/** A quoted string or heredoc longer than this is refused: no key setting needs one, and it bounds memory. */
export const MAX_TEMPLATE_CHARS = 1024 * 1024;

const PUNCT2 = new Set(['==', '!=', '<=', '>=', '&&', '||', '=>', '::']);
const PUNCT1 = '{}[](),.=:?+-*/%<>!';

/** The operator or delimiter at `index` (longest match), or null. */
function punctuation(text: string, index: number, code: number): string | null {
  if (code === 0x2e && text.charCodeAt(index + 1) === 0x2e && text.charCodeAt(index + 2) === 0x2e) return '...';
  const second = text.charCodeAt(index + 1);
  if (second === 0x3d || second === 0x26 || second === 0x7c || second === 0x3e || second === 0x3a) {
    const two = text.slice(index, index + 2);
    if (PUNCT2.has(two)) return two;
  }
  const char = text[index]!;
  return PUNCT1.includes(char) ? char : null;
}

const ID_START = /[\p{ID_Start}_]/u;
const ID_CONTINUE = /[\p{ID_Continue}-]/u;

function isIdentStart(code: number, char: string): boolean {
  if (code < 0x80) return (code >= 0x61 && code <= 0x7a) || (code >= 0x41 && code <= 0x5a) || code === 0x5f;
  return ID_START.test(char);
}

function isIdentContinue(code: number, char: string): boolean {
  if (code < 0x80) return (code >= 0x61 && code <= 0x7a) || (code >= 0x41 && code <= 0x5a) || (code >= 0x30 && code <= 0x39) || code === 0x5f || code === 0x2d;
  return ID_CONTINUE.test(char);
}

const isDigit = (code: number) => code >= 0x30 && code <= 0x39;

type Mode = { kind: 'brace' } | { kind: 'interp' } | { kind: 'quoted'; start: number; line: number; column: number } | { kind: 'heredoc'; anchor: string; start: number; line: number; column: number };

/** The code point at `index` as a string (one or two UTF-16 units). */
function charAt(text: string, index: number): string {
  const code = text.codePointAt(index)!;
  return code > 0xffff ? text.slice(index, index + 2) : text[index]!;
}

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  const modes: Mode[] = [];
  let index = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  let lineStart = index;
  /** True at the start of a line inside a heredoc, where its closing anchor may stand. */
  let heredocLineStart = false;

  const column = (at: number) => at - lineStart + 1;
  const fail = (message: string, at: { line: number; column: number } = { line, column: column(index) }): never => {
    throw new HclSyntaxError(message, at);
  };
  // One object shape for every token keeps property access monomorphic.
  const push = (type: TokenType, value: string, at: number, strip = false, flush = false) => {
    tokens.push({ type, value, line, column: column(at), strip, flush });
  };
  const top = () => modes[modes.length - 1];

  /** Opens `${` / `%{` at `index` (pointing at `$` or `%`). */
  const openSequence = (type: 'interp' | 'control') => {
    const at = index;
    index += 2;
    const strip = text.charCodeAt(index) === 0x7e; // ~
    if (strip) index++;
    push(type, type === 'interp' ? '${' : '%{', at, strip);
    modes.push({ kind: 'interp' });
  };

  /** Scans the literal part of a quoted template up to `"`, `${`, `%{`, or a line end (an error). */
  const scanQuoted = (mode: Extract<Mode, { kind: 'quoted' }>) => {
    const at = index;
    let value = '';
    let chunkStart = index;
    const flush = () => {
      value += text.slice(chunkStart, index);
    };
    for (;;) {
      if (index >= text.length || text.charCodeAt(index) === 0x0a || text.charCodeAt(index) === 0x0d) {
        fail(`unterminated string: expected a closing " for the string opened at line ${mode.line}, column ${mode.column}`, mode);
      }
      const code = text.charCodeAt(index);
      if (code === 0x22) break; // "
      if ((code === 0x24 || code === 0x25) && text.charCodeAt(index + 1) === 0x7b) break; // ${ %{
      if ((code === 0x24 || code === 0x25) && text.charCodeAt(index + 1) === code && text.charCodeAt(index + 2) === 0x7b) {
        // $${ and %%{ are a literal ${ and %{.
        flush();
        value += code === 0x24 ? '${' : '%{';
        index += 3;
        chunkStart = index;
        continue;
      }
      if (code === 0x5c) {
        flush();
        value += escape();
        chunkStart = index;
        continue;
      }
      index++;
    }
    flush();
    if (index - mode.start > MAX_TEMPLATE_CHARS) fail(`string longer than ${MAX_TEMPLATE_CHARS} characters`, mode);
    if (index > at) push('lit', value, at);
  };

  /** A backslash escape in a quoted template; `index` points at the backslash. */
  const escape = (): string => {
    const next = text[index + 1];
    index += 2;
    switch (next) {
      case 'n':
        return '\n';
      case 'r':
        return '\r';
      case 't':
        return '\t';
      case '"':
        return '"';
      case '\\':
        return '\\';
      case 'u':
      case 'U': {
        const digits = next === 'u' ? 4 : 8;
        const hex = text.slice(index, index + digits);
        if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== digits) fail(`invalid escape: \\${next} needs ${digits} hexadecimal digits`, { line, column: column(index - 2) });
        const code = Number.parseInt(hex, 16);
        if (code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) fail(`invalid escape: \\${next}${hex} is not a Unicode character`, { line, column: column(index - 2) });
        index += digits;
        return String.fromCodePoint(code);
      }
      default:
        return fail(`invalid escape sequence \\${next === undefined || next === '\n' ? '' : next}: use \\n, \\r, \\t, \\", \\\\, \\uNNNN or \\UNNNNNNNN`, { line, column: column(index - 2) });
    }
  };

  /** Whether the line starting at `index` is the heredoc's closing anchor (indentation allowed); returns its end. */
  const closingAnchor = (anchor: string): number => {
    let at = index;
    while (text.charCodeAt(at) === 0x20 || text.charCodeAt(at) === 0x09) at++;
    if (!text.startsWith(anchor, at)) return -1;
    const end = at + anchor.length;
    if (end === text.length || text.charCodeAt(end) === 0x0a || (text.charCodeAt(end) === 0x0d && text.charCodeAt(end + 1) === 0x0a)) return end;
    return -1;
  };

  /** At the start of a heredoc line: when it is the closing anchor, closes the heredoc. */
  const closeHeredoc = (mode: Extract<Mode, { kind: 'heredoc' }>): boolean => {
    const end = closingAnchor(mode.anchor);
    if (end < 0) return false;
    if (index - mode.start > MAX_TEMPLATE_CHARS) fail(`heredoc longer than ${MAX_TEMPLATE_CHARS} characters`, mode);
    push('cheredoc', mode.anchor, index);
    index = end;
    modes.pop();
    return true;
  };

  /** Scans heredoc text up to `${`, `%{`, the end of the text, or the end of the line (included). */
  const scanHeredoc = () => {
    const at = index;
    let value = '';
    let chunkStart = index;
    while (index < text.length) {
      const code = text.charCodeAt(index);
      if ((code === 0x24 || code === 0x25) && text.charCodeAt(index + 1) === 0x7b) break;
      if ((code === 0x24 || code === 0x25) && text.charCodeAt(index + 1) === code && text.charCodeAt(index + 2) === 0x7b) {
        value += text.slice(chunkStart, index) + (code === 0x24 ? '${' : '%{');
        index += 3;
        chunkStart = index;
        continue;
      }
      index++;
      if (code === 0x0a) {
        heredocLineStart = true;
        break;
      }
    }
    value += text.slice(chunkStart, index);
    push('lit', value, at);
    if (heredocLineStart) {
      line++;
      lineStart = index;
    }
  };

  /** `<<` at `index`: a heredoc opener when followed by an identifier and a line end. */
  const heredocOpener = (): boolean => {
    let at = index + 2;
    const flush = text.charCodeAt(at) === 0x2d;
    if (flush) at++;
    const nameStart = at;
    if (at >= text.length || !isIdentStart(text.charCodeAt(at), charAt(text, at))) return false;
    while (at < text.length && isIdentContinue(text.charCodeAt(at), charAt(text, at))) at += charAt(text, at).length;
    const anchor = text.slice(nameStart, at);
    if (text.charCodeAt(at) === 0x0d) at++;
    if (text.charCodeAt(at) !== 0x0a) return false;
    push('oheredoc', anchor, index, false, flush);
    modes.push({ kind: 'heredoc', anchor, start: index, line, column: column(index) });
    index = at + 1;
    line++;
    lineStart = index;
    heredocLineStart = true;
    return true;
  };

  for (;;) {
    const mode = top();
    if (mode?.kind === 'quoted') {
      if (index < text.length && text.charCodeAt(index) === 0x22) {
        push('cquote', '"', index);
        index++;
        modes.pop();
        continue;
      }
      const code = text.charCodeAt(index);
      if ((code === 0x24 || code === 0x25) && text.charCodeAt(index + 1) === 0x7b) {
        openSequence(code === 0x24 ? 'interp' : 'control');
        continue;
      }
      scanQuoted(mode);
      continue;
    }
    if (mode?.kind === 'heredoc') {
      if (heredocLineStart) {
        heredocLineStart = false;
        if (closeHeredoc(mode)) continue;
      }
      if (index >= text.length) fail(`unterminated heredoc: expected a line with ${mode.anchor} to close the heredoc opened at line ${mode.line}`, mode);
      const code = text.charCodeAt(index);
      if ((code === 0x24 || code === 0x25) && text.charCodeAt(index + 1) === 0x7b) {
        openSequence(code === 0x24 ? 'interp' : 'control');
        continue;
      }
      scanHeredoc();
      continue;
    }

    // Expression and structure mode.
    if (index >= text.length) {
      const open = modes.findLast((m) => m.kind === 'interp');
      if (open) fail('unterminated template: expected "}" to close an interpolation or directive');
      push('eof', '', index);
      return tokens;
    }
    const code = text.charCodeAt(index);
    if (code === 0x20 || code === 0x09 || code === 0x0d) {
      index++;
      continue;
    }
    if (code === 0x0a) {
      push('newline', '\n', index);
      index++;
      line++;
      lineStart = index;
      continue;
    }
    if (code === 0x23 || (code === 0x2f && text.charCodeAt(index + 1) === 0x2f)) {
      // # or // comment: up to the line end, which stays a newline token.
      while (index < text.length && text.charCodeAt(index) !== 0x0a) index++;
      continue;
    }
    if (code === 0x2f && text.charCodeAt(index + 1) === 0x2a) {
      const startLine = line;
      const startColumn = column(index);
      index += 2;
      for (;;) {
        if (index >= text.length) throw new HclSyntaxError(`unterminated comment: expected "*/" to close the comment opened at line ${startLine}`, { line: startLine, column: startColumn });
        const c = text.charCodeAt(index);
        if (c === 0x2a && text.charCodeAt(index + 1) === 0x2f) {
          index += 2;
          break;
        }
        index++;
        if (c === 0x0a) {
          line++;
          lineStart = index;
        }
      }
      continue;
    }
    if (code === 0x22) {
      modes.push({ kind: 'quoted', start: index, line, column: column(index) });
      push('oquote', '"', index);
      index++;
      continue;
    }
    if (code === 0x3c && text.charCodeAt(index + 1) === 0x3c && heredocOpener()) continue;
    if (isDigit(code)) {
      const at = index;
      while (isDigit(text.charCodeAt(index))) index++;
      if (text.charCodeAt(index) === 0x2e && isDigit(text.charCodeAt(index + 1))) {
        index++;
        while (isDigit(text.charCodeAt(index))) index++;
      }
      const e = text.charCodeAt(index);
      if (e === 0x65 || e === 0x45) {
        let at2 = index + 1;
        const sign = text.charCodeAt(at2);
        if (sign === 0x2b || sign === 0x2d) at2++;
        if (isDigit(text.charCodeAt(at2))) {
          index = at2;
          while (isDigit(text.charCodeAt(index))) index++;
        }
      }
      push('number', text.slice(at, index), at);
      continue;
    }
    if (code < 0x80 ? isIdentStart(code, '') : isIdentStart(code, charAt(text, index))) {
      const at = index;
      while (index < text.length) {
        const c = text.charCodeAt(index);
        if (c < 0x80) {
          if (!isIdentContinue(c, '')) break;
          index++;
          continue;
        }
        const next = charAt(text, index);
        if (!isIdentContinue(c, next)) break;
        index += next.length;
      }
      push('ident', text.slice(at, index), at);
      continue;
    }
    if (code === 0x7b) {
      modes.push({ kind: 'brace' });
      push('punct', '{', index);
      index++;
      continue;
    }
    if (code === 0x7e && text.charCodeAt(index + 1) === 0x7d && mode?.kind === 'interp') {
      push('seqend', '~}', index, true);
      index += 2;
      modes.pop();
      continue;
    }
    if (code === 0x7d) {
      if (mode?.kind === 'interp') {
        push('seqend', '}', index);
        modes.pop();
      } else {
        if (mode?.kind === 'brace') modes.pop();
        push('punct', '}', index);
      }
      index++;
      continue;
    }
    const punct = punctuation(text, index, code);
    if (punct) {
      push('punct', punct, index);
      index += punct.length;
      continue;
    }
    fail(`unexpected character ${JSON.stringify(charAt(text, index))}`);
  }
}
