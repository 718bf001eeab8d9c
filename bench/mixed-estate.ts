// A synthetic estate of N mixed items (AWS/GCP/Vault/PKCS#11 keys, ACM/PKI/file/TLS certificates)
// that exercises every built-in rule. Deterministic: item i is always the same.
import { baseItem, type InventoryItem, type KeyVersion } from '../src/inventory/types.ts';
import { rfc3339 as iso } from '../src/util/rfc3339.ts';

const NOW = Date.parse('2026-11-01T00:00:00Z');
const DAY = 86_400_000;
const ago = (days: number) => iso(NOW - days * DAY);

export function mixedItem(i: number): InventoryItem {
  const kind = i % 10;
  const hex = i.toString(16).padStart(12, '0');
  if (kind < 6) return key(i, hex);
  return certificate(i, hex);
}

function key(i: number, hex: string): InventoryItem {
  const provider = (['aws-kms', 'gcp-kms', 'vault-transit', 'pkcs11'] as const)[i % 4]!;
  const rsa = i % 7 === 0;
  const age = (i * 13) % 900;
  const versions: KeyVersion[] | null =
    provider === 'gcp-kms' || provider === 'vault-transit'
      ? [
          { id: '1', state: 'enabled', createdAt: ago(age + 200), primary: false, decryptable: i % 3 === 0 },
          { id: '2', state: 'enabled', createdAt: ago(age), primary: true, decryptable: true },
        ]
      : null;
  return baseItem({
    uid: provider === 'aws-kms' ? `arn:aws:kms:us-east-1:111122223333:key/${hex}` : `${provider}/${hex}`,
    kind: 'key',
    provider,
    sourceId: 'bench',
    name: `key-${i}`,
    location: 'us-east-1',
    state: i % 23 === 0 ? 'disabled' : i % 29 === 0 ? 'pending-deletion' : 'enabled',
    stateSince: i % 23 === 0 ? ago(120) : null,
    algorithm: rsa ? (i % 11 === 0 ? 'RSA-1024' : 'RSA-2048') : i % 31 === 0 ? '3DES' : i % 37 === 0 ? 'UNKNOWN:FOO' : 'AES-256',
    keyType: rsa ? 'rsa' : 'symmetric',
    keySize: rsa ? (i % 11 === 0 ? 1024 : 2048) : i % 31 === 0 ? 168 : 256,
    purpose: rsa ? 'sign' : 'encrypt',
    protection: i % 5 === 0 ? 'software' : 'hsm',
    origin: i % 17 === 0 ? 'imported' : 'generated',
    createdAt: ago(age + 400),
    expiresAt: i % 17 === 0 ? iso(NOW + ((i % 40) - 5) * DAY) : null,
    rotation: rsa
      ? { supported: false, automatic: false, periodDays: null, lastRotatedAt: null, nextRotationAt: null }
      : {
          supported: true,
          automatic: i % 4 !== 1,
          periodDays: i % 8 === 0 ? 730 : 365,
          lastRotatedAt: ago(age),
          nextRotationAt: iso(NOW + (365 - age) * DAY),
        },
    versions,
    deletion: i % 29 === 0 ? { scheduledFor: iso(NOW + 7 * DAY) } : null,
    attributes: { extractable: i % 19 === 0, sensitive: true, exportable: provider === 'vault-transit' ? i % 6 === 0 : null, plaintextBackup: null },
    access: { public: i % 97 === 0, adminAndUse: i % 13 === 0 ? ['arn:aws:iam::111122223333:role/admin'] : [] },
    tags: i % 29 === 0 && i % 2 === 0 ? { 'legal-hold': 'case-1' } : { owner: 'team' },
    tier: i % 9 === 0 ? 'kek' : null,
  });
}

function certificate(i: number, hex: string): InventoryItem {
  const provider = (['aws-acm', 'vault-pki', 'x509-file', 'tls-endpoint'] as const)[i % 4]!;
  const notBefore = NOW - ((i * 37) % 700) * DAY;
  const notAfter = notBefore + (30 + ((i * 53) % 900)) * DAY;
  const rsa = i % 3 === 0;
  const fingerprint = i.toString(16).padStart(64, '0');
  return baseItem({
    uid: `${provider}/${hex}#sha256:${fingerprint}`,
    kind: 'certificate',
    provider,
    sourceId: 'bench',
    name: `host-${i}.example.com`,
    location: `certs/${hex}.pem`,
    algorithm: rsa ? (i % 11 === 0 ? 'RSA-1024' : 'RSA-2048') : 'EC-P256',
    keyType: rsa ? 'rsa' : 'ec',
    keySize: rsa ? (i % 11 === 0 ? 1024 : 2048) : 256,
    curve: rsa ? null : 'P-256',
    purpose: 'tls',
    createdAt: iso(notBefore),
    expiresAt: iso(notAfter),
    certificate: {
      subject: `CN=host-${i}.example.com`,
      issuer: 'CN=Bench CA',
      serialNumber: hex,
      notBefore: iso(notBefore),
      notAfter: iso(notAfter),
      signatureAlgorithm: i % 17 === 0 ? 'RSA-SHA1' : rsa ? 'RSA-SHA256' : 'ECDSA-SHA256',
      fingerprintSha256: fingerprint,
      selfSigned: false,
      isCA: i % 50 === 0,
      sans: [`DNS:host-${i}.example.com`],
    },
  });
}
