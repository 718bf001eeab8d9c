// Terraform/OpenTofu configuration (.tf, .tofu) read the way `terraform plan` would see it before
// apply: every directory of a matched file is a module, each root module is expanded (count,
// for_each, local and installed child modules), and every managed resource instance comes out
// with its values, the values known only after apply, and the line of every attribute.

import path from 'node:path';
import type { ResourceInstance } from '../show-json.ts';
import { attributeOf, isLocalSource, listDirectory, literalString, Loader, type ModuleDef } from './module-loader.ts';
import { ModuleInstance } from './module-instance.ts';
import { Session } from './session.ts';

export interface HclResource extends ResourceInstance {
  /** Absolute path of the .tf file holding the resource block. */
  file: string;
  /** Position of the block's first token (the `resource` keyword). */
  block: { line: number; column: number };
  /** JSON Pointer (relative to valuesAt) -> position of the attribute name (or nested block type) that sets it. */
  positions: Map<string, { line: number; column: number }>;
  /** Top-level attribute -> the managed resource attribute its unknown value is, e.g. 'module.kms.aws_kms_key.this["a"].key_id'. */
  refs: Record<string, string>;
  /** The root module's directory: with the address, what tells two roots calling one module apart. */
  root?: string;
}

export interface HclProblem {
  file: string;
  line: number;
  column: number;
  code: string;
  message: string;
}

export interface LoadOptions {
  /** The file names in a directory, or null when it cannot be listed (tests replace the file system). */
  list?: (dir: string) => Promise<string[] | null>;
}

/**
 * Reads the configuration in the directories of `files` and returns every managed resource
 * instance of each root module (a matched directory no other matched directory calls).
 */
export async function loadTerraformConfiguration(files: string[], read: (file: string) => Promise<string>, options: LoadOptions = {}): Promise<{ resources: HclResource[]; problems: HclProblem[] }> {
  const session = new Session();
  const loader = new Loader(read, options.list ?? listDirectory, session);
  const matched = new Map<string, string[]>();
  for (const file of files) {
    const absolute = path.resolve(file);
    if (absolute.split(path.sep).includes('.terraform')) continue;
    if (!absolute.endsWith('.tf') && !absolute.endsWith('.tofu')) continue;
    const dir = path.dirname(absolute);
    matched.set(dir, [...(matched.get(dir) ?? []), absolute]);
  }
  const dirs = [...matched.keys()].sort();
  const defs = new Map<string, ModuleDef>();
  for (const dir of dirs) defs.set(dir, await loader.moduleDef(dir, matched.get(dir)));

  // Roots: matched directories no other matched directory calls as a local module. A directory
  // only reachable through a cycle of calls is read as a root too, rather than dropped.
  const calls = new Map<string, string[]>();
  for (const [dir, def] of defs) {
    const targets: string[] = [];
    for (const block of def.calls.values()) {
      const source = attributeOf(block.body, 'source');
      const literal = source ? literalString(source.expr) : null;
      if (literal !== null && isLocalSource(literal)) targets.push(path.resolve(dir, literal));
    }
    calls.set(dir, targets);
  }
  const called = new Set(dirs.filter((dir) => [...calls].some(([caller, targets]) => caller !== dir && targets.includes(dir))));
  const roots = dirs.filter((dir) => !called.has(dir));
  const reached = new Set<string>();
  const visit = (dir: string) => {
    if (reached.has(dir)) return;
    reached.add(dir);
    for (const target of calls.get(dir) ?? []) visit(target);
  };
  roots.forEach(visit);
  for (const dir of dirs) {
    if (reached.has(dir)) continue;
    roots.push(dir);
    visit(dir);
  }

  for (const root of roots) {
    if (session.stopped) break;
    const node = await loader.rootNode(root);
    const before = session.resources.length;
    new ModuleInstance(session, node, '', null, null).emit();
    for (const resource of session.resources.slice(before)) resource.root = root;
  }
  return { resources: session.resources, problems: session.problems };
}
