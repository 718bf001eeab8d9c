import { readFileSync } from 'node:fs';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { packagePath } from './package-root.ts';

// Schemas live in the package's schemas/ folder so editors and users can reference the same files.
export const SCHEMA_DIR = packagePath('schemas') + '/';

export type SchemaName = 'config' | 'inventory-item' | 'inventory' | 'report' | 'rule' | 'custom-rules' | 'profile';

const FILES: Record<SchemaName, string> = {
  config: 'config.schema.json',
  'inventory-item': 'inventory-item.schema.json',
  inventory: 'inventory.schema.json',
  report: 'report.schema.json',
  rule: '../rules/schema.json',
  'custom-rules': 'custom-rules.schema.json',
  profile: '../policies/profiles/schema.json',
};

let ajv: Ajv2020 | null = null;
const compiled = new Map<SchemaName, ValidateFunction>();

function instance(): Ajv2020 {
  if (!ajv) {
    ajv = new Ajv2020({ allErrors: true, discriminator: true, strict: true, allowUnionTypes: true });
    for (const file of Object.values(FILES)) {
      ajv.addSchema(JSON.parse(readFileSync(new URL(file, `file://${SCHEMA_DIR}`), 'utf8')) as object);
    }
  }
  return ajv;
}

export function validator(name: SchemaName): ValidateFunction {
  let validate = compiled.get(name);
  if (!validate) {
    const schema = JSON.parse(readFileSync(new URL(FILES[name], `file://${SCHEMA_DIR}`), 'utf8')) as { $id: string };
    validate = instance().getSchema(schema.$id);
    if (!validate) throw new Error(`schema ${name} did not compile`);
    compiled.set(name, validate);
  }
  return validate;
}

/** "/sources/2/type" -> "sources[2].type"; the way a user would name the field. */
export function fieldPath(instancePath: string): string {
  if (instancePath === '') return '(top level)';
  return instancePath
    .split('/')
    .slice(1)
    .map((part) => part.replaceAll('~1', '/').replaceAll('~0', '~'))
    .reduce((out, part) => (/^\d+$/.test(part) ? `${out}[${part}]` : out ? `${out}.${part}` : part), '');
}

// Summaries of a union ("must match exactly one schema in oneOf") repeat what their branches said.
const SUMMARY_KEYWORDS = new Set(['oneOf', 'anyOf', 'if']);

/**
 * The error that names the field really at fault, from ajv's list (allErrors). A value that fails
 * a union such as `oneOf: [null, object]` gets one error per branch, the first being "must be
 * null"; the branch the value was meant for is the one that went further: an error below the
 * field, or beside it with another keyword ("missing required field"). So a type error with such
 * a neighbour is a branch not taken and is dropped; of the rest the deepest field wins (ties: the
 * first); type errors left side by side at that field merge ("must be object or null").
 */
export function mostSpecificError(errors: readonly ErrorObject[]): ErrorObject {
  const specific = errors.filter((error) => !SUMMARY_KEYWORDS.has(error.keyword));
  const taken = specific.filter(
    (error) =>
      error.keyword !== 'type' ||
      !specific.some(
        (other) =>
          other.instancePath.startsWith(`${error.instancePath}/`) || (other.instancePath === error.instancePath && other.keyword !== 'type'),
      ),
  );
  if (taken.length === 0) return errors[0]!;
  const depth = (error: ErrorObject) => (error.instancePath === '' ? 0 : error.instancePath.split('/').length);
  const deepest = taken.reduce((best, error) => (depth(error) > depth(best) ? error : best));
  if (deepest.keyword !== 'type') return deepest;
  const types = taken
    .filter((error) => error.keyword === 'type' && error.instancePath === deepest.instancePath)
    .flatMap((error) => String((error.params as { type: unknown }).type).split(','));
  // "object or null" reads better than "null or object": null is the fallback, named last.
  const merged = [...new Set(types)].sort((a, b) => Number(a === 'null') - Number(b === 'null'));
  return { ...deepest, params: { ...deepest.params, type: merged.join(',') } };
}

/** One readable sentence per schema error, without ajv's internal vocabulary. */
export function describeError(error: ErrorObject): string {
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties':
      return `unknown field "${String(params['additionalProperty'])}"`;
    case 'required':
      return `missing required field "${String(params['missingProperty'])}"`;
    case 'enum':
      return `must be one of ${(params['allowedValues'] as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'const':
      return `must be ${JSON.stringify(params['allowedValue'])}`;
    case 'discriminator':
      return params['error'] === 'mapping'
        ? `unknown ${String(params['tag'])} "${String(params['tagValue'])}"`
        : `missing "${String(params['tag'])}"`;
    case 'type':
      return `must be ${orList(String(params['type']).split(','))}`;
    case 'minItems':
      return Number(params['limit']) === 1 ? 'must list at least one entry' : `must list at least ${String(params['limit'])} entries`;
    default:
      return error.message ?? error.keyword;
  }
}

/** ["a", "b", "c"] -> "a, b or c". */
function orList(words: string[]): string {
  return words.length <= 1 ? words.join('') : `${words.slice(0, -1).join(', ')} or ${words.at(-1)!}`;
}

const parts = new Map<string, ValidateFunction>();

/** A validator for one part of a schema, by JSON pointer ("#/$defs/source"), for files checked piece by piece. */
export function partValidator(name: SchemaName, pointer: `#/${string}`): ValidateFunction {
  const key = `${name}${pointer}`;
  let validate = parts.get(key);
  if (!validate) {
    const root = validator(name).schema as { $id: string };
    validate = instance().getSchema(`${root.$id}${pointer}`);
    if (!validate) throw new Error(`schema ${name} has no part ${pointer}`);
    parts.set(key, validate);
  }
  return validate;
}
