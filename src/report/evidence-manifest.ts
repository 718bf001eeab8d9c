import { createHash, sign, verify, type KeyObject } from 'node:crypto';
import { TOOL } from '../model/tool.ts';
import { MIB } from '../util/read-regular-file.ts';
import type { Report } from './types.ts';
import { FILE_NAMES } from './write.ts';

// The manifest is what an evidence bundle vouches for: every other file by SHA-256 and size, and
// the report's own digests and clock so the findings can be re-derived. A signature covers its
// exact bytes; the "kind" field at their start keeps that signature from passing for anything
// else keydrift signs (the audit log's head signature is over a message with another prefix).

export const MANIFEST_FILE = 'manifest.json';
export const SIGNATURE_FILE = 'manifest.sig';
export const REPORT_FILE = FILE_NAMES.json;
export const POLICY_DIGEST_FILE = 'policy-digest.txt';

const KIND = 'keydrift-evidence-bundle';
const MANIFEST_VERSION = 1;

/** A manifest larger than this is not one keydrift wrote (it lists a handful of files). */
export const MAX_MANIFEST_BYTES = MIB;
/** An Ed25519 signature is 64 bytes: 88 characters of base64. */
export const MAX_SIGNATURE_BYTES = 4096;
/** Past V8's longest string a report could not have been rendered, so no bundled file is larger. */
export const MAX_BUNDLED_FILE_BYTES = 1024 * MIB;

export interface ManifestFile {
  name: string;
  /** Hex SHA-256 of the file's bytes, as `sha256sum` prints it. */
  sha256: string;
  size: number;
}

export interface EvidenceManifest {
  kind: typeof KIND;
  version: typeof MANIFEST_VERSION;
  /** The keydrift that built the bundle. */
  tool: { name: string; version: string };
  /** What the bundled report records about its own derivation. */
  report: {
    file: string;
    toolVersion: string;
    now: string;
    inventoryDigest: string;
    policyDigest: string;
    configDigest: string | null;
  };
  /** The command that re-derives the findings from the bundled report alone. */
  rederive: string;
  files: ManifestFile[];
}

export function rederiveCommand(now: string): string {
  return `keydrift evaluate --inventory ${REPORT_FILE} --now ${now}`;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function buildManifest(report: Report, files: ReadonlyMap<string, Uint8Array>): EvidenceManifest {
  return {
    kind: KIND,
    version: MANIFEST_VERSION,
    tool: { ...TOOL },
    report: {
      file: REPORT_FILE,
      toolVersion: report.tool.version,
      now: report.scan.now,
      inventoryDigest: report.scan.inventoryDigest,
      policyDigest: report.scan.policyDigest,
      configDigest: report.scan.configDigest,
    },
    rederive: rederiveCommand(report.scan.now),
    files: [...files.keys()].sort().map((name) => ({ name, sha256: sha256Hex(files.get(name)!), size: files.get(name)!.byteLength })),
  };
}

export function manifestBytes(manifest: EvidenceManifest): Buffer {
  return Buffer.from(JSON.stringify(manifest, null, 2) + '\n');
}

/**
 * A bundled file name: one plain name inside the bundle folder. A manifest is data from whoever
 * handed over the bundle; a name such as "../../home/x/.ssh/id_ed25519" must never be read.
 */
const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const HEX64 = /^[0-9a-f]{64}$/;
const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** The manifest in `text`, or what keeps it from being one. */
export function parseManifest(text: string): EvidenceManifest | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return 'not JSON';
  }
  if (!isObject(parsed)) return 'not a JSON object';
  if (parsed['kind'] !== KIND) return `kind: not "${KIND}"`;
  if (parsed['version'] !== MANIFEST_VERSION) return `version: not ${MANIFEST_VERSION} (a bundle from another keydrift version?)`;
  const tool = parsed['tool'];
  if (!isObject(tool) || typeof tool['name'] !== 'string' || typeof tool['version'] !== 'string') return 'tool: not a name and version';
  const report = parsed['report'];
  if (!isObject(report)) return 'report: not an object';
  if (report['file'] !== REPORT_FILE) return `report.file: not "${REPORT_FILE}"`;
  for (const field of ['toolVersion', 'now'] as const) if (typeof report[field] !== 'string') return `report.${field}: not a string`;
  for (const field of ['inventoryDigest', 'policyDigest'] as const) {
    if (typeof report[field] !== 'string' || !DIGEST.test(report[field])) return `report.${field}: not a sha256: digest`;
  }
  if (report['configDigest'] !== null && typeof report['configDigest'] !== 'string') return 'report.configDigest: not a string or null';
  if (typeof parsed['rederive'] !== 'string') return 'rederive: not a string';
  const files = parsed['files'];
  if (!Array.isArray(files) || files.length === 0) return 'files: not a list of files';
  const names = new Set<string>();
  for (const [index, file] of files.entries()) {
    if (!isObject(file)) return `files[${index}]: not an object`;
    const name = file['name'];
    if (typeof name !== 'string' || !FILE_NAME.test(name) || name === MANIFEST_FILE || name === SIGNATURE_FILE) {
      return `files[${index}].name: not a plain file name of the bundle`;
    }
    if (names.has(name)) return `files[${index}].name: "${name}" is listed twice`;
    names.add(name);
    if (typeof file['sha256'] !== 'string' || !HEX64.test(file['sha256'])) return `files[${index}].sha256: not a hex SHA-256`;
    const size = file['size'];
    if (!Number.isSafeInteger(size) || (size as number) < 0 || (size as number) > MAX_BUNDLED_FILE_BYTES) return `files[${index}].size: not a size in bytes`;
  }
  if (!names.has(REPORT_FILE)) return `files: ${REPORT_FILE} is not listed`;
  return parsed as unknown as EvidenceManifest;
}

/** `manifest.sig`: the base64 Ed25519 signature of the manifest's exact bytes. */
export function signManifest(bytes: Uint8Array, privateKey: KeyObject): string {
  return sign(null, bytes, privateKey).toString('base64') + '\n';
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Null when `signatureText` is `publicKey`'s signature of exactly `bytes`; else why not. */
export function manifestSignatureProblem(bytes: Uint8Array, signatureText: string, publicKey: KeyObject): string | null {
  const text = signatureText.trim();
  if (!BASE64.test(text)) return `${SIGNATURE_FILE} is not a base64 signature`;
  const signature = Buffer.from(text, 'base64');
  if (signature.length !== 64) return `${SIGNATURE_FILE} is not an Ed25519 signature (${signature.length} bytes, not 64)`;
  return verify(null, bytes, publicKey, signature)
    ? null
    : `signature invalid: ${MANIFEST_FILE} was changed after signing, or not signed with this key`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
