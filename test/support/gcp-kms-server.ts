import { createHash, createHmac, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

// A Cloud KMS gRPC server for tests. Cloud KMS has no official emulator, so this one is built from
// the .proto files the client itself ships (@google-cloud/kms build/protos, google-gax build/protos),
// loaded with the proto-loader options google-gax uses (GrpcClient.defaultOptions), and serves an
// in-memory estate of projects, locations, key rings, keys and versions:
//
//   google.cloud.kms.v1.KeyManagementService  ListKeyRings, ListCryptoKeys, ListCryptoKeyVersions,
//                                             GetKeyRing, GetCryptoKey, GetCryptoKeyVersion;
//                                             writes: UpdateCryptoKey, CreateCryptoKeyVersion,
//                                             UpdateCryptoKeyPrimaryVersion, UpdateCryptoKeyVersion,
//                                             DestroyCryptoKeyVersion, RestoreCryptoKeyVersion
//                                             (every other method: UNIMPLEMENTED)
//   google.cloud.location.Locations           ListLocations (name `projects/{p}`), GetLocation
//   google.iam.v1.IAMPolicy                   GetIamPolicy on a key ring or a crypto key
//                                             (SetIamPolicy, TestIamPermissions: UNIMPLEMENTED)
//
// The estate is copied when the server starts and by setEstate: a write changes the server's copy
// (a later list or get shows it, and snapshot() returns it), never the caller's object.
//
// What it does as the real service does (API reference and the protos' comments):
//   - resource names `projects/{p}/locations/{l}/keyRings/{r}/cryptoKeys/{k}/cryptoKeyVersions/{v}`;
//   - pagination: page_size honoured, 0 = the server default (1000), larger values capped at 1000,
//     negative → INVALID_ARGUMENT; an opaque next_page_token, '' on the last page; a token that was
//     not issued by this server for this method and parent → INVALID_ARGUMENT; total_size set on the
//     three KMS list responses (ListLocationsResponse has no such field);
//   - CryptoKey carries `primary` (a full CryptoKeyVersion) for ENCRYPT_DECRYPT keys only ("Keys with
//     purpose ENCRYPT_DECRYPT may have a primary. For other keys, this field will be omitted"), its
//     version_template, rotation_period / next_rotation_time (the rotation_schedule oneof),
//     labels, and destroy_scheduled_duration (30 days when the estate says nothing: the documented
//     default);
//   - ListCryptoKeyVersions lists every version, DESTROYED ones included (the API excludes nothing
//     unless a `filter` says so);
//   - version_view / view: FULL adds an (opaque, made-up) HSM attestation to HSM versions; the default
//     view omits it; GetCryptoKey and GetCryptoKeyVersion answer with the full view;
//   - timestamps as google.protobuf.Timestamp {seconds, nanos}, durations as {seconds, nanos};
//   - a parent or resource that does not exist → NOT_FOUND ("KeyRing projects/…/keyRings/r not found.");
//   - Location: name `projects/p/locations/l`, location_id, display_name (the region's description
//     in the Cloud KMS locations table), labels (empty), metadata = Any(google.cloud.kms.v1.
//     LocationMetadata {hsm_available, ekm_available}); only the estate's locations are listed (the
//     real service lists every KMS location, key rings or not);
//   - Policy {version: 1, bindings, etag} with an 8-byte etag derived from the bindings; no bindings
//     → an empty list, as for a key ring or key nobody granted anything on.
// Writes, as the service and the protos' comments describe them (each answers with the resource as
// it now is):
//   - UpdateCryptoKey: update_mask is required; its paths `rotation_period` and `next_rotation_time`
//     set the field from crypto_key, or clear it when crypto_key omits it; any other path →
//     INVALID_ARGUMENT. The result is checked as the API documents: a rotation schedule only on
//     ENCRYPT_DECRYPT keys, rotation_period from 24 hours to 876,000 hours, and "if rotation_period
//     is set, next_rotation_time must also be set" (each → INVALID_ARGUMENT);
//   - CreateCryptoKeyVersion: the next sequential id (one more than the highest ever used), state
//     ENABLED unless the request says DISABLED, create_time and generate_time now, algorithm and
//     protection level from the key's version_template; it does not become primary. EXTERNAL and
//     EXTERNAL_VPC keys need external_protection_level_options (key URI / key path) → else
//     INVALID_ARGUMENT;
//   - UpdateCryptoKeyPrimaryVersion: ENCRYPT_DECRYPT keys only and an ENABLED version, else
//     FAILED_PRECONDITION; an unknown version → NOT_FOUND; answers with the CryptoKey;
//   - UpdateCryptoKeyVersion: update_mask `state` only, ENABLED ↔ DISABLED only (another target
//     state → INVALID_ARGUMENT, a version in another state → FAILED_PRECONDITION);
//   - DestroyCryptoKeyVersion: an ENABLED or DISABLED version becomes DESTROY_SCHEDULED with
//     destroy_time = now + the key's destroy_scheduled_duration; any other state → FAILED_PRECONDITION;
//   - RestoreCryptoKeyVersion: DESTROY_SCHEDULED → DISABLED with destroy_time cleared; any other
//     state → FAILED_PRECONDITION.
// What it does not do: `filter` (a non-empty filter → INVALID_ARGUMENT, so that a caller relying on
// it fails loudly instead of getting unfiltered results), `order_by` (results come in estate order),
// time passing (a DESTROY_SCHEDULED version stays so after its destroy_time; automatic rotation never
// happens), update_mask paths other than those above, cryptographic operations, authentication (any
// credentials, or none, are accepted).
//
// Faults (setFaults): a request whose method matches, and whose target (the request's parent, name
// or resource, or the name of the crypto_key / crypto_key_version an Update carries, exactly)
// matches when `resource` is given, fails with the fault's gRPC status and the message the real
// service sends for it, before anything is changed; PERMISSION_DENIED and RESOURCE_EXHAUSTED also
// carry a google.rpc.ErrorInfo in `grpc-status-details-bin`, which google-gax promotes to
// `err.reason`, `err.domain` and `err.errorInfoMetadata`. `times` limits how many requests get the
// fault; `delayMs` holds the answer back that long (longer than the caller's deadline → the caller
// sees DEADLINE_EXCEEDED). Every request is recorded in `calls`, in order of arrival.
//
// Further services given in `options.services` answer on the same port, so that one `endpoint`
// serves a client of each: test/support/gcp-resource-manager-server.ts adds Cloud Resource Manager's.
//
// The client must use the @grpc/grpc-js copy google-gax loads for its channel credentials (see
// test/integration/gcp-kms-server.test.ts); this server may use any copy, the two only share the wire.

export interface GcpEstate {
  projects: {
    id: string;
    locations: {
      id: string;
      keyRings: {
        id: string;
        /** RFC 3339; default: the earliest createTime of its keys, else 2024-01-01T00:00:00Z. */
        createTime?: string;
        keys: GcpKey[];
        /** The key ring's own IAM policy (GetIamPolicy on the ring); default none. */
        iamBindings?: { role: string; members: string[] }[];
      }[];
    }[];
  }[];
}

export type GcpVersionState =
  | 'ENABLED'
  | 'DISABLED'
  | 'DESTROYED'
  | 'DESTROY_SCHEDULED'
  | 'PENDING_GENERATION'
  | 'PENDING_IMPORT'
  | 'IMPORT_FAILED'
  | 'GENERATION_FAILED'
  | 'PENDING_EXTERNAL_DESTRUCTION'
  | 'EXTERNAL_DESTRUCTION_FAILED';

export interface GcpKeyVersion {
  /** The version number, '1', '2', … */
  id: string;
  state: GcpVersionState;
  /** RFC 3339. */
  createTime: string;
  /** When DESTROY_SCHEDULED: when the material will be destroyed. Passed through as given. */
  destroyTime?: string;
  /** When DESTROYED: when the material was destroyed. Passed through as given. */
  destroyEventTime?: string;
  /** Default: the key's versionTemplate.algorithm. */
  algorithm?: string;
  /** Default: the key's versionTemplate.protectionLevel. */
  protectionLevel?: string;
  /** The import job's resource name, for an imported version. */
  importJob?: string;
  importTime?: string;
  /** Default: createTime, unless the version was imported or its material was never generated. */
  generateTime?: string;
}

export interface GcpKey {
  id: string;
  purpose: 'ENCRYPT_DECRYPT' | 'ASYMMETRIC_SIGN' | 'ASYMMETRIC_DECRYPT' | 'MAC' | 'RAW_ENCRYPT_DECRYPT' | 'KEY_ENCAPSULATION';
  /** RFC 3339. */
  createTime: string;
  /** Automatic rotation (ENCRYPT_DECRYPT keys only, as in the real API). */
  rotationPeriodSeconds?: number;
  nextRotationTime?: string;
  labels?: Record<string, string>;
  /** Default 30 days (2592000), the API's default. */
  destroyScheduledDurationSeconds?: number;
  versionTemplate: {
    /** A CryptoKeyVersionAlgorithm name: GOOGLE_SYMMETRIC_ENCRYPTION, RSA_SIGN_PSS_2048_SHA256, EC_SIGN_P256_SHA256, HMAC_SHA256, … */
    algorithm: string;
    protectionLevel: 'SOFTWARE' | 'HSM' | 'EXTERNAL' | 'EXTERNAL_VPC';
  };
  /** The primary version's id (ENCRYPT_DECRYPT keys only); default: no primary. */
  primaryVersionId?: string;
  versions: GcpKeyVersion[];
  iamBindings?: { role: string; members: string[] }[];
}

export type GcpFaultMethod =
  | 'ListLocations'
  | 'ListKeyRings'
  | 'ListCryptoKeys'
  | 'ListCryptoKeyVersions'
  | 'GetIamPolicy'
  | 'GetCryptoKey'
  | 'GetCryptoKeyVersion'
  | GcpWriteMethod;
/** The write RPCs the server implements. */
export type GcpWriteMethod =
  | 'UpdateCryptoKey'
  | 'CreateCryptoKeyVersion'
  | 'UpdateCryptoKeyPrimaryVersion'
  | 'UpdateCryptoKeyVersion'
  | 'DestroyCryptoKeyVersion'
  | 'RestoreCryptoKeyVersion';
export type GcpFaultCode = 'PERMISSION_DENIED' | 'RESOURCE_EXHAUSTED' | 'UNAVAILABLE' | 'DEADLINE_EXCEEDED' | 'NOT_FOUND';

export interface GcpFault {
  method: GcpFaultMethod;
  /** The exact parent or resource name the request targets (ListLocations: `projects/{p}`; UpdateCryptoKey and UpdateCryptoKeyVersion: the name of the key or version they carry); default any. */
  resource?: string;
  code: GcpFaultCode;
  /** How many matching requests get the fault; default Infinity. */
  times?: number;
  /** Holds the answer back this long, in milliseconds. */
  delayMs?: number;
}

export interface GcpKmsCall {
  /** The RPC's method name: 'ListCryptoKeys', 'GetIamPolicy', … */
  method: string;
  /** The request's parent, name or resource. */
  resource: string;
  /** List methods: the request's page_size (0 = unset). */
  pageSize?: number;
  /** List methods: the request's page_token ('' on a first page). */
  pageToken?: string;
  /** Update methods: the request's update_mask paths. */
  updateMask?: string[];
  /** The fault's code, when a fault was injected. */
  fault?: string;
}

export interface GcpKmsServer {
  /** `127.0.0.1:PORT`. */
  endpoint: string;
  port: number;
  /** Every request, in order of arrival. */
  calls: GcpKmsCall[];
  /** A copy of the estate as the writes so far left it. */
  snapshot(): GcpEstate;
  /** Replaces the estate (validated first: throws on a name or enum the real API would not return). */
  setEstate(estate: GcpEstate): void;
  /** Replaces the faults (and their `times` counters). */
  setFaults(faults: GcpFault[]): void;
  stop(): Promise<void>;
}

/** The page size used when a request has none (0), and the largest honoured. */
export const GCP_KMS_DEFAULT_PAGE_SIZE = 1000;
/** The destroy_scheduled_duration of a key created without one: 30 days. */
const DEFAULT_DESTROY_SCHEDULED_SECONDS = 30 * 24 * 3600;
const DEFAULT_KEY_RING_CREATE_TIME = '2024-01-01T00:00:00Z';

// The region descriptions of the Cloud KMS locations table, for Location.display_name.
const DISPLAY_NAMES: Record<string, string> = {
  global: 'Global',
  us: 'United States',
  europe: 'Europe',
  asia: 'Asia',
  'asia-east1': 'Taiwan',
  'asia-east2': 'Hong Kong',
  'asia-northeast1': 'Tokyo',
  'asia-northeast2': 'Osaka',
  'asia-northeast3': 'Seoul',
  'asia-south1': 'Mumbai',
  'asia-southeast1': 'Singapore',
  'asia-southeast2': 'Jakarta',
  'australia-southeast1': 'Sydney',
  'europe-central2': 'Warsaw',
  'europe-north1': 'Finland',
  'europe-west1': 'Belgium',
  'europe-west2': 'London',
  'europe-west3': 'Frankfurt',
  'europe-west4': 'Netherlands',
  'europe-west6': 'Zürich',
  'northamerica-northeast1': 'Montréal',
  'southamerica-east1': 'São Paulo',
  'us-central1': 'Iowa',
  'us-east1': 'South Carolina',
  'us-east4': 'Northern Virginia',
  'us-west1': 'Oregon',
  'us-west2': 'Los Angeles',
  'us-west3': 'Salt Lake City',
  'us-west4': 'Las Vegas',
};

// ---------------------------------------------------------------------------------------------
// Protos

const require = createRequire(import.meta.url);
/** The package directory of a module resolved from `from`: …/node_modules/<name>. */
export function packageDir(name: string, from: string): string {
  const main = createRequire(from).resolve(name);
  const marker = `${path.sep}node_modules${path.sep}${name.split('/').join(path.sep)}${path.sep}`;
  const at = main.lastIndexOf(marker);
  if (at < 0) throw new Error(`cannot locate the ${name} package from ${main}`);
  return main.slice(0, at + marker.length - 1);
}
const KMS_DIR = packageDir('@google-cloud/kms', import.meta.url);
const GAX_DIR = packageDir('google-gax', path.join(KMS_DIR, 'package.json'));
const KMS_PROTOS = path.join(KMS_DIR, 'build', 'protos');
const GAX_PROTOS = path.join(GAX_DIR, 'build', 'protos');

/** google-gax's own proto-loader options (GrpcClient.defaultOptions), with both include roots. */
const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [KMS_PROTOS, GAX_PROTOS],
};

let packageDefinitionCache: protoLoader.PackageDefinition | undefined;
function packageDefinition(): protoLoader.PackageDefinition {
  packageDefinitionCache ??= protoLoader.loadSync(
    [
      'google/cloud/kms/v1/service.proto',
      'google/cloud/kms/v1/resources.proto',
      'google/cloud/location/locations.proto',
      'google/iam/v1/iam_policy.proto',
      'google/iam/v1/policy.proto',
    ],
    LOADER_OPTIONS,
  );
  return packageDefinitionCache;
}

function serviceDefinition(name: string): grpc.ServiceDefinition {
  const def = packageDefinition()[name];
  if (def === undefined || 'format' in def) throw new Error(`${name} is not a service in the loaded protos`);
  return def as unknown as grpc.ServiceDefinition;
}

/** The value names of a proto enum (top-level, or nested in a message), from the loaded descriptors. */
function enumNames(name: string): Set<string> {
  interface EnumDescriptor {
    name?: string;
    value?: { name: string }[];
  }
  const definitions = packageDefinition();
  let values = (definitions[name] as { type?: EnumDescriptor } | undefined)?.type?.value;
  if (values === undefined) {
    const parent = definitions[name.slice(0, name.lastIndexOf('.'))] as { type?: { enumType?: EnumDescriptor[] } } | undefined;
    values = parent?.type?.enumType?.find((e) => e.name === name.slice(name.lastIndexOf('.') + 1))?.value;
  }
  if (values === undefined) throw new Error(`${name} is not an enum in the loaded protos`);
  return new Set(values.map((v) => v.name));
}

// ---------------------------------------------------------------------------------------------
// Wire shapes (proto-loader with keepCase: false: camelCase fields)

interface Timestamp {
  seconds: string;
  nanos: number;
}
type Duration = Timestamp;

interface ListRequest {
  parent: string;
  pageSize: number;
  pageToken: string;
  filter: string;
  orderBy: string;
}
interface ListCryptoKeysRequest extends ListRequest {
  versionView: string;
}
interface ListCryptoKeyVersionsRequest extends ListRequest {
  view: string;
}
interface ListLocationsRequest {
  name: string;
  filter: string;
  pageSize: number;
  pageToken: string;
}
interface NameRequest {
  name: string;
}
interface GetIamPolicyRequest {
  resource: string;
}

type Message = Record<string, unknown>;

// ---------------------------------------------------------------------------------------------
// Conversions

/** RFC 3339 → google.protobuf.Timestamp, keeping up to nine fractional digits. */
export function toTimestamp(rfc3339: string): Timestamp {
  const match = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/i.exec(rfc3339);
  if (match === null) throw new Error(`not an RFC 3339 timestamp: ${JSON.stringify(rfc3339)}`);
  const ms = Date.parse(`${match[1]}${match[3]}`);
  if (Number.isNaN(ms)) throw new Error(`not an RFC 3339 timestamp: ${JSON.stringify(rfc3339)}`);
  return { seconds: String(Math.floor(ms / 1000)), nanos: Number((match[2] ?? '').padEnd(9, '0')) };
}

/** Seconds (possibly fractional) → google.protobuf.Duration. */
export function toDuration(seconds: number): Duration {
  const whole = Math.floor(seconds);
  return { seconds: String(whole), nanos: Math.round((seconds - whole) * 1e9) };
}

// ---------------------------------------------------------------------------------------------
// Errors

interface StatusError {
  code: grpc.status;
  details: string;
  metadata?: grpc.Metadata;
}

function statusError(code: grpc.status, details: string, metadata?: grpc.Metadata): StatusError {
  return metadata === undefined ? { code, details } : { code, details, metadata };
}

function isStatusError(error: unknown): error is StatusError {
  return typeof error === 'object' && error !== null && typeof (error as StatusError).code === 'number' && typeof (error as StatusError).details === 'string';
}

function notFound(kind: string, name: string): StatusError {
  return statusError(grpc.status.NOT_FOUND, `${kind} ${name} not found.`);
}

// Protobuf wire encoding, enough for google.rpc.Status { code, message, details: [Any(ErrorInfo)] }.
function varint(value: number): Buffer {
  const bytes: number[] = [];
  let v = value >>> 0;
  while (v >= 0x80) {
    bytes.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  bytes.push(v);
  return Buffer.from(bytes);
}
function lengthDelimited(field: number, payload: Buffer): Buffer {
  return Buffer.concat([varint((field << 3) | 2), varint(payload.length), payload]);
}
function stringField(field: number, value: string): Buffer {
  return lengthDelimited(field, Buffer.from(value, 'utf8'));
}
function anyMessage(typeUrl: string, value: Buffer): Buffer {
  return Buffer.concat([stringField(1, typeUrl), lengthDelimited(2, value)]);
}

/** grpc-status-details-bin: google.rpc.Status with one google.rpc.ErrorInfo. */
function errorInfoDetails(code: grpc.status, message: string, reason: string, domain: string, metadata: Record<string, string>): Buffer {
  const errorInfo = Buffer.concat([
    stringField(1, reason),
    stringField(2, domain),
    ...Object.entries(metadata).map(([k, v]) => lengthDelimited(3, Buffer.concat([stringField(1, k), stringField(2, v)]))),
  ]);
  return Buffer.concat([
    varint((1 << 3) | 0),
    varint(code),
    stringField(2, message),
    lengthDelimited(3, anyMessage('type.googleapis.com/google.rpc.ErrorInfo', errorInfo)),
  ]);
}

const WRITE_METHODS: ReadonlySet<string> = new Set<GcpWriteMethod>([
  'UpdateCryptoKey',
  'CreateCryptoKeyVersion',
  'UpdateCryptoKeyPrimaryVersion',
  'UpdateCryptoKeyVersion',
  'DestroyCryptoKeyVersion',
  'RestoreCryptoKeyVersion',
]);

/** The IAM permission each faultable method checks, as the real service names it in denials. */
function permissionFor(method: string, resource: string): string {
  switch (method) {
    case 'ListLocations':
      return 'cloudkms.locations.list';
    case 'GetLocation':
      return 'cloudkms.locations.get';
    case 'ListKeyRings':
      return 'cloudkms.keyRings.list';
    case 'GetKeyRing':
      return 'cloudkms.keyRings.get';
    case 'ListCryptoKeys':
      return 'cloudkms.cryptoKeys.list';
    case 'GetCryptoKey':
      return 'cloudkms.cryptoKeys.get';
    case 'ListCryptoKeyVersions':
      return 'cloudkms.cryptoKeyVersions.list';
    case 'GetCryptoKeyVersion':
      return 'cloudkms.cryptoKeyVersions.get';
    case 'GetIamPolicy':
      return /\/cryptoKeys\/[^/]+$/.test(resource) ? 'cloudkms.cryptoKeys.getIamPolicy' : 'cloudkms.keyRings.getIamPolicy';
    // The permissions the API reference names for each write (updatePrimaryVersion is a key update).
    case 'UpdateCryptoKey':
    case 'UpdateCryptoKeyPrimaryVersion':
      return 'cloudkms.cryptoKeys.update';
    case 'CreateCryptoKeyVersion':
      return 'cloudkms.cryptoKeyVersions.create';
    case 'UpdateCryptoKeyVersion':
      return 'cloudkms.cryptoKeyVersions.update';
    case 'DestroyCryptoKeyVersion':
      return 'cloudkms.cryptoKeyVersions.destroy';
    case 'RestoreCryptoKeyVersion':
      return 'cloudkms.cryptoKeyVersions.restore';
    default:
      return `cloudkms.${method}`;
  }
}

function faultError(fault: GcpFault, method: string, resource: string): StatusError {
  const code = grpc.status[fault.code];
  const project = /^projects\/([^/]+)/.exec(resource)?.[1] ?? 'unknown';
  switch (fault.code) {
    case 'PERMISSION_DENIED': {
      const permission = permissionFor(method, resource);
      const message = `Permission '${permission}' denied on resource '${resource}' (or it may not exist).`;
      const metadata = new grpc.Metadata();
      metadata.set('grpc-status-details-bin', errorInfoDetails(code, message, 'IAM_PERMISSION_DENIED', 'iam.googleapis.com', { permission, resource }));
      return statusError(code, message, metadata);
    }
    case 'RESOURCE_EXHAUSTED': {
      // Cloud KMS meters reads and writes under separate quotas.
      const [kind, metric] = WRITE_METHODS.has(method) ? ['Write', 'write_requests'] : ['Read', 'read_requests'];
      const message =
        `Quota exceeded for quota metric '${kind} requests' and limit '${kind} requests per minute' of service ` +
        `'cloudkms.googleapis.com' for consumer 'project_number:${projectNumber(project)}'.`;
      const metadata = new grpc.Metadata();
      metadata.set(
        'grpc-status-details-bin',
        errorInfoDetails(code, message, 'RATE_LIMIT_EXCEEDED', 'googleapis.com', {
          service: 'cloudkms.googleapis.com',
          quota_metric: `cloudkms.googleapis.com/${metric}`,
          quota_limit: `${kind}RequestsPerMinutePerProject`,
          consumer: `projects/${projectNumber(project)}`,
        }),
      );
      return statusError(code, message, metadata);
    }
    case 'UNAVAILABLE':
      return statusError(code, 'The service is currently unavailable.');
    case 'DEADLINE_EXCEEDED':
      return statusError(code, 'Deadline expired before operation could complete.');
    case 'NOT_FOUND':
      return statusError(code, `Resource ${resource} not found.`);
  }
}

/** A stable 12-digit project number for a project id (quota messages name the number). */
function projectNumber(projectId: string): string {
  const n = createHash('sha256').update(projectId).digest().readUIntBE(0, 5) % 1e12;
  return String(n).padStart(12, '1');
}

// ---------------------------------------------------------------------------------------------
// Estate lookups

type Project = GcpEstate['projects'][number];
type Location = Project['locations'][number];
type KeyRing = Location['keyRings'][number];

const PROJECT_RE = /^projects\/([^/]+)$/;
const LOCATION_RE = /^projects\/([^/]+)\/locations\/([^/]+)$/;
const KEY_RING_RE = /^projects\/([^/]+)\/locations\/([^/]+)\/keyRings\/([^/]+)$/;
const CRYPTO_KEY_RE = /^projects\/([^/]+)\/locations\/([^/]+)\/keyRings\/([^/]+)\/cryptoKeys\/([^/]+)$/;
const VERSION_RE = /^projects\/([^/]+)\/locations\/([^/]+)\/keyRings\/([^/]+)\/cryptoKeys\/([^/]+)\/cryptoKeyVersions\/([^/]+)$/;

function invalidName(field: string, value: string, pattern: string): StatusError {
  return statusError(grpc.status.INVALID_ARGUMENT, `Invalid ${field}: ${JSON.stringify(value)} does not match the pattern ${pattern}.`);
}

class EstateIndex {
  readonly estate: GcpEstate;
  constructor(estate: GcpEstate) {
    this.estate = estate;
  }

  project(name: string): Project {
    const m = PROJECT_RE.exec(name);
    if (m === null) throw invalidName('name', name, 'projects/*');
    const project = this.estate.projects.find((p) => p.id === m[1]);
    if (project === undefined) throw notFound('Project', name);
    return project;
  }

  location(name: string, field = 'parent'): Location {
    const m = LOCATION_RE.exec(name);
    if (m === null) throw invalidName(field, name, 'projects/*/locations/*');
    const project = this.estate.projects.find((p) => p.id === m[1]);
    if (project === undefined) throw notFound('Project', `projects/${m[1]}`);
    const location = project.locations.find((l) => l.id === m[2]);
    if (location === undefined) throw notFound('Location', name);
    return location;
  }

  keyRing(name: string, field = 'parent'): KeyRing {
    const m = KEY_RING_RE.exec(name);
    if (m === null) throw invalidName(field, name, 'projects/*/locations/*/keyRings/*');
    const location = this.location(`projects/${m[1]}/locations/${m[2]}`, field);
    const ring = location.keyRings.find((r) => r.id === m[3]);
    if (ring === undefined) throw notFound('KeyRing', name);
    return ring;
  }

  cryptoKey(name: string, field = 'parent'): GcpKey {
    const m = CRYPTO_KEY_RE.exec(name);
    if (m === null) throw invalidName(field, name, 'projects/*/locations/*/keyRings/*/cryptoKeys/*');
    const ring = this.keyRing(`projects/${m[1]}/locations/${m[2]}/keyRings/${m[3]}`, field);
    const key = ring.keys.find((k) => k.id === m[4]);
    if (key === undefined) throw notFound('CryptoKey', name);
    return key;
  }

  version(name: string, field = 'name'): { key: GcpKey; version: GcpKeyVersion } {
    const m = VERSION_RE.exec(name);
    if (m === null) throw invalidName(field, name, 'projects/*/locations/*/keyRings/*/cryptoKeys/*/cryptoKeyVersions/*');
    const key = this.cryptoKey(`projects/${m[1]}/locations/${m[2]}/keyRings/${m[3]}/cryptoKeys/${m[4]}`, field);
    const version = key.versions.find((v) => v.id === m[5]);
    if (version === undefined) throw notFound('CryptoKeyVersion', name);
    return { key, version };
  }
}

/** Throws on anything the real API would never return (unknown enum names, bad times, duplicates). */
function validateEstate(estate: GcpEstate): void {
  const algorithms = enumNames('google.cloud.kms.v1.CryptoKeyVersion.CryptoKeyVersionAlgorithm');
  const states = enumNames('google.cloud.kms.v1.CryptoKeyVersion.CryptoKeyVersionState');
  const levels = enumNames('google.cloud.kms.v1.ProtectionLevel');
  const purposes = enumNames('google.cloud.kms.v1.CryptoKey.CryptoKeyPurpose');
  const unique = (ids: string[], what: string): void => {
    const seen = new Set<string>();
    for (const id of ids) {
      if (id === '' || id.includes('/')) throw new Error(`invalid ${what} id ${JSON.stringify(id)}`);
      if (seen.has(id)) throw new Error(`duplicate ${what} id ${JSON.stringify(id)}`);
      seen.add(id);
    }
  };
  const time = (value: string | undefined, where: string): void => {
    if (value === undefined) return;
    try {
      toTimestamp(value);
    } catch (error) {
      throw new Error(`${where}: ${(error as Error).message}`);
    }
  };
  unique(estate.projects.map((p) => p.id), 'project');
  for (const project of estate.projects) {
    unique(project.locations.map((l) => l.id), `location (project ${project.id})`);
    for (const location of project.locations) {
      unique(location.keyRings.map((r) => r.id), `key ring (${project.id}/${location.id})`);
      for (const ring of location.keyRings) {
        const ringName = `projects/${project.id}/locations/${location.id}/keyRings/${ring.id}`;
        time(ring.createTime, ringName);
        unique(ring.keys.map((k) => k.id), `crypto key (${ringName})`);
        for (const key of ring.keys) {
          const where = `${ringName}/cryptoKeys/${key.id}`;
          if (!purposes.has(key.purpose)) throw new Error(`${where}: unknown purpose ${key.purpose}`);
          if (!algorithms.has(key.versionTemplate.algorithm)) throw new Error(`${where}: unknown algorithm ${key.versionTemplate.algorithm}`);
          if (!levels.has(key.versionTemplate.protectionLevel)) throw new Error(`${where}: unknown protection level ${key.versionTemplate.protectionLevel}`);
          time(key.createTime, where);
          time(key.nextRotationTime, where);
          if (key.purpose !== 'ENCRYPT_DECRYPT' && (key.rotationPeriodSeconds !== undefined || key.nextRotationTime !== undefined)) {
            throw new Error(`${where}: only ENCRYPT_DECRYPT keys have a rotation schedule in Cloud KMS`);
          }
          if (key.primaryVersionId !== undefined) {
            if (key.purpose !== 'ENCRYPT_DECRYPT') throw new Error(`${where}: only ENCRYPT_DECRYPT keys have a primary version in Cloud KMS`);
            if (!key.versions.some((v) => v.id === key.primaryVersionId)) throw new Error(`${where}: primary version ${key.primaryVersionId} is not among its versions`);
          }
          unique(key.versions.map((v) => v.id), `version (${where})`);
          for (const version of key.versions) {
            const vwhere = `${where}/cryptoKeyVersions/${version.id}`;
            if (!states.has(version.state)) throw new Error(`${vwhere}: unknown state ${version.state}`);
            if (version.algorithm !== undefined && !algorithms.has(version.algorithm)) throw new Error(`${vwhere}: unknown algorithm ${version.algorithm}`);
            if (version.protectionLevel !== undefined && !levels.has(version.protectionLevel)) throw new Error(`${vwhere}: unknown protection level ${version.protectionLevel}`);
            for (const t of [version.createTime, version.destroyTime, version.destroyEventTime, version.importTime, version.generateTime]) time(t, vwhere);
          }
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Resources on the wire

const NOT_GENERATED: ReadonlySet<string> = new Set(['PENDING_GENERATION', 'GENERATION_FAILED', 'PENDING_IMPORT', 'IMPORT_FAILED']);

function versionMessage(keyName: string, key: GcpKey, version: GcpKeyVersion, full: boolean): Message {
  const protectionLevel = version.protectionLevel ?? key.versionTemplate.protectionLevel;
  const message: Message = {
    name: `${keyName}/cryptoKeyVersions/${version.id}`,
    state: version.state,
    protectionLevel,
    algorithm: version.algorithm ?? key.versionTemplate.algorithm,
    createTime: toTimestamp(version.createTime),
  };
  const generateTime = version.generateTime ?? (version.importJob === undefined && !NOT_GENERATED.has(version.state) ? version.createTime : undefined);
  if (generateTime !== undefined) message['generateTime'] = toTimestamp(generateTime);
  if (version.destroyTime !== undefined) message['destroyTime'] = toTimestamp(version.destroyTime);
  if (version.destroyEventTime !== undefined) message['destroyEventTime'] = toTimestamp(version.destroyEventTime);
  if (version.importJob !== undefined) message['importJob'] = version.importJob;
  if (version.importTime !== undefined) message['importTime'] = toTimestamp(version.importTime);
  if (full && protectionLevel === 'HSM' && !NOT_GENERATED.has(version.state)) {
    message['attestation'] = {
      format: 'CAVIUM_V2_COMPRESSED',
      content: createHash('sha256').update(`attestation:${String(message['name'])}`).digest(),
      certChains: { caviumCerts: [], googleCardCerts: [], googlePartitionCerts: [] },
    };
  }
  return message;
}

function cryptoKeyMessage(ringName: string, key: GcpKey, full: boolean): Message {
  const name = `${ringName}/cryptoKeys/${key.id}`;
  const message: Message = {
    name,
    purpose: key.purpose,
    createTime: toTimestamp(key.createTime),
    versionTemplate: { protectionLevel: key.versionTemplate.protectionLevel, algorithm: key.versionTemplate.algorithm },
    labels: { ...(key.labels ?? {}) },
    importOnly: false,
    destroyScheduledDuration: toDuration(key.destroyScheduledDurationSeconds ?? DEFAULT_DESTROY_SCHEDULED_SECONDS),
  };
  if (key.purpose === 'ENCRYPT_DECRYPT' && key.primaryVersionId !== undefined) {
    const primary = key.versions.find((v) => v.id === key.primaryVersionId);
    if (primary !== undefined) message['primary'] = versionMessage(name, key, primary, full);
  }
  if (key.nextRotationTime !== undefined) message['nextRotationTime'] = toTimestamp(key.nextRotationTime);
  if (key.rotationPeriodSeconds !== undefined) message['rotationPeriod'] = toDuration(key.rotationPeriodSeconds);
  return message;
}

function keyRingMessage(name: string, ring: KeyRing): Message {
  const earliest = ring.keys.map((k) => k.createTime).sort((a, b) => Date.parse(a) - Date.parse(b))[0];
  return { name, createTime: toTimestamp(ring.createTime ?? earliest ?? DEFAULT_KEY_RING_CREATE_TIME) };
}

function locationMessage(projectId: string, locationId: string): Message {
  // google.cloud.kms.v1.LocationMetadata { bool hsm_available = 1; bool ekm_available = 2; }
  const metadata = Buffer.from([0x08, 0x01, 0x10, 0x01]);
  return {
    name: `projects/${projectId}/locations/${locationId}`,
    locationId,
    displayName: DISPLAY_NAMES[locationId] ?? locationId,
    labels: {},
    // protobufjs's built-in google.protobuf.Any keeps its snake_case field names whatever keepCase says.
    metadata: { type_url: 'type.googleapis.com/google.cloud.kms.v1.LocationMetadata', value: metadata },
  };
}

function policyMessage(bindings: { role: string; members: string[] }[] | undefined): Message {
  const list = (bindings ?? []).map((b) => ({ role: b.role, members: [...b.members] }));
  const etag = createHash('sha256').update(JSON.stringify(list)).digest().subarray(0, 8);
  // A policy nobody has set has the etag "ACAB" (base64 of 00 20 01).
  return { version: 1, bindings: list, auditConfigs: [], etag: list.length === 0 ? Buffer.from('ACAB', 'base64') : etag };
}

// ---------------------------------------------------------------------------------------------
// Pagination

interface PageTokenBody {
  m: string;
  p: string;
  o: number;
}

class Pager {
  readonly #secret = randomBytes(16);

  #sign(body: string): string {
    return createHmac('sha256', this.#secret).update(body).digest('base64url').slice(0, 16);
  }

  token(method: string, parent: string, offset: number): string {
    const body = Buffer.from(JSON.stringify({ m: method, p: parent, o: offset } satisfies PageTokenBody)).toString('base64url');
    return `${body}.${this.#sign(body)}`;
  }

  /** The slice for this request, and the token for the next page ('' when this is the last). */
  page<T>(method: string, parent: string, request: { pageSize: number; pageToken: string }, items: T[]): { items: T[]; nextPageToken: string } {
    if (request.pageSize < 0) throw statusError(grpc.status.INVALID_ARGUMENT, `page_size must be non-negative, got ${request.pageSize}.`);
    const size = request.pageSize === 0 ? GCP_KMS_DEFAULT_PAGE_SIZE : Math.min(request.pageSize, GCP_KMS_DEFAULT_PAGE_SIZE);
    let offset = 0;
    if (request.pageToken !== '') {
      const invalid = statusError(grpc.status.INVALID_ARGUMENT, 'Invalid page_token.');
      const [body, signature] = request.pageToken.split('.');
      if (body === undefined || signature === undefined || this.#sign(body) !== signature) throw invalid;
      let decoded: PageTokenBody;
      try {
        decoded = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as PageTokenBody;
      } catch {
        throw invalid;
      }
      if (decoded.m !== method || decoded.p !== parent || !Number.isInteger(decoded.o) || decoded.o < 0) throw invalid;
      offset = Math.min(decoded.o, items.length);
    }
    const end = offset + size;
    return { items: items.slice(offset, end), nextPageToken: end < items.length ? this.token(method, parent, end) : '' };
  }
}

function rejectFilter(request: { filter: string }): void {
  if (request.filter !== '') {
    throw statusError(grpc.status.INVALID_ARGUMENT, `filter is not supported by the keydrift test server (got ${JSON.stringify(request.filter)}).`);
  }
}

// ---------------------------------------------------------------------------------------------
// Writes

interface FieldMask {
  paths: string[];
}
interface UpdateCryptoKeyRequest {
  cryptoKey: (Message & { name: string; rotationPeriod?: Duration | null; nextRotationTime?: Timestamp | null }) | null;
  updateMask: FieldMask | null;
}
interface CreateCryptoKeyVersionRequest {
  parent: string;
  cryptoKeyVersion: { state: string; externalProtectionLevelOptions: { externalKeyUri: string; ekmConnectionKeyPath: string } | null } | null;
}
interface UpdateCryptoKeyPrimaryVersionRequest {
  name: string;
  cryptoKeyVersionId: string;
}
interface UpdateCryptoKeyVersionRequest {
  cryptoKeyVersion: { name: string; state: string } | null;
  updateMask: FieldMask | null;
}

/** rotation_period: "Must be at least 24 hours and at most 876,000 hours." */
const MIN_ROTATION_SECONDS = 24 * 3600;
const MAX_ROTATION_SECONDS = 876_000 * 3600;

/** google.protobuf.Timestamp → RFC 3339 (UTC, fractional digits only when there are nanos). */
function fromTimestamp(value: Timestamp): string {
  const base = new Date(Number(value.seconds) * 1000).toISOString().replace(/\.\d{3}Z$/, '');
  return value.nanos ? `${base}.${String(value.nanos).padStart(9, '0').replace(/0+$/, '')}Z` : `${base}Z`;
}

function durationSeconds(value: Duration): number {
  return Number(value.seconds) + (value.nanos ?? 0) / 1e9;
}

function invalidArgument(message: string): StatusError {
  return statusError(grpc.status.INVALID_ARGUMENT, message);
}

function failedPrecondition(message: string): StatusError {
  return statusError(grpc.status.FAILED_PRECONDITION, message);
}

function maskPaths(mask: FieldMask | null, allowed: readonly string[], message: string): string[] {
  const paths = mask?.paths ?? [];
  if (paths.length === 0) throw invalidArgument(`update_mask is required and must name at least one field of the ${message}.`);
  for (const field of paths) {
    if (!allowed.includes(field)) throw invalidArgument(`update_mask path ${JSON.stringify(field)} is not supported for the ${message} (the keydrift test server updates ${allowed.join(', ')}).`);
  }
  return paths;
}

const nowRfc3339 = (): string => new Date().toISOString();

/** The write RPCs, applied to the estate in `index`; each returns the resource as it now is. */
function writeHandlers(index: () => EstateIndex): Record<string, Handler> {
  const keyRingOf = (keyName: string): string => keyName.slice(0, keyName.lastIndexOf('/cryptoKeys/'));
  const keyOf = (versionName: string): string => versionName.slice(0, versionName.lastIndexOf('/cryptoKeyVersions/'));
  return {
    UpdateCryptoKey: (request: UpdateCryptoKeyRequest) => {
      const name = request.cryptoKey?.name ?? '';
      const key = index().cryptoKey(name, 'crypto_key.name');
      const paths = maskPaths(request.updateMask, ['rotation_period', 'next_rotation_time'], 'CryptoKey');
      let rotationPeriodSeconds = key.rotationPeriodSeconds;
      let nextRotationTime = key.nextRotationTime;
      if (paths.includes('rotation_period')) {
        const period = request.cryptoKey?.rotationPeriod;
        rotationPeriodSeconds = period ? durationSeconds(period) : undefined;
      }
      if (paths.includes('next_rotation_time')) {
        const next = request.cryptoKey?.nextRotationTime;
        nextRotationTime = next ? fromTimestamp(next) : undefined;
      }
      if (key.purpose !== 'ENCRYPT_DECRYPT' && (rotationPeriodSeconds !== undefined || nextRotationTime !== undefined)) {
        throw invalidArgument(`CryptoKey ${name} has purpose ${key.purpose}: only ENCRYPT_DECRYPT keys support automatic rotation (rotation_period and next_rotation_time must be omitted).`);
      }
      if (rotationPeriodSeconds !== undefined && (rotationPeriodSeconds < MIN_ROTATION_SECONDS || rotationPeriodSeconds > MAX_ROTATION_SECONDS)) {
        throw invalidArgument(`rotation_period must be at least 24 hours and at most 876,000 hours (got ${rotationPeriodSeconds}s).`);
      }
      if (rotationPeriodSeconds !== undefined && nextRotationTime === undefined) {
        throw invalidArgument('If rotation_period is set, next_rotation_time must also be set.');
      }
      // Set both only once the whole request is valid: a rejected update changes nothing.
      if (rotationPeriodSeconds === undefined) delete key.rotationPeriodSeconds;
      else key.rotationPeriodSeconds = rotationPeriodSeconds;
      if (nextRotationTime === undefined) delete key.nextRotationTime;
      else key.nextRotationTime = nextRotationTime;
      return cryptoKeyMessage(keyRingOf(name), key, true);
    },
    CreateCryptoKeyVersion: (request: CreateCryptoKeyVersionRequest) => {
      const key = index().cryptoKey(request.parent);
      const requested = request.cryptoKeyVersion?.state ?? 'CRYPTO_KEY_VERSION_STATE_UNSPECIFIED';
      if (!['CRYPTO_KEY_VERSION_STATE_UNSPECIFIED', 'ENABLED', 'DISABLED'].includes(requested)) {
        throw invalidArgument(`A new CryptoKeyVersion can only be created ENABLED or DISABLED (got ${requested}).`);
      }
      const external = request.cryptoKeyVersion?.externalProtectionLevelOptions;
      if (key.versionTemplate.protectionLevel === 'EXTERNAL' && !external?.externalKeyUri) {
        throw invalidArgument(`CryptoKey ${request.parent} has protection level EXTERNAL: external_protection_level_options.external_key_uri is required.`);
      }
      if (key.versionTemplate.protectionLevel === 'EXTERNAL_VPC' && !external?.ekmConnectionKeyPath) {
        throw invalidArgument(`CryptoKey ${request.parent} has protection level EXTERNAL_VPC: external_protection_level_options.ekm_connection_key_path is required.`);
      }
      const highest = key.versions.reduce((most, version) => Math.max(most, Number(version.id) || 0), 0);
      const version: GcpKeyVersion = { id: String(highest + 1), state: requested === 'DISABLED' ? 'DISABLED' : 'ENABLED', createTime: nowRfc3339() };
      key.versions.push(version);
      return versionMessage(request.parent, key, version, true);
    },
    UpdateCryptoKeyPrimaryVersion: (request: UpdateCryptoKeyPrimaryVersionRequest) => {
      const key = index().cryptoKey(request.name, 'name');
      if (request.cryptoKeyVersionId === '') throw invalidArgument('crypto_key_version_id is required.');
      if (key.purpose !== 'ENCRYPT_DECRYPT') {
        throw failedPrecondition(`CryptoKey ${request.name} has purpose ${key.purpose}: only ENCRYPT_DECRYPT keys have a primary version.`);
      }
      const versionName = `${request.name}/cryptoKeyVersions/${request.cryptoKeyVersionId}`;
      const version = key.versions.find((candidate) => candidate.id === request.cryptoKeyVersionId);
      if (version === undefined) throw notFound('CryptoKeyVersion', versionName);
      if (version.state !== 'ENABLED') throw failedPrecondition(`CryptoKeyVersion ${versionName} is ${version.state}: only an ENABLED version can become primary.`);
      key.primaryVersionId = version.id;
      return cryptoKeyMessage(keyRingOf(request.name), key, true);
    },
    UpdateCryptoKeyVersion: (request: UpdateCryptoKeyVersionRequest) => {
      const name = request.cryptoKeyVersion?.name ?? '';
      const { key, version } = index().version(name, 'crypto_key_version.name');
      maskPaths(request.updateMask, ['state'], 'CryptoKeyVersion');
      const wanted = request.cryptoKeyVersion?.state ?? '';
      if (wanted !== 'ENABLED' && wanted !== 'DISABLED') {
        throw invalidArgument(`state can only be changed to ENABLED or DISABLED with UpdateCryptoKeyVersion (got ${wanted}); use DestroyCryptoKeyVersion or RestoreCryptoKeyVersion.`);
      }
      if (version.state !== 'ENABLED' && version.state !== 'DISABLED') {
        throw failedPrecondition(`CryptoKeyVersion ${name} is ${version.state}: only ENABLED and DISABLED versions can change state this way.`);
      }
      version.state = wanted;
      return versionMessage(keyOf(name), key, version, true);
    },
    DestroyCryptoKeyVersion: (request: NameRequest) => {
      const { key, version } = index().version(request.name);
      if (version.state !== 'ENABLED' && version.state !== 'DISABLED') {
        throw failedPrecondition(`CryptoKeyVersion ${request.name} is ${version.state}: only ENABLED or DISABLED versions can be scheduled for destruction.`);
      }
      const duration = key.destroyScheduledDurationSeconds ?? DEFAULT_DESTROY_SCHEDULED_SECONDS;
      version.state = 'DESTROY_SCHEDULED';
      version.destroyTime = new Date(Date.now() + duration * 1000).toISOString();
      return versionMessage(keyOf(request.name), key, version, true);
    },
    RestoreCryptoKeyVersion: (request: NameRequest) => {
      const { key, version } = index().version(request.name);
      if (version.state !== 'DESTROY_SCHEDULED') {
        throw failedPrecondition(`CryptoKeyVersion ${request.name} is ${version.state}: only a version scheduled for destruction can be restored.`);
      }
      version.state = 'DISABLED';
      delete version.destroyTime;
      return versionMessage(keyOf(request.name), key, version, true);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The server

interface ActiveFault {
  fault: GcpFault;
  remaining: number;
}

type Handler = (request: never) => Message;

/** Another gRPC service answered on the same port, so one `endpoint` serves both (test/support/gcp-resource-manager-server.ts). */
export interface ExtraGrpcService {
  definition: grpc.ServiceDefinition;
  implementation: grpc.UntypedServiceImplementation;
}

export async function startGcpKmsServer(estate: GcpEstate, options: { faults?: GcpFault[]; services?: ExtraGrpcService[] } = {}): Promise<GcpKmsServer> {
  validateEstate(estate);
  let index = new EstateIndex(structuredClone(estate));
  let faults: ActiveFault[] = [];
  const calls: GcpKmsCall[] = [];
  const pager = new Pager();
  const pending = new Set<() => void>();

  const setFaults = (list: GcpFault[]): void => {
    faults = list.map((fault) => ({ fault: { ...fault }, remaining: fault.times ?? Infinity }));
  };
  setFaults(options.faults ?? []);

  const takeFault = (method: string, resource: string): GcpFault | undefined => {
    for (const active of faults) {
      if (active.fault.method !== method || active.remaining <= 0) continue;
      if (active.fault.resource !== undefined && active.fault.resource !== resource) continue;
      active.remaining -= 1;
      return active.fault;
    }
    return undefined;
  };

  const wait = (ms: number, call: grpc.ServerUnaryCall<unknown, unknown>): Promise<void> =>
    new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        pending.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      pending.add(done);
      call.once('cancelled', done);
    });

  const target = (request: Record<string, unknown>): string => {
    for (const field of ['parent', 'name', 'resource']) {
      const value = request[field];
      if (typeof value === 'string' && value !== '') return value;
    }
    // UpdateCryptoKey and UpdateCryptoKeyVersion name their resource inside the message they carry.
    for (const field of ['cryptoKey', 'cryptoKeyVersion']) {
      const name = (request[field] as { name?: unknown } | null | undefined)?.name;
      if (typeof name === 'string' && name !== '') return name;
    }
    return '';
  };

  const unary =
    (method: string, run: Handler | undefined, serviceName: string) =>
    (call: grpc.ServerUnaryCall<Record<string, unknown>, Message>, callback: grpc.sendUnaryData<Message>): void => {
      void (async () => {
        const request = call.request;
        const resource = target(request);
        const entry: GcpKmsCall = { method, resource };
        if (method.startsWith('List')) {
          entry.pageSize = Number(request['pageSize'] ?? 0);
          entry.pageToken = String(request['pageToken'] ?? '');
        }
        if (method === 'UpdateCryptoKey' || method === 'UpdateCryptoKeyVersion') {
          entry.updateMask = [...((request['updateMask'] as FieldMask | null | undefined)?.paths ?? [])];
        }
        calls.push(entry);
        const fault = takeFault(method, resource);
        if (fault !== undefined) entry.fault = fault.code;
        if (fault?.delayMs !== undefined && fault.delayMs > 0) await wait(fault.delayMs, call);
        if (call.cancelled) return;
        if (fault !== undefined) {
          callback(faultError(fault, method, resource));
          return;
        }
        if (run === undefined) {
          callback(statusError(grpc.status.UNIMPLEMENTED, `Method ${serviceName}/${method} is not implemented by the keydrift test server.`));
          return;
        }
        try {
          callback(null, run(request as never));
        } catch (error) {
          callback(isStatusError(error) ? error : statusError(grpc.status.INTERNAL, String((error as Error)?.stack ?? error)));
        }
      })();
    };

  const kms: Record<string, Handler> = {
    ListKeyRings: (request: ListRequest) => {
      rejectFilter(request);
      const location = index.location(request.parent);
      const rings = location.keyRings.map((ring) => keyRingMessage(`${request.parent}/keyRings/${ring.id}`, ring));
      const page = pager.page('ListKeyRings', request.parent, request, rings);
      return { keyRings: page.items, nextPageToken: page.nextPageToken, totalSize: rings.length };
    },
    ListCryptoKeys: (request: ListCryptoKeysRequest) => {
      rejectFilter(request);
      const ring = index.keyRing(request.parent);
      const full = request.versionView === 'FULL';
      const keys = ring.keys.map((key) => cryptoKeyMessage(request.parent, key, full));
      const page = pager.page('ListCryptoKeys', request.parent, request, keys);
      return { cryptoKeys: page.items, nextPageToken: page.nextPageToken, totalSize: keys.length };
    },
    ListCryptoKeyVersions: (request: ListCryptoKeyVersionsRequest) => {
      rejectFilter(request);
      const key = index.cryptoKey(request.parent);
      const full = request.view === 'FULL';
      const versions = key.versions.map((version) => versionMessage(request.parent, key, version, full));
      const page = pager.page('ListCryptoKeyVersions', request.parent, request, versions);
      return { cryptoKeyVersions: page.items, nextPageToken: page.nextPageToken, totalSize: versions.length };
    },
    GetKeyRing: (request: NameRequest) => keyRingMessage(request.name, index.keyRing(request.name, 'name')),
    GetCryptoKey: (request: NameRequest) => {
      const key = index.cryptoKey(request.name, 'name');
      return cryptoKeyMessage(request.name.slice(0, request.name.lastIndexOf('/cryptoKeys/')), key, true);
    },
    GetCryptoKeyVersion: (request: NameRequest) => {
      const { key, version } = index.version(request.name);
      return versionMessage(request.name.slice(0, request.name.lastIndexOf('/cryptoKeyVersions/')), key, version, true);
    },
    ...writeHandlers(() => index),
  };

  const locations: Record<string, Handler> = {
    ListLocations: (request: ListLocationsRequest) => {
      rejectFilter(request);
      const project = index.project(request.name);
      const all = project.locations.map((l) => locationMessage(project.id, l.id));
      const page = pager.page('ListLocations', request.name, request, all);
      return { locations: page.items, nextPageToken: page.nextPageToken };
    },
    GetLocation: (request: NameRequest) => {
      const location = index.location(request.name, 'name');
      const projectId = LOCATION_RE.exec(request.name)?.[1] ?? '';
      return locationMessage(projectId, location.id);
    },
  };

  const iam: Record<string, Handler> = {
    GetIamPolicy: (request: GetIamPolicyRequest) => {
      if (CRYPTO_KEY_RE.test(request.resource)) return policyMessage(index.cryptoKey(request.resource, 'resource').iamBindings);
      if (KEY_RING_RE.test(request.resource)) return policyMessage(index.keyRing(request.resource, 'resource').iamBindings);
      throw statusError(grpc.status.INVALID_ARGUMENT, `Invalid resource: ${JSON.stringify(request.resource)} is not a KeyRing or CryptoKey name.`);
    },
  };

  const server = new grpc.Server();
  for (const [serviceName, handlers] of [
    ['google.cloud.kms.v1.KeyManagementService', kms],
    ['google.cloud.location.Locations', locations],
    ['google.iam.v1.IAMPolicy', iam],
  ] as const) {
    const definition = serviceDefinition(serviceName);
    const implementation: grpc.UntypedServiceImplementation = {};
    for (const [key, method] of Object.entries(definition)) {
      if (method.requestStream || method.responseStream) continue;
      const rpcName = method.path.slice(method.path.lastIndexOf('/') + 1);
      implementation[key] = unary(rpcName, handlers[rpcName], serviceName);
    }
    server.addService(definition, implementation);
  }
  for (const extra of options.services ?? []) server.addService(extra.definition, extra.implementation);

  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound)));
  });

  return {
    endpoint: `127.0.0.1:${port}`,
    port,
    calls,
    setEstate(next: GcpEstate): void {
      validateEstate(next);
      index = new EstateIndex(structuredClone(next));
    },
    snapshot: () => structuredClone(index.estate),
    setFaults,
    stop(): Promise<void> {
      for (const release of [...pending]) release();
      return new Promise((resolve) => {
        const force = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 500);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
    },
  };
}

/** The @grpc/grpc-js module google-gax (and so @google-cloud/kms) loads: its credentials are the ones the client accepts. */
export function gaxGrpcPath(): string {
  return createRequire(path.join(GAX_DIR, 'package.json')).resolve('@grpc/grpc-js');
}

/** The @grpc/grpc-js module this project resolves. */
export function projectGrpcPath(): string {
  return require.resolve('@grpc/grpc-js');
}
