import { html } from './escape.ts';

/**
 * The small part of Markdown the rule help uses (headings, paragraphs, lists, fenced code, inline
 * code, bold), rendered by escaping every piece of text first and only then adding our own tags:
 * help can come from a custom bundle, so no HTML, link or image in it ever becomes markup. Tables
 * stay preformatted text. `headingOffset` puts help headings below the page's own.
 */
export function markdownToHtml(markdown: string, headingOffset = 2): string {
  const lines = String(markdown).replace(/\r\n?/g, '\n').split('\n');
  const out: string[] = [];
  let index = 0;
  while (index < lines.length) {
    const line = lines[index]!;
    const fence = /^\s*(`{3,}|~{3,})/.exec(line);
    if (fence) {
      const body: string[] = [];
      index++;
      while (index < lines.length && !lines[index]!.trimStart().startsWith(fence[1]!)) body.push(lines[index++]!);
      index++;
      out.push(`<pre><code>${html(body.join('\n'))}</code></pre>`);
      continue;
    }
    const heading = /^(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading) {
      const level = Math.min(6, heading[1]!.length + headingOffset);
      out.push(`<h${level}>${inline(heading[2]!)}</h${level}>`);
      index++;
      continue;
    }
    if (/^\s*\|/.test(line)) {
      const rows: string[] = [];
      while (index < lines.length && /^\s*\|/.test(lines[index]!)) rows.push(lines[index++]!);
      out.push(`<pre>${html(rows.join('\n'))}</pre>`);
      continue;
    }
    const item = listItem(line);
    if (item) {
      const items: string[] = [];
      let current = item.text;
      index++;
      while (index < lines.length) {
        const next = lines[index]!;
        const nextItem = listItem(next);
        if (nextItem && nextItem.ordered === item.ordered) {
          items.push(current);
          current = nextItem.text;
        } else if (next.trim() !== '' && /^\s+/.test(next) && !/^\s*(`{3,}|~{3,})/.test(next)) {
          current += ` ${next.trim()}`;
        } else break;
        index++;
      }
      items.push(current);
      const tag = item.ordered ? 'ol' : 'ul';
      out.push(`<${tag}>${items.map((text) => `<li>${inline(text)}</li>`).join('')}</${tag}>`);
      continue;
    }
    if (line.trim() === '') {
      index++;
      continue;
    }
    const paragraph: string[] = [];
    while (index < lines.length) {
      const next = lines[index]!;
      if (next.trim() === '' || /^\s*(`{3,}|~{3,})/.test(next) || /^#{1,6}\s/.test(next) || /^\s*\|/.test(next) || listItem(next)) break;
      paragraph.push(next.trim());
      index++;
    }
    out.push(`<p>${inline(paragraph.join(' '))}</p>`);
  }
  return out.join('\n');
}

function listItem(line: string): { ordered: boolean; text: string } | null {
  const bullet = /^\s{0,3}[-*+]\s+(.*)$/.exec(line);
  if (bullet) return { ordered: false, text: bullet[1]! };
  const numbered = /^\s{0,3}\d{1,9}[.)]\s+(.*)$/.exec(line);
  return numbered ? { ordered: true, text: numbered[1]! } : null;
}

/** Code spans first (their content is literal), then bold in what is left; everything escaped. */
function inline(text: string): string {
  const parts: string[] = [];
  const span = /(`+)([\s\S]*?[^`])\1(?!`)/g;
  let last = 0;
  for (let match = span.exec(text); match; match = span.exec(text)) {
    parts.push(emphasis(text.slice(last, match.index)), `<code>${html(match[2]!.trim() === '' ? match[2] : match[2]!.replace(/^ (.*) $/, '$1'))}</code>`);
    last = match.index + match[0].length;
  }
  parts.push(emphasis(text.slice(last)));
  return parts.join('');
}

function emphasis(text: string): string {
  return html(text).replace(/\*\*(?=\S)(.+?)(?<=\S)\*\*/g, '<strong>$1</strong>');
}
