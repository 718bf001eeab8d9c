import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SourceError } from '../../src/model/source.ts';
import { MAX_NAMESPACE_DEPTH, normalizeNamespace, walkNamespaces } from '../../src/collectors/vault/namespaces.ts';

// The walk over `LIST sys/namespaces` answers (relative names with a trailing slash), with its
// depth and count bounds, on trees too large or too odd to build on a server for a unit test.

/** A tree as LIST sys/namespaces answers it: full path ('' for the root) -> child keys. */
function lister(tree: Record<string, string[]>, refused: string[] = []) {
  const asked: string[] = [];
  let inFlight = 0;
  let most = 0;
  const list = async (namespace: string | null): Promise<string[]> => {
    const path = namespace ?? '';
    asked.push(path);
    inFlight++;
    most = Math.max(most, inFlight);
    await new Promise((resolve) => setTimeout(resolve, 1));
    inFlight--;
    if (refused.includes(path)) throw new Error(`HTTP 403 on ${path}`);
    return tree[path] ?? [];
  };
  return { list, asked, most: () => most };
}

async function walk(tree: Record<string, string[]>, options: { start?: string | null; refused?: string[]; maxDepth?: number; maxCount?: number; concurrency?: number } = {}) {
  const errors: SourceError[] = [];
  const failed: string[] = [];
  const { list, asked, most } = lister(tree, options.refused);
  const found = await walkNamespaces(options.start ?? null, list, (namespace) => failed.push(namespace ?? ''), (error) => errors.push(error), {
    concurrency: options.concurrency ?? 4,
    ...(options.maxDepth !== undefined ? { maxDepth: options.maxDepth } : {}),
    ...(options.maxCount !== undefined ? { maxCount: options.maxCount } : {}),
  });
  return { found, errors, failed, asked, most: most() };
}

test('children are full paths built from the relative keys, level by level, sorted, the start first', async () => {
  const { found, errors } = await walk({ '': ['b/', 'a/'], a: ['x/'], 'a/x': ['deep/'], b: [] });
  assert.deepEqual(found, [null, 'a', 'b', 'a/x', 'a/x/deep']);
  assert.deepEqual(errors, []);
});

test('a starting namespace is walked from, not from the root', async () => {
  const { found, asked } = await walk({ '': ['a/', 'b/'], a: ['x/'] }, { start: '/a/' });
  assert.deepEqual(found, ['a', 'a/x']);
  assert.ok(!asked.includes(''));
});

test('a refused listing leaves that namespace collected and its siblings walked', async () => {
  const { found, failed } = await walk({ '': ['a/', 'b/'], a: ['x/'], b: ['y/'] }, { refused: ['a'] });
  assert.deepEqual(found, [null, 'a', 'b', 'b/y']);
  assert.deepEqual(failed, ['a']);
});

test('the depth bound: namespaces deeper than the limit are reported, naming where the walk stopped', async () => {
  const chain: Record<string, string[]> = {};
  let path = '';
  for (let level = 0; level < MAX_NAMESPACE_DEPTH + 3; level++) {
    chain[path] = [`n${level}/`];
    path = path === '' ? `n${level}` : `${path}/n${level}`;
  }
  const { found, errors } = await walk(chain);
  assert.equal(found.length, MAX_NAMESPACE_DEPTH + 1, 'the start and 32 levels below it');
  assert.equal(errors.length, 1);
  assert.equal(errors[0]?.code, 'vault-namespaces-truncated');
  assert.match(errors[0]!.message, /n31" is 32 levels below the start; its 1 child namespace\(s\) \(.*n32\) were not collected/);
});

test('the count bound: namespaces past the limit are reported with how many were left out', async () => {
  const tree = { '': Array.from({ length: 10 }, (_, i) => `t${i}/`), t0: ['sub/'] };
  const { found, errors } = await walk(tree, { maxCount: 5 });
  assert.equal(found.length, 5);
  assert.equal(errors.length, 1);
  assert.equal(errors[0]?.code, 'vault-namespaces-truncated');
  // t4 to t9 at the first level, and t0's child found while t0 (collected) was listed.
  assert.match(errors[0]!.message, /more than 5 namespaces at or below root: 7 listed namespace\(s\)/);
});

test('listings in flight never exceed the concurrency', async () => {
  const tree = { '': Array.from({ length: 12 }, (_, i) => `t${i}/`) };
  const { most, found } = await walk(tree, { concurrency: 3 });
  assert.equal(found.length, 13);
  assert.ok(most <= 3, `at most 3 at once, saw ${most}`);
});

test('an entry that is not one namespace name is reported and skipped; a repeated one is listed once', async () => {
  const { found, errors } = await walk({ '': ['a/', 'a/', '../', 'x/y/', ''] });
  assert.deepEqual(found, [null, 'a']);
  assert.equal(errors.length, 3);
  assert.ok(errors.every((error) => error.code === 'vault-error'));
});

test('the root is null however it is written', () => {
  assert.equal(normalizeNamespace(''), null);
  assert.equal(normalizeNamespace('/'), null);
  assert.equal(normalizeNamespace(undefined), null);
  assert.equal(normalizeNamespace(' team-a/payments/ '), 'team-a/payments');
});
