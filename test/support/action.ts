import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { REPO } from './cli.ts';

// A bundled Action run the way the runner runs a node24 action: INPUT_* variables (hyphens kept),
// GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files, stdout for workflow commands.

/** What the Action outputs when this run wrote no report it can trust (exit 2). */
export const FAILED_OUTPUTS = {
  'exit-code': '2',
  'scan-failed': 'true',
  compliant: 'false',
  incomplete: 'true',
  'json-file': '',
  'sarif-file': '',
  findings: '',
  'new-findings': '',
  'fixed-findings': '',
};

export interface ActionRun {
  code: number;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  summary: string;
}

/** Runs `script` from `cwd` (the workspace); the output and summary files and HOME live in `dir`. */
export function runAction(script: string, inputs: Record<string, string>, dir: string, cwd: string, extraEnv: Record<string, string> = {}): Promise<ActionRun> {
  const outputFile = path.join(dir, `output-${Math.random().toString(36).slice(2)}`);
  const summaryFile = path.join(dir, `summary-${Math.random().toString(36).slice(2)}`);
  writeFileSync(outputFile, '');
  writeFileSync(summaryFile, '');
  const env: NodeJS.ProcessEnv = { PATH: process.env['PATH'] ?? '', HOME: dir, GITHUB_OUTPUT: outputFile, GITHUB_STEP_SUMMARY: summaryFile, NO_COLOR: '1', ...extraEnv };
  for (const [name, value] of Object.entries(inputs)) env[`INPUT_${name.toUpperCase()}`] = value;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const outputs: Record<string, string> = {};
      const text = readFileSync(outputFile, 'utf8');
      for (const match of text.matchAll(/^([\w-]+)<<(\S+)\n([\s\S]*?)\n\2$/gm)) outputs[match[1]!] = match[3]!;
      resolve({ code: code ?? -1, stdout, stderr, outputs, summary: readFileSync(summaryFile, 'utf8') });
    });
  });
}

/**
 * The Action bundle built fresh from src/ with scripts/build-action.ts, as a release would build
 * it (main carries no bundle). Inside the repository (.tmp/ is ignored): the bundle finds
 * policies/ and rules/ by walking up from its own file.
 */
export function buildActionBundle(): { bundle: string; dir: string } {
  mkdirSync(path.join(REPO, '.tmp'), { recursive: true });
  const dir = mkdtempSync(path.join(REPO, '.tmp', 'action-test-'));
  const bundle = path.join(dir, 'action.js');
  const build = spawnSync(process.execPath, ['scripts/build-action.ts', bundle], { cwd: REPO, encoding: 'utf8' });
  assert.equal(build.status, 0, `scripts/build-action.ts failed:\n${build.stdout}${build.stderr}`);
  return { bundle, dir };
}
