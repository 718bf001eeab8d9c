import { children, decodeOid, DerError, expectTag, readElement, TAG, type DerElement } from './der.ts';
import { distinguishedName } from './distinguished-name.ts';

// The names of a subjectAltName extension, read from its DER. node:crypto's
// X509Certificate.subjectAltName joins them into one string with ", " and writes any value holding
// a comma, quote, backslash or control character as a quoted string with JSON escapes ("\u002c"
// for the comma), so that string does not give back the names the certificate holds. Each name
// here is "<type>:<value>" with node's type words ("DNS:", "IP Address:", "URI:", "email:", ...)
// and address formats, so an ordinary name reads exactly as node prints it, and a name node would
// quote reads as the certificate holds it.

/** The DER of id-ce-subjectAltName (2.5.29.17), compared as bytes: extension ids need no decoding. */
export const SUBJECT_ALT_NAME_OID_DER: Uint8Array = Uint8Array.of(0x55, 0x1d, 0x11);

const UTF8_STRING = 0x0c;
const IA5_STRING = 0x16;

/**
 * GeneralName ::= CHOICE { otherName [0], rfc822Name [1] IA5String, dNSName [2] IA5String,
 *   x400Address [3], directoryName [4] Name, ediPartyName [5], uniformResourceIdentifier [6] IA5String,
 *   iPAddress [7] OCTET STRING, registeredID [8] OID }, tagged implicitly but for the Name (a CHOICE).
 */
const GENERAL_NAME = {
  OTHER: TAG.context(0),
  EMAIL: TAG.context(1, false),
  DNS: TAG.context(2, false),
  X400: TAG.context(3),
  DIRECTORY: TAG.context(4),
  EDI_PARTY: TAG.context(5),
  URI: TAG.context(6, false),
  IP: TAG.context(7, false),
  REGISTERED_ID: TAG.context(8, false),
} as const;

const utf8 = new TextDecoder('utf-8');

/** The otherName types node prints, with the string type each must hold; the rest print as unsupported. */
const OTHER_NAMES: Readonly<Record<string, { prefix: string; tag: number }>> = {
  '1.3.6.1.4.1.311.20.2.3': { prefix: 'UPN', tag: UTF8_STRING },
  '1.3.6.1.5.5.7.8.5': { prefix: 'XmppAddr', tag: UTF8_STRING },
  '1.3.6.1.5.5.7.8.7': { prefix: 'SRVName', tag: IA5_STRING },
  '1.3.6.1.5.5.7.8.8': { prefix: 'NAIRealm', tag: UTF8_STRING },
  '1.3.6.1.5.5.7.8.9': { prefix: 'SmtpUTF8Mailbox', tag: UTF8_STRING },
};

/**
 * The names of a subjectAltName extension value (GeneralNames ::= SEQUENCE OF GeneralName), in
 * certificate order. Throws DerError when the value does not decode.
 */
export function subjectAltNames(extensionValue: Uint8Array): string[] {
  // Bytes after the SEQUENCE are ignored, as OpenSSL ignores them: node lists the names before them.
  return children(expectTag(readElement(extensionValue), TAG.SEQUENCE, 'GeneralNames')).map(generalName);
}

function generalName(name: DerElement): string {
  switch (name.tag) {
    case GENERAL_NAME.OTHER:
      return `othername:${otherName(name)}`;
    case GENERAL_NAME.EMAIL:
      return `email:${ascii(name.value)}`;
    case GENERAL_NAME.DNS:
      return `DNS:${ascii(name.value)}`;
    case GENERAL_NAME.X400:
      return 'X400Name:<unsupported>';
    case GENERAL_NAME.DIRECTORY: {
      const [directory, ...rest] = children(name);
      if (!directory || rest.length > 0) throw new DerError('directoryName must hold exactly one Name');
      return `DirName:${distinguishedName(directory)}`;
    }
    case GENERAL_NAME.EDI_PARTY:
      return 'EdiPartyName:<unsupported>';
    case GENERAL_NAME.URI:
      return `URI:${ascii(name.value)}`;
    case GENERAL_NAME.IP:
      return `IP Address:${ipAddress(name.value)}`;
    case GENERAL_NAME.REGISTERED_ID:
      return `Registered ID:${decodeOid(name.value)}`;
    default:
      throw new DerError(`GeneralName with unknown tag 0x${name.tag.toString(16)}`);
  }
}

// otherName ::= [0] IMPLICIT SEQUENCE { type-id OID, value [0] EXPLICIT ANY }
function otherName(name: DerElement): string {
  const [type, explicit, ...rest] = children(name);
  const oid = decodeOid(expectTag(type, TAG.OID, 'otherName type-id').value);
  const [value, ...more] = children(expectTag(explicit, TAG.context(0), 'otherName value'));
  if (!value || more.length > 0 || rest.length > 0) throw new DerError('otherName must hold one type-id and one value');
  const known = OTHER_NAMES[oid];
  if (!known || value.tag !== known.tag) return '<unsupported>';
  return `${known.prefix}:${known.tag === UTF8_STRING ? unicode(value.value) : ascii(value.value)}`;
}

/** IPv4 dotted; IPv6 as eight upper-case hexadecimal groups, uncompressed, as node prints them. */
function ipAddress(bytes: Uint8Array): string {
  if (bytes.length === 4) return bytes.join('.');
  if (bytes.length === 16) {
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16).toUpperCase());
    return groups.join(':');
  }
  return `<invalid length=${bytes.length}>`;
}

// Values are written as the certificate holds them, but never with a raw control character, which
// could break a line of a terminal or a Markdown report: those become JSON-style \u escapes, as
// node writes them.

/** IA5String: ASCII, so any byte outside printable ASCII is escaped. */
function ascii(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) out += byte >= 0x20 && byte < 0x7f ? String.fromCharCode(byte) : escaped(byte);
  return out;
}

/**
 * UTF8String: C0 and C1 controls and DEL are escaped; text in any script is kept. Bytes that are not
 * UTF-8 read as U+FFFD, as node shows them: OpenSSL does not check the otherNames it prints.
 */
function unicode(bytes: Uint8Array): string {
  let out = '';
  for (const char of utf8.decode(bytes)) {
    const code = char.codePointAt(0)!;
    out += code < 0x20 || (code >= 0x7f && code < 0xa0) ? escaped(code) : char;
  }
  return out;
}

function escaped(code: number): string {
  return `\\u${code.toString(16).padStart(4, '0')}`;
}
