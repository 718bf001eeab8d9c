import type { InventoryItem } from '../inventory/types.ts';

// How a key declared in infrastructure code and a key collected live are recognised as the same
// key. A strong identity is the provider's own id, known once the key exists (an ARN, a Cloud KMS
// resource name, a Vault mount and key name), so a declaration from a state or a plan that updates
// a key has one. A weak identity is a name a person chose (an AWS alias, a key name), all that a
// configuration file or a plan creating the key knows. Matching itself is decided in Rego
// (policies/keydrift/drift); this only spells the identities the same way for both sides.

export interface DriftIdentity {
  strong: string[];
  weak: string[];
  /** Where a strongly identified key lives (provider and location), so a missing key is only reported for places a live source read. */
  scope: string | null;
}

const NONE: DriftIdentity = { strong: [], weak: [], scope: null };

const text = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null);

/** The strong id of a live item, from its uid; null when its provider has none keydrift can compare. */
function liveNativeId(item: InventoryItem): string | null {
  switch (item.provider) {
    case 'aws-kms':
    case 'aws-acm':
      return item.uid.startsWith('arn:') ? item.uid : null;
    case 'gcp-kms':
      return item.uid.startsWith('projects/') ? item.uid : null;
    case 'vault-transit':
    case 'vault-pki': {
      // <address>/v1/<namespace/>mount/keys/name: the address is the one part code never states.
      const at = item.uid.indexOf('/v1/');
      return at === -1 ? null : item.uid.slice(at + '/v1/'.length);
    }
    default:
      return null;
  }
}

function weakNames(item: InventoryItem, native: string | null): string[] {
  const names: string[] = [];
  if (item.provider === 'aws-kms') {
    const aliases = item.evidence['aliases'];
    if (Array.isArray(aliases)) for (const alias of aliases) if (text(alias)) names.push(`alias:${alias as string}`);
  } else if (item.provider === 'gcp-kms' && native) {
    // A key ring and key name are what a configuration names before the project id is known.
    const parts = native.split('/');
    if (parts.length >= 8) names.push(`name:${parts[5]}/${parts[7]}`);
  } else if ((item.provider === 'vault-transit' || item.provider === 'vault-pki') && native) {
    // Without the namespace: a declaration outside a namespace block does not state it.
    names.push(`path:${native.split('/').slice(-3).join('/')}`);
  }
  return names;
}

export function driftIdentity(item: InventoryItem): DriftIdentity {
  if (item.kind !== 'key') return NONE;
  const native = item.declared ? text(item.evidence['nativeId']) : liveNativeId(item);
  const strong = native ? [`${item.provider}|id|${native}`] : [];
  const weak = weakNames(item, native).map((name) => `${item.provider}|${name}`);
  if (strong.length === 0 && weak.length === 0) return NONE;
  return { strong, weak, scope: native ? `${item.provider}|${item.location}` : null };
}

/**
 * The settings compared between a declaration and its live key (KD-DRF-003), as inventory field
 * paths: those both sides know and a person sets on purpose. Tags are compared per declared tag.
 */
export const DRIFT_SETTINGS = [
  'state',
  'algorithm',
  'keySize',
  'purpose',
  'protection',
  'rotation.automatic',
  'rotation.periodDays',
  'attributes.exportable',
  'attributes.plaintextBackup',
  'tags',
] as const;

export function driftSettings(item: InventoryItem): Record<string, unknown> {
  const settings: Record<string, unknown> = {};
  for (const path of DRIFT_SETTINGS) {
    let value: unknown = item;
    for (const step of path.split('.')) value = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[step] : undefined;
    if (value !== undefined && value !== null) settings[path] = value;
  }
  return settings;
}
