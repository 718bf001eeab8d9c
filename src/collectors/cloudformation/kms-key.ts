import type { KeyMetadata } from '@aws-sdk/client-kms';
import { isMap, isScalar, isSeq, type Node, type YAMLMap } from 'yaml';
import { unknownAlgorithm } from '../../inventory/algorithms.ts';
import type { DeclaredPosition, InventoryItem, Rotation } from '../../inventory/types.ts';
import { kmsItem, rotationSupported } from '../aws/kms/map.ts';
import { ABSENT, UNRESOLVED, type Resolved, type Template } from './template.ts';

// An AWS::KMS::Key resource mapped the way the live aws-kms collector maps DescribeKey and
// GetKeyRotationStatus (kmsItem itself), from the properties the template fixes. A property left
// out takes the service default (KeySpec SYMMETRIC_DEFAULT, EnableKeyRotation false, ...); one the
// template cannot resolve is null: unknown, never false.

export interface KeyResource {
  logicalId: string;
  key: Node;
  body: YAMLMap;
}

export interface TemplateFile {
  /** Path relative to the config's folder: the uid's, stable wherever keydrift runs. */
  uidPath: string;
  /** Path as reports show it (repo-relative in CI): declaredIn.file and SARIF's. */
  shown: string;
  sourceId: string;
}

interface Property {
  value: Resolved;
  at: DeclaredPosition | null;
}

export function kmsKeyItem(template: Template, resource: KeyResource, file: TemplateFile): InventoryItem {
  const propertiesNode = resource.body.get('Properties', true) as Node | undefined;
  const blockAt = template.position(resource.key);
  const property = (name: string): Property => {
    if (propertiesNode === undefined) return { value: ABSENT, at: null };
    if (!isMap(propertiesNode)) return { value: UNRESOLVED, at: template.position(propertiesNode) };
    const pair = propertiesNode.items.find((candidate) => isScalar(candidate.key) && candidate.key.value === name);
    if (!pair) return { value: ABSENT, at: null };
    return { value: template.resolve(pair.value), at: template.position(pair.key as Node) };
  };

  const keySpec = property('KeySpec');
  const keyUsageProperty = property('KeyUsage');
  const originProperty = property('Origin');
  const enabledProperty = property('Enabled');
  const rotationProperty = property('EnableKeyRotation');
  const periodProperty = property('RotationPeriodInDays');
  const pendingProperty = property('PendingWindowInDays');
  const multiRegionProperty = property('MultiRegion');
  const tagsProperty = property('Tags');

  const spec = asString(keySpec.value, 'SYMMETRIC_DEFAULT');
  const usage = asString(keyUsageProperty.value, 'ENCRYPT_DECRYPT');
  const origin = asString(originProperty.value, 'AWS_KMS');
  const enabled = asBoolean(enabledProperty.value, true);
  const multiRegion = asBoolean(multiRegionProperty.value, false);

  const metadata: KeyMetadata = {
    KeyId: undefined,
    KeyManager: 'CUSTOMER',
    KeyState: enabled === false ? 'Disabled' : 'Enabled',
    ...(spec !== null ? { KeySpec: spec as KeyMetadata['KeySpec'] } : {}),
    ...(usage !== null ? { KeyUsage: usage as KeyMetadata['KeyUsage'] } : {}),
    ...(origin !== null ? { Origin: origin as KeyMetadata['Origin'] } : {}),
    ...(multiRegion !== null ? { MultiRegion: multiRegion } : {}),
  };
  const aliases = aliasesOf(template, resource.logicalId);
  const address = `Resources.${resource.logicalId}`;
  const live = kmsItem({ metadata, region: '', sourceId: file.sourceId, aliases, rotationStatus: null, rotations: null, tags: null, access: null });
  const algorithm = spec === null ? unknownAlgorithm('unresolved') : null;
  const rotation = declaredRotation(metadata, spec, usage, origin, rotationProperty, periodProperty);
  const tags = tagsOf(tagsProperty.value);

  const attributes: Record<string, DeclaredPosition> = {};
  const at = (fields: string[], { at: position }: Property): void => {
    if (position) for (const field of fields) attributes[field] = position;
  };
  at(['algorithm', 'keyType', 'keySize', 'curve'], keySpec);
  at(['purpose'], keyUsageProperty);
  at(['origin', 'protection'], originProperty);
  at(['state'], enabledProperty);
  at(['rotation.automatic'], rotationProperty);
  at(['rotation.periodDays'], periodProperty);
  at(['deletion'], pendingProperty);
  at(['replication'], multiRegionProperty);
  at(['tags'], tagsProperty);

  const unresolved = Object.entries({
    KeySpec: keySpec,
    KeyUsage: keyUsageProperty,
    Origin: originProperty,
    Enabled: enabledProperty,
    EnableKeyRotation: rotationProperty,
    RotationPeriodInDays: periodProperty,
    PendingWindowInDays: pendingProperty,
    MultiRegion: multiRegionProperty,
    Tags: tagsProperty,
  })
    .filter(([, { value }]) => value === UNRESOLVED)
    .map(([name]) => name);
  const condition = resource.body.get('Condition');

  return {
    ...live,
    uid: `cloudformation:${file.uidPath}#${address}`,
    name: aliases[0] ?? resource.logicalId,
    location: file.shown,
    ...(algorithm ?? {}),
    purpose: usage === null ? 'unknown' : live.purpose,
    rotation,
    access: null,
    tags: tags ?? {},
    // Regions are chosen at deploy time: which regions hold the material is unknown.
    replication: null,
    evidence: {
      template: file.shown,
      logicalId: resource.logicalId,
      KeySpec: spec,
      KeyUsage: usage,
      Origin: origin,
      Enabled: enabled,
      EnableKeyRotation: asBoolean(rotationProperty.value, false),
      RotationPeriodInDays: plainOrNull(periodProperty.value),
      PendingWindowInDays: asInteger(pendingProperty.value, 30),
      MultiRegion: multiRegion,
      rawAlgorithm: spec,
      aliases,
      ...(typeof condition === 'string' ? { condition, conditionHolds: nullIfUnresolved(template.condition(condition)) } : {}),
      ...(unresolved.length > 0 ? { unresolved } : {}),
      ...(tags === null ? { tagsCollected: false } : {}),
    },
    declared: true,
    address,
    declaredIn: { file: file.shown, line: blockAt.line, column: blockAt.column, attributes },
  };
}

function declaredRotation(
  metadata: KeyMetadata,
  spec: string | null,
  usage: string | null,
  origin: string | null,
  enableProperty: Property,
  periodProperty: Property,
): Rotation {
  if (spec === null || usage === null || origin === null) {
    // Whether rotation applies depends on what the template leaves open.
    const automatic = asBoolean(enableProperty.value, false);
    return { supported: null, automatic, periodDays: automatic === true ? periodOf(periodProperty) : null, lastRotatedAt: null, nextRotationAt: null };
  }
  if (!rotationSupported(metadata)) return { supported: false, automatic: false, periodDays: null, lastRotatedAt: null, nextRotationAt: null };
  const automatic = asBoolean(enableProperty.value, false);
  // KMS reports a rotation period only while rotation is on; with it on and no period set, 365 days.
  return { supported: true, automatic, periodDays: automatic === true ? periodOf(periodProperty) : null, lastRotatedAt: null, nextRotationAt: null };
}

function periodOf(property: Property): number | null {
  return asInteger(property.value, 365);
}

/** The aliases an AWS::KMS::Alias in the same template gives this key (by Ref or GetAtt on it). */
function aliasesOf(template: Template, logicalId: string): string[] {
  const aliases: string[] = [];
  for (const resource of template.resources()) {
    if (resource.body?.get('Type') !== 'AWS::KMS::Alias') continue;
    const properties = resource.body.get('Properties', true);
    if (!isMap(properties)) continue;
    if (referencedResource(properties.get('TargetKeyId', true)) !== logicalId) continue;
    const name = template.resolve(properties.get('AliasName', true));
    if (typeof name === 'string') aliases.push(name);
  }
  return aliases.sort();
}

/** The logical id a `Ref` or `GetAtt` names, in short or long form. */
function referencedResource(node: unknown): string | null {
  if (isScalar(node) && typeof node.value === 'string') {
    if (node.tag === '!Ref') return node.value;
    if (node.tag === '!GetAtt') return node.value.split('.')[0]!;
    return null;
  }
  if (isSeq(node) && node.tag === '!GetAtt') return scalarText(node.items[0]);
  if (isMap(node) && node.items.length === 1) {
    const pair = node.items[0]!;
    const name = isScalar(pair.key) ? pair.key.value : null;
    if (name === 'Ref') return scalarText(pair.value);
    if (name === 'Fn::GetAtt') {
      if (isSeq(pair.value)) return scalarText(pair.value.items[0]);
      return scalarText(pair.value)?.split('.')[0] ?? null;
    }
  }
  return null;
}

function scalarText(node: unknown): string | null {
  return isScalar(node) && typeof node.value === 'string' ? node.value : null;
}

function tagsOf(value: Resolved): Record<string, string> | null {
  if (value === ABSENT) return {};
  if (!Array.isArray(value)) return null;
  const tags: Record<string, string> = {};
  for (const tag of value) {
    if (typeof tag !== 'object' || Array.isArray(tag)) continue;
    const key = tag['Key'];
    const tagValue = tag['Value'];
    // A tag whose key or value is known only once deployed is left out; the rest still count.
    if (typeof key === 'string' && (typeof tagValue === 'string' || typeof tagValue === 'number' || typeof tagValue === 'boolean')) tags[key] = String(tagValue);
  }
  return tags;
}

function asString(value: Resolved, fallback: string): string | null {
  if (value === ABSENT) return fallback;
  return typeof value === 'string' ? value : null;
}

/** CloudFormation accepts "true"/"false" strings (a parameter's value is always a string) as booleans. */
function asBoolean(value: Resolved, fallback: boolean): boolean | null {
  if (value === ABSENT) return fallback;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string' && /^(true|false)$/i.test(value)) return value.toLowerCase() === 'true';
  return null;
}

function asInteger(value: Resolved, fallback: number | null): number | null {
  if (value === ABSENT) return fallback;
  const number = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : NaN;
  return Number.isInteger(number) ? number : null;
}

function plainOrNull(value: Resolved): string | number | boolean | null {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? value : null;
}

function nullIfUnresolved(value: boolean | typeof UNRESOLVED): boolean | null {
  return value === UNRESOLVED ? null : value;
}
