// The resource instances in `terraform show -json` output (the same for OpenTofu): a saved plan
// (planned changes, `resource_changes`) or a state (what was applied, `values`).

import { pointer, type PositionedJson } from './json-positions.ts';

export type ShowJsonKind = 'plan' | 'state';

/** One managed resource instance, with where its values sit in the file. */
export interface ResourceInstance {
  /** Full address, module path and instance key included: module.kms["a"].aws_kms_key.this[0]. */
  address: string;
  type: string;
  /** Attribute values as they will be (plan) or are (state); an unknown one is absent here and true in `unknown`. */
  values: Record<string, unknown>;
  /** after_unknown of a plan: the same shape as values, true where the value is known only after apply. */
  unknown: Record<string, unknown>;
  /** JSON Pointer of the resource's object (its line is the block's line). */
  at: string;
  /** JSON Pointer of `values` (attribute lines are its members'). */
  valuesAt: string;
}

export class ShowJsonError extends Error {
  /** JSON Pointer of the offending value, when there is one (its line goes in the message the user sees). */
  readonly at: string;
  constructor(message: string, at = '') {
    super(message);
    this.at = at;
  }
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Which document this is, by format_version and the keys terraform writes: a plan has
 * planned_values or resource_changes, a state has values (an empty state has neither). A raw
 * .tfstate (version, serial, lineage) is refused with what to run instead.
 */
export function showJsonKind(document: unknown): ShowJsonKind {
  if (!isObject(document)) throw new ShowJsonError('not a terraform show -json document: the top level is not an object');
  if (typeof document['format_version'] !== 'string') {
    if ('lineage' in document && 'serial' in document) {
      throw new ShowJsonError('a raw state file (.tfstate); give keydrift the output of `terraform show -json` instead');
    }
    throw new ShowJsonError('not a terraform show -json plan or state: no format_version');
  }
  if ('planned_values' in document || 'resource_changes' in document) return 'plan';
  if ('values' in document || !('configuration' in document)) return 'state';
  throw new ShowJsonError('format_version is set but neither plan (planned_values, resource_changes) nor state (values) keys are');
}

export function resourceInstances(json: PositionedJson): { kind: ShowJsonKind; resources: ResourceInstance[] } {
  const document = json.value as Record<string, unknown>;
  const kind = showJsonKind(document);
  if (kind === 'plan' && Array.isArray(document['resource_changes'])) {
    return { kind, resources: planChanges(document['resource_changes']) };
  }
  const root = kind === 'plan' ? document['planned_values'] : document['values'];
  const rootAt = kind === 'plan' ? '/planned_values' : '/values';
  if (root === undefined || root === null) return { kind, resources: [] };
  if (!isObject(root)) throw new ShowJsonError(`${rootAt.slice(1)} is not an object`, rootAt);
  const resources: ResourceInstance[] = [];
  if (root['root_module'] !== undefined) walkModule(root['root_module'], pointer(rootAt, 'root_module'), resources, 0);
  return { kind, resources };
}

/** resource_changes: `after` is the planned value; a resource being destroyed (after null) will not exist and is left out. */
function planChanges(changes: unknown[]): ResourceInstance[] {
  const resources: ResourceInstance[] = [];
  changes.forEach((entry, index) => {
    const at = pointer('/resource_changes', index);
    if (!isObject(entry)) throw new ShowJsonError(`${at.slice(1)} is not an object`, at);
    if (entry['mode'] !== undefined && entry['mode'] !== 'managed') return;
    const change = entry['change'];
    if (!isObject(change)) throw new ShowJsonError(`${at.slice(1)}/change is not an object`, at);
    const after = change['after'];
    if (after === null || after === undefined) return;
    if (!isObject(after)) throw new ShowJsonError(`${at.slice(1)}/change/after is not an object`, at);
    resources.push({
      address: addressOf(entry, at),
      type: typeOf(entry, at),
      values: after,
      unknown: isObject(change['after_unknown']) ? change['after_unknown'] : {},
      at,
      valuesAt: pointer(pointer(at, 'change'), 'after'),
    });
  });
  return resources;
}

/** Module nesting in terraform is shallow; this bound only stops a crafted file from recursing forever. */
const MAX_MODULE_DEPTH = 64;

function walkModule(module: unknown, at: string, into: ResourceInstance[], depth: number): void {
  if (depth > MAX_MODULE_DEPTH) throw new ShowJsonError(`${at.slice(1)}: modules nested deeper than ${MAX_MODULE_DEPTH}`, at);
  if (!isObject(module)) throw new ShowJsonError(`${at.slice(1)} is not an object`, at);
  const resources = module['resources'] ?? [];
  if (!Array.isArray(resources)) throw new ShowJsonError(`${at.slice(1)}/resources is not a list`, at);
  resources.forEach((resource, index) => {
    const resourceAt = pointer(pointer(at, 'resources'), index);
    if (!isObject(resource)) throw new ShowJsonError(`${resourceAt.slice(1)} is not an object`, resourceAt);
    if (resource['mode'] !== undefined && resource['mode'] !== 'managed') return;
    const values = resource['values'] ?? {};
    if (!isObject(values)) throw new ShowJsonError(`${resourceAt.slice(1)}/values is not an object`, resourceAt);
    // planned_values leaves unknown values out and has no after_unknown: absent is unknown either way.
    into.push({ address: addressOf(resource, resourceAt), type: typeOf(resource, resourceAt), values, unknown: {}, at: resourceAt, valuesAt: pointer(resourceAt, 'values') });
  });
  const children = module['child_modules'] ?? [];
  if (!Array.isArray(children)) throw new ShowJsonError(`${at.slice(1)}/child_modules is not a list`, at);
  children.forEach((child, index) => walkModule(child, pointer(pointer(at, 'child_modules'), index), into, depth + 1));
}

/**
 * The instance's full address. terraform writes it whole (module path and [index] included);
 * when an entry lacks it, it is rebuilt from module_address, type, name and index.
 */
function addressOf(entry: Record<string, unknown>, at: string): string {
  if (typeof entry['address'] === 'string' && entry['address'] !== '') return entry['address'];
  const type = typeOf(entry, at);
  if (typeof entry['name'] !== 'string') throw new ShowJsonError(`${at.slice(1)}: the resource has neither address nor name`, at);
  const index = entry['index'];
  const key = typeof index === 'number' ? `[${index}]` : typeof index === 'string' ? `[${JSON.stringify(index)}]` : '';
  const module = typeof entry['module_address'] === 'string' && entry['module_address'] !== '' ? `${entry['module_address']}.` : '';
  return `${module}${type}.${entry['name']}${key}`;
}

function typeOf(entry: Record<string, unknown>, at: string): string {
  if (typeof entry['type'] !== 'string' || entry['type'] === '') throw new ShowJsonError(`${at.slice(1)}: the resource has no type`, at);
  return entry['type'];
}
