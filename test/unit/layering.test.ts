import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ESLint } from 'eslint';

// docs/architecture.md: a layer of src/ imports only from the layers below it, and lint says so.
// The probes are linted as if they sat at the given path in src/ (eslint picks the config by
// path), so the shared working tree never holds a file with a back-edge, not even briefly.

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const LAYERING_RULES = new Set(['no-restricted-imports', 'no-restricted-syntax']);
const { LAYERS, MAX_LAYER_DEPTH } = (await import(pathToFileURL(path.join(ROOT, 'eslint.config.js')).href)) as {
  LAYERS: string[];
  MAX_LAYER_DEPTH: number;
};

const eslint = new ESLint({ cwd: ROOT, ruleFilter: ({ ruleId }) => LAYERING_RULES.has(ruleId) });

async function layeringErrors(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(ROOT, file) });
  return result!.messages.map((message) => `${message.ruleId}: ${message.message}`);
}

const BACK_EDGES: { file: string; code: string; expected: string }[] = [
  {
    file: 'src/model/__layering_probe.ts',
    code: "import { createLogger } from '../cli/logger.ts';\nexport const probe = createLogger;\n",
    expected: 'Layering: src/model/ may import nothing of the project',
  },
  {
    file: 'src/collectors/aws/kms/__layering_probe.ts',
    code: "import type { PolicyEngine } from '../../../engine/engine.ts';\nexport type Probe = PolicyEngine;\n",
    expected: 'Layering: src/collectors/ may import only from src/model/, src/util/, src/shard/, src/config/, src/inventory/, src/certificates/, src/rules/, src/findings/, src/drift/, src/report/;',
  },
  {
    file: 'src/findings/__layering_probe.ts',
    code: "export { policyWaivers } from '../engine/input.ts';\n",
    expected: 'Layering: src/findings/ may import only from',
  },
  {
    file: 'src/collectors/registry-probe.ts',
    code: "export const probe = () => import('../pipeline.ts');\n",
    expected: 'Layering: src/collectors/ may import only from',
  },
  {
    file: 'src/pipeline.ts',
    code: "import { main } from './cli/main.ts';\nexport const probe = main;\n",
    expected: 'Layering: src/pipeline.ts may import only from',
  },
  {
    file: 'src/report/__layering_probe.ts',
    code: "import { customRuleEntry } from '../engine/custom.ts';\nexport const probe = customRuleEntry;\n",
    expected: 'Layering: src/report/ may import only from',
  },
  {
    file: 'src/report/__layering_probe.ts',
    code: "import { evaluateEvidence } from '../../src/pipeline.ts';\nexport const probe = evaluateEvidence;\n",
    expected: 'Layering: src/report/ may not import from outside src/',
  },
];

for (const { file, code, expected } of BACK_EDGES) {
  test(`layering: ${file} importing "${/'([^']+)'/.exec(code)![1]}" fails lint`, async () => {
    const errors = await layeringErrors(file, code);
    assert.equal(errors.length, 1, `expected one layering error, got ${JSON.stringify(errors)}`);
    assert.ok(errors[0]!.includes(expected), `${errors[0]} should say "${expected}"`);
    assert.ok(errors[0]!.includes('docs/architecture.md'), 'the message points at the written layering');
  });
}

test('layering: imports down the stack pass, and a nested folder that shares a layer name is not that layer', async () => {
  const allowed: [string, string][] = [
    ['src/collectors/aws/__layering_probe.ts', "import type { Logger } from '../../model/logger.ts';\nexport type Probe = Logger;\n"],
    ['src/collectors/aws/__layering_probe.ts', "import type { Probe } from '../cli/probe.ts';\nexport type Same = Probe;\n"],
    ['src/report/__layering_probe.ts', "export const probe = () => import('../rules/custom-rule.ts');\n"],
    ['src/cli/commands/__layering_probe.ts', "import { evaluateEvidence } from '../../pipeline.ts';\nexport const probe = evaluateEvidence;\n"],
    ['src/pipeline.ts', "import { writeReports } from './report/write.ts';\nexport const probe = writeReports;\n"],
  ];
  for (const [file, code] of allowed) assert.deepEqual(await layeringErrors(file, code), [], `${file}: ${code}`);
});

test('layering: the real src/ has no import that runs up the stack', async () => {
  const results = await eslint.lintFiles(['src']);
  assert.ok(results.length > 50, `linted only ${results.length} files`);
  const errors = results.flatMap((result) =>
    result.messages.map((message) => `${path.relative(ROOT, result.filePath)}:${message.line}: ${message.message}`),
  );
  assert.deepEqual(errors, []);
});

test('layering: every folder and file in src/ is a layer, and every source file is checked', async () => {
  const entries = readdirSync(path.join(ROOT, 'src'), { withFileTypes: true }).map((entry) => entry.name);
  assert.deepEqual(entries.filter((name) => !LAYERS.includes(name)), [], 'add new folders to LAYERS in eslint.config.js and to docs/architecture.md');
  const files = readdirSync(path.join(ROOT, 'src'), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && /\.[cm]?[jt]s$/.test(entry.name))
    .map((entry) => path.relative(ROOT, path.join(entry.parentPath, entry.name)));
  for (const file of files) {
    const [, layer] = file.split(path.sep);
    const depth = file.split(path.sep).length - 3;
    assert.ok(depth <= MAX_LAYER_DEPTH, `${file} sits ${depth} folders inside its layer; raise MAX_LAYER_DEPTH`);
    const config = (await eslint.calculateConfigForFile(path.join(ROOT, file))) as { rules?: Record<string, unknown> } | undefined;
    const rule = config?.rules?.['no-restricted-imports'];
    assert.ok(JSON.stringify(rule).includes(`Layering: src/${layer}`), `${file}: no layering rule applies`);
  }
});

test('layering: docs/architecture.md lists the layers in the order lint checks them', () => {
  const doc = readFileSync(path.join(ROOT, 'docs/architecture.md'), 'utf8');
  const listed = [...doc.matchAll(/^\| \d+ \| `([^`]+)` \|/gm)].map((match) => match[1]!.replace(/\/$/, ''));
  assert.deepEqual(listed, LAYERS);
});
