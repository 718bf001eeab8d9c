import { isMap } from 'yaml';
import { ecKey, rsaKey, unknownAlgorithm, type CanonicalKey } from '../../inventory/algorithms.ts';
import { baseItem, type DeclaredPosition, type InventoryItem } from '../../inventory/types.ts';
import { goDurationSeconds } from './go-duration.ts';
import type { Field, Manifest, ManifestObject } from './manifests.ts';

// cert-manager's Certificate (cert-manager.io/v1) mapped to an inventory certificate that does not
// exist yet: no notBefore or notAfter (certificate: null), the validity every certificate it issues
// will have in evidence.durationSeconds (what KD-CRT-003 judges for a declared certificate), and the
// private key it asks for as algorithm, keyType and keySize (KD-CRT-004). Fields left out take
// cert-manager's defaults, listed in evidence.defaults; a value only a later step can know (a Helm
// template not rendered yet) stays null.

export const CERT_MANAGER_GROUP = 'cert-manager.io';

/** cert-manager's defaults (cert-manager.io/v1 API reference: duration 90 days; RSA, 2048 bits for RSA, 256 for ECDSA). */
const DEFAULT_DURATION = '2160h';
const DEFAULT_RSA_BITS = 2048;
const DEFAULT_ECDSA_BITS = 256;
// The default changed with the version, which manifests do not say: the effective policy is unknown.
const DEFAULT_ROTATION_POLICY = 'Always from cert-manager v1.18.0; Never in v1.8 to v1.17';

const ISSUER_TYPES = ['acme', 'ca', 'vault', 'selfSigned', 'venafi'] as const;

export interface ManifestFile {
  /** Path relative to the config's folder: the uid's, stable wherever keydrift runs. */
  uidPath: string;
  /** Path as reports show it (repo-relative in CI): declaredIn.file and SARIF's. */
  shown: string;
  sourceId: string;
}

export interface IssuerInfo {
  kind: string;
  name: string;
  namespace: string | null;
  /** acme, ca, vault, selfSigned or venafi; null for an issuer of another kind (an external issuer's own type). */
  type: string | null;
  /**
   * Whether the issued certificate's validity is what spec.duration asks for. An ACME server picks
   * the validity itself unless the issuer sets enableDurationFeature (and the server honours it).
   */
  honoursDuration: boolean;
  acmeServer: string | null;
  declaredIn: string;
}

/** A problem with one value of one resource; the resource is still judged on the rest. */
export type InvalidValue = (at: DeclaredPosition, message: string) => void;

export function isCertManager(object: ManifestObject): boolean {
  return object.apiVersion.startsWith(`${CERT_MANAGER_GROUP}/`);
}

function metadata(manifest: Manifest, object: ManifestObject): { name: string | null; namespace: string | null } {
  const name = manifest.field(object.body, ['metadata', 'name']).value;
  const namespace = manifest.field(object.body, ['metadata', 'namespace']).value;
  return { name: typeof name === 'string' && name !== '' ? name : null, namespace: typeof namespace === 'string' && namespace !== '' ? namespace : null };
}

/** `Certificate/<namespace>/<name>`, or `Certificate/<name>` when the namespace is chosen at apply time (kubectl -n, helm --namespace). */
export function addressOf(kind: string, namespace: string | null, name: string): string {
  return namespace === null ? `${kind}/${name}` : `${kind}/${namespace}/${name}`;
}

export function issuerKey(kind: string, namespace: string | null, name: string): string {
  return kind === 'ClusterIssuer' ? `ClusterIssuer/${name}` : `${kind}/${namespace ?? ''}/${name}`;
}

export function issuerInfo(manifest: Manifest, object: ManifestObject, file: ManifestFile): IssuerInfo | null {
  const { name, namespace } = metadata(manifest, object);
  if (name === null) return null;
  const spec = object.body.get('spec', true);
  const specMap = isMap(spec) ? spec : null;
  const type = specMap ? (ISSUER_TYPES.find((candidate) => specMap.has(candidate)) ?? null) : null;
  const acmeServer = specMap ? manifest.field(specMap, ['acme', 'server']).value : null;
  const durationFeature = specMap ? manifest.field(specMap, ['acme', 'enableDurationFeature']).value : null;
  return {
    kind: object.kind,
    name,
    namespace: object.kind === 'ClusterIssuer' ? null : namespace,
    type,
    honoursDuration: type !== 'acme' || durationFeature === true,
    acmeServer: typeof acmeServer === 'string' ? acmeServer : null,
    declaredIn: `${file.shown}:${object.at.line}`,
  };
}

function text(field: Field): string | null {
  return typeof field.value === 'string' ? field.value : null;
}

/** A Helm or kustomize placeholder left in the output: known only once rendered. */
function templated(value: unknown): boolean {
  return typeof value === 'string' && /\{\{|\$\{/.test(value);
}

function stringList(field: Field): string[] {
  return Array.isArray(field.value) ? field.value.filter((entry): entry is string => typeof entry === 'string') : [];
}

interface DeclaredKey {
  key: CanonicalKey;
  algorithm: string | null;
  size: number | null;
}

function privateKeyOf(algorithmField: Field, sizeField: Field, label: string, invalid: InvalidValue, defaults: Record<string, unknown>): DeclaredKey {
  const rawAlgorithm = algorithmField.value;
  const rawSize = sizeField.value;
  if (templated(rawAlgorithm) || templated(rawSize)) return { key: unknownAlgorithm('unresolved'), algorithm: null, size: null };
  let size: number | null = null;
  if (rawSize !== undefined && rawSize !== null) {
    const number = typeof rawSize === 'number' ? rawSize : typeof rawSize === 'string' && /^\d+$/.test(rawSize.trim()) ? Number(rawSize) : NaN;
    if (Number.isInteger(number)) size = number;
    else {
      invalid(sizeField.at!, `${label} spec.privateKey.size ${JSON.stringify(rawSize)} is not a whole number of bits`);
      return { key: unknownAlgorithm('invalid-size'), algorithm: null, size: null };
    }
  }
  let algorithm: string;
  if (rawAlgorithm === undefined || rawAlgorithm === null) {
    algorithm = 'RSA';
    defaults['spec.privateKey.algorithm'] = 'RSA';
  } else if (typeof rawAlgorithm === 'string') {
    algorithm = rawAlgorithm;
  } else {
    invalid(algorithmField.at!, `${label} spec.privateKey.algorithm ${JSON.stringify(rawAlgorithm)} is not RSA, ECDSA or Ed25519`);
    return { key: unknownAlgorithm('invalid'), algorithm: null, size };
  }
  switch (algorithm.toUpperCase()) {
    case 'RSA':
      if (size === null || size === 0) defaults['spec.privateKey.size'] = DEFAULT_RSA_BITS;
      return { key: rsaKey(size || DEFAULT_RSA_BITS), algorithm, size };
    case 'ECDSA':
      if (size === null || size === 0) defaults['spec.privateKey.size'] = DEFAULT_ECDSA_BITS;
      return { key: ecKey(`P-${size || DEFAULT_ECDSA_BITS}`), algorithm, size };
    case 'ED25519':
      // The size is ignored for Ed25519.
      return { key: { algorithm: 'Ed25519', keyType: 'ec', keySize: 256, curve: 'Ed25519' }, algorithm, size };
    default:
      invalid(algorithmField.at!, `${label} spec.privateKey.algorithm "${algorithm}" is not RSA, ECDSA or Ed25519`);
      return { key: unknownAlgorithm(algorithm), algorithm, size };
  }
}

interface DeclaredDuration {
  raw: string | null;
  seconds: number | null;
}

function durationOf(field: Field, name: string, label: string, invalid: InvalidValue): DeclaredDuration {
  const raw = field.value;
  if (raw === undefined || raw === null) return { raw: null, seconds: null };
  if (templated(raw)) return { raw: String(raw), seconds: null };
  const seconds = typeof raw === 'string' ? goDurationSeconds(raw) : null;
  if (seconds === null || seconds < 0) {
    invalid(field.at!, `${label} spec.${name} ${JSON.stringify(raw)} is not a Go duration such as 2160h or 1h30m (there is no day unit)`);
    return { raw: typeof raw === 'string' ? raw : JSON.stringify(raw), seconds: null };
  }
  return { raw: raw as string, seconds };
}

export function certificateItem(
  manifest: Manifest,
  object: ManifestObject,
  file: ManifestFile,
  issuers: ReadonlyMap<string, IssuerInfo>,
  invalid: InvalidValue,
): InventoryItem | null {
  const { name, namespace } = metadata(manifest, object);
  if (name === null) return null;
  const address = addressOf(object.kind, namespace, name);
  const label = `${object.kind} ${namespace === null ? name : `${namespace}/${name}`}`;
  const spec = (path: string[]): Field => manifest.field(object.body, ['spec', ...path]);
  const defaults: Record<string, unknown> = {};

  const durationField = spec(['duration']);
  const renewBeforeField = spec(['renewBefore']);
  const algorithmField = spec(['privateKey', 'algorithm']);
  const sizeField = spec(['privateKey', 'size']);
  const rotationField = spec(['privateKey', 'rotationPolicy']);
  const isCAField = spec(['isCA']);
  const commonNameField = spec(['commonName']);
  const dnsNamesField = spec(['dnsNames']);

  const duration = durationOf(durationField, 'duration', label, invalid);
  const renewBefore = durationOf(renewBeforeField, 'renewBefore', label, invalid);
  if (duration.raw === null) defaults['spec.duration'] = DEFAULT_DURATION;
  const requestedSeconds = duration.raw === null ? goDurationSeconds(DEFAULT_DURATION) : duration.seconds;
  const key = privateKeyOf(algorithmField, sizeField, label, invalid, defaults);
  const rotationPolicy = text(rotationField);
  if (rotationField.value === undefined || rotationField.value === null) defaults['spec.privateKey.rotationPolicy'] = DEFAULT_ROTATION_POLICY;

  const issuerRef = {
    name: text(spec(['issuerRef', 'name'])),
    kind: text(spec(['issuerRef', 'kind'])) ?? 'Issuer',
    group: text(spec(['issuerRef', 'group'])) ?? CERT_MANAGER_GROUP,
  };
  const issuer = issuerRef.name !== null && issuerRef.group === CERT_MANAGER_GROUP ? (issuers.get(issuerKey(issuerRef.kind, namespace, issuerRef.name)) ?? null) : null;
  // An ACME server decides the validity itself: what the Certificate asks for is not what it gets.
  const durationSeconds = issuer && !issuer.honoursDuration ? null : requestedSeconds;
  const isCA = isCAField.value === true;

  const attributes: Record<string, DeclaredPosition> = {};
  const at = (fields: string[], position: DeclaredPosition | null): void => {
    if (position) for (const field of fields) attributes[field] ??= position;
  };
  at(['certificate.notAfter', 'evidence.durationSeconds'], durationField.at);
  at(['algorithm', 'keyType'], algorithmField.at);
  at(['keySize', 'curve'], sizeField.at);
  at(['algorithm', 'keySize', 'curve'], algorithmField.at);
  at(['evidence.rotationPolicy'], rotationField.at);
  at(['certificate.isCA'], isCAField.at);
  at(['certificate.commonName'], commonNameField.at);
  at(['certificate.sans'], dnsNamesField.at);

  return {
    ...baseItem({
      uid: `kubernetes:${file.uidPath}#${address}`,
      kind: 'certificate',
      provider: 'kubernetes-cert-manager',
      sourceId: file.sourceId,
      name: namespace === null ? name : `${namespace}/${name}`,
      location: file.shown,
      algorithm: key.key.algorithm,
      keyType: key.key.keyType,
      keySize: key.key.keySize,
      curve: key.key.curve,
      purpose: 'tls',
      protection: 'software',
      origin: 'generated',
      certificate: null,
      evidence: {
        manifest: file.shown,
        apiVersion: object.apiVersion,
        namespace,
        secretName: text(spec(['secretName'])),
        duration: duration.raw,
        durationSeconds,
        renewBefore: renewBefore.raw,
        renewBeforeSeconds: renewBefore.seconds,
        renewBeforePercentage: typeof spec(['renewBeforePercentage']).value === 'number' ? spec(['renewBeforePercentage']).value : null,
        isCA,
        commonName: text(commonNameField),
        dnsNames: stringList(dnsNamesField),
        privateKey: { algorithm: key.algorithm, size: key.size, rotationPolicy, encoding: text(spec(['privateKey', 'encoding'])) },
        rotationPolicy,
        rawAlgorithm: key.algorithm,
        issuerRef,
        issuer: issuer && { type: issuer.type, honoursDuration: issuer.honoursDuration, acmeServer: issuer.acmeServer, declaredIn: issuer.declaredIn },
        ...(issuer && !issuer.honoursDuration ? { validityDecidedBy: 'acme-server' } : {}),
        defaults,
        ...(object.helmSource ? { helmSource: object.helmSource } : {}),
      },
    }),
    declared: true,
    address,
    declaredIn: { file: file.shown, line: object.at.line, column: object.at.column, attributes },
  };
}
