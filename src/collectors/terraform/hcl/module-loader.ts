// Finding and parsing the modules of a configuration: the .tf/.tofu files of a directory (override
// files merged the way Terraform merges them), the variables files of a root, and the tree of
// modules a root calls, local ones by path and installed ones through .terraform/modules.

import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { Attribute, Block, Body, Expression, Pos } from './ast.ts';
import { CONSTANT_SCOPE } from './evaluate.ts';
import { HclSyntaxError } from './lexer.ts';
import { parseBody } from './parser.ts';
import { INVALID, type Session } from './session.ts';
import { fromJson, MAX_VALUE_DEPTH, valueDepth, type Value } from './values.ts';

/** Module calls nested deeper than this are refused (a module tree this deep is a loop in disguise). */
export const MAX_MODULE_DEPTH = 32;
/** Distinct module directories one root may load. */
const MAX_MODULE_NODES = 2_000;
const READ_CONCURRENCY = 16;

const NOT_INSTALLED = 'terraform-module-not-installed';

export const isLocalSource = (source: string) => source.startsWith('./') || source.startsWith('../');

export async function listDirectory(dir: string): Promise<string[] | null> {
  try {
    const found = await readdir(dir, { withFileTypes: true });
    return found.filter((entry) => entry.isFile() || entry.isSymbolicLink()).map((entry) => entry.name);
  } catch {
    return null;
  }
}

/** The configuration files Terraform reads in a directory: editors' backups and hidden files aside; x.tofu hides x.tf. */
function configurationFiles(names: string[]): string[] {
  const candidates = names.filter((name) => (name.endsWith('.tf') || name.endsWith('.tofu')) && !name.startsWith('.') && !name.endsWith('~') && !(name.startsWith('#') && name.endsWith('#')));
  const tofu = new Set(candidates.filter((name) => name.endsWith('.tofu')).map((name) => name.slice(0, -'.tofu'.length)));
  return candidates.filter((name) => !(name.endsWith('.tf') && tofu.has(name.slice(0, -'.tf'.length)))).sort();
}

const isOverrideFile = (name: string) => /(?:^|_)override\.(?:tf|tofu)$/.test(name);

export interface ModuleDef {
  dir: string;
  files: number;
  variables: Map<string, Block>;
  locals: Map<string, Attribute>;
  outputs: Map<string, Block>;
  resources: Block[];
  /** "type.name" -> block, for references to resources. */
  declared: Map<string, Block>;
  calls: Map<string, Block>;
}

/** A module in one root's static tree: its definition, where it was called from, and its children. */
export interface ModuleNode {
  def: ModuleDef;
  rootDir: string;
  /** Call names from the root: ['kms', 'inner'] (modules.json keys are these joined with dots). */
  keyPath: string[];
  /** Call name -> the called module, or null when it could not be loaded (a problem says why). */
  children: Map<string, ModuleNode | null>;
  tfvars: Map<string, Value>;
}

export const attributeOf = (body: Body, name: string) => body.attributes.find((attribute) => attribute.name === name);
const where = (pos: Pos) => `${path.basename(pos.file)}:${pos.line}`;

/** The string a literal expression holds ("./kms"), or null when it is computed. */
export function literalString(expr: Expression): string | null {
  if (expr.kind === 'template' && expr.parts.every((part) => part.kind === 'literal')) return expr.parts.map((part) => (part as { value: string }).value).join('');
  return null;
}

export class Loader {
  private readonly read: (file: string) => Promise<string>;
  private readonly list: (dir: string) => Promise<string[] | null>;
  private readonly session: Session;
  private readonly defs = new Map<string, Promise<ModuleDef>>();
  private readonly listings = new Map<string, Promise<string[] | null>>();

  constructor(read: (file: string) => Promise<string>, list: (dir: string) => Promise<string[] | null>, session: Session) {
    this.read = read;
    this.list = list;
    this.session = session;
  }

  listing(dir: string): Promise<string[] | null> {
    let found = this.listings.get(dir);
    if (!found) {
      found = this.list(dir);
      this.listings.set(dir, found);
    }
    return found;
  }

  /** Reads a file, recording a problem (and returning null) when it cannot be read. */
  async text(file: string): Promise<string | null> {
    try {
      return await this.read(file);
    } catch (error) {
      this.session.problem({ file, line: 1, column: 1 }, 'file-unreadable', error instanceof Error ? error.message : String(error));
      return null;
    }
  }

  moduleDef(dir: string, matched: string[] = []): Promise<ModuleDef> {
    let def = this.defs.get(dir);
    if (!def) {
      def = this.loadModuleDef(dir, matched);
      this.defs.set(dir, def);
    }
    return def;
  }

  private async loadModuleDef(dir: string, matched: string[]): Promise<ModuleDef> {
    const def: ModuleDef = { dir, files: 0, variables: new Map(), locals: new Map(), outputs: new Map(), resources: [], declared: new Map(), calls: new Map() };
    const names = await this.listing(dir);
    const files = configurationFiles(names ?? matched.map((file) => path.basename(file))).map((name) => path.join(dir, name));
    const bodies: { file: string; body: Body; override: boolean }[] = [];
    const texts: (string | null)[] = [];
    // A few reads at a time: faster than one by one, without opening every file of a large directory at once.
    for (let start = 0; start < files.length; start += READ_CONCURRENCY) {
      texts.push(...(await Promise.all(files.slice(start, start + READ_CONCURRENCY).map((file) => this.text(file)))));
    }
    for (const [index, file] of files.entries()) {
      const text = texts[index];
      if (text === null || text === undefined) continue;
      try {
        bodies.push({ file, body: parseBody(text, file), override: isOverrideFile(path.basename(file)) });
      } catch (error) {
        if (!(error instanceof HclSyntaxError)) throw error;
        this.session.problem({ file, line: error.line, column: error.column }, INVALID, error.message);
      }
    }
    def.files = files.length;
    for (const { body, file } of bodies.filter((entry) => !entry.override)) this.addBody(def, body, file);
    for (const { body } of bodies.filter((entry) => entry.override)) this.applyOverride(def, body);
    return def;
  }

  private duplicate(pos: Pos, what: string, first: Pos): void {
    this.session.problem(pos, INVALID, `${what} is declared twice (first at ${where(first)})`);
  }

  private addBody(def: ModuleDef, body: Body, file: string): void {
    for (const attribute of body.attributes) this.session.problem(attribute.pos, INVALID, `an attribute "${attribute.name}" is not expected at the top level of ${path.basename(file)}; only blocks are`);
    for (const block of body.blocks) {
      const [first, second] = block.labels;
      const labels = (count: number): boolean => {
        if (block.labels.length === count) return true;
        this.session.problem(block.pos, INVALID, `a ${block.type} block needs ${count === 1 ? 'one label' : `${count} labels`}, it has ${block.labels.length}`);
        return false;
      };
      switch (block.type) {
        case 'resource': {
          if (!labels(2)) break;
          const key = `${first}.${second}`;
          const earlier = def.declared.get(key);
          if (earlier) {
            this.duplicate(block.pos, `resource "${first}" "${second}"`, earlier.pos);
            break;
          }
          def.declared.set(key, block);
          def.resources.push(block);
          break;
        }
        case 'variable':
        case 'output':
        case 'module': {
          if (!labels(1)) break;
          const table = block.type === 'variable' ? def.variables : block.type === 'output' ? def.outputs : def.calls;
          const earlier = table.get(first!);
          if (earlier) this.duplicate(block.pos, `${block.type} "${first}"`, earlier.pos);
          else table.set(first!, block);
          break;
        }
        case 'locals':
          for (const attribute of block.body.attributes) {
            const earlier = def.locals.get(attribute.name);
            if (earlier) this.duplicate(attribute.pos, `local value "${attribute.name}"`, earlier.pos);
            else def.locals.set(attribute.name, attribute);
          }
          break;
        default:
          // data, provider, terraform, moved, import, check, removed, ephemeral: no managed resource in them.
          break;
      }
    }
  }

  /** override.tf and *_override.tf: their arguments replace the base block's, their nested blocks replace that type's. */
  private applyOverride(def: ModuleDef, body: Body): void {
    for (const block of body.blocks) {
      const [first, second] = block.labels;
      let base: Block | undefined;
      if (block.type === 'resource' && block.labels.length === 2) base = def.declared.get(`${first}.${second}`);
      else if (block.type === 'variable') base = def.variables.get(first!);
      else if (block.type === 'output') base = def.outputs.get(first!);
      else if (block.type === 'module') base = def.calls.get(first!);
      else if (block.type === 'locals') {
        for (const attribute of block.body.attributes) def.locals.set(attribute.name, attribute);
        continue;
      } else continue;
      if (!base) {
        this.session.problem(block.pos, INVALID, `the override ${block.type} "${block.labels.join('" "')}" has no block of that name to override`);
        continue;
      }
      const names = new Set(block.body.attributes.map((attribute) => attribute.name));
      const types = new Set(block.body.blocks.map((nested) => (nested.type === 'dynamic' ? (nested.labels[0] ?? '') : nested.type)));
      base.body = {
        attributes: [...base.body.attributes.filter((attribute) => !names.has(attribute.name)), ...block.body.attributes],
        blocks: [...base.body.blocks.filter((nested) => !types.has(nested.type === 'dynamic' ? (nested.labels[0] ?? '') : nested.type)), ...block.body.blocks],
      };
    }
  }

  /** A root module's tree: every module it calls, loaded, with problems for the ones that cannot be. */
  async rootNode(dir: string): Promise<ModuleNode> {
    const installed = await this.installedModules(dir);
    const tfvars = await this.tfvars(dir);
    const count = { nodes: 0 };
    return this.node(await this.moduleDef(dir), dir, [], [dir], installed, tfvars, count);
  }

  private async node(def: ModuleDef, rootDir: string, keyPath: string[], ancestors: string[], installed: Map<string, string>, tfvars: Map<string, Value>, count: { nodes: number }): Promise<ModuleNode> {
    const node: ModuleNode = { def, rootDir, keyPath, children: new Map(), tfvars };
    count.nodes++;
    for (const [name, block] of def.calls) {
      const child = await this.childDir(def, name, block, keyPath, ancestors, installed, count);
      if (child === null) {
        node.children.set(name, null);
        continue;
      }
      const childDef = await this.moduleDef(child);
      if (childDef.files === 0) {
        this.session.problem(block.pos, INVALID, `module "${name}": no .tf or .tofu files in ${child}`);
        node.children.set(name, null);
        continue;
      }
      node.children.set(name, await this.node(childDef, rootDir, [...keyPath, name], [...ancestors, child], installed, new Map(), count));
    }
    return node;
  }

  private async childDir(def: ModuleDef, name: string, block: Block, keyPath: string[], ancestors: string[], installed: Map<string, string>, count: { nodes: number }): Promise<string | null> {
    const sourceAttribute = attributeOf(block.body, 'source');
    if (!sourceAttribute) {
      this.session.problem(block.pos, INVALID, `module "${name}" has no source`);
      return null;
    }
    const source = literalString(sourceAttribute.expr);
    if (source === null) {
      this.session.problem(sourceAttribute.pos, INVALID, `module "${name}": source must be a literal string`);
      return null;
    }
    let dir: string;
    if (isLocalSource(source)) {
      dir = path.resolve(def.dir, source);
    } else {
      const key = [...keyPath, name].join('.');
      const found = installed.get(key);
      if (found === undefined) {
        this.session.problem(block.pos, NOT_INSTALLED, `module "${name}" (source ${withoutCredentials(source)}) is not installed; run terraform init, or scan the output of terraform show -json`);
        return null;
      }
      dir = found;
    }
    if (ancestors.includes(dir)) {
      this.session.problem(block.pos, INVALID, `module "${name}" calls ${path.relative(def.dir, dir) === '' ? 'its own module' : 'a module that calls it'}: modules cannot call themselves`);
      return null;
    }
    if (keyPath.length + 1 > MAX_MODULE_DEPTH) {
      this.session.problem(block.pos, INVALID, `module "${name}": modules nested deeper than ${MAX_MODULE_DEPTH} levels`);
      return null;
    }
    if (count.nodes >= MAX_MODULE_NODES) {
      this.session.problem(block.pos, INVALID, `module "${name}": the configuration calls more than ${MAX_MODULE_NODES} modules`);
      return null;
    }
    return dir;
  }

  /** .terraform/modules/modules.json: where terraform init put each non-local module, by call path. */
  private async installedModules(rootDir: string): Promise<Map<string, string>> {
    const installed = new Map<string, string>();
    const modulesDir = path.join(rootDir, '.terraform', 'modules');
    const names = await this.listing(modulesDir);
    if (!names?.includes('modules.json')) return installed;
    const file = path.join(modulesDir, 'modules.json');
    const text = await this.text(file);
    if (text === null) return installed;
    let manifest: unknown;
    try {
      manifest = JSON.parse(text);
    } catch (error) {
      this.session.problem({ file, line: 1, column: 1 }, INVALID, `not valid JSON: ${(error as Error).message}`);
      return installed;
    }
    const modules = (manifest as { Modules?: unknown } | null)?.Modules;
    if (!Array.isArray(modules)) return installed;
    for (const entry of modules) {
      const { Key: key, Dir: dir } = (entry ?? {}) as { Key?: unknown; Dir?: unknown };
      if (typeof key === 'string' && key !== '' && typeof dir === 'string' && dir !== '') installed.set(key, path.resolve(rootDir, dir));
    }
    return installed;
  }

  /** terraform.tfvars, terraform.tfvars.json, then *.auto.tfvars(.json) in name order: later files win. */
  private async tfvars(rootDir: string): Promise<Map<string, Value>> {
    const values = new Map<string, Value>();
    const names = (await this.listing(rootDir)) ?? [];
    const auto = names.filter((name) => name.endsWith('.auto.tfvars') || name.endsWith('.auto.tfvars.json')).sort();
    const ordered = [...['terraform.tfvars', 'terraform.tfvars.json'].filter((name) => names.includes(name)), ...auto];
    for (const name of ordered) {
      const file = path.join(rootDir, name);
      const text = await this.text(file);
      if (text === null) continue;
      if (name.endsWith('.json')) {
        try {
          const json: unknown = JSON.parse(text);
          if (valueDepth(json) > MAX_VALUE_DEPTH) throw new Error(`nested deeper than ${MAX_VALUE_DEPTH} levels`);
          if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new Error('the top level is not an object');
          for (const [key, value] of Object.entries(json)) values.set(key, fromJson(value));
        } catch (error) {
          this.session.problem({ file, line: 1, column: 1 }, INVALID, `not a variables file: ${(error as Error).message}`);
        }
        continue;
      }
      let body: Body;
      try {
        body = parseBody(text, file);
      } catch (error) {
        if (!(error instanceof HclSyntaxError)) throw error;
        this.session.problem({ file, line: error.line, column: error.column }, INVALID, error.message);
        continue;
      }
      for (const block of body.blocks) this.session.problem(block.pos, INVALID, `a variables file holds only name = value lines, not a "${block.type}" block`);
      for (const attribute of body.attributes) values.set(attribute.name, this.session.evaluate(attribute.expr, CONSTANT_SCOPE));
    }
    return values;
  }
}

/** A module source as an error may show it: a git or HTTP URL can carry a user and token (https://user:token@host/...). */
export function withoutCredentials(source: string): string {
  return source.replace(/(\/\/)[^/@\s]+@/g, '$1***@');
}
