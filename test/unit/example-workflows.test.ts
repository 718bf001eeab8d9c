import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { accessSync, constants, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { toolsDir } from '../../src/engine/opa-binary.ts';

// The example GitHub workflows (examples/workflows/) pass actionlint, with shellcheck on their `run:`
// scripts, using the pinned actionlint that scripts/provision.sh installs. Negative cases prove that the
// same invocation does flag a broken workflow, so a clean result cannot come from linting nothing.

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const WORKFLOW_DIR = path.join(ROOT, 'examples', 'workflows');
const EXPECTED = ['nightly-sharded.yml', 'nightly.yml', 'pull-request.yml', 'remediate.yml'];
const ACTION_REF = 'keydrift/keydrift@v1';

const ACTIONLINT_VERSION = /^ACTIONLINT_VERSION="(.+)"$/m.exec(readFileSync(path.join(ROOT, 'scripts', 'provision.sh'), 'utf8'))?.[1];

interface LintError {
  message: string;
  filepath: string;
  line: number;
  column: number;
  kind: string;
}

interface Tools {
  actionlint: string;
  shellcheck: string;
}

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The provisioned actionlint and shellcheck, or a failure that names the missing tool. */
function tools(): Tools {
  assert.ok(ACTIONLINT_VERSION, 'scripts/provision.sh pins no ACTIONLINT_VERSION');
  const actionlint = path.join(toolsDir(), `actionlint-${ACTIONLINT_VERSION}`, 'actionlint');
  assert.ok(
    executable(actionlint),
    `actionlint ${ACTIONLINT_VERSION} is not provisioned (missing ${actionlint}): run "bash scripts/provision.sh" ` +
      `(go install github.com/rhysd/actionlint/cmd/actionlint@${ACTIONLINT_VERSION})`,
  );
  const shellcheck = (process.env['PATH'] ?? '')
    .split(path.delimiter)
    .filter(Boolean)
    .map((dir) => path.join(dir, 'shellcheck'))
    .find(executable);
  assert.ok(shellcheck, 'shellcheck is not installed (actionlint would skip every run: script): run "bash scripts/provision.sh" (Debian package shellcheck)');
  return { actionlint, shellcheck };
}

/** actionlint on the given files, from `cwd`, with shellcheck and without pyflakes, as scripts/lint-workflows.sh runs it. */
function actionlint(files: string[], cwd = ROOT): LintError[] {
  const { actionlint: binary, shellcheck } = tools();
  const run = spawnSync(binary, ['-no-color', '-format', '{{json .}}', '-shellcheck', shellcheck, '-pyflakes=', ...files], { cwd, encoding: 'utf8' });
  if (run.error) throw run.error;
  // 0: no problem; 1: problems found (listed on stdout); anything else: actionlint itself failed.
  assert.ok(run.status === 0 || run.status === 1, `actionlint exited ${run.status}:\n${run.stdout}${run.stderr}`);
  const errors = JSON.parse(run.stdout || '[]') as LintError[] | null;
  assert.equal(run.status === 0, (errors ?? []).length === 0, `actionlint's exit code ${run.status} disagrees with its output:\n${run.stdout}`);
  return errors ?? [];
}

function describe(errors: LintError[]): string {
  return errors.map((error) => `${error.filepath}:${error.line}:${error.column}: ${error.message} [${error.kind}]`).join('\n');
}

const temporary: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'keydrift-workflows-'));
  temporary.push(dir);
  return dir;
}
after(() => {
  for (const dir of temporary) rmSync(dir, { recursive: true, force: true });
});

const workflows = readdirSync(WORKFLOW_DIR).filter((name) => /\.ya?ml$/.test(name)).sort();

test('the provisioned actionlint reports the pinned version', () => {
  const { actionlint: binary } = tools();
  const run = spawnSync(binary, ['-version'], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stdout.split('\n')[0], ACTIONLINT_VERSION);
});

test('examples/workflows holds the four documented workflows', () => {
  for (const name of EXPECTED) assert.ok(workflows.includes(name), `examples/workflows/${name} is missing`);
  const readme = readFileSync(path.join(WORKFLOW_DIR, 'README.md'), 'utf8');
  for (const name of workflows) assert.ok(readme.includes(name), `examples/workflows/README.md does not describe ${name}`);
});

for (const name of workflows) {
  test(`examples/workflows/${name} passes actionlint with shellcheck`, () => {
    const errors = actionlint([path.join('examples', 'workflows', name)]);
    assert.deepEqual(errors, [], `actionlint found problems in examples/workflows/${name}:\n${describe(errors)}`);
  });
}

test('scripts/lint-workflows.sh passes on the examples', () => {
  tools();
  const run = spawnSync('bash', [path.join(ROOT, 'scripts', 'lint-workflows.sh')], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(run.status, 0, `scripts/lint-workflows.sh exited ${run.status}:\n${run.stdout}${run.stderr}`);
  assert.match(run.stderr, new RegExp(`\\d+ workflow files clean \\(actionlint ${ACTIONLINT_VERSION}, shellcheck `));
});

test('actionlint flags a typo in a workflow key (an example with runs-on misspelt)', () => {
  const original = readFileSync(path.join(WORKFLOW_DIR, 'pull-request.yml'), 'utf8');
  assert.match(original, /^ {4}runs-on: /m);
  const file = path.join(tempDir(), 'pull-request.yml');
  writeFileSync(file, original.replace(/^ {4}runs-on: /m, '    runs-om: '));
  const errors = actionlint([file]);
  const typo = errors.find((error) => error.kind === 'syntax-check' && error.message.includes('unexpected key "runs-om"'));
  assert.ok(typo, `actionlint did not flag the typo'd key "runs-om":\n${describe(errors)}`);
  const line = original.split('\n').findIndex((text) => text.startsWith('    runs-on: ')) + 1;
  assert.equal(typo.line, line);
  // A job with no runs-on is reported too.
  assert.ok(errors.some((error) => error.message.includes('"runs-on" section is missing')), describe(errors));
});

test('actionlint runs shellcheck on run: scripts (an unquoted expansion is flagged)', () => {
  const file = path.join(tempDir(), 'unquoted.yml');
  writeFileSync(
    file,
    ['name: unquoted', 'on: push', 'permissions: {}', 'jobs:', '  build:', '    runs-on: ubuntu-latest', '    steps:', '      - run: ls $RUNNER_TEMP', ''].join('\n'),
  );
  const errors = actionlint([file]);
  assert.ok(
    errors.some((error) => error.kind === 'shellcheck' && error.message.includes('SC2086')),
    `shellcheck's SC2086 was not reported:\n${describe(errors)}`,
  );
});

// With the Action's own action.yml in place of keydrift/keydrift@v1 (a local action, `uses: ./`),
// actionlint checks every `with:` input and every steps.keydrift.outputs.* against its declarations.
const actionYml = readFileSync(path.join(ROOT, 'action.yml'), 'utf8');

test(
  'the examples use only inputs and outputs that action.yml declares',
  () => {
    assert.match(actionYml, /^outputs:/m, 'action.yml declares its outputs');
    const project = tempDir();
    mkdirSync(path.join(project, '.git'));
    mkdirSync(path.join(project, '.github', 'workflows'), { recursive: true });
    writeFileSync(path.join(project, 'action.yml'), actionYml);
    // actionlint checks that the scripts named in `runs` exist: empty stand-ins (the real ones are built).
    const runs = (parse(actionYml) as { runs?: Record<string, unknown> }).runs ?? {};
    for (const key of ['main', 'pre', 'post']) {
      const script = runs[key];
      if (typeof script !== 'string') continue;
      mkdirSync(path.dirname(path.join(project, script)), { recursive: true });
      writeFileSync(path.join(project, script), '');
    }
    for (const name of workflows) {
      const text = readFileSync(path.join(WORKFLOW_DIR, name), 'utf8');
      assert.ok(text.includes(`uses: ${ACTION_REF}`), `${name} does not use ${ACTION_REF}`);
      writeFileSync(path.join(project, '.github', 'workflows', name), text.replaceAll(`uses: ${ACTION_REF}`, 'uses: ./'));
    }
    const errors = actionlint(workflows.map((name) => path.join('.github', 'workflows', name)), project);
    assert.deepEqual(errors, [], `the examples disagree with action.yml:\n${describe(errors)}`);
  },
);

test('the action.yml contract check does catch an undeclared input', () => {
  const project = tempDir();
  mkdirSync(path.join(project, '.git'));
  mkdirSync(path.join(project, '.github', 'workflows'), { recursive: true });
  writeFileSync(
    path.join(project, 'action.yml'),
    ['name: stand-in', 'description: a local action with one input', 'inputs:', '  config:', '    description: path', 'runs:', '  using: node24', '  main: index.js', ''].join('\n'),
  );
  writeFileSync(
    path.join(project, '.github', 'workflows', 'use.yml'),
    ['on: push', 'permissions: {}', 'jobs:', '  scan:', '    runs-on: ubuntu-latest', '    steps:', '      - uses: ./', '        with:', '          config: keydrift.yaml', '          formats: json', ''].join('\n'),
  );
  const errors = actionlint([path.join('.github', 'workflows', 'use.yml')], project);
  assert.ok(
    errors.some((error) => error.kind === 'action' && error.message.includes('input "formats" is not defined')),
    `actionlint did not check the local action's inputs:\n${describe(errors)}`,
  );
});

test('remediate.yml applies only from a manual dispatch, behind the protected environment, and keeps the audit log', () => {
  const workflow = parse(readFileSync(path.join(WORKFLOW_DIR, 'remediate.yml'), 'utf8')) as {
    jobs: Record<string, { if?: string; environment?: string; steps: { run?: string; uses?: string; with?: Record<string, unknown>; if?: string }[] }>;
  };
  const { plan, apply } = workflow.jobs;
  assert.ok(plan && apply);
  assert.equal(plan.if, "github.event_name == 'schedule'");
  assert.equal(plan.environment, undefined);
  assert.ok(!plan.steps.some((step) => step.run?.includes('remediate apply')), 'the nightly job never applies');
  assert.ok(plan.steps.some((step) => step.uses?.startsWith('actions/upload-artifact') && step.with?.['name'] === 'keydrift-remediation-plan'));
  assert.equal(apply.if, "github.event_name == 'workflow_dispatch'");
  assert.equal(apply.environment, 'keydrift-remediation');
  const applyRun = apply.steps.find((step) => step.run?.includes('keydrift remediate apply'))?.run ?? '';
  assert.ok(applyRun.includes('--audit-log') && applyRun.includes('--sign-key'));
  assert.ok(!applyRun.includes('--allow-destructive'));
  const upload = apply.steps.find((step) => step.with?.['name'] === 'keydrift-audit-log');
  assert.equal(upload?.if, 'always()', 'the audit log is uploaded even when the apply fails');
});

test('pull-request.yml writes a valid config that scans exactly the changed infrastructure-code files, names matched literally', async () => {
  const { parseConfig } = await import('../../src/config/load.ts');
  const workflow = parse(readFileSync(path.join(WORKFLOW_DIR, 'pull-request.yml'), 'utf8')) as { jobs: Record<string, { steps: { id?: string; run?: string }[] }> };
  const step = Object.values(workflow.jobs).flatMap((job) => job.steps).find((candidate) => candidate.id === 'iac-config');
  assert.ok(step?.run, 'the iac-config step is missing');
  const dir = tempDir();
  const output = path.join(dir, 'github-output');
  writeFileSync(output, '');
  const run = spawnSync('bash', ['-eo', 'pipefail', '-c', step.run], {
    cwd: dir,
    encoding: 'utf8',
    env: {
      PATH: process.env['PATH'],
      GITHUB_OUTPUT: output,
      TERRAFORM_FILES: JSON.stringify(['infra/kms/main.tf', 'infra/odd[1]*.tf']),
      CLOUDFORMATION_FILES: '[]',
      KUBERNETES_FILES: JSON.stringify(['deploy/certs "web".yaml']),
      PLAN_FILES: JSON.stringify(['tfplan.json']),
    },
  });
  assert.equal(run.status, 0, run.stderr);
  assert.equal(readFileSync(output, 'utf8'), 'config=keydrift-iac.generated.yaml\n');
  const file = path.join(dir, 'keydrift-iac.generated.yaml');
  const config = parseConfig(readFileSync(file, 'utf8'), file);
  assert.deepEqual(
    config.sources.map((source) => [source.id, source.type, source['paths']]),
    [
      ['terraform', 'terraform', ['infra/kms/main.tf', 'infra/odd[[]1[]][*].tf', 'tfplan.json']],
      ['kubernetes', 'kubernetes', ['deploy/certs "web".yaml']],
    ],
  );
});
