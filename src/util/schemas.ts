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
      return `must be ${String(params['type']).replace(',', ' or ')}`;
    case 'minItems':
      return Number(params['limit']) === 1 ? 'must list at least one entry' : `must list at least ${String(params['limit'])} entries`;
    default:
      return error.message ?? error.keyword;
  }
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
