// Writes schemas/policy-input/input.json: the JSON Schema of the policy input (what every Rego
// rule, built-in or custom, sees as `input`), in the draft-07 subset `opa check --schema` reads:
// no external $ref, `anyOf` instead of `oneOf`. Built from schemas/inventory-item.schema.json so
// the two cannot drift; `--check` fails when the committed file is stale.
import { readFileSync, writeFileSync } from 'node:fs';

type Schema = Record<string, unknown>;

const item = JSON.parse(readFileSync('schemas/inventory-item.schema.json', 'utf8')) as Schema & { $defs: Record<string, Schema> };

function inline(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(inline);
  if (!node || typeof node !== 'object') return node;
  const out: Schema = {};
  for (const [key, value] of Object.entries(node as Schema)) {
    if (key === '$ref' && typeof value === 'string' && value.startsWith('#/$defs/')) {
      Object.assign(out, inline(item.$defs[value.slice('#/$defs/'.length)]));
    } else if (key === 'oneOf') {
      out['anyOf'] = inline(value);
    } else if (key === 'pattern' || key === '$defs' || key === '$id' || key === '$schema') {
      continue; // opa's checker only needs types; patterns are the collector's contract
    } else {
      out[key] = inline(value);
    }
  }
  return out;
}

const epoch = { type: ['number', 'null'], description: 'Epoch seconds of the RFC 3339 field of the same name (null when unknown).' };
const itemSchema = inline(item) as Schema & { properties: Record<string, Schema>; required: string[] };
const versions = itemSchema.properties['versions'] as { anyOf: Schema[] };
const versionItems = (versions.anyOf[1] as { items: Schema & { properties: Record<string, Schema> } }).items;
versionItems.properties['_t'] = {
  type: 'object',
  properties: { createdAt: epoch, supersededAt: epoch },
};
itemSchema.properties['_t'] = {
  type: 'object',
  description: 'Timestamps as epoch seconds, added by the engine: Rego compares these, never strings (wasm has no time builtins).',
  properties: Object.fromEntries(
    ['createdAt', 'expiresAt', 'stateSince', 'lastRotatedAt', 'nextRotationAt', 'deletionScheduledFor', 'notBefore', 'notAfter'].map((name) => [name, epoch]),
  ),
};
itemSchema.properties['_drift'] = {
  type: 'object',
  description: 'How the drift rules recognise the key on the other side (declared or live), added by the engine when the key has an identity to compare (src/drift/identity.ts).',
  required: ['strong', 'weak', 'scope'],
  properties: {
    strong: { type: 'array', items: { type: 'string' }, description: 'Provider ids: <provider>|id|<ARN, resource name or Vault path>.' },
    weak: { type: 'array', items: { type: 'string' }, description: 'Names a person chose: <provider>|alias:<alias>, <provider>|name:<ring>/<key>, <provider>|path:<mount>/keys/<name>.' },
    scope: { type: ['string', 'null'], description: '<provider>|<location> of a key with a strong identity, else null.' },
  },
};
itemSchema.required = [...itemSchema.required, '_t'];
delete itemSchema['title'];

const schema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'keydrift policy input',
  description:
    'What keydrift passes as `input` to every policy, built-in or custom. Items arrive in batches; sources and waivers arrive once, in a call with no items. Type-check your policies with: opa check --schema <this folder> <your policy folder>',
  type: 'object',
  required: ['now', 'now_s', 'items', 'sources', 'waivers'],
  properties: {
    now: { type: 'string', description: 'The evaluation clock, RFC 3339.' },
    now_s: { type: 'number', description: 'The evaluation clock in epoch seconds.' },
    items: { type: 'array', items: itemSchema },
    sources: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'type', 'status', 'errors'],
        properties: {
          id: { type: 'string' },
          type: { type: 'string' },
          status: { type: 'string', enum: ['ok', 'partial', 'failed'] },
          errors: {
            type: 'array',
            items: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' }, resource: { type: 'string' } } },
          },
        },
      },
    },
    waivers: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          rule: { type: 'string' },
          resource: { type: 'string' },
          reason: { type: 'string' },
          owner: { type: 'string' },
          expires: { type: 'string' },
          expires_s: { type: ['number', 'null'] },
        },
      },
    },
  },
};

const text = JSON.stringify(schema, null, 2) + '\n';
const target = 'schemas/policy-input/input.json';
if (process.argv.includes('--check')) {
  if (readFileSync(target, 'utf8') !== text) {
    console.error(`${target} is stale: run "node scripts/gen-input-schema.ts"`);
    process.exit(1);
  }
} else {
  writeFileSync(target, text);
}
