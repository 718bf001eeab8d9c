import { appendFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { main } from '../cli/main.ts';
import type { Report } from '../report/types.ts';
import { FILE_NAMES } from '../report/write.ts';
import { bySeverity, EXIT, reachesThreshold } from '../findings/outcome.ts';
import type { FailOn } from '../model/severity.ts';
import { readRegularFile, removeStaleReports, reportOfThisRun, writtenThisRun } from './fresh-reports.ts';
import { isMainThread } from 'node:worker_threads';
import { hasAbandonedWork } from '../util/abandoned.ts';

// The GitHub Action: a thin shell over the CLI. Inputs arrive as INPUT_<NAME> variables, outputs
// go to $GITHUB_OUTPUT, the Markdown report to $GITHUB_STEP_SUMMARY, and new findings at or above
// the threshold become annotations. Only reports this run wrote are read (see fresh-reports.ts).

/** GitHub shows at most 10 annotations of each level per step; the rest get one honest notice. */
const ANNOTATIONS_PER_LEVEL = 10;
/** GitHub refuses a step's job summary beyond 1 MiB. */
const SUMMARY_LIMIT = 1024 * 1024;

export function input(name: string): string {
  return (process.env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] ?? '').trim();
}

/** The formats asked for; json (outputs) and md (job summary) are always written. */
export function formats(): string[] {
  const requested = new Set((input('formats') || 'json,sarif,md').split(',').map((format) => format.trim()).filter(Boolean));
  requested.add('json');
  requested.add('md');
  return [...requested];
}

export function cliArguments(): string[] {
  const args = ['scan', '--config', input('config') || 'keydrift.yaml'];
  args.push('--format', formats().join(','), '--out', input('out-dir') || 'reports', '--fail-on', input('fail-on') || 'high');
  if (input('baseline')) args.push('--baseline', input('baseline'));
  if (input('fail-on-new-only') === 'true') args.push('--fail-on-new-only');
  if (input('now')) args.push('--now', input('now'));
  if (input('profile')) args.push('--profile', input('profile'));
  if (input('timeout')) args.push('--timeout', input('timeout'));
  return args;
}

function setOutput(name: string, value: string): void {
  const file = process.env['GITHUB_OUTPUT'];
  if (!file) return;
  const delimiter = `keydrift_${randomUUID()}`;
  appendFileSync(file, `${name}<<${delimiter}\n${value}\n${delimiter}\n`);
}

function appendSummary(text: string): void {
  const file = process.env['GITHUB_STEP_SUMMARY'];
  if (file) appendFileSync(file, text);
}

/** Workflow-command escaping (data and properties differ). */
function escapeData(text: string): string {
  return text.replaceAll('%', '%25').replaceAll('\r', '%0D').replaceAll('\n', '%0A');
}
function escapeProperty(text: string): string {
  return escapeData(text).replaceAll(':', '%3A').replaceAll(',', '%2C');
}

async function scan(args: string[]): Promise<number> {
  try {
    return await main(args);
  } catch (error) {
    // main() reports its own errors; this is the last guard so the outputs below are always set.
    process.stderr.write(`keydrift: error: ${error instanceof Error ? error.message : String(error)}\n`);
    return EXIT.usage;
  }
}

export async function run(): Promise<number> {
  const outDir = input('out-dir') || 'reports';
  const leftOver = await removeStaleReports(outDir, input('baseline') ? [input('baseline')] : []);
  const startedAt = Date.now();
  const exitCode = await scan(cliArguments());
  const outcome = await reportOfThisRun(outDir, { exitCode, startedAt, finishedAt: Date.now() }, leftOver);
  if (!outcome.ok) {
    // A scan that exited 0 without a report this Action can trust has not shown compliance.
    const failed = exitCode === EXIT.compliant ? EXIT.usage : exitCode;
    reportScanFailure(exitCode, failed, outcome.problem);
    return failed;
  }
  setOutput('exit-code', String(exitCode));
  const report = outcome.value;
  const standing = report.findings.filter((finding) => !finding.waiver && finding.baselineState !== 'absent');
  const sarif = formats().includes('sarif') ? await writtenThisRun(outDir, FILE_NAMES.sarif, leftOver) : null;
  setOutput('scan-failed', 'false');
  setOutput('json-file', path.join(outDir, FILE_NAMES.json));
  setOutput('sarif-file', sarif ?? '');
  setOutput('findings', String(standing.length));
  setOutput('new-findings', String(report.summary.new));
  setOutput('fixed-findings', String(report.summary.fixed));
  setOutput('compliant', String(report.summary.compliant));
  // Exit 1 wins over 3: this says "incomplete" even when findings decided the exit code.
  setOutput('incomplete', String(report.sources.some((source) => source.status !== 'ok')));
  await summariseMarkdown(outDir, leftOver);

  const failOn = (input('fail-on') || 'high') as FailOn;
  annotate(report, standing, failOn);
  return exitCode;
}

/** No report from this run: outputs, summary and an error say so, and nothing older stands in. */
function reportScanFailure(cliExitCode: number, exitCode: number, problem: string): void {
  setOutput('exit-code', String(exitCode));
  for (const name of ['json-file', 'sarif-file', 'findings', 'new-findings', 'fixed-findings']) setOutput(name, '');
  setOutput('compliant', 'false');
  setOutput('incomplete', 'true');
  setOutput('scan-failed', 'true');
  const message = `keydrift exited ${cliExitCode} and this run has no report: ${problem}.`;
  appendSummary(`## keydrift: the scan failed\n\n${message}\n\nNo earlier report stands in for it; the cause is in the log of the keydrift step.\n`);
  process.stdout.write(`::error title=${escapeProperty('keydrift scan failed')}::${escapeData(`${message} See the log of this step.`)}\n`);
}

/** Where the full reports are: this run's page, whose artifacts a workflow uploads. */
function artifactLink(): string {
  const server = process.env['GITHUB_SERVER_URL'];
  const repository = process.env['GITHUB_REPOSITORY'];
  const run = process.env['GITHUB_RUN_ID'];
  if (!server || !repository || !run || !/^\d+$/.test(run) || !/^[\w.-]+\/[\w.-]+$/.test(repository) || !/^https:\/\/[\w.-]+(:\d+)?$/.test(server)) return '';
  return `\nThe full reports (JSON, SARIF, HTML) are this run's artifacts: ${server}/${repository}/actions/runs/${run}\n`;
}

async function summariseMarkdown(outDir: string, leftOver: ReadonlyMap<string, string>): Promise<void> {
  const file = await writtenThisRun(outDir, FILE_NAMES.md, leftOver);
  const markdown = file ? await readRegularFile(file, SUMMARY_LIMIT) : { ok: false as const, problem: `this run wrote no ${FILE_NAMES.md}` };
  if (markdown.ok) appendSummary(markdown.value + artifactLink());
  else appendSummary(`## keydrift\n\nThe Markdown report is not in this summary (${markdown.problem}): see the reports in ${outDir}.\n`);
}

function annotate(report: Report, standing: Report['findings'], failOn: FailOn): void {
  const annotated = standing.filter(
    (finding) => reachesThreshold(finding.severity, failOn) && (report.drift === undefined || finding.baselineState === 'new'),
  );
  const byLevel = { error: [] as Report['findings'], warning: [] as Report['findings'] };
  for (const finding of [...annotated].sort(bySeverity)) byLevel[finding.severity === 'critical' || finding.severity === 'high' ? 'error' : 'warning'].push(finding);
  for (const [level, findings] of Object.entries(byLevel)) {
    for (const finding of findings.slice(0, ANNOTATIONS_PER_LEVEL)) {
      const { file, region } = finding.declaredAt;
      process.stdout.write(
        `::${level} file=${escapeProperty(file)},line=${region.startLine},endLine=${region.endLine},title=${escapeProperty(`${finding.ruleId} ${finding.title}`)}::${escapeData(`${finding.message} Remediation: ${finding.remediation.text}`)}\n`,
      );
    }
    const more = findings.length - ANNOTATIONS_PER_LEVEL;
    if (more > 0) {
      process.stdout.write(`::notice::${more} more ${level === 'error' ? 'critical or high' : 'medium or lower'} findings at or above ${failOn} are not annotated (GitHub shows ${ANNOTATIONS_PER_LEVEL} per level): see the job summary and the reports\n`);
    }
  }
}

// The bundle is also the code of the policy sandbox's worker threads (src/engine/sandbox.ts): only
// the main thread runs the Action.
if (isMainThread) {
  const code = await run();
  // Outputs are written; collection cut off by --timeout must not keep the job waiting.
  if (hasAbandonedWork()) process.exit(code);
  process.exitCode = code;
}
