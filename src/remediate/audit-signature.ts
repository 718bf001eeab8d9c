import { createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { canonicalJson } from '../findings/fingerprint.ts';
import { Ed25519KeyError, privateKeyFrom, publicKeyFingerprint, publicKeyFrom } from '../util/ed25519-keys.ts';

// Key parsing is shared with the evidence bundle's manifest signature; re-exported under the names
// the audit log's callers use.
export { Ed25519KeyError as AuditKeyError, privateKeyFrom, publicKeyFingerprint, publicKeyFrom };

// A hash chain shows an edit, a removal or an insertion, but whoever can write the log can also
// recompute every hash after a change. An Ed25519 signature over the chain head, made with a key
// the writer of the log does not hold at verification time, closes that gap, and truncation too.

/** The chain head a signature covers. */
export interface ChainHead {
  seq: number;
  hash: string;
}

/** The `<log>.sig` file. */
export interface HeadSignature extends ChainHead {
  /** Base64 Ed25519 signature over `signedMessage(head)`. */
  signature: string;
  /** `sha256:` and the hex SHA-256 of the public key's SPKI DER, to tell keys apart. */
  publicKeyFingerprint: string;
}

/** A domain prefix, so a signature made for something else can never pass as a log head's. */
function signedMessage(head: ChainHead): Buffer {
  return Buffer.from(`keydrift-audit-head\n${canonicalJson({ seq: head.seq, hash: head.hash })}`);
}

export function signChainHead(head: ChainHead, privateKey: KeyObject): HeadSignature {
  return {
    seq: head.seq,
    hash: head.hash,
    signature: sign(null, signedMessage(head), privateKey).toString('base64'),
    publicKeyFingerprint: publicKeyFingerprint(createPublicKey(privateKey)),
  };
}

const HEX64 = /^[0-9a-f]{64}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** The signature file's content, or the reason it is not one. */
export function parseHeadSignature(text: string): HeadSignature | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return 'not JSON';
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return 'not a JSON object';
  const value = parsed as Record<string, unknown>;
  if (!Number.isSafeInteger(value['seq']) || (value['seq'] as number) < 1) return 'seq: not a positive integer';
  if (typeof value['hash'] !== 'string' || !HEX64.test(value['hash'])) return 'hash: not a SHA-256 hex digest';
  if (typeof value['signature'] !== 'string' || !BASE64.test(value['signature'])) return 'signature: not base64';
  if (typeof value['publicKeyFingerprint'] !== 'string') return 'publicKeyFingerprint: missing';
  return value as unknown as HeadSignature;
}

/** Whether `signature` is a valid signature of its own head by `publicKey`; null when it is, else why not. */
export function signatureProblem(signature: HeadSignature, publicKey: KeyObject): string | null {
  const expected = publicKeyFingerprint(publicKey);
  if (signature.publicKeyFingerprint !== expected) {
    return `signed by another key (${signature.publicKeyFingerprint.slice(0, 80)}), not the given public key (${expected})`;
  }
  const valid = verify(null, signedMessage(signature), publicKey, Buffer.from(signature.signature, 'base64'));
  return valid ? null : 'signature invalid: the signature file was edited or not made by this key';
}
