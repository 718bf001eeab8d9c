import path from 'node:path';
import { PolicyError } from '../../engine/engine.ts';
import { UnknownRuleError } from '../../findings/assemble.ts';
import { InventoryFileError, loadEvidence } from '../../inventory/file.ts';
import { evaluateEvidence } from '../../pipeline.ts';
import { EvidenceFolderError } from '../../report/evidence-bundle.ts';
import { REPORT_FILE } from '../../report/evidence-manifest.ts';
import {
  checkBundleFiles,
  checkRecordedDigests,
  checkSummary,
  findingsDifference,
  firstFailure,
  parseReport,
  type Check,
  type CheckedFiles,
} from '../../report/evidence-verify.ts';
import type { Report } from '../../report/types.ts';
import { publicKeyFrom } from '../../util/ed25519-keys.ts';
import { displayPath } from '../../util/paths.ts';
import { terminalLine } from '../../util/terminal.ts';
import { parse, UsageError } from '../options.ts';
import { readKey } from './audit.ts';
import { help } from './scan.ts';

export const VERIFY_HELP = `Usage: keydrift verify DIR [--public-key FILE]

Check an evidence bundle written by "keydrift report --from REPORT.json --evidence DIR", one line
per check: every file manifest.json lists, byte for byte (SHA-256 and size); no file it does not
list; the JSON report valid against the report schema and agreeing with the manifest's digests
and clock; and its findings re-derived in-process, as "keydrift evaluate" would, from its own
inventory at its recorded clock and policy (fingerprint, rule, severity and waiver of each).

  --public-key FILE      Ed25519 public key (PEM): manifest.sig must be its signature of the exact
                         bytes of manifest.json; without it, a manifest.sig is reported as not checked
  --quiet                print only the failed checks and the verdict
  -h, --help             this help

Exit codes: 0 every check holds, 1 a check failed (the verdict line names the first: a changed,
missing or unlisted file, a bad signature, or the findings that differ), 2 usage error (no such
folder, a key that is not Ed25519).`;

/** A bundle that fails a check is a finding about the bundle, not a usage error. */
const FAILED = 1;

export async function verify(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    'public-key': { type: 'string' },
    quiet: { type: 'boolean', short: 'q' },
    verbose: { type: 'boolean', short: 'v' },
    'no-color': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values['help']) return help(VERIFY_HELP);
  const [dir, ...extra] = positionals;
  if (!dir) throw new UsageError('verify needs the evidence bundle folder (keydrift verify DIR)');
  if (extra.length > 0) throw new UsageError(`verify: unexpected argument "${extra[0]}"`);
  const publicKeyFile = values['public-key'] as string | undefined;
  const publicKey = publicKeyFile === undefined ? undefined : await readKey(publicKeyFile, (pem) => publicKeyFrom(pem));

  let files: CheckedFiles;
  try {
    files = await checkBundleFiles(dir, publicKey);
  } catch (error) {
    if (error instanceof EvidenceFolderError) throw new UsageError(error.message);
    throw error;
  }
  const checks = [...files.checks, ...(await checkReport(dir, files))];

  const shown = checks.filter((check) => !values['quiet'] || check.status === 'fail');
  const failed = firstFailure(checks);
  const unsigned = checks.some((check) => check.name === 'signature' && check.status === 'not checked');
  const verdict = failed
    ? `keydrift verify: ${displayPath(dir)}: FAILED: ${failed.name}: ${failed.detail}`
    : `keydrift verify: ${displayPath(dir)}: every check holds${unsigned ? ' (signature not checked)' : ''}`;
  // File names, uids and messages come from the bundle: one escaped line each.
  process.stdout.write([...shown.map(line), verdict].map((text) => terminalLine(text) + '\n').join(''));
  return failed ? FAILED : 0;
}

const LABELS: Record<Check['status'], string> = { ok: 'ok', fail: 'FAIL', 'not checked': 'not checked', skipped: 'skipped' };

function line(check: Check): string {
  return `${LABELS[check.status].padEnd(12)}${check.name}: ${check.detail}`;
}

/** The bundled report: schema, agreement with the manifest, its own summary, and its findings re-derived. */
async function checkReport(dir: string, files: CheckedFiles): Promise<Check[]> {
  if (!files.manifest) return [];
  if (!files.reportBytes) return [{ name: 'report', status: 'skipped', detail: `${REPORT_FILE} could not be read: nothing to re-derive` }];
  const report = parseReport(files.reportBytes);
  if (typeof report === 'string') return [{ name: 'schema', status: 'fail', detail: `${REPORT_FILE}: ${report}` }];
  return [
    { name: 'schema', status: 'ok', detail: `${REPORT_FILE} is a keydrift JSON report (${report.inventory.length} items, ${report.findings.length} findings)` },
    checkRecordedDigests(files.manifest, report, files.policyDigestText),
    checkSummary(report),
    ...(await rederive(path.join(dir, REPORT_FILE), report)),
  ];
}

/** The evaluation `keydrift evaluate --inventory keydrift.json --now <scan.now>` runs, in-process. */
async function rederive(file: string, report: Report): Promise<Check[]> {
  const policy = report.scan.policy;
  let rederived: Report;
  try {
    // As evaluate reads it: one invalid item refuses the file, never a silent subset.
    const evidence = await loadEvidence(file, { invalidItems: 'reject' });
    rederived = await evaluateEvidence({
      items: evidence.items,
      sources: evidence.sources,
      now: new Date(report.scan.now),
      // As evaluate re-uses a recorded policy.
      policy: { ...policy, waivers: policy.waivers ?? [], bundles: policy.bundles ?? [] },
      failOn: report.scan.failOn,
      configName: report.scan.configName,
      configDigest: report.scan.configDigest,
      startedAt: new Date(),
      fallbackFile: REPORT_FILE,
    });
  } catch (error) {
    if (error instanceof InventoryFileError || error instanceof PolicyError || error instanceof UnknownRuleError) {
      return [{ name: 'findings', status: 'fail', detail: `cannot re-derive the findings: ${error.message}` }];
    }
    throw error;
  }
  const bundles = policy.bundles ?? [];
  const loaded = bundles.length > 0 ? ` (custom bundles loaded from ${bundles.join(', ')})` : '';
  const policyCheck: Check =
    rederived.scan.policyDigest === report.scan.policyDigest
      ? { name: 'policy', status: 'ok', detail: `re-derived with policy ${report.scan.policyDigest}, as recorded${loaded}` }
      : {
          name: 'policy',
          status: 'fail',
          detail: `re-derived with policy ${rederived.scan.policyDigest}, not the recorded ${report.scan.policyDigest}${loaded}: this keydrift's policies are not the scan's`,
        };
  const difference = findingsDifference(report.findings, rederived.findings);
  const findingsCheck: Check = difference
    ? { name: 'findings', status: 'fail', detail: `re-derived at ${report.scan.now}: ${difference}` }
    : { name: 'findings', status: 'ok', detail: `${rederived.findings.length} re-derived from ${rederived.inventory.length} items at ${report.scan.now}: fingerprints, rules, severities and waivers match` };
  return [policyCheck, findingsCheck];
}
