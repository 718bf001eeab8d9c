// What a provider sets when the configuration leaves an argument out, for the arguments the
// mappers read. A plan or state already holds these (the provider filled them in); a .tf file
// does not, and absent must not read as unknown there: a key declared without
// enable_key_rotation is a key with rotation off, exactly what a pull request must show.
// Values from each provider's resource documentation (Argument Reference, "Defaults to").

import type { ResourceInstance } from './show-json.ts';

const DEFAULTS: Readonly<Record<string, Readonly<Record<string, unknown>>>> = {
  aws_kms_key: {
    customer_master_key_spec: 'SYMMETRIC_DEFAULT',
    key_usage: 'ENCRYPT_DECRYPT',
    enable_key_rotation: false,
    is_enabled: true,
    deletion_window_in_days: 30,
    multi_region: false,
  },
  aws_kms_external_key: { deletion_window_in_days: 30, multi_region: false },
  google_kms_crypto_key: { purpose: 'ENCRYPT_DECRYPT', skip_initial_version_creation: false, import_only: false },
  vault_transit_secret_backend_key: { auto_rotate_period: 0, exportable: false, allow_plaintext_backup: false, deletion_allowed: false, derived: false, min_decryption_version: 1 },
};

/**
 * Attributes the provider computes at apply (ids, ARNs, a Cloud KMS key's default version
 * template): unknown in a configuration, as in a plan, so nothing reads them as absent.
 */
const COMPUTED: Readonly<Record<string, readonly string[]>> = {
  aws_kms_key: ['arn', 'key_id', 'id', 'rotation_period_in_days'],
  aws_kms_external_key: ['arn', 'id', 'key_state', 'expiration_model'],
  aws_acm_certificate: ['arn', 'id', 'status', 'not_before', 'not_after'],
  google_kms_crypto_key: ['id', 'version_template', 'destroy_scheduled_duration'],
  azurerm_key_vault_key: ['id', 'versionless_id'],
};

/** The resource with its provider's defaults and computed attributes filled in where the configuration is silent. */
export function withProviderDefaults<T extends ResourceInstance>(resource: T): T {
  const defaults = DEFAULTS[resource.type] ?? {};
  const computed = COMPUTED[resource.type] ?? [];
  if (Object.keys(defaults).length === 0 && computed.length === 0) return resource;
  const values = { ...resource.values };
  const unknown = { ...resource.unknown };
  const silent = (name: string) => values[name] === undefined && unknown[name] === undefined;
  for (const [name, value] of Object.entries(defaults)) if (silent(name)) values[name] = value;
  for (const name of computed) if (silent(name)) unknown[name] = true;
  return { ...resource, values, unknown };
}
