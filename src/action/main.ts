import { appendFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { main } from '../cli/main.ts';
import type { Report } from '../report/types.ts';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { reachesThreshold } from '../findings/outcome.ts';
import type { FailOn } from '../config/types.ts';

// The GitHub Action: a thin shell over the CLI. Inputs arrive as INPUT_<NAME> variables, outputs
// go to $GITHUB_OUTPUT, the Markdown report to $GITHUB_STEP_SUMMARY, and new findings at or above
// the threshold become annotations.

const ANNOTATION_LIMIT = 50;

export function input(name: string): string {
  return (process.env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] ?? '').trim();
}

export function cliArguments(): string[] {
  const args = ['scan', '--config', input('config') || 'keydrift.yaml'];
  const formats = new Set((input('formats') || 'json,sarif,md').split(',').map((format) => format.trim()).filter(Boolean));
  formats.add('json'); // outputs and the summary are read from it
  formats.add('md');
  args.push('--format', [...formats].join(','), '--out', input('out-dir') || 'reports', '--fail-on', input('fail-on') || 'high');
  if (input('baseline')) args.push('--baseline', input('baseline'));
  if (input('fail-on-new-only') === 'true') args.push('--fail-on-new-only');
  if (input('now')) args.push('--now', input('now'));
  if (input('profile')) args.push('--profile', input('profile'));
  return args;
}

function setOutput(name: string, value: string): void {
  const file = process.env['GITHUB_OUTPUT'];
  if (!file) return;
  const delimiter = `keydrift_${randomUUID()}`;
  appendFileSync(file, `${name}<<${delimiter}\n${value}\n${delimiter}\n`);
}

/** Workflow-command escaping (data and properties differ). */
function escapeData(text: string): string {
  return text.replaceAll('%', '%25').replaceAll('\r', '%0D').replaceAll('\n', '%0A');
}
function escapeProperty(text: string): string {
  return escapeData(text).replaceAll(':', '%3A').replaceAll(',', '%2C');
}

export async function run(): Promise<number> {
  const outDir = input('out-dir') || 'reports';
  const args = cliArguments();
  const exitCode = await main(args);
  let report: Report | null = null;
  try {
    report = JSON.parse(await readFile(path.join(outDir, 'keydrift.json'), 'utf8')) as Report;
  } catch {
    // exit 2: nothing was evaluated, no report to describe
  }
  setOutput('exit-code', String(exitCode));
  if (!report) {
    setOutput('compliant', 'false');
    return exitCode;
  }
  const standing = report.findings.filter((finding) => !finding.waiver && finding.baselineState !== 'absent');
  setOutput('json-file', path.join(outDir, 'keydrift.json'));
  setOutput('sarif-file', (input('formats') || 'json,sarif,md').includes('sarif') ? path.join(outDir, 'keydrift.sarif') : '');
  setOutput('findings', String(standing.length));
  setOutput('new-findings', String(report.summary.new));
  setOutput('fixed-findings', String(report.summary.fixed));
  setOutput('compliant', String(report.summary.compliant));
  const summaryFile = process.env['GITHUB_STEP_SUMMARY'];
  if (summaryFile) appendFileSync(summaryFile, await readFile(path.join(outDir, 'keydrift.md'), 'utf8'));

  const failOn = (input('fail-on') || 'high') as FailOn;
  const annotate = standing.filter(
    (finding) => reachesThreshold(finding.severity, failOn) && (report.drift === undefined || finding.baselineState === 'new'),
  );
  for (const finding of annotate.slice(0, ANNOTATION_LIMIT)) {
    const { file, region } = finding.declaredAt;
    const level = finding.severity === 'critical' || finding.severity === 'high' ? 'error' : 'warning';
    process.stdout.write(
      `::${level} file=${escapeProperty(file)},line=${region.startLine},endLine=${region.endLine},title=${escapeProperty(`${finding.ruleId} ${finding.title}`)}::${escapeData(`${finding.message} Remediation: ${finding.remediation.text}`)}\n`,
    );
  }
  if (annotate.length > ANNOTATION_LIMIT) process.stdout.write(`::notice::${annotate.length - ANNOTATION_LIMIT} more findings at or above ${failOn}: see the job summary and the reports\n`);
  return exitCode;
}

process.exitCode = await run();
