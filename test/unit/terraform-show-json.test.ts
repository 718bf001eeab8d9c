import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { terraformCollector } from '../../src/collectors/terraform/collector.ts';
import { JsonSyntaxError, parsePositionedJson } from '../../src/collectors/terraform/json-positions.ts';
import { resourceInstances, ShowJsonError, showJsonKind } from '../../src/collectors/terraform/show-json.ts';
import { assembleFindings } from '../../src/findings/assemble.ts';
import type { InventoryItem } from '../../src/inventory/types.ts';
import { quietContext } from '../support/collect.ts';

async function collect(files: Record<string, unknown>): Promise<{ items: InventoryItem[]; errors: string[] }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'keydrift-tf-unit-'));
  try {
    for (const [name, content] of Object.entries(files)) await writeFile(path.join(dir, name), typeof content === 'string' ? content : JSON.stringify(content, null, 2));
    const ctx = quietContext(dir);
    const items: InventoryItem[] = [];
    for await (const item of terraformCollector.collect({ id: 'iac', type: 'terraform', paths: ['*'] } as never, ctx)) items.push(item);
    return { items, errors: ctx.errors.map((error) => `${error.code}: ${error.message.replace(/^.*?([^/]+): /, '$1: ')}`) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const change = (type: string, address: string, after: Record<string, unknown>, unknown: Record<string, unknown> = {}) => ({
  address,
  mode: 'managed',
  type,
  name: address.split('.').pop(),
  change: { actions: ['create'], before: null, after, after_unknown: unknown },
});

describe('terraform show -json documents', () => {
  it('tells a plan from a state by format_version and keys, and names anything else', () => {
    assert.equal(showJsonKind({ format_version: '1.2', resource_changes: [] }), 'plan');
    assert.equal(showJsonKind({ format_version: '1.2', planned_values: {} }), 'plan');
    assert.equal(showJsonKind({ format_version: '1.0', values: { root_module: {} } }), 'state');
    assert.equal(showJsonKind({ format_version: '1.0' }), 'state'); // an empty state
    assert.throws(() => showJsonKind({ version: 4, serial: 3, lineage: 'x', resources: [] }), /raw state file/);
    assert.throws(() => showJsonKind({ Resources: {} }), /no format_version/);
    assert.throws(() => showJsonKind([]), ShowJsonError);
  });

  it('records the line of every member and reports a syntax error by line and column', () => {
    const { positions } = parsePositionedJson('{\n  "a": {\n    "b\\"c": [1, {"d": true}]\n  }\n}');
    assert.deepEqual(positions.get('/a'), { line: 2, column: 3 });
    assert.deepEqual(positions.get('/a/b"c/1/d'), { line: 3, column: 18 });
    assert.throws(() => parsePositionedJson('{\n  "a": 1,\n}'), (error: unknown) => error instanceof JsonSyntaxError && error.line === 3 && error.column === 1);
    assert.throws(() => parsePositionedJson('['.repeat(1000)), /nested deeper/);
  });

  it('walks a state through its child modules, keeping count and for_each addresses', () => {
    const state = {
      format_version: '1.0',
      values: {
        root_module: {
          resources: [{ address: 'aws_kms_key.a', mode: 'managed', type: 'aws_kms_key', name: 'a', values: {} }],
          child_modules: [
            {
              address: 'module.m["x"]',
              resources: [{ mode: 'managed', type: 'aws_kms_key', name: 'b', index: 2, module_address: 'module.m["x"]', values: {} }],
              child_modules: [{ resources: [{ address: 'data.x.y', mode: 'data', type: 'x', name: 'y' }] }],
            },
          ],
        },
      },
    };
    const { kind, resources } = resourceInstances(parsePositionedJson(JSON.stringify(state)));
    assert.equal(kind, 'state');
    assert.deepEqual(resources.map((resource) => resource.address), ['aws_kms_key.a', 'module.m["x"].aws_kms_key.b[2]']);
  });
});

describe('terraform collector', () => {
  it('leaves values known only after apply null, never false', async () => {
    const { items, errors } = await collect({
      'plan.json': {
        format_version: '1.2',
        resource_changes: [
          change('aws_kms_key', 'aws_kms_key.spec_unknown', { enable_key_rotation: true }, { customer_master_key_spec: true, rotation_period_in_days: true }),
          change('google_kms_crypto_key', 'google_kms_crypto_key.k', { name: 'k', key_ring: 'projects/p/locations/global/keyRings/r', purpose: 'ENCRYPT_DECRYPT' }, { rotation_period: true, version_template: true }),
          change('vault_transit_secret_backend_key', 'vault_transit_secret_backend_key.t', { name: 't', backend: 'transit', type: 'aes256-gcm96' }, { auto_rotate_period: true, exportable: true }),
        ],
      },
    });
    assert.deepEqual(errors, []);
    const [aws, gcp, transit] = items;
    assert.deepEqual([aws!.rotation!.supported, aws!.rotation!.automatic, aws!.rotation!.periodDays], [null, true, null]);
    assert.deepEqual([gcp!.uid, gcp!.evidence['nativeId'], gcp!.algorithm, gcp!.rotation!.automatic, gcp!.rotation!.periodDays], ['terraform:plan.json#google_kms_crypto_key.k', 'projects/p/locations/global/keyRings/r/cryptoKeys/k', 'AES-256', null, null]);
    assert.deepEqual([transit!.rotation!.automatic, transit!.attributes!.exportable], [null, null]);
  });

  it('names the file and the line of a resource that is not what a plan holds, and reads the other files', async () => {
    const { items, errors } = await collect({
      'a-bad.json': '{\n  "format_version": "1.2",\n  "resource_changes": [\n    42\n  ]\n}',
      'b-foreign.json': { AWSTemplateFormatVersion: '2010-09-09' },
      'c-binary.tfplan': 'PK\u0003\u0004 zipped plan',
      'd-config.tf.json': '{"resource": {}}',
      'e-good.json': { format_version: '1.2', resource_changes: [change('tls_private_key', 'tls_private_key.k', { algorithm: 'ECDSA', ecdsa_curve: 'P384' })] },
    });
    assert.deepEqual(errors, [
      'terraform-json-unexpected: a-bad.json: line 4, column 5: resource_changes/0 is not an object',
      'terraform-json-unexpected: b-foreign.json: not a terraform show -json plan or state: no format_version',
      'terraform-binary-plan: c-binary.tfplan: a binary plan file; run `terraform show -json <plan>` and scan its output',
      'terraform-json-configuration-unsupported: d-config.tf.json: configuration in JSON syntax is not read (without provider schemas a nested block and a map look alike); scan the .tf files, or the output of `terraform show -json` for a plan',
    ]);
    assert.deepEqual(items.map((item) => [item.address, item.algorithm, item.provider]), [['tls_private_key.k', 'EC-P384', 'x509-file']]);
  });

  it('points a finding at the judged attribute, else at the resource, else at the source entry', async () => {
    const { items } = await collect({
      'plan.json': { format_version: '1.2', resource_changes: [change('aws_kms_key', 'aws_kms_key.a', { key_usage: 'ENCRYPT_DECRYPT', enable_key_rotation: false })] },
    });
    // The collector shows the file relative to the working folder; this one lives in a temporary folder.
    const item = { ...items[0]!, declaredIn: { ...items[0]!.declaredIn!, file: 'plan.json' } };
    const source = { id: 'iac', type: 'terraform', status: 'ok' as const, items: 1, errors: [], declaredAt: { file: 'keydrift.yaml', region: { startLine: 3, startColumn: 5, endLine: 3, endColumn: 9 } } };
    const at = (rule: string, it: InventoryItem) => assembleFindings([{ rule, uid: it.uid, severity: 'high', evidence: {} }], [it], [source], 'keydrift.yaml')[0]!.declaredAt;
    assert.deepEqual(at('KD-ROT-001', item), { file: 'plan.json', region: { startLine: 16, startColumn: 11, endLine: 16, endColumn: 12 } });
    // KD-ROT-002 judges rotation.periodDays, which the plan does not set: the resource's line.
    assert.deepEqual(at('KD-ROT-002', item).region.startLine, 4);
    // A plan outside the working folder cannot be a SARIF location.
    assert.deepEqual(at('KD-ROT-001', { ...item, declaredIn: { ...item.declaredIn!, file: '/elsewhere/plan.json' } }), source.declaredAt);
  });
});
