import type { SourceError } from '../../model/source.ts';
import { mapBounded } from '../../util/limit.ts';

// The namespace tree below a starting namespace (`namespaces: recursive`), walked one level at a
// time with `LIST sys/namespaces` in each namespace. Vault Enterprise (and OpenBao 2.3+) answer it
// with the direct children only: `data.keys` holds their names relative to the namespace listed,
// each with a trailing slash ("team-a/"); `data.key_info` repeats them with id, path and
// custom_metadata. A namespace with no children answers 404 with no error text, like any empty LIST.

/** How many levels below the starting namespace are walked; a deeper child is reported, not listed. */
export const MAX_NAMESPACE_DEPTH = 32;
/** How many namespaces one source collects, the starting one included; the rest are reported. */
export const MAX_NAMESPACES = 1000;

export interface WalkOptions {
  /** Listings in flight at once (the source's `concurrency`). */
  concurrency: number;
  maxDepth?: number;
  maxCount?: number;
  /** The `resource` of a reported problem about a namespace (default: its label). */
  resource?: (namespace: string | null) => string;
}

/**
 * Every namespace at or below `start` (null: the root), start first, then level by level, each
 * level sorted. `listChildren` returns a namespace's child names as the server gives them; when it
 * throws, `onListFailed` decides what to report and that namespace's subtree stays unknown, while
 * the namespace itself and every other branch are still returned. Limits are reported through
 * `report`, naming where the walk stopped.
 */
export async function walkNamespaces(
  start: string | null,
  listChildren: (namespace: string | null) => Promise<readonly string[]>,
  onListFailed: (namespace: string | null, error: unknown) => void,
  report: (error: SourceError) => void,
  options: WalkOptions,
): Promise<(string | null)[]> {
  const maxDepth = options.maxDepth ?? MAX_NAMESPACE_DEPTH;
  const maxCount = options.maxCount ?? MAX_NAMESPACES;
  const resource = options.resource ?? label;
  const root = normalizeNamespace(start);
  const found: (string | null)[] = [root];
  const seen = new Set<string>([root ?? '']);
  let frontier: { path: string | null; depth: number }[] = [{ path: root, depth: 0 }];
  const leftOut: string[] = [];
  while (frontier.length > 0) {
    const next: typeof frontier = [];
    const listed = mapBounded(frontier, options.concurrency, async (node) => {
      try {
        return { node, children: childPaths(node.path, await listChildren(node.path), report, resource) };
      } catch (error) {
        onListFailed(node.path, error);
        return { node, children: [] };
      }
    });
    for await (const { node, children } of listed) {
      if (children.length === 0) continue;
      if (node.depth >= maxDepth) {
        report({
          code: 'vault-namespaces-truncated',
          message: `namespace ${label(node.path)} is ${maxDepth} levels below the start; its ${children.length} child namespace(s) (${children.slice(0, 5).join(', ')}${children.length > 5 ? ', ...' : ''}) were not collected (depth limit ${maxDepth})`,
          resource: resource(node.path),
        });
        continue;
      }
      for (const child of children) {
        // A server that lists a namespace twice (or under itself) must not make the walk loop.
        if (seen.has(child)) continue;
        seen.add(child);
        if (found.length >= maxCount) {
          leftOut.push(child);
          continue;
        }
        found.push(child);
        next.push({ path: child, depth: node.depth + 1 });
      }
    }
    frontier = next;
  }
  if (leftOut.length > 0) {
    report({
      code: 'vault-namespaces-truncated',
      message: `more than ${maxCount} namespaces at or below ${label(root)}: ${leftOut.length} listed namespace(s) and whatever lies below them were not collected, from ${leftOut.slice(0, 5).join(', ')}${leftOut.length > 5 ? ', ...' : ''} (count limit ${maxCount})`,
      resource: resource(root),
    });
  }
  return found;
}

/** "a/b" for " /a/b/ ", null for the root (absent or empty). */
export function normalizeNamespace(namespace: string | null | undefined): string | null {
  const trimmed = (namespace ?? '').trim().replace(/^\/+|\/+$/g, '');
  return trimmed === '' ? null : trimmed;
}

/** How messages name a namespace: its full path in quotes, or "root". */
export function label(namespace: string | null): string {
  return namespace === null ? 'root' : `"${namespace}"`;
}

/** Full paths of the children a LIST named; a key that is not one namespace name is reported and skipped. */
function childPaths(parent: string | null, keys: readonly string[], report: (error: SourceError) => void, resource: (namespace: string | null) => string): string[] {
  const paths: string[] = [];
  for (const key of keys) {
    const name = typeof key === 'string' ? key.replace(/\/$/, '') : '';
    if (name === '' || name.includes('/') || name === '.' || name === '..') {
      report({ code: 'vault-error', message: `LIST sys/namespaces in namespace ${label(parent)} named an entry that is not a namespace name (${JSON.stringify(String(key)).slice(0, 80)}); skipped`, resource: resource(parent) });
      continue;
    }
    paths.push(parent === null ? name : `${parent}/${name}`);
  }
  return paths.sort();
}
