// PEM blocks with their line numbers, so a report can point at the exact certificate in a chain file.

export interface PemBlock {
  label: string;
  der: Uint8Array;
  startLine: number;
  endLine: number;
  /** One past the last character of the END line (SARIF regions are end-exclusive). */
  endColumn: number;
}

const CERTIFICATE_LABELS = new Set(['CERTIFICATE', 'X509 CERTIFICATE', 'TRUSTED CERTIFICATE', 'PKCS7', 'CERTIFICATE CHAIN']);

/**
 * Certificate and PKCS#7 blocks only: private keys, CRLs and requests in the same file are skipped
 * without being decoded, so key material is never even held as bytes.
 */
export function certificateBlocks(text: string): PemBlock[] {
  const lines = text.split(/\r?\n/);
  const blocks: PemBlock[] = [];
  let open: { label: string; startLine: number; body: string[] } | null = null;
  for (const [index, line] of lines.entries()) {
    const trimmed = line.trim();
    const begin = /^-----BEGIN ([A-Z0-9 ]+)-----$/.exec(trimmed);
    if (begin) {
      open = { label: begin[1]!, startLine: index + 1, body: [] };
      continue;
    }
    const end = /^-----END ([A-Z0-9 ]+)-----$/.exec(trimmed);
    if (end && open) {
      if (end[1] !== open.label) throw new Error(`PEM block "${open.label}" at line ${open.startLine} ends with "${end[1]}"`);
      if (CERTIFICATE_LABELS.has(open.label)) {
        const der = Buffer.from(open.body.join(''), 'base64');
        if (der.length === 0) throw new Error(`PEM block at line ${open.startLine} is empty`);
        blocks.push({
          label: open.label === 'PKCS7' ? 'PKCS7' : 'CERTIFICATE',
          der,
          startLine: open.startLine,
          endLine: index + 1,
          endColumn: line.length + 1,
        });
      }
      open = null;
      continue;
    }
    if (open && CERTIFICATE_LABELS.has(open.label) && trimmed !== '' && !trimmed.includes(':')) {
      if (!/^[A-Za-z0-9+/=]+$/.test(trimmed)) {
        throw new Error(`line ${index + 1}: not base64 inside the PEM block that starts at line ${open.startLine}`);
      }
      open.body.push(trimmed);
    }
  }
  if (open) throw new Error(`PEM block "${open.label}" at line ${open.startLine} has no END line`);
  return blocks;
}
