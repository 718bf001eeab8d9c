// A minimal DER reader: just enough ASN.1 to walk certificates and PKCS#7 bundles, which
// node:crypto does not open for us. It never copies: elements are views into the input.

export interface DerElement {
  /** The identifier octet: class, constructed bit and tag number (low-tag-number form only). */
  tag: number;
  /** Content octets. */
  value: Uint8Array;
  /** The whole element, header included. */
  raw: Uint8Array;
}

export class DerError extends Error {}

export const TAG = {
  INTEGER: 0x02,
  OID: 0x06,
  SEQUENCE: 0x30,
  SET: 0x31,
  context: (n: number, constructed = true) => 0x80 | (constructed ? 0x20 : 0) | n,
} as const;

export function readElement(bytes: Uint8Array, offset = 0): DerElement {
  if (offset + 2 > bytes.length) throw new DerError('truncated DER header');
  const tag = bytes[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError('high-tag-number form is not supported');
  let length = bytes[offset + 1]!;
  let header = 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    // Indefinite lengths are BER, not DER; more than 4 length octets cannot describe a real file.
    if (count === 0 || count > 4) throw new DerError('unsupported DER length encoding');
    if (offset + 2 + count > bytes.length) throw new DerError('truncated DER length');
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + bytes[offset + 2 + i]!;
    header += count;
  }
  const end = offset + header + length;
  if (end > bytes.length) throw new DerError('DER element runs past the end of the data');
  return {
    tag,
    value: bytes.subarray(offset + header, end),
    raw: bytes.subarray(offset, end),
  };
}

export function children(element: DerElement): DerElement[] {
  const out: DerElement[] = [];
  let offset = 0;
  while (offset < element.value.length) {
    const child = readElement(element.value, offset);
    out.push(child);
    offset += child.raw.length;
  }
  return out;
}

export function expectTag(element: DerElement | undefined, tag: number, what: string): DerElement {
  if (!element || element.tag !== tag) {
    throw new DerError(`expected ${what} (tag 0x${tag.toString(16)})`);
  }
  return element;
}

/** Far longer than any real arc (a UUID under 2.25 takes 19 bytes); keeps hostile input from making huge numbers. */
const MAX_SUBIDENTIFIER_BYTES = 32;

/**
 * X.690 8.19: base-128 subidentifiers, high bit set on all but the last byte of each. The first
 * subidentifier packs the first two arcs as X*40+Y and can itself take several bytes (2.999 is
 * 1079, encoded 0x88 0x37), so the arcs are split only once it is complete. BigInt, because arcs
 * such as the UUIDs under 2.25 are 128 bits long.
 */
export function decodeOid(value: Uint8Array): string {
  if (value.length === 0) throw new DerError('empty OID');
  const subidentifiers: bigint[] = [];
  let current = 0n;
  let length = 0;
  for (const byte of value) {
    // A leading 0x80 would be a zero pad: DER allows one encoding only, and so does OpenSSL.
    if (length === 0 && byte === 0x80) throw new DerError('OID subidentifier padded with a leading zero byte');
    if (++length > MAX_SUBIDENTIFIER_BYTES) throw new DerError(`OID arc longer than ${MAX_SUBIDENTIFIER_BYTES} bytes`);
    current = (current << 7n) | BigInt(byte & 0x7f);
    if (byte & 0x80) continue;
    subidentifiers.push(current);
    current = 0n;
    length = 0;
  }
  if (length > 0) throw new DerError('OID ends inside a subidentifier');
  const [packed, ...rest] = subidentifiers as [bigint, ...bigint[]];
  const first = packed < 40n ? 0n : packed < 80n ? 1n : 2n;
  return [first, packed - first * 40n, ...rest].join('.');
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The text of a UTF8String; bytes that are not UTF-8 make it no UTF8String at all, as for OpenSSL. */
export function decodeUtf8String(value: Uint8Array): string {
  try {
    return utf8.decode(value);
  } catch {
    throw new DerError('UTF8String that is not valid UTF-8');
  }
}

/**
 * Checks that every constructed element inside `element` nests properly, walking with a stack
 * rather than recursion so hostile input cannot exhaust ours; throws a DerError saying what is wrong.
 */
export function checkNesting(element: DerElement, maxDepth = 32): void {
  const stack: { element: DerElement; depth: number }[] = [{ element, depth: 1 }];
  for (let next = stack.pop(); next; next = stack.pop()) {
    if ((next.element.tag & 0x20) === 0) continue;
    if (next.depth > maxDepth) throw new DerError(`DER elements nested deeper than ${maxDepth} levels`);
    for (const child of children(next.element)) stack.push({ element: child, depth: next.depth + 1 });
  }
}
