// Text printed to a terminal or a CI log carries names and ids that come from data (file names,
// source ids, backend messages). A control character in them could move the cursor, recolour the
// screen, or start a new line that a CI runner takes for a command of its own (GitHub Actions
// runs `::error ...::` at the start of a line and `##[command]` anywhere in one). Data is shown
// escaped instead, so each logical message stays one physical line and reads as data.

/**
 * C0 and C1 controls (with DEL), Unicode line/paragraph separators, the bidirectional marks that
 * can make a name display as something else, and the invisible characters (soft hyphen, zero-width
 * spaces and joiners, BOM) that hide inside a name or that a linguistic string comparison skips.
 */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g;

const SHORT: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeCharacter(character: string): string {
  const short = SHORT[character];
  if (short) return short;
  const code = character.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** Every unprintable character shown as an escape (`\n`, `\x1b`, `\u202e`): one line, no terminal effects. */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, escapeCharacter);
}

/**
 * One physical line that no CI runner reads as a command: unprintables escaped, a `::` at the
 * start (the runner ignores leading whitespace) and any `##[` made inert by escaping a character.
 */
export function terminalLine(text: string): string {
  return printable(text)
    .replace(/^(\s*):(?=:)/u, '$1\\x3a')
    .replaceAll('##[', '##\\x5b');
}

/** Multi-line output from another program (opa), each line made safe; a trailing newline kept. */
export function terminalLines(text: string): string {
  if (text === '') return '';
  const lines = text.replace(/\n$/, '').split('\n');
  // Tabs are layout in a tool's report, not data: kept.
  return lines.map((line) => terminalLine(line).replaceAll('\\t', '\t')).join('\n') + '\n';
}
