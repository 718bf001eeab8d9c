import { html, jsonForScript } from './escape.ts';
import { SCRIPT, SCRIPT_HASH } from './script.ts';
import { STYLES } from './styles.ts';

/**
 * Nothing remote, nothing inline but the style sheet, data: images and the one script whose hash
 * is listed: should any report value slip through unescaped, it could neither run nor load. Static
 * text (the hash is base64), so it is written into the attribute as is.
 */
export const CONTENT_SECURITY_POLICY = `default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src '${SCRIPT_HASH}'`;

export interface Page {
  title: string;
  /** The page's sections, already rendered and escaped. */
  body: string;
  /** What the script reads (#keydrift-data); never code. */
  data: unknown;
}

export function page({ title, body, data }: Page): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CONTENT_SECURITY_POLICY}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${html(title)}</title>
<style>${STYLES}</style></head>
<body>
${body}
<script type="application/json" id="keydrift-data">${jsonForScript(data)}</script>
<script>${SCRIPT}</script>
</body></html>
`;
}
