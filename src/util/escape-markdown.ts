// Reports rendered as GitHub-flavoured Markdown (the job summary, PR comments) show text that
// comes from data: resource names, file paths, backend messages, a crafted report's fields. Data
// must render as the characters it holds, never as structure: no new line, table row or heading,
// no link, image, autolink or HTML, and no @mention or #123 reference that would notify people.

import { printable } from './terminal.ts';

/**
 * The ASCII punctuation GitHub's Markdown gives a meaning inline: escapes, code, emphasis and
 * strikethrough, links and images, HTML and autolinks, headings, table cells, math, entities.
 */
const SPECIAL = /[\\`*_[\]()<>#|!~$&{}]/g;

/** Controls and separators: a new line would end the paragraph or the table row. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const BREAKING = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * Between `@` and a name, and between `#` and a digit: GitHub links mentions and issue references
 * in the rendered text, where a backslash escape no longer exists. A zero-width space breaks them.
 */
const ZERO_WIDTH_SPACE = '&#8203;';

/** Free text (messages, titles, remediation): one line, every Markdown character inert. */
export function markdownText(text: string): string {
  return text
    .replace(BREAKING, ' ')
    .replace(SPECIAL, (character) => `\\${character}`)
    .replaceAll('@', `\\@${ZERO_WIDTH_SPACE}`)
    .replace(/\\#(?=\d)/g, `\\#${ZERO_WIDTH_SPACE}`)
    // Extended autolinks (www.example.com, https://example.com) need no brackets.
    .replace(/:(?=\/\/)/g, '\\:')
    .replace(/(www)\./gi, '$1\\.');
}

/**
 * An identifier (id, uid, name, path, type) as a code span: shown exactly, nothing inside it
 * renders. The fence is longer than any backtick run inside; control characters are shown
 * escaped (`\n`) so the span stays on one line. In a table a `|` still ends the cell, even in
 * code, unless it is escaped (GitHub removes that backslash before rendering the span).
 */
export function markdownCode(text: string, where: 'table' | 'text' = 'table'): string {
  if (text === '') return '';
  let content = printable(text);
  if (where === 'table') content = content.replaceAll('|', '\\|');
  const longestRun = Math.max(0, ...(content.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longestRun + 1);
  // A span that starts or ends with a backtick or a space needs one space of padding, which
  // Markdown removes again.
  const padded = /^[` ]|[` ]$/.test(content) ? ` ${content} ` : content;
  return `${fence}${padded}${fence}`;
}

/**
 * A value from a small vocabulary (severity, status, rule id): plain when it has the expected
 * shape, so tables stay easy to read, and a code span otherwise (a crafted report).
 */
export function markdownToken(text: string, where: 'table' | 'text' = 'table'): string {
  return /^[A-Za-z][A-Za-z0-9-]*$/.test(text) ? text : markdownCode(text, where);
}
