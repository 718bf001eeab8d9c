import { createHash, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';

// One place that turns PEM text into the Ed25519 keys keydrift signs with: the remediation audit
// log's head and the evidence bundle's manifest. Messages never quote the PEM: a private key is the secret.

export class Ed25519KeyError extends Error {}

export function privateKeyFrom(pem: string | KeyObject): KeyObject {
  let key: KeyObject;
  try {
    key = typeof pem === 'string' ? createPrivateKey(pem) : pem;
  } catch {
    throw new Ed25519KeyError('not a private key in PEM (an unencrypted Ed25519 PKCS#8 key is expected)');
  }
  if (key.type !== 'private' || key.asymmetricKeyType !== 'ed25519') {
    throw new Ed25519KeyError(`an Ed25519 private key is expected, not ${key.asymmetricKeyType ?? key.type}`);
  }
  return key;
}

export function publicKeyFrom(pem: string | KeyObject): KeyObject {
  let key: KeyObject;
  try {
    key = typeof pem === 'string' ? createPublicKey(pem) : pem.type === 'private' ? createPublicKey(pem) : pem;
  } catch {
    throw new Ed25519KeyError('not a public key in PEM (an Ed25519 SPKI key is expected)');
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new Ed25519KeyError(`an Ed25519 public key is expected, not ${key.asymmetricKeyType ?? key.type}`);
  return key;
}

/** `sha256:` and the hex SHA-256 of the public key's SPKI DER, to tell keys apart. */
export function publicKeyFingerprint(key: KeyObject): string {
  return 'sha256:' + createHash('sha256').update(key.export({ type: 'spki', format: 'der' })).digest('hex');
}
