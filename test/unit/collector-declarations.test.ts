import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { COLLECTORS, DECLARATIONS } from '../../src/collectors/registry.ts';
import { CONFIG_SCHEMA, configSchema, ITEM_SCHEMA, itemSchema, providers, SOURCES_MODULE, sourcesModule } from '../../scripts/gen-collector-artifacts.ts';
import { PROVIDERS, SOURCE_TYPES } from '../../src/model/sources.generated.ts';

// The registry's declarations are the one place a collector's type, providers, config schema and
// operations are written; these checks iterate over it, so a new collector is covered unedited.

function declarationFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name === 'declaration.ts')
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)));
}

test('every collector folder declares itself and the registry lists every declaration once', async () => {
  const files = declarationFiles('src/collectors');
  assert.equal(DECLARATIONS.length, files.length, `declaration files ${files.join(', ')} vs ${DECLARATIONS.length} registered`);
  assert.equal(new Set(DECLARATIONS.map((declaration) => declaration.type)).size, DECLARATIONS.length, 'two collectors declare the same type');
  for (const file of files) {
    const module = (await import(`../../src/collectors/${file}`)) as Record<string, unknown>;
    assert.ok(Object.values(module).some((value) => DECLARATIONS.includes(value as never)), `${file} is not in src/collectors/registry.ts`);
  }
});

test('each collector takes its type, providers and operations from its declaration', async () => {
  for (const declaration of DECLARATIONS) {
    const collector = await COLLECTORS.get(declaration.type)!();
    assert.equal(collector.type, declaration.type);
    assert.equal(collector.provides, declaration.providers, `${declaration.type}: provides is not its declaration's`);
    assert.equal(collector.operations, declaration.operations, `${declaration.type}: operations are not its declaration's`);
    assert.ok(declaration.operations.length > 0, `${declaration.type} declares no operation`);
    assert.ok(declaration.providers.length > 0, `${declaration.type} declares no provider`);
  }
});

test('the generated source types, providers and schemas are what the declarations say (npm run docs)', () => {
  assert.deepEqual([...SOURCE_TYPES], DECLARATIONS.map((declaration) => declaration.type));
  assert.deepEqual([...PROVIDERS], providers());
  assert.equal(readFileSync(SOURCES_MODULE, 'utf8'), sourcesModule(), `${SOURCES_MODULE} is stale`);
  const config = readFileSync(CONFIG_SCHEMA, 'utf8');
  assert.equal(config, configSchema(config), `${CONFIG_SCHEMA} is stale`);
  const item = readFileSync(ITEM_SCHEMA, 'utf8');
  assert.equal(item, itemSchema(item), `${ITEM_SCHEMA} is stale`);
});

test('the snapshot replays every other collector\'s providers, and only those', () => {
  const snapshot = DECLARATIONS.find((declaration) => declaration.type === 'snapshot')!;
  const others = new Set(DECLARATIONS.filter((declaration) => declaration !== snapshot).flatMap((declaration) => declaration.providers));
  assert.deepEqual(new Set(snapshot.providers), others);
});

test('a generated provider list follows the declarations: one added, one dropped', () => {
  const live = DECLARATIONS.filter((declaration) => declaration.type !== 'snapshot');
  // Infrastructure-code collectors yield the providers of live ones: drop one whose providers are its own.
  const first = live.find((declaration) => declaration.providers.every((provider) => live.filter((other) => other.providers.includes(provider)).length === 1));
  const rest = live.filter((declaration) => declaration !== first);
  const toy = { ...first!, type: 'toy', providers: ['toy-keys'] };
  assert.deepEqual(providers([...rest, toy]), [...new Set([...rest.flatMap((declaration) => declaration.providers), 'toy-keys'])]);
  assert.ok(!providers(rest).some((provider) => first!.providers.includes(provider)), 'a dropped collector\'s provider stays listed');
  const schema = JSON.parse(configSchema(readFileSync(CONFIG_SCHEMA, 'utf8'), [...rest, toy])) as { properties: { sources: { items: { oneOf: { properties: { type: { const: string } } }[] } } } };
  assert.deepEqual(schema.properties.sources.items.oneOf.map((branch) => branch.properties.type.const), [...rest.map((declaration) => declaration.type), 'toy']);
});
