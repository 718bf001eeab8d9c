import { DEFAULT_MAX_EVIDENCE_FILE_BYTES } from '../../inventory/file.ts';
import { EvidenceFolderError, writeEvidenceBundle } from '../../report/evidence-bundle.ts';
import { parseReport } from '../../report/evidence-verify.ts';
import type { Report } from '../../report/types.ts';
import { writeReports } from '../../report/write.ts';
import { mergeReports, MergeError } from '../../report/merge.ts';
import { displayPath } from '../../util/paths.ts';
import { LOGGING_OPTIONS, parse, parseFormats, sharedHelp, sharedOptions, UsageError } from '../options.ts';
import { help } from './scan.ts';
import { historyOption } from './shared.ts';
import { terminalLine } from '../../util/terminal.ts';
import { privateKeyFrom, publicKeyFingerprint, publicKeyFrom } from '../../util/ed25519-keys.ts';
import { readRegularFile } from '../../util/read-regular-file.ts';
import { readKey } from './audit.ts';

export const REPORT_HELP = `Usage: keydrift report --from REPORT.json --format LIST [--out DIR]
       keydrift report --merge SHARD.json SHARD.json... --format LIST [--out DIR] [--name NAME]
       keydrift report --from REPORT.json --evidence DIR [--sign-key KEY.pem]

Re-render a saved JSON report in other formats (sarif, md, html, csv, json, ocsf, prom). No
collection and no evaluation: the findings and their verdict are the report's own. Exit 0 once
written, 2 on bad input.

Options:
${sharedHelp('format', 'out', 'history', 'quiet', 'no-color', 'help')}
  --from FILE            the saved JSON report (required)
  --evidence DIR         also write an evidence bundle for an auditor into DIR: the report as read,
                         its HTML and SARIF renderings, policy-digest.txt and manifest.json (the
                         SHA-256 and size of each file, the report's digests and clock); DIR must be
                         new, empty or a previous bundle (replaced whole); check it with
                         "keydrift verify DIR"
  --sign-key FILE        with --evidence: Ed25519 private key (PEM, unencrypted PKCS#8) that signs
                         manifest.json into manifest.sig`;

export async function report(argv: string[]): Promise<number> {
  // Nothing is judged again: --config, --now, --fail-on, --baseline and --profile would be ignored, so they are refused.
  const { values, positionals } = parse(argv, {
    ...sharedOptions('format', 'out', 'history'),
    ...LOGGING_OPTIONS,
    from: { type: 'string' },
    merge: { type: 'boolean' },
    name: { type: 'string' },
    evidence: { type: 'string' },
    'sign-key': { type: 'string' },
  });
  if (values['help']) return help(REPORT_HELP);
  const evidence = values['evidence'] as string | undefined;
  const signKeyFile = values['sign-key'] as string | undefined;
  if (signKeyFile !== undefined && evidence === undefined) throw new UsageError('--sign-key signs an evidence bundle: use it with --evidence DIR');
  if (evidence !== undefined && values['merge']) throw new UsageError('--evidence bundles one saved report: use it with --from, not --merge');
  const formats = parseFormats(values['format'] as string | undefined);
  if (!formats && evidence === undefined) throw new UsageError('report needs --format (e.g. --format sarif,md) or --evidence DIR');
  if (values['merge']) {
    if (!formats) throw new UsageError('report --merge needs --format (e.g. --format sarif,md)');
    if (positionals.length === 0) throw new UsageError('report --merge needs the shard reports (keydrift report --merge a.json b.json ...)');
    const shards = await Promise.all(positionals.map((file) => readReport(file)));
    let merged: Report;
    try {
      merged = mergeReports(shards, values['name'] as string | undefined);
    } catch (error) {
      if (error instanceof MergeError) throw new UsageError(`report --merge: ${error.message}`);
      throw error;
    }
    const files = await writeReports(merged, formats, (values['out'] as string | undefined) ?? 'reports');
    if (!values['quiet']) process.stdout.write(`${terminalLine(`keydrift: merged ${shards.length} shards (${merged.summary.items} items, exit ${merged.summary.exitCode}) -> ${files.map((file) => displayPath(file)).join(', ')}`)}\n`);
    return merged.summary.exitCode;
  }
  const from = values['from'] as string | undefined;
  if (!from) throw new UsageError('report needs --from REPORT.json (or --merge SHARD.json...)');
  // The key is read before anything is written: a bad key must not leave half the output behind.
  const signKey = signKeyFile === undefined ? undefined : await readKey(signKeyFile, (pem) => privateKeyFrom(pem));
  const { bytes, report: saved } = await readReportFile(from);
  const lines: string[] = [];
  if (formats) {
    const history = await historyOption(values);
    const files = await writeReports(saved, formats, (values['out'] as string | undefined) ?? 'reports', history ? { history } : {});
    lines.push(`keydrift: ${files.map((file) => displayPath(file)).join(', ')}`);
  }
  if (evidence !== undefined) {
    let bundled: string[];
    try {
      bundled = await writeEvidenceBundle(evidence, bytes, saved, signKey);
    } catch (error) {
      if (error instanceof EvidenceFolderError) throw new UsageError(`--evidence: ${error.message}`);
      throw error;
    }
    const signed = signKey ? ` (signed with ${publicKeyFingerprint(publicKeyFrom(signKey))})` : '';
    lines.push(`keydrift: evidence bundle ${displayPath(evidence)}: ${bundled.join(', ')}${signed}`);
  }
  if (!values['quiet']) process.stdout.write(lines.map((line) => `${terminalLine(line)}\n`).join(''));
  return 0;
}

async function readReport(file: string): Promise<Report> {
  return (await readReportFile(file)).report;
}

/** A saved report, schema-checked, with its exact bytes (an evidence bundle holds them unchanged). */
async function readReportFile(file: string): Promise<{ bytes: Buffer; report: Report }> {
  let bytes: Buffer;
  try {
    bytes = await readRegularFile(file, DEFAULT_MAX_EVIDENCE_FILE_BYTES);
  } catch (error) {
    throw new UsageError(`${displayPath(file)}: ${(error as Error).message.replace(/, skipped$/, '')}`);
  }
  const report = parseReport(bytes);
  if (typeof report === 'string') throw new UsageError(`${displayPath(file)}: ${report}`);
  return { bytes, report };
}
