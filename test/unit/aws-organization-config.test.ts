import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inactiveState, memberRoleArn, partitionOf } from '../../src/collectors/aws/organization.ts';
import { ConfigError, parseConfig } from '../../src/config/load.ts';
import { mergeBounded } from '../../src/util/limit.ts';

// `accounts` and `roleName` on aws-kms and aws-acm sources (organization discovery): what the
// config accepts, what it refuses and how it says so; and the account states discovery skips.

function problems(sources: string): string[] {
  try {
    parseConfig(`version: 1\nsources:\n${sources}`, 'keydrift.yaml');
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.problems;
  }
  assert.fail('expected a ConfigError');
}

test('accounts: organization, or a mapping with include/exclude of account, OU and root ids, with roleName', () => {
  const config = parseConfig(
    [
      'version: 1',
      'sources:',
      '  - { id: org-kms, type: aws-kms, accounts: organization, roleName: keydrift-audit }',
      '  - id: org-acm',
      '    type: aws-acm',
      '    roleArn: "arn:aws:iam::111122223333:role/keydrift-discovery"',
      '    roleName: audit/keydrift-audit',
      '    accounts:',
      '      organization: true',
      '      include: [ou-ab12-11111111, r-ab12, "012345678901"]',
      '      exclude: ["444455556666"]',
      '',
    ].join('\n'),
    'keydrift.yaml',
  );
  assert.equal(config.sources[0]!['accounts'], 'organization');
  assert.deepEqual(config.sources[1]!['accounts'], { organization: true, include: ['ou-ab12-11111111', 'r-ab12', '012345678901'], exclude: ['444455556666'] });
});

test('accounts without roleName is refused, naming both fields', () => {
  assert.deepEqual(problems('  - { id: org, type: aws-kms, accounts: organization }\n'), [
    'keydrift.yaml:3:5: sources[0]: must have property roleName when property accounts is present',
  ]);
  assert.deepEqual(problems('  - { id: org, type: aws-acm, roleName: keydrift-audit }\n'), [
    'keydrift.yaml:3:5: sources[0]: must have property accounts when property roleName is present',
  ]);
});

test('a misspelt accounts value is told the one form it was written in', () => {
  // Line 3 is the source's; the column is the value's.
  const said = (sources: string) => problems(sources).map((problem) => problem.replace(/^keydrift\.yaml:3:\d+: /, ''));
  assert.deepEqual(said('  - { id: org, type: aws-kms, accounts: organisation, roleName: r }\n'), ['sources[0].accounts: must be "organization"']);
  assert.deepEqual(said('  - { id: org, type: aws-kms, accounts: { organisation: true }, roleName: r }\n').sort(), [
    'sources[0].accounts: missing required field "organization"',
    'sources[0].accounts: unknown field "organisation"',
  ]);
  assert.deepEqual(said('  - { id: org, type: aws-kms, accounts: { organization: false }, roleName: r }\n'), ['sources[0].accounts.organization: must be true']);
  assert.deepEqual(said('  - { id: org, type: aws-kms, accounts: true, roleName: r }\n'), ['sources[0].accounts: must be object']);
});

test('include/exclude entries must be account, OU or root ids, written as strings', () => {
  const found = problems('  - { id: org, type: aws-kms, roleName: r, accounts: { organization: true, include: [123456789012, ou-prod], exclude: [] } }\n');
  assert.equal(found.length, 3, found.join('\n'));
  assert.match(found[0]!, /sources\[0\]\.accounts\.include\[0\]: must be string$/, 'an unquoted account id is a YAML number, which could lose a leading zero');
  assert.match(found[1]!, /sources\[0\]\.accounts\.include\[1\]: must match pattern/);
  assert.match(found[2]!, /sources\[0\]\.accounts\.exclude: must list at least one entry$/);
});

test('roleName is a role name (a path may precede it), not an ARN', () => {
  const [problem] = problems('  - { id: org, type: aws-kms, accounts: organization, roleName: "arn:aws:iam::111122223333:role/x" }\n');
  assert.match(problem!, /sources\[0\]\.roleName: must match pattern/);
});

test('account states: only ACTIVE (or a state not given) is scanned; State is read before the retiring Status', () => {
  assert.equal(inactiveState({ State: 'ACTIVE', Status: 'ACTIVE' }), null);
  assert.equal(inactiveState({}), null, 'unknown is not inactive');
  assert.equal(inactiveState({ Status: 'SUSPENDED' }), 'SUSPENDED');
  assert.equal(inactiveState({ Status: 'PENDING_CLOSURE' }), 'PENDING_CLOSURE');
  assert.equal(inactiveState({ State: 'CLOSED' }), 'CLOSED');
  assert.equal(inactiveState({ State: 'PENDING_ACTIVATION', Status: 'ACTIVE' }), 'PENDING_ACTIVATION');
  assert.equal(inactiveState({ State: 'ACTIVE', Status: 'SUSPENDED' }), null);
});

test('the member role ARN takes the organization\'s partition', () => {
  assert.equal(partitionOf('arn:aws-cn:organizations::111122223333:account/o-abcdefghij/444455556666', 'us-east-1'), 'aws-cn');
  assert.equal(partitionOf(undefined, 'us-gov-west-1'), 'aws-us-gov');
  assert.equal(partitionOf(undefined, 'eu-west-1'), 'aws');
  assert.equal(memberRoleArn({ id: '444455556666', partition: 'aws-us-gov' }, 'audit/keydrift'), 'arn:aws-us-gov:iam::444455556666:role/audit/keydrift');
});

test('mergeBounded: at most `concurrency` producers at once, every value once, a failure surfaces', async () => {
  let running = 0;
  let most = 0;
  const produce = async function* (n: number): AsyncGenerator<string> {
    running++;
    most = Math.max(most, running);
    for (let i = 0; i < 3; i++) {
      await new Promise((resolve) => setTimeout(resolve, (n * 7 + i * 3) % 5));
      yield `${n}.${i}`;
    }
    running--;
  };
  const values: string[] = [];
  for await (const value of mergeBounded([1, 2, 3, 4, 5, 6], 2, produce)) values.push(value);
  assert.equal(most, 2);
  assert.deepEqual(values.sort(), [1, 2, 3, 4, 5, 6].flatMap((n) => [0, 1, 2].map((i) => `${n}.${i}`)).sort());

  const failing = async function* (n: number): AsyncGenerator<number> {
    yield n;
    if (n === 2) throw new Error('account 2 broke');
  };
  await assert.rejects(async () => {
    for await (const value of mergeBounded([1, 2, 3], 3, failing)) void value;
  }, /account 2 broke/);
});
