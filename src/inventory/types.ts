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

/** A cryptographic operation a key object permits (PKCS#11 CKA_SIGN, CKA_DECRYPT, ...). */
export type KeyUsage = 'encrypt' | 'decrypt' | 'sign' | 'verify' | 'wrap' | 'unwrap' | 'derive';

export interface KeyAttributes {
  extractable: boolean | null;
  sensitive: boolean | null;
  exportable: boolean | null;
  plaintextBackup: boolean | null;
  /** The operations the key permits, as the backend records them; absent or null when unknown. */
  usages?: KeyUsage[] | null;
  /** True when the key type alone fixes `usages` and the backend has no per-key switch (Vault transit RSA). */
  usagesFromKeyType?: boolean;
  /**
   * Whether the key may still apply protection (encrypt, wrap, sign or MAC, derive); false when the
   * backend says it may only process protected data (decrypt, unwrap, verify: "legacy use" in NIST
   * SP 800-131A). Absent or null when unknown.
   */
  appliesProtection?: boolean | null;
  /** PKCS#11 CKA_WRAP_WITH_TRUSTED: the key can only be wrapped under a key the security officer marked trusted. */
  wrapWithTrusted?: boolean | null;
}

/** A principal outside the key's own account that may use it (a key policy statement or a grant). */
export interface ExternalUse {
  principal: string;
  /** The principal's account, when its identifier names one. */
  account: string | null;
  /** The provider's action or operation names it is allowed. */
  actions: string[];
  /** True when those actions recover protected plaintext: decrypt, re-encrypt from, derive a shared secret. */
  decrypt: boolean;
  /** Where the permission is: "key policy statement <Sid>" or "grant <GrantId>". */
  source: string;
}

export interface Access {
  public: boolean | null;
  adminAndUse: string[];
  /** Use by other accounts; absent or null when not collected (a provider without accounts, or a denied call). */
  externalUse?: ExternalUse[] | null;
}

/** Where copies of the same key material live (AWS multi-Region keys). */
export interface Replication {
  multiRegion: boolean;
  /** primary or replica of a multi-Region key; null for a single-Region key. */
  role: 'primary' | 'replica' | null;
  /** Every region holding this key material (this key's own included), sorted. */
  regions: string[];
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
  // Optional, for inventories written before they existed: an absent field is unknown and no
  // rule judges by it; null means the certificate does not carry that extension.
  /** X.509 version: 1, 2 or 3. */
  version?: number;
  /** The subject's commonName, or null when it has none. */
  commonName?: string | null;
  /** SHA-256 (lower-case hex) of the DER SubjectPublicKeyInfo: the same for every certificate of one key pair. */
  publicKeySha256?: string;
  /** subjectKeyIdentifier (lower-case hex); null when absent. */
  subjectKeyId?: string | null;
  /** authorityKeyIdentifier keyIdentifier (lower-case hex); null when absent. */
  authorityKeyId?: string | null;
  /** cRLDistributionPoints URIs; [] when none. */
  crlDistributionPoints?: string[];
  /** authorityInformationAccess OCSP responder URIs; [] when none. */
  ocspUrls?: string[];
  /** authorityInformationAccess caIssuers URIs; [] when none. */
  caIssuersUrls?: string[];
  /** True when the noRevAvail extension (RFC 9608) is present. */
  noRevocationAvailable?: boolean;
  /** extKeyUsage OIDs; null when the extension is absent (any purpose). */
  extendedKeyUsage?: string[] | null;
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
  /** Copies of the key material in other regions; absent or null when unknown or not applicable. */
  replication?: Replication | null;
  /** True for an item read from infrastructure code (Terraform, CloudFormation, Kubernetes manifests): it will exist once applied. */
  declared?: true;
  /** The declared resource's address (`aws_kms_key.payments`, `Resources.PaymentsKey`, `Certificate/default/web-tls`). */
  address?: string;
  /** Where the resource is declared: repo-relative file, the block's line and column, and the line of each judged attribute by inventory field path. */
  declaredIn?: DeclaredIn;
}

/** A position in a declaring file, 1-based. */
export interface DeclaredPosition {
  line: number;
  column: number;
}

export interface DeclaredIn extends DeclaredPosition {
  /** Repo-relative, forward slashes. */
  file: string;
  /** Inventory field path ("rotation.automatic", "rotation.periodDays", "algorithm", "keySize", "deletion", "certificate.notAfter") -> the attribute that sets it. */
  attributes: Record<string, DeclaredPosition>;
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
