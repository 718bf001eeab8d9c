import { createHash } from 'node:crypto';

// Everything the HTML report shows comes from a report, and `keydrift report --from` renders
// whatever a crafted JSON file holds: every value goes through one of these on its way out.

/**
 * Text and attribute values alike (attributes are always double-quoted); fields are typed, but a
 * crafted report can hold anything. A missing value shows as nothing, never as "undefined".
 */
export function html(value: unknown): string {
  if (value === undefined || value === null) return '';
  const text = String(value);
  // Most values need nothing: one test instead of five passes over every string of a large report.
  return SPECIAL.test(text) ? text.replace(SPECIAL_ALL, (character) => ENTITIES[character]!) : text;
}

const SPECIAL = /[&<>"']/;
const SPECIAL_ALL = /[&<>"']/g;
const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/**
 * JSON for a `<script type="application/json">` block, read back with JSON.parse(textContent).
 * Inside a script element only `</script` ends it and `<!--` switches the parser into a state
 * where it might; escaping every < > & keeps both out. U+2028/2029 are valid JSON but once ended
 * a JavaScript string: escaped too, so the text is safe wherever someone pastes it.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replaceAll('<', '\\u003c')
    .replaceAll('>', '\\u003e')
    .replaceAll('&', '\\u0026')
    .replaceAll('\u2028', '\\u2028')
    .replaceAll('\u2029', '\\u2029');
}

const PLAIN_ID = /^[A-Za-z0-9_-]{1,80}$/;

/**
 * An id attribute (and #fragment) for a value from the report: the value itself when it is a
 * plain token (fingerprints, rule ids), else a readable slug plus a digest of the whole value, so
 * the id is the same on every render and carries no character a selector or URL would trip on.
 */
export function idFor(prefix: string, value: string): string {
  if (PLAIN_ID.test(value)) return `${prefix}${value}`;
  const slug = value.replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '').slice(-40);
  const digest = createHash('sha256').update(value).digest('hex').slice(0, 12);
  return `${prefix}${slug ? `${slug}-` : ''}${digest}`;
}

/** Hands out ids once: a crafted or merged report may repeat a fingerprint, and an id must not. */
export class UniqueIds {
  readonly #used = new Set<string>();

  take(prefix: string, value: string): string {
    const base = idFor(prefix, value);
    let id = base;
    for (let suffix = 2; this.#used.has(id); suffix++) id = `${base}-${suffix}`;
    this.#used.add(id);
    return id;
  }
}

/** A shell word for a command line shown to copy: quoted only when it needs to be. */
export function shellWord(value: string): string {
  return /^[A-Za-z0-9_.:+@%/=-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`;
}
