import { children, decodeOid, decodeUtf8String, DerError, expectTag, TAG, type DerElement } from './der.ts';

// A Name as RFC 4514 text, the way OpenSSL's RFC 2253 printing (and so node:crypto) writes one:
// last RDN first, short attribute names, and "#" with the DER in upper-case hex for an attribute
// whose type or value type is not known here. Used for directoryName subject alternative names.

/** OpenSSL's short names for the attribute types certificates use. */
const SHORT_NAMES: Readonly<Record<string, string>> = {
  '2.5.4.3': 'CN',
  '2.5.4.4': 'SN',
  '2.5.4.5': 'serialNumber',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.9': 'street',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.12': 'title',
  '2.5.4.13': 'description',
  '2.5.4.15': 'businessCategory',
  '2.5.4.17': 'postalCode',
  '2.5.4.41': 'name',
  '2.5.4.42': 'GN',
  '2.5.4.43': 'initials',
  '2.5.4.44': 'generationQualifier',
  '2.5.4.46': 'dnQualifier',
  '2.5.4.65': 'pseudonym',
  '2.5.4.72': 'role',
  '2.5.4.97': 'organizationIdentifier',
  '0.9.2342.19200300.100.1.1': 'UID',
  '0.9.2342.19200300.100.1.25': 'DC',
  '1.2.840.113549.1.9.1': 'emailAddress',
  '1.3.6.1.4.1.311.60.2.1.1': 'jurisdictionL',
  '1.3.6.1.4.1.311.60.2.1.2': 'jurisdictionST',
  '1.3.6.1.4.1.311.60.2.1.3': 'jurisdictionC',
};

const STRING = {
  UTF8: 0x0c,
  NUMERIC: 0x12,
  PRINTABLE: 0x13,
  TELETEX: 0x14,
  IA5: 0x16,
  VISIBLE: 0x1a,
  UNIVERSAL: 0x1c,
  BMP: 0x1e,
} as const;

/**
 * Name ::= RDNSequence ::= SEQUENCE OF SET OF AttributeTypeAndValue. OpenSSL walks all attributes
 * backwards, so the parts of a multi-valued RDN come last first too. Throws DerError when it does not decode.
 */
export function distinguishedName(name: DerElement): string {
  return children(expectTag(name, TAG.SEQUENCE, 'Name'))
    .reverse()
    .map((rdn) => children(expectTag(rdn, TAG.SET, 'RelativeDistinguishedName')).reverse().map(attribute).join('+'))
    .join(',');
}

// AttributeTypeAndValue ::= SEQUENCE { type OID, value ANY }
function attribute(element: DerElement): string {
  const [type, value, ...rest] = children(expectTag(element, TAG.SEQUENCE, 'AttributeTypeAndValue'));
  const oid = decodeOid(expectTag(type, TAG.OID, 'attribute type').value);
  if (!value || rest.length > 0) throw new DerError('AttributeTypeAndValue must hold exactly one value');
  // OpenSSL takes only universal types here (strings, mostly) and refuses the whole Name otherwise.
  if (value.tag & 0xc0) throw new DerError('attribute value that is not a universal type');
  const shortName = SHORT_NAMES[oid];
  const text = shortName ? stringValue(value) : null;
  return `${shortName ?? oid}=${text === null ? `#${Buffer.from(value.raw).toString('hex').toUpperCase()}` : escapeValue(text)}`;
}

function stringValue(value: DerElement): string | null {
  const bytes = Buffer.from(value.value.buffer, value.value.byteOffset, value.value.byteLength);
  switch (value.tag) {
    case STRING.UTF8:
      return decodeUtf8String(bytes);
    // T.61 is read as Latin-1, as OpenSSL reads it: the two agree on the printable characters.
    case STRING.NUMERIC:
    case STRING.PRINTABLE:
    case STRING.IA5:
    case STRING.VISIBLE:
    case STRING.TELETEX:
      return bytes.toString('latin1');
    case STRING.BMP:
      return bytes.length % 2 === 0 ? codePoints(bytes, 2) : null;
    case STRING.UNIVERSAL:
      return bytes.length % 4 === 0 ? codePoints(bytes, 4) : null;
    default:
      return null;
  }
}

/** Big-endian UCS-2 or UCS-4; null for a code point that is not one. */
function codePoints(bytes: Buffer, width: 2 | 4): string | null {
  let text = '';
  for (let offset = 0; offset < bytes.length; offset += width) {
    const point = width === 2 ? bytes.readUInt16BE(offset) : bytes.readUInt32BE(offset);
    if (point > 0x10ffff) return null;
    text += String.fromCodePoint(point);
  }
  return text;
}

/**
 * RFC 4514 2.4: the special characters get a backslash, as do a leading "#" or space and a
 * trailing space. Control characters are written as hex pairs of their UTF-8 bytes (OpenSSL
 * leaves them raw here) so a name can never break a line of a report.
 */
function escapeValue(text: string): string {
  const chars = [...text];
  return chars
    .map((char, index) => {
      const code = char.codePointAt(0)!;
      if (code < 0x20 || (code >= 0x7f && code < 0xa0)) return Buffer.from(char).toString('hex').toUpperCase().replace(/../g, '\\$&');
      if (',+"\\<>;'.includes(char)) return `\\${char}`;
      if (index === 0 && (char === '#' || char === ' ')) return `\\${char}`;
      if (index === chars.length - 1 && char === ' ') return '\\ ';
      return char;
    })
    .join('');
}
