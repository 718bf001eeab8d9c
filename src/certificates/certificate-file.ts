import { isCertificateError, parseCertificate, type ParsedCertificate } from './certificate.ts';
import { DerError, readElement, TAG } from './der.ts';
import { certificatesFromPkcs7, looksLikePkcs7 } from './pkcs7.ts';
import { scanPem } from './pem.ts';

export type CertificateFormat = 'pem' | 'der' | 'pkcs7-pem' | 'pkcs7-der';

/** One certificate found in a file, with where it sits so reports can point at the lines. */
export interface FoundCertificate {
  parsed: ParsedCertificate;
  format: CertificateFormat;
  /** Position among the certificates of the file, unreadable ones included. */
  index: number;
  startLine: number;
  endLine: number;
  endColumn: number;
}

export interface FileProblem {
  /** `no-certificate`: the file is readable but holds none; `certificate-invalid`: something is damaged. */
  code: 'certificate-invalid' | 'no-certificate';
  /** In our words, with line numbers; never the file's bytes. */
  message: string;
}

export interface CertificateFileContents {
  certificates: FoundCertificate[];
  /** The first problems found; `problemCount` says how many there were in all. */
  problems: FileProblem[];
  problemCount: number;
  /** Labels of well-formed non-certificate PEM blocks (keys, CRLs, requests) that were passed over undecoded. */
  skipped: string[];
}

type Region = Pick<FoundCertificate, 'startLine' | 'endLine' | 'endColumn'>;

const DER_REGION: Region = { startLine: 1, endLine: 1, endColumn: 2 };
const MAX_PROBLEMS = 50;

/**
 * Everything the x509-files source finds in one file's bytes: PEM (any line endings), DER, or
 * PKCS#7 in either form. Pure and synchronous, so the fuzz test runs exactly what the collector
 * runs. Never silent: a file without a certificate has a problem, unless it holds only
 * well-formed blocks of known non-certificate kinds (a private key next to its certificate file).
 * Throws only on a fault of ours, never because of what the file holds.
 */
export function readCertificateFile(bytes: Uint8Array): CertificateFileContents {
  const reader = new ContentsBuilder();
  const buffer = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // latin1 maps every byte to one character, so binary input cannot make the text reading fail.
  const scan = scanPem(buffer.toString('latin1'));
  if (scan.pemLike) {
    for (const message of scan.problems) reader.problem('certificate-invalid', message);
    reader.contents.problemCount += scan.problemCount - scan.problems.length;
    reader.contents.skipped = scan.skipped.map((block) => block.label);
    for (const block of scan.blocks) {
      const region = { startLine: block.startLine, endLine: block.endLine, endColumn: block.endColumn };
      if (block.label === 'PKCS7') reader.pkcs7(block.der, 'pkcs7-pem', region, `the PKCS#7 block at line ${block.startLine}`);
      else reader.certificate(block.der, 'pem', region, { trailerAllowed: block.label === 'TRUSTED CERTIFICATE' });
    }
  } else if (buffer.length === 0) {
    reader.problem('certificate-invalid', 'empty file');
  } else if (looksLikePkcs7(buffer)) {
    reader.pkcs7(buffer, 'pkcs7-der', DER_REGION, 'the file');
  } else {
    reader.derCertificates(buffer);
  }
  const { contents } = reader;
  if (contents.certificates.length === 0 && contents.problemCount === 0 && contents.skipped.length === 0) {
    reader.problem('no-certificate', 'no certificate in the file');
  }
  return contents;
}

class ContentsBuilder {
  readonly contents: CertificateFileContents = { certificates: [], problems: [], problemCount: 0, skipped: [] };
  private index = 0;

  problem(code: FileProblem['code'], message: string): void {
    this.contents.problemCount++;
    if (this.contents.problems.length < MAX_PROBLEMS) this.contents.problems.push({ code, message });
  }

  certificate(der: Uint8Array, format: CertificateFormat, region: Region, options: { trailerAllowed?: boolean; where?: string } = {}): void {
    const index = this.index++;
    const where = options.where ?? `certificate ${index + 1}${format === 'pem' ? ` (line ${region.startLine})` : ''}`;
    let parsed: ParsedCertificate;
    try {
      parsed = parseCertificate(der);
    } catch (error) {
      if (!isCertificateError(error)) throw error;
      this.problem('certificate-invalid', `${where} cannot be parsed: ${error.message}`);
      return;
    }
    const length = readElement(der).raw.length;
    if (!options.trailerAllowed && length < der.length) {
      this.problem('certificate-invalid', `${where}: ${der.length - length} unexpected bytes after the end of the certificate`);
    }
    this.contents.certificates.push({ parsed, format, index, ...region });
  }

  pkcs7(der: Uint8Array, format: 'pkcs7-pem' | 'pkcs7-der', region: Region, where: string): void {
    let certificates: Uint8Array[];
    try {
      certificates = certificatesFromPkcs7(der);
    } catch (error) {
      if (!(error instanceof DerError)) throw error;
      this.problem('certificate-invalid', `${where} is not a valid PKCS#7 bundle: ${error.message}`);
      return;
    }
    if (certificates.length === 0) this.problem('no-certificate', `${where} is a PKCS#7 bundle without certificates`);
    for (const certificate of certificates) this.certificate(certificate, format, region);
  }

  /** One DER certificate, or several written back to back (as some tools export a chain). */
  derCertificates(bytes: Buffer): void {
    let offset = 0;
    while (offset < bytes.length && !onlyWhitespace(bytes, offset)) {
      if (this.contents.problemCount >= MAX_PROBLEMS) return;
      let element;
      let reason = '';
      try {
        element = readElement(bytes, offset);
      } catch (error) {
        if (!(error instanceof DerError)) throw error;
        element = null;
        reason = error.message;
      }
      if (offset === 0 && element?.tag !== TAG.SEQUENCE) {
        this.problem('certificate-invalid', `not a PEM, DER or PKCS#7 certificate (${whatItLooksLike(bytes, reason)})`);
        return;
      }
      if (!element) {
        this.problem('certificate-invalid', `${bytes.length - offset} bytes after certificate ${this.index} are not a certificate`);
        return;
      }
      const where = offset === 0 && element.raw.length === bytes.length ? 'the DER certificate' : undefined;
      this.certificate(element.raw, 'der', DER_REGION, { where });
      offset += element.raw.length;
    }
  }
}

function onlyWhitespace(bytes: Uint8Array, from: number): boolean {
  for (let i = from; i < bytes.length; i++) {
    const byte = bytes[i]!;
    if (byte !== 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d) return false;
  }
  return true;
}

/** A hint for the user, judged from the first bytes only; never quotes them. */
function whatItLooksLike(bytes: Uint8Array, derProblem: string): string {
  if (bytes[0] === TAG.SEQUENCE && derProblem) return `DER that is damaged or cut short: ${derProblem}`;
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    return 'UTF-16 text: PEM files must be ASCII';
  }
  const head = bytes.subarray(0, 512);
  const text = head.every((byte) => byte === 0x09 || byte === 0x0a || byte === 0x0d || (byte >= 0x20 && byte < 0x7f));
  if (!text) return 'binary data that is not DER';
  return /^[\sA-Za-z0-9+/=]*$/.test(Buffer.from(head).toString('latin1'))
    ? 'base64 text without PEM BEGIN/END lines'
    : 'text without PEM BEGIN/END lines';
}
