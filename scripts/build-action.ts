// Bundles the GitHub Action into dist/action.js. The runner executes it with no npm install, so
// release commits carry it (scripts/release-action.ts); main does not. The policy bundle, rule
// catalogue, profiles and schemas are read from the action's checkout beside it. pkcs11js stays
// external: a native addon cannot be bundled.
import { build } from 'esbuild';

// `node scripts/build-action.ts [outfile]`: check-fresh builds to a temporary file and compares.
await build({
  entryPoints: ['src/action/main.ts'],
  outfile: process.argv[2] ?? 'dist/action.js',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node24',
  external: ['pkcs11js'],
  legalComments: 'none',
  logLevel: 'warning',
  // CommonJS dependencies call require(); give the ESM bundle one.
  banner: { js: "import { createRequire as __keydriftCreateRequire } from 'node:module';\nconst require = __keydriftCreateRequire(import.meta.url);" },
});
