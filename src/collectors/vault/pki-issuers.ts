import { certificateItem, type ParsedCertificate } from '../../certificates/certificate.ts';
import { unknownAlgorithm, type CanonicalKey } from '../../inventory/algorithms.ts';
import type { InventoryItem } from '../../inventory/types.ts';
import { baseItem } from '../../inventory/types.ts';
import { rfc3339FromSeconds } from '../../util/rfc3339.ts';
import { vaultUid, type VaultLocation } from './map.ts';

// Pure mapping of a PKI mount's issuers (`<pki>/issuer/:ref`) and issuer keys (`<pki>/key/:ref`),
// as Vault 1.11+ answers them. Neither read ever returns private key material.

/** `GET <pki>/issuer/:ref` (Vault 1.14): the fields keydrift reads. */
export interface PkiIssuerData {
  issuer_id?: string;
  issuer_name?: string;
  key_id?: string;
  certificate?: string;
  usage?: string;
  leaf_not_after_behavior?: string;
  revoked?: boolean;
  revocation_time?: number;
}

/** `GET <pki>/key/:ref` (Vault 1.14): id, name, type and subject key id; no size and no public key. */
export interface PkiKeyData {
  key_id?: string;
  key_name?: string;
  key_type?: string;
  subject_key_id?: string;
  managed_key_id?: string;
  managed_key_name?: string;
}

/** An issuer's certificate item: the CA certificate the mount signs (or completes its chain) with. */
export function pkiIssuerItem(location: VaultLocation, id: string, data: PkiIssuerData, parsed: ParsedCertificate): InventoryItem {
  const revoked = data.revoked === true;
  const item = certificateItem(parsed, {
    uid: vaultUid(location, `issuer/${id}`),
    provider: 'vault-pki',
    sourceId: location.sourceId,
    location: location.mount,
    evidence: {
      mount: location.mount,
      issuerId: id,
      issuerName: data.issuer_name || null,
      // Empty for an issuer imported without its key: it only completes chains.
      keyId: data.key_id || null,
      usage: (data.usage ?? '').split(',').filter((usage) => usage !== ''),
      leafNotAfterBehavior: data.leaf_not_after_behavior ?? null,
      serial: parsed.certificate.serialNumber,
      revoked,
    },
  });
  return {
    ...item,
    name: data.issuer_name || item.name,
    ...(revoked ? { state: 'disabled' as const, stateSince: (data.revocation_time ?? 0) > 0 ? rfc3339FromSeconds(data.revocation_time!) : null } : {}),
  };
}

/**
 * An issuer key. Vault's key read names the type but not the size, so the size comes from the
 * certificate of an issuer that uses the key (same public key); a key no issuer uses keeps an
 * `UNKNOWN:<type>` algorithm (KD-ALG-001 low says its strength could not be checked), except
 * Ed25519, whose type fixes it.
 */
export function pkiKeyItem(location: VaultLocation, id: string, data: PkiKeyData, fromIssuers: { key: CanonicalKey; issuerIds: string[] } | null): InventoryItem {
  const key = fromIssuers?.key ?? keyFromType(data.key_type);
  const managed = Boolean(data.managed_key_id || data.managed_key_name);
  return baseItem({
    uid: vaultUid(location, `key/${id}`),
    kind: 'key',
    provider: 'vault-pki',
    sourceId: location.sourceId,
    name: data.key_name || id,
    location: location.mount,
    managedBy: 'customer',
    state: 'enabled',
    algorithm: key.algorithm,
    keyType: key.keyType,
    keySize: key.keySize,
    curve: key.curve,
    purpose: 'sign',
    // Internal keys live in Vault's barrier-encrypted storage; managed keys in an HSM or KMS.
    protection: managed ? 'hsm' : 'software',
    // Vault records neither whether a key was imported nor when it was made.
    origin: managed ? 'external' : null,
    // Vault cannot replace a PKI key's material in place: a new key is a new key (and a new issuer).
    rotation: { supported: false, automatic: false, periodDays: null, lastRotatedAt: null, nextRotationAt: null },
    evidence: {
      mount: location.mount,
      keyId: id,
      keyName: data.key_name || null,
      rawAlgorithm: data.key_type ?? null,
      subjectKeyId: data.subject_key_id ?? null,
      ...(managed ? { managedKeyName: data.managed_key_name ?? null } : {}),
      // The issuers whose certificates carry this key's public half (where its size was read).
      issuerIds: fromIssuers?.issuerIds ?? [],
      ...(location.namespace ? { namespace: location.namespace } : {}),
    },
  });
}

function keyFromType(type: string | undefined): CanonicalKey {
  if (type === 'ed25519') return { algorithm: 'Ed25519', keyType: 'ec', keySize: 256, curve: 'Ed25519' };
  const unknown = unknownAlgorithm(type || 'none');
  return type === 'rsa' || type === 'ec' ? { ...unknown, keyType: type } : unknown;
}
