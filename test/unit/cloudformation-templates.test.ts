import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { cloudformationCollector } from '../../src/collectors/cloudformation/collector.ts';
import { ABSENT, Template, TemplateSyntaxError, UNRESOLVED } from '../../src/collectors/cloudformation/template.ts';
import type { InventoryItem } from '../../src/inventory/types.ts';
import { quietContext } from '../support/collect.ts';

const FIXTURES = path.resolve('test/fixtures/iac/cloudformation');
const SHOWN = 'test/fixtures/iac/cloudformation/templates';

async function collect(paths: string[]): Promise<{ items: Map<string, InventoryItem>; errors: ReturnType<typeof quietContext>['errors'] }> {
  const ctx = quietContext(FIXTURES);
  const items = new Map<string, InventoryItem>();
  for await (const item of cloudformationCollector.collect({ id: 'stacks', type: 'cloudformation', paths }, ctx)) items.set(item.address!, item);
  return { items, errors: ctx.errors };
}

/** The value of `Resources.Probe.Properties.Value` in a template with these parameters, mappings and conditions. */
function probe(value: string, preamble = ''): unknown {
  const template = Template.parse(`${preamble}\nResources:\n  Probe:\n    Type: AWS::KMS::Key\n    Properties:\n      Value: ${value}\n`)!;
  const properties = template.resources()[0]!.body!.get('Properties', true) as unknown as { get(key: string, keepNode: true): unknown };
  return template.resolve(properties.get('Value', true));
}

const PREAMBLE = `
Parameters:
  Env: { Type: String, Default: prod }
  Days: { Type: Number, Default: 90 }
  Open: { Type: String }
  Zones: { Type: CommaDelimitedList, Default: "a, b" }
Mappings:
  Windows: { prod: { Days: 30 } }
Conditions:
  IsProd: !Equals [!Ref Env, prod]
  IsDev: !Not [!Condition IsProd]
  InHome: !Equals [!Ref "AWS::Region", us-east-1]
  ProdOrHome: !Or [!Condition IsProd, !Condition InHome]
  ProdAndHome: !And [!Condition IsProd, !Condition InHome]
  Loop: !Not [!Condition Loop]
`;

test('short-form intrinsics resolve from parameter defaults, mappings and conditions', () => {
  assert.equal(probe('!Ref Env', PREAMBLE), 'prod');
  assert.equal(probe('!Ref Days', PREAMBLE), 90);
  assert.deepEqual(probe('!Ref Zones', PREAMBLE), ['a', 'b']);
  assert.equal(probe('!FindInMap [Windows, !Ref Env, Days]', PREAMBLE), 30);
  assert.equal(probe("!Sub 'alias/${Env}/${!Literal}'", PREAMBLE), 'alias/prod/${Literal}');
  assert.equal(probe('!Sub [ "${Prefix}-${Env}", { Prefix: keys } ]', PREAMBLE), 'keys-prod');
  assert.equal(probe('!Join ["-", [a, !Ref Env]]', PREAMBLE), 'a-prod');
  assert.equal(probe('!Select [1, !Split [",", "x,y"]]', PREAMBLE), 'y');
  assert.equal(probe('!If [IsProd, true, false]', PREAMBLE), true);
  assert.equal(probe('!If [IsDev, true, false]', PREAMBLE), false);
  // One true operand settles Or even when the other is unknown; And needs both.
  assert.equal(probe('!If [ProdOrHome, yes, no]', PREAMBLE), 'yes');
  assert.equal(probe('!If [ProdAndHome, yes, no]', PREAMBLE), UNRESOLVED);
  assert.equal(probe('!If [IsProd, !Ref "AWS::NoValue", x]', PREAMBLE), ABSENT);
});

test('what only a deployment decides stays unresolved, never false', () => {
  assert.equal(probe('!Ref Open', PREAMBLE), UNRESOLVED, 'a parameter without a default');
  assert.equal(probe('!Ref "AWS::Region"', PREAMBLE), UNRESOLVED, 'a pseudo parameter');
  assert.equal(probe('!If [InHome, true, false]', PREAMBLE), UNRESOLVED, 'a condition over a pseudo parameter');
  assert.equal(probe('!If [Missing, true, false]', PREAMBLE), UNRESOLVED, 'an undefined condition');
  assert.equal(probe('!If [Loop, true, false]', PREAMBLE), UNRESOLVED, 'a condition that refers to itself');
  assert.equal(probe('!GetAtt Other.Arn', PREAMBLE), UNRESOLVED);
  assert.equal(probe('!ImportValue shared-rotation', PREAMBLE), UNRESOLVED);
  assert.equal(probe('!Sub "${Open}-key"', PREAMBLE), UNRESOLVED);
  assert.equal(probe('!FindInMap [Windows, dev, Days]', PREAMBLE), UNRESOLVED);
});

test('long-form intrinsics in JSON resolve the same way', () => {
  const template = Template.parse(
    JSON.stringify({
      Parameters: { Rotate: { Type: 'String', Default: 'true' } },
      Conditions: { On: { 'Fn::Equals': [{ Ref: 'Rotate' }, 'true'] } },
      Resources: { K: { Type: 'AWS::KMS::Key', Properties: { A: { 'Fn::If': ['On', true, false] }, B: { 'Fn::GetAtt': ['X', 'Arn'] } } } },
    }, null, 2),
  )!;
  const properties = template.resources()[0]!.body!.get('Properties', true) as unknown as { get(key: string, keepNode: true): unknown };
  assert.equal(template.resolve(properties.get('A', true)), true);
  assert.equal(template.resolve(properties.get('B', true)), UNRESOLVED);
});

test('a malformed template is an error with its line and column; other YAML is not a template', () => {
  assert.throws(() => Template.parse('Resources:\n  K:\n    Type: [AWS::KMS::Key\n    Properties: {}\n'), (error: unknown) => {
    assert.ok(error instanceof TemplateSyntaxError);
    assert.equal(error.line, 4);
    return true;
  });
  assert.throws(() => Template.parse('{\n  "Resources": {\n    "K": { "Type": "AWS::KMS::Key", }\n  }\n'), TemplateSyntaxError);
  assert.equal(Template.parse('name: build\non: [push]\n'), null);
});

test('the YAML template yields each AWS::KMS::Key as the live aws-kms collector would, unknowns null', async () => {
  const { items, errors } = await collect(['templates/kms-keys.yaml']);
  assert.deepEqual(errors, []);
  assert.deepEqual([...items.keys()], [
    'Resources.myKey',
    'Resources.myLongRotationKey',
    'Resources.myAsymmetricKey',
    'Resources.myRegionalKey',
    'Resources.myParameterSpecKey',
  ]);
  const key = items.get('Resources.myKey')!;
  assert.equal(key.uid, 'cloudformation:templates/kms-keys.yaml#Resources.myKey');
  assert.equal(key.provider, 'aws-kms');
  assert.equal(key.declared, true);
  assert.equal(key.name, 'alias/prod/payments', 'the alias resource pointing at it, with the parameter default substituted');
  assert.equal(key.algorithm, 'AES-256');
  assert.equal(key.purpose, 'encrypt');
  assert.equal(key.protection, 'hsm');
  assert.deepEqual(key.rotation, { supported: true, automatic: false, periodDays: null, lastRotatedAt: null, nextRotationAt: null });
  assert.deepEqual(key.tags, { team: 'payments', env: 'prod' });
  assert.equal(key.evidence['PendingWindowInDays'], 20);
  assert.deepEqual(key.declaredIn, {
    file: `${SHOWN}/kms-keys.yaml`,
    line: 26,
    column: 3,
    attributes: { 'rotation.automatic': { line: 30, column: 7 }, deletion: { line: 31, column: 7 }, tags: { line: 42, column: 7 } },
  });

  const longRotation = items.get('Resources.myLongRotationKey')!;
  assert.deepEqual(longRotation.rotation, { supported: true, automatic: true, periodDays: 730, lastRotatedAt: null, nextRotationAt: null });
  assert.equal(longRotation.evidence['PendingWindowInDays'], 30, 'from the mapping, by the Environment default');
  assert.equal(longRotation.evidence['condition'], 'IsProd');
  assert.equal(longRotation.evidence['conditionHolds'], true);
  assert.deepEqual(longRotation.declaredIn!.attributes['rotation.periodDays'], { line: 58, column: 7 });

  const signing = items.get('Resources.myAsymmetricKey')!;
  assert.deepEqual([signing.algorithm, signing.keyType, signing.keySize, signing.purpose], ['RSA-2048', 'rsa', 2048, 'sign']);
  assert.equal(signing.rotation!.supported, false);
  assert.deepEqual(signing.declaredIn!.attributes['algorithm'], { line: 64, column: 7 });

  const regional = items.get('Resources.myRegionalKey')!;
  assert.deepEqual(regional.rotation, { supported: true, automatic: null, periodDays: null, lastRotatedAt: null, nextRotationAt: null });
  assert.deepEqual(regional.evidence['unresolved'], ['EnableKeyRotation']);

  const open = items.get('Resources.myParameterSpecKey')!;
  assert.equal(open.algorithm, 'UNKNOWN:unresolved');
  assert.equal(open.keySize, null);
  assert.equal(open.rotation!.supported, null, 'whether rotation applies depends on the unknown key spec');
  assert.equal(open.evidence['KeySpec'], null);
});

test('the JSON template maps string booleans, Fn::If and imported keys', async () => {
  const { items, errors } = await collect(['templates/*.json']);
  assert.deepEqual(errors, []);
  const hmac = items.get('Resources.myHmacKey')!;
  assert.deepEqual([hmac.algorithm, hmac.purpose, hmac.state], ['HMAC-SHA384', 'mac', 'disabled']);
  assert.deepEqual(hmac.declaredIn!.attributes['state'], { line: 17, column: 9 });
  const multiRegion = items.get('Resources.myMultiRegionKey')!;
  assert.deepEqual(multiRegion.rotation, { supported: true, automatic: true, periodDays: 365, lastRotatedAt: null, nextRotationAt: null });
  assert.equal(multiRegion.evidence['MultiRegion'], true);
  const imported = items.get('Resources.myImportedKey')!;
  assert.deepEqual([imported.origin, imported.rotation!.supported], ['imported', false]);
});

test('a malformed template is reported by file and line and the others are still read', async () => {
  const { items, errors } = await collect(['templates/*']);
  assert.equal(errors.length, 1);
  assert.equal(errors[0]!.code, 'template-invalid');
  assert.match(errors[0]!.message, new RegExp(`^${SHOWN}/broken\\.yaml:6:7: not a valid YAML or JSON template: `));
  assert.equal(items.size, 8, 'the five YAML keys and three JSON keys; not-a-template.yaml yields nothing');
});
