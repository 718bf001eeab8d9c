import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * The layers of src/, bottom to top (docs/architecture.md): a folder, or a file directly in src/,
 * may import only from the layers before it, `import type` and `import()` included.
 */
export const LAYERS = ['model', 'util', 'shard', 'config', 'inventory', 'certificates', 'rules', 'findings', 'drift', 'report', 'collectors', 'engine', 'evaluate', 'remediate', 'pipeline.ts', 'cli', 'action'];

/** Folders a file may sit in below its layer's folder and still be checked (test/unit/layering.test.ts proves none is deeper). */
export const MAX_LAYER_DEPTH = 6;

const SOURCE_FILES = '*.{ts,mts,cts,js,mjs,cjs}';

/**
 * ESLint core cannot resolve an import, so each layer gets one entry per folder depth: a file
 * `depth` folders inside src/<layer>/ reaches src/ with exactly depth + 1 `../`, and the regex
 * forbids that prefix followed by a higher layer (or one more `..`: leaving src/, say to come
 * back in as ../src/cli). A nested folder that shares a layer's name (src/collectors/aws/cli/)
 * is therefore never mistaken for the layer.
 */
function layering() {
  const asTarget = (name) => (name.endsWith('.ts') ? `${name.slice(0, -3)}(?:\\.ts)?$` : `${name}(?:/|$)`);
  const asShown = (name) => (name.endsWith('.ts') ? `src/${name}` : `src/${name}/`);
  return LAYERS.flatMap((layer, index) => {
    const below = LAYERS.slice(0, index).map(asShown);
    const above = LAYERS.slice(index + 1).map(asTarget).join('|');
    const upward = `Layering: ${asShown(layer)} may import ${below.length > 0 ? `only from ${below.join(', ')}` : 'nothing of the project'}; see docs/architecture.md.`;
    const outward = `Layering: ${asShown(layer)} may not import from outside src/; see docs/architecture.md.`;
    const depths = layer.endsWith('.ts') ? [null] : Array.from({ length: MAX_LAYER_DEPTH + 1 }, (_, depth) => depth);
    return depths.map((depth) => {
      const toSrc = depth === null ? '' : `(?:\\.\\./){${depth + 1}}`;
      const patterns = [{ regex: `^${toSrc}\\.\\.(?:/|$)`, message: outward }];
      if (above) patterns.push({ regex: `^${toSrc || '\\./'}(?:${above})`, message: upward });
      return {
        files: depth === null ? [`src/${layer}`] : [`src/${layer}/${'*/'.repeat(depth)}${SOURCE_FILES}`],
        rules: {
          'no-restricted-imports': ['error', { patterns }],
          // no-restricted-imports does not see import(); esquery regexes cannot hold a literal slash.
          'no-restricted-syntax': ['error', ...patterns.map(({ regex, message }) => ({ selector: `ImportExpression[source.value=/${regex.replaceAll('/', '\\x2F')}/]`, message }))],
        },
      };
    });
  });
}

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'reports/', 'examples/**/certs/', '.tmp/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly', TextEncoder: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', structuredClone: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
    },
  },
  // Last, so nothing after it replaces these two rules for src/: add any other restriction of
  // either rule inside layering(), or it would silently switch the layering off.
  ...layering(),
);
