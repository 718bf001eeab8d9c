import type { KeyObject } from 'node:crypto';
import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';
import { inventoryDigest } from '../findings/fingerprint.ts';
import { DEFAULT_MAX_EVIDENCE_FILE_BYTES } from '../inventory/file.ts';
import { countBySeverity, exitCodeFor } from '../findings/outcome.ts';
import type { Finding } from '../findings/types.ts';
import { publicKeyFingerprint } from '../util/ed25519-keys.ts';
import { displayPath } from '../util/paths.ts';
import { readRegularFile } from '../util/read-regular-file.ts';
import { describeError, fieldPath, validator } from '../util/schemas.ts';
import {
  MANIFEST_FILE,
  manifestSignatureProblem,
  MAX_MANIFEST_BYTES,
  MAX_SIGNATURE_BYTES,
  parseManifest,
  POLICY_DIGEST_FILE,
  REPORT_FILE,
  sha256Hex,
  SIGNATURE_FILE,
  type EvidenceManifest,
  type ManifestFile,
} from './evidence-manifest.ts';
import { EvidenceFolderError } from './evidence-bundle.ts';
import type { Report } from './types.ts';

// What `keydrift verify` checks of a bundle before re-deriving its findings (that needs the policy
// engine, a layer above this one). Each check is one verdict an auditor can read on its own.

export type CheckStatus = 'ok' | 'fail' | 'not checked' | 'skipped';

export interface Check {
  name: string;
  status: CheckStatus;
  detail: string;
}

export interface CheckedFiles {
  checks: Check[];
  /** Null when there is no readable, well-formed manifest: nothing else in the folder is vouched for. */
  manifest: EvidenceManifest | null;
  /** The bytes the report's digest was checked on, when the report could be read. */
  reportBytes: Buffer | null;
  /** policy-digest.txt, when it is listed and could be read. */
  policyDigestText: string | null;
}

const ok = (name: string, detail: string): Check => ({ name, status: 'ok', detail });
const fail = (name: string, detail: string): Check => ({ name, status: 'fail', detail });

/** The manifest, its signature, every listed file byte for byte, and no file left unlisted. */
export async function checkBundleFiles(dir: string, publicKey: KeyObject | undefined): Promise<CheckedFiles> {
  const entries = await folderEntries(dir);
  const checks: Check[] = [];
  const result: CheckedFiles = { checks, manifest: null, reportBytes: null, policyDigestText: null };

  const manifestText = await readEntry(dir, entries, MANIFEST_FILE, MAX_MANIFEST_BYTES);
  if (typeof manifestText === 'string') {
    checks.push(fail('manifest', `${MANIFEST_FILE}: ${manifestText}`));
    return result;
  }
  // The signature is over the bytes, so it is judged before they are trusted enough to parse.
  checks.push(await checkSignature(dir, entries, manifestText, publicKey));
  const manifest = parseManifest(manifestText.toString('utf8'));
  if (typeof manifest === 'string') {
    checks.push(fail('manifest', `${MANIFEST_FILE} is not a keydrift evidence manifest: ${manifest}`));
    return result;
  }
  result.manifest = manifest;
  checks.push(ok('manifest', `${manifest.files.length} files listed, bundled by ${manifest.tool.name} ${manifest.tool.version}`));

  for (const file of manifest.files) {
    // A file of another size differs whatever its bytes, so the manifest bounds the read; the
    // report alone is read up to the evidence limit, for its findings are checked even when it changed.
    const limit = file.name === REPORT_FILE ? Math.max(file.size, DEFAULT_MAX_EVIDENCE_FILE_BYTES) : file.size;
    const size = entries.get(file.name);
    const bytes = typeof size === 'number' && size > limit ? size : await readEntry(dir, entries, file.name, limit);
    checks.push(fileCheck(file, bytes));
    if (typeof bytes !== 'object') continue;
    if (file.name === REPORT_FILE) result.reportBytes = bytes;
    if (file.name === POLICY_DIGEST_FILE) result.policyDigestText = bytes.toString('utf8');
  }

  const listed = new Set([MANIFEST_FILE, SIGNATURE_FILE, ...manifest.files.map((file) => file.name)]);
  const unlisted = [...entries.keys()].filter((name) => !listed.has(name)).sort();
  for (const name of unlisted) checks.push(fail(`unlisted ${name}`, `not listed in ${MANIFEST_FILE}: a file was added to the bundle`));
  if (unlisted.length === 0) checks.push(ok('unlisted files', `none: the folder holds only the listed files and ${MANIFEST_FILE}${entries.has(SIGNATURE_FILE) ? ` and ${SIGNATURE_FILE}` : ''}`));
  return result;
}

/** Each entry of the bundle folder by name, with its size when it is a regular file (null otherwise). */
async function folderEntries(dir: string): Promise<Map<string, number | null>> {
  const shown = displayPath(dir);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new EvidenceFolderError(`${shown}: ${code === 'ENOENT' ? 'no such folder' : code === 'ENOTDIR' ? 'not a folder' : `cannot read folder (${code ?? 'EIO'})`}`);
  }
  const entries = new Map<string, number | null>();
  for (const name of names) {
    // lstat: a symbolic link is not a bundled file, wherever it points.
    const info = await lstat(path.join(dir, name)).catch(() => null);
    entries.set(name, info?.isFile() ? info.size : null);
  }
  return entries;
}

/** The bytes of a regular file of the bundle, or why they cannot be checked. */
async function readEntry(dir: string, entries: Map<string, number | null>, name: string, maxBytes: number): Promise<Buffer | string> {
  if (!entries.has(name)) return 'missing';
  const size = entries.get(name);
  if (size === null) return 'not a regular file';
  if (size !== undefined && size > maxBytes) return `larger than ${maxBytes} bytes`;
  try {
    return await readRegularFile(path.join(dir, name), maxBytes);
  } catch (error) {
    return (error as Error).message.replace(/, skipped$/, '');
  }
}

/** `found`: the bytes, the size when it differs from the listed one, or why the file cannot be read. */
function fileCheck(file: ManifestFile, found: Buffer | number | string): Check {
  const name = `file ${file.name}`;
  if (typeof found === 'string') return fail(name, found === 'missing' ? `missing: listed in ${MANIFEST_FILE} but not in the bundle` : found);
  const size = typeof found === 'number' ? found : found.length;
  if (typeof found === 'number' || size !== file.size) return fail(name, `size ${size} bytes, not the ${file.size} listed in ${MANIFEST_FILE}`);
  const digest = sha256Hex(found);
  if (digest !== file.sha256) return fail(name, `digest mismatch: SHA-256 ${digest}, not the ${file.sha256} listed in ${MANIFEST_FILE}`);
  return ok(name, `${file.size} bytes, SHA-256 as listed`);
}

async function checkSignature(dir: string, entries: Map<string, number | null>, manifestBytes: Buffer, publicKey: KeyObject | undefined): Promise<Check> {
  if (!publicKey) {
    return entries.has(SIGNATURE_FILE)
      ? { name: 'signature', status: 'not checked', detail: `${SIGNATURE_FILE} present but not checked: give --public-key to check it` }
      : { name: 'signature', status: 'not checked', detail: `the bundle is not signed (no ${SIGNATURE_FILE})` };
  }
  const text = await readEntry(dir, entries, SIGNATURE_FILE, MAX_SIGNATURE_BYTES);
  if (typeof text === 'string') return fail('signature', `${SIGNATURE_FILE}: ${text === 'missing' ? 'missing: the bundle is not signed' : text}`);
  const problem = manifestSignatureProblem(manifestBytes, text.toString('utf8'), publicKey);
  return problem ? fail('signature', problem) : ok('signature', `${MANIFEST_FILE} signed by the given key (${publicKeyFingerprint(publicKey)})`);
}

/** The report in `bytes` as `keydrift report --from` accepts it, or why it is not one ("not valid JSON", "not a keydrift JSON report: <field>: <problem>"). */
export function parseReport(bytes: Buffer): Report | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch {
    return 'not valid JSON';
  }
  const problem = reportSchemaProblem(parsed);
  return problem === null ? (parsed as Report) : `not a keydrift JSON report: ${problem}`;
}

/** Null when `value` matches schemas/report.schema.json; else the first problem ("<field>: <problem>"). */
export function reportSchemaProblem(value: unknown): string | null {
  const validate = validator('report');
  if (validate(value)) return null;
  const error = validate.errors![0]!;
  return `${fieldPath(error.instancePath)}: ${describeError(error)}`;
}

/** The digests and clock the manifest and policy-digest.txt record agree with the report's own, and its inventory digest is right. */
export function checkRecordedDigests(manifest: EvidenceManifest, report: Report, policyDigestText: string | null): Check {
  const name = 'recorded digests';
  const recorded = manifest.report;
  const pairs: [string, unknown, unknown][] = [
    ['clock (scan.now)', recorded.now, report.scan.now],
    ['inventory digest', recorded.inventoryDigest, report.scan.inventoryDigest],
    ['policy digest', recorded.policyDigest, report.scan.policyDigest],
    ['config digest', recorded.configDigest, report.scan.configDigest],
    ['tool version', recorded.toolVersion, report.tool.version],
  ];
  for (const [what, inManifest, inReport] of pairs) {
    if (inManifest !== inReport) return fail(name, `${MANIFEST_FILE} records ${what} ${JSON.stringify(inManifest)}, ${REPORT_FILE} ${JSON.stringify(inReport)}`);
  }
  if (policyDigestText === null) return fail(name, `${POLICY_DIGEST_FILE} is not in the bundle`);
  if (policyDigestText.trim() !== report.scan.policyDigest) return fail(name, `${POLICY_DIGEST_FILE} does not hold the report's policy digest ${report.scan.policyDigest}`);
  const inventory = inventoryDigest(report.inventory);
  if (inventory !== report.scan.inventoryDigest) return fail(name, `${REPORT_FILE}: its inventory digests to ${inventory}, not the ${report.scan.inventoryDigest} it records: the inventory was edited`);
  return ok(name, `clock ${report.scan.now}, inventory ${report.scan.inventoryDigest}, policy ${report.scan.policyDigest} agree across ${MANIFEST_FILE}, ${POLICY_DIGEST_FILE} and ${REPORT_FILE}`);
}

/** The verdict the report states (severity counts, exit code) is the one its findings give. */
export function checkSummary(report: Report): Check {
  const name = 'summary';
  const counts = countBySeverity(report.findings);
  const stated = report.summary.findings;
  const differing = (Object.keys(counts) as (keyof typeof counts)[]).filter((severity) => counts[severity] !== stated[severity]);
  if (differing.length > 0) {
    return fail(name, `the summary counts ${differing.map((severity) => `${stated[severity]} ${severity}`).join(', ')}; the findings hold ${differing.map((severity) => `${counts[severity]} ${severity}`).join(', ')}`);
  }
  // With a baseline the run may have failed on new findings only: either verdict is the findings'.
  const expected = new Set([exitCodeFor(report.findings, report.sources, report.scan.failOn), ...(report.drift ? [exitCodeFor(report.findings, report.sources, report.scan.failOn, true)] : [])]);
  if (!expected.has(report.summary.exitCode) || report.summary.compliant !== (report.summary.exitCode === 0)) {
    return fail(name, `the summary states exit ${report.summary.exitCode} (compliant: ${report.summary.compliant}); the findings give exit ${[...expected].join(' or ')}`);
  }
  return ok(name, `severity counts and exit ${report.summary.exitCode} follow from the findings`);
}

/** What re-deriving compares: a finding's identity, rule, severity and whether a waiver covers it. */
function findingKey(finding: Finding): string {
  return `${finding.ruleId} ${finding.severity}${finding.waiver ? ' (waived)' : ''}`;
}

const LISTED_DIFFERENCES = 5;

/** Null when `rederived` holds the same findings as the bundle's standing ones; else what differs. */
export function findingsDifference(bundled: readonly Finding[], rederived: readonly Finding[]): string | null {
  // A finding marked absent was fixed since the baseline: the report carries it, evaluation does not.
  const before = new Map(bundled.filter((finding) => finding.baselineState !== 'absent').map((finding) => [finding.fingerprint, finding]));
  const after = new Map(rederived.map((finding) => [finding.fingerprint, finding]));
  const differences: string[] = [];
  for (const [fingerprint, finding] of before) {
    const again = after.get(fingerprint);
    if (!again) differences.push(`${fingerprint} (${findingKey(finding)}, ${finding.resource.uid}) is in the bundle but not re-derived`);
    else if (findingKey(again) !== findingKey(finding)) differences.push(`${fingerprint} is ${findingKey(finding)} in the bundle, ${findingKey(again)} re-derived`);
  }
  for (const [fingerprint, finding] of after) {
    if (!before.has(fingerprint)) differences.push(`${fingerprint} (${findingKey(finding)}, ${finding.resource.uid}) is re-derived but not in the bundle`);
  }
  if (differences.length === 0) return null;
  const more = differences.length > LISTED_DIFFERENCES ? `; ${differences.length - LISTED_DIFFERENCES} more` : '';
  return `${differences.length} ${differences.length === 1 ? 'finding differs' : 'findings differ'}: ${differences.slice(0, LISTED_DIFFERENCES).join('; ')}${more}`;
}

/** The first failed check, which the closing line names. */
export function firstFailure(checks: readonly Check[]): Check | null {
  return checks.find((check) => check.status === 'fail') ?? null;
}
