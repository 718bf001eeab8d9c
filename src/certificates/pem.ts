// PEM blocks with their line numbers, so a report can point at the exact certificate in a chain file.
// Damage is reported, never passed over: a file whose BEGIN line is broken must not read as "no
// certificates here" (and so as compliant).

export interface PemBlock {
  label: 'CERTIFICATE' | 'TRUSTED CERTIFICATE' | 'PKCS7';
  der: Uint8Array;
  startLine: number;
  endLine: number;
  /** One past the last character of the END line (SARIF regions are end-exclusive). */
  endColumn: number;
}

export interface PemScan {
  /** Certificate and PKCS#7 blocks, decoded. */
  blocks: PemBlock[];
  /** Well-formed blocks of a known non-certificate kind (keys, CRLs, requests, parameters): never decoded. */
  skipped: { label: string; startLine: number }[];
  /** What is wrong, one sentence each with its line; never quotes the file beyond a block label. */
  problems: string[];
  /** How many problems there were: only the first ones are kept. */
  problemCount: number;
  /** True when the text holds anything PEM-like (a block, or a damaged BEGIN/END line). */
  pemLike: boolean;
}

const CERTIFICATE_LABELS: ReadonlyMap<string, PemBlock['label']> = new Map([
  ['CERTIFICATE', 'CERTIFICATE'],
  ['X509 CERTIFICATE', 'CERTIFICATE'],
  ['CERTIFICATE CHAIN', 'CERTIFICATE'],
  // OpenSSL's trusted form: the certificate followed by trust settings.
  ['TRUSTED CERTIFICATE', 'TRUSTED CERTIFICATE'],
  ['PKCS7', 'PKCS7'],
  ['PKCS #7 SIGNED DATA', 'PKCS7'],
]);

/** Labels (RFC 7468 and OpenSSL) of blocks that are provably not certificates; they are skipped undecoded. */
const NON_CERTIFICATE_LABELS: ReadonlySet<string> = new Set([
  'PRIVATE KEY', 'ENCRYPTED PRIVATE KEY', 'RSA PRIVATE KEY', 'DSA PRIVATE KEY', 'EC PRIVATE KEY', 'ANY PRIVATE KEY',
  'OPENSSH PRIVATE KEY', 'PUBLIC KEY', 'RSA PUBLIC KEY',
  'X509 CRL', 'CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST',
  'PARAMETERS', 'EC PARAMETERS', 'DH PARAMETERS', 'X9.42 DH PARAMETERS', 'DSA PARAMETERS', 'SSL SESSION PARAMETERS',
  'CMS', 'ATTRIBUTE CERTIFICATE',
]);

const LINE_BREAK = /\r\n|\r|\n/;
// RFC 7468: label characters are printable ASCII except "-", single hyphens or spaces between them.
const BOUNDARY = /^-----(BEGIN|END) ((?:[\x21-\x2c\x2e-\x7e](?:[- ]?[\x21-\x2c\x2e-\x7e])*)?)-----$/;
const BASE64_LINE = /^[A-Za-z0-9+/]+={0,2}$/;
/** Lines made only of rule characters are decoration in a bundle's comments, not damaged boundaries. */
const DECORATION = /^[-=#* ]*$/;

/** Problems kept per file; the rest are counted, so a huge damaged file cannot fill memory with messages. */
const MAX_PROBLEMS = 50;

interface OpenBlock {
  label: string;
  startLine: number;
  body: string[];
  padded: boolean;
  broken: boolean;
}

/**
 * Reads every PEM block of a text, keeping going after damage so the intact certificates of a
 * partly corrupt chain are still found. CR, LF and CRLF line endings (mixed too) are all lines.
 */
export function scanPem(text: string): PemScan {
  const scan: PemScan = { blocks: [], skipped: [], problems: [], problemCount: 0, pemLike: false };
  const problem = (message: string) => {
    scan.problemCount++;
    if (scan.problems.length < MAX_PROBLEMS) scan.problems.push(message);
  };
  const lines = text.replace(/^\uFEFF|^\xEF\xBB\xBF/, '').split(LINE_BREAK);
  let open: OpenBlock | null = null;
  for (const [index, line] of lines.entries()) {
    const number = index + 1;
    const trimmed = line.trim();
    const boundary = BOUNDARY.exec(trimmed);
    if (boundary) {
      scan.pemLike = true;
      const [, kind, label = ''] = boundary;
      if (kind === 'BEGIN') {
        if (open && !open.broken) problem(`PEM block "${shown(open.label)}" at line ${open.startLine} has no END line`);
        open = { label, startLine: number, body: [], padded: false, broken: false };
      } else if (!open) {
        problem(`line ${number}: END line without a BEGIN line`);
      } else {
        if (label !== open.label) {
          problem(`PEM block "${shown(open.label)}" at line ${open.startLine} ends with "${shown(label)}"`);
        } else if (!open.broken) {
          closeBlock(open, { endLine: number, endColumn: line.length + 1 }, scan, problem);
        }
        open = null;
      }
      continue;
    }
    if (!DECORATION.test(trimmed) && looksLikeBoundary(trimmed)) {
      scan.pemLike = true;
      problem(`line ${number}: damaged PEM BEGIN/END line`);
      if (open) open.broken = true;
      continue;
    }
    if (!open || open.broken || trimmed === '') continue;
    // RFC 1421 headers (encrypted legacy keys) come before the body.
    if (open.body.length === 0 && trimmed.includes(':')) continue;
    if (!BASE64_LINE.test(trimmed) || open.padded) {
      problem(`line ${number}: not base64 inside the PEM block that starts at line ${open.startLine}`);
      open.broken = true;
      continue;
    }
    if (trimmed.endsWith('=')) open.padded = true;
    open.body.push(trimmed);
  }
  if (open && !open.broken) problem(`PEM block "${shown(open.label)}" at line ${open.startLine} has no END line`);
  if (scan.problems.length > 0) scan.pemLike = true;
  return scan;
}

function closeBlock(
  open: OpenBlock,
  end: { endLine: number; endColumn: number },
  scan: PemScan,
  problem: (message: string) => void,
): void {
  const label = CERTIFICATE_LABELS.get(open.label);
  if (!label) {
    if (NON_CERTIFICATE_LABELS.has(open.label)) {
      scan.skipped.push({ label: open.label, startLine: open.startLine });
    } else {
      problem(`PEM block "${shown(open.label)}" at line ${open.startLine} is neither a certificate nor a known key, CRL, request or parameters block`);
    }
    return;
  }
  const body = open.body.join('');
  if (body.length % 4 !== 0) {
    problem(`PEM block "${open.label}" at line ${open.startLine}: the base64 text is truncated or has characters missing`);
    return;
  }
  const der = Buffer.from(body, 'base64');
  if (der.length === 0) {
    problem(`PEM block at line ${open.startLine} is empty`);
    return;
  }
  scan.blocks.push({ label, der, startLine: open.startLine, ...end });
}

// Something meant to be a boundary: a truncated BEGIN line, "----BEGIN", a lower-case or
// mangled label, a BEGIN line run together with the base64 that follows it. A "#" line is a
// comment however it is ruled; damage that makes one is still caught by its unpaired partner line.
function looksLikeBoundary(trimmed: string): boolean {
  if (trimmed.startsWith('#')) return false;
  return /-{3,} ?(BEGIN|END)\b/i.test(trimmed) || /^-*(BEGIN|END) .*-{3,}/i.test(trimmed) || /^-{5}|-{5}$/.test(trimmed);
}

/** A label as shown in messages: labels are header text, but a damaged one can be any length. */
function shown(label: string): string {
  return label.length > 40 ? `${label.slice(0, 40)}...` : label;
}

/**
 * Certificate and PKCS#7 blocks only: private keys, CRLs and requests in the same text are skipped
 * without being decoded, so key material is never even held as bytes. Throws on the first problem,
 * for callers that want all or nothing (a CA file, a PEM string from an API).
 */
export function certificateBlocks(text: string): PemBlock[] {
  const scan = scanPem(text);
  if (scan.problems.length > 0) throw new Error(scan.problems[0]);
  return scan.blocks;
}
