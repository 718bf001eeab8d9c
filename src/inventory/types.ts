// The normalized inventory item (CONTRACT section 3). One shape for every provider, so the
// policies never learn a provider's vocabulary. `null` always means "unknown", never "false".

import type { Provider } from '../model/sources.generated.ts';

export type ItemKind = 'key' | 'certificate';
/** Every provider a collector declares (generated: inventory sits below collectors). */
export type { Provider };
export type ManagedBy = 'customer' | 'provider';
export type ItemState = 'enabled' | 'disabled' | 'pending-deletion' | 'destroyed' | 'unavailable';
export type KeyType = 'symmetric' | 'rsa' | 'ec' | 'hmac' | 'pqc' | 'other';
export type Purpose = 'encrypt' | 'sign' | 'mac' | 'wrap' | 'agree' | 'tls' | 'unknown';
export type Protection = 'software' | 'hsm' | 'external' | 'unknown';
export type Origin = 'generated' | 'imported' | 'external';

export interface Rotation {
  supported: boolean | null;
  automatic: boolean | null;
  periodDays: number | null;
  lastRotatedAt: string | null;
  nextRotationAt: string | null;
}

export interface KeyVersion {
  id: string;
  state: ItemState;
  createdAt: string | null;
  primary: boolean;
  decryptable: boolean | null;
  /** When a newer version replaced this one; null for the primary or when unknown. */
  supersededAt?: string | null;
}

export interface KeyAttributes {
  extractable: boolean | null;
  sensitive: boolean | null;
  exportable: boolean | null;
  plaintextBackup: boolean | null;
}

export interface Access {
  public: boolean | null;
  adminAndUse: string[];
}

export interface CertificateInfo {
  subject: string;
  issuer: string;
  serialNumber: string;
  notBefore: string;
  notAfter: string;
  signatureAlgorithm: string;
  fingerprintSha256: string;
  selfSigned: boolean;
  isCA: boolean;
  sans: string[];
}

export interface InventoryItem {
  uid: string;
  kind: ItemKind;
  provider: Provider;
  sourceId: string;
  name: string;
  location: string;
  managedBy: ManagedBy;
  state: ItemState;
  stateSince: string | null;
  algorithm: string;
  keyType: KeyType | null;
  keySize: number | null;
  curve: string | null;
  purpose: Purpose;
  protection: Protection;
  origin: Origin | null;
  createdAt: string | null;
  expiresAt: string | null;
  rotation: Rotation | null;
  versions: KeyVersion[] | null;
  deletion: { scheduledFor: string | null } | null;
  attributes: KeyAttributes | null;
  access: Access | null;
  certificate: CertificateInfo | null;
  tags: Record<string, string>;
  tier: string | null;
  evidence: Record<string, unknown>;
}

/** A blank item with every optional field unknown; collectors fill in what they know. */
export function baseItem(
  fields: Pick<InventoryItem, 'uid' | 'kind' | 'provider' | 'sourceId' | 'name' | 'location' | 'algorithm'> &
    Partial<InventoryItem>,
): InventoryItem {
  return {
    managedBy: 'customer',
    state: 'enabled',
    stateSince: null,
    keyType: null,
    keySize: null,
    curve: null,
    purpose: 'unknown',
    protection: 'unknown',
    origin: null,
    createdAt: null,
    expiresAt: null,
    rotation: null,
    versions: null,
    deletion: null,
    attributes: null,
    access: null,
    certificate: null,
    tags: {},
    tier: null,
    evidence: {},
    ...fields,
  };
}
