// Fails when a committed build artifact is not what a fresh build produces:
// the wasm policy bundle, the generated Rego (rule catalogue, entrypoint), the wasm capabilities
// file, what derives from the collectors' declarations (config schema sources, source types and
// providers), the README tables, the policy input schema, the demo reports and, on a release commit,
// the Action bundle.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildBuiltinBundle } from '../src/engine/opa-cli.ts';

const problems: string[] = [];
const work = mkdtempSync(path.join(tmpdir(), 'keydrift-fresh-'));

try {
  const bundle = path.join(work, 'bundle.tar.gz');
  const built = buildBuiltinBundle(bundle);
  if (built.status !== 0) problems.push(`opa build failed:\n${built.stderr}`);
  else if (!readFileSync(bundle).equals(readFileSync('policies/bundle.tar.gz'))) {
    problems.push('policies/bundle.tar.gz is stale: run "npm run policy:build" and commit it');
  }

  const capabilities = readFileSync('policies/capabilities.json', 'utf8');
  execFileSync(process.execPath, ['scripts/gen-capabilities.ts'], { stdio: 'ignore' });
  if (readFileSync('policies/capabilities.json', 'utf8') !== capabilities) {
    problems.push('policies/capabilities.json is stale: run "node scripts/gen-capabilities.ts" and commit it');
  }

  // Only a release commit carries the Action bundle (scripts/release-action.ts); main builds it in tests.
  const action = path.join(work, 'action.js');
  execFileSync(process.execPath, ['scripts/build-action.ts', action], { stdio: 'inherit' });
  if (spawnSync('git', ['ls-files', '--error-unmatch', 'dist/action.js'], { stdio: 'ignore' }).status === 0 && !readFileSync(action).equals(readFileSync('dist/action.js'))) {
    problems.push('dist/action.js is stale: this release commit does not carry what a fresh build produces');
  }

  for (const script of ['scripts/gen-collector-artifacts.ts', 'scripts/gen-rego.ts', 'scripts/gen-docs.ts', 'scripts/gen-input-schema.ts']) {
    const check = spawnSync(process.execPath, [script, '--check'], { encoding: 'utf8' });
    if (check.status !== 0) problems.push(check.stderr.trim());
  }

  const out = path.join(work, 'reports');
  spawnSync(process.execPath, ['src/cli/main.ts', 'scan', '--config', 'examples/demo/keydrift.yaml', '--now', '2026-11-01T00:00:00Z', '--out', out, '--quiet'], { stdio: 'inherit' });
  for (const file of ['keydrift.json', 'keydrift.sarif', 'keydrift.md', 'keydrift.html']) {
    let fresh: string;
    try {
      fresh = readFileSync(path.join(out, file), 'utf8');
    } catch {
      problems.push(`the demo scan did not write ${file}`);
      continue;
    }
    if (withoutRunTimes(fresh) !== withoutRunTimes(readFileSync(path.join('reports', file), 'utf8'))) {
      problems.push(`reports/${file} is stale: run "npm run demo" and commit reports/`);
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

// When the scan ran is not part of what it found.
function withoutRunTimes(text: string): string {
  return text
    .replace(/"(startedAt|finishedAt|startTimeUtc|endTimeUtc)": "[^"]*"/g, '"$1": ""')
    .replace(/(<th scope="row">Scan (?:started|finished)<\/th><td>)[^<]*(<\/td>)/g, '$1$2');
}

if (problems.length > 0) {
  for (const problem of problems) console.error(`check-fresh: ${problem}`);
  process.exit(1);
}
console.log('check-fresh: policy bundle, generated Rego, capabilities, Action bundle, README tables, input schema and demo reports are fresh');
