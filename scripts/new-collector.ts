// Starts a collector from templates/collector: `node scripts/new-collector.ts NAME` writes
// src/collectors/NAME/{declaration,collector}.ts and adds its one line to DECLARATIONS in
// src/collectors/registry.ts. Then `npm run docs` regenerates what derives from the
// declarations (config schema, source types, providers, README).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const REGISTRY = 'src/collectors/registry.ts';
const TEMPLATES = 'templates/collector';

export function fill(template: string, name: string): string {
  const camel = name.replace(/-([a-z0-9])/g, (_, letter: string) => letter.toUpperCase());
  const pascal = camel[0]!.toUpperCase() + camel.slice(1);
  return template.replaceAll('__type__', name).replaceAll('__camel__', camel).replaceAll('__Pascal__', pascal);
}

function main(): void {
  const name = process.argv[2] ?? '';
  if (!/^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/.test(name)) fail(`usage: node scripts/new-collector.ts NAME (lower-case words joined by "-", e.g. azure-key-vault); got "${name}"`);
  const dir = path.join('src/collectors', name);
  if (existsSync(dir)) fail(`${dir} exists already`);
  const registry = readFileSync(REGISTRY, 'utf8');
  const declaration = fill('__camel__Declaration', name);
  if (registry.includes(`./${name}/declaration.ts`)) fail(`${REGISTRY} already lists ${name}`);

  const listEnd = registry.indexOf('\n];', registry.indexOf('export const DECLARATIONS'));
  if (listEnd === -1) fail(`${REGISTRY}: cannot find the DECLARATIONS list`);
  const updated = registry.slice(0, listEnd) + `\n  (await import('./${name}/declaration.ts')).${declaration},` + registry.slice(listEnd);

  mkdirSync(dir, { recursive: true });
  for (const file of ['declaration.ts', 'collector.ts']) {
    writeFileSync(path.join(dir, file), fill(readFileSync(path.join(TEMPLATES, `${file}.tmpl`), 'utf8'), name));
  }
  writeFileSync(REGISTRY, updated);
  console.log(`new-collector: wrote ${dir}/declaration.ts and ${dir}/collector.ts and added ${declaration} to ${REGISTRY}; now run "npm run docs"`);
}

function fail(message: string): never {
  console.error(`new-collector: ${message}`);
  process.exit(2);
}

if (import.meta.main) main();
