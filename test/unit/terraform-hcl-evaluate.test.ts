import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ChildScope, CONSTANT_SCOPE, Evaluator } from '../../src/collectors/terraform/hcl/evaluate.ts';
import { parseExpression } from '../../src/collectors/terraform/hcl/parser.ts';
import { convert, parseTypeConstraint } from '../../src/collectors/terraform/hcl/type-constraints.ts';
import { EvalError, fromJson, SetValue, toPlanned, Unknown, UNKNOWN, type Value } from '../../src/collectors/terraform/hcl/values.ts';

/** Evaluates an expression with `var` holding the given values (JSON, with `UNKNOWN` where unknown). */
function evaluate(text: string, vars: Record<string, Value> = {}): Value {
  const scope = new ChildScope(CONSTANT_SCOPE, new Map<string, Value>([['var', fromVars(vars)]]));
  return new Evaluator().evaluate(parseExpression(text), scope);
}

function fromVars(vars: Record<string, Value>): Value {
  const out = Object.create(null) as Record<string, Value>;
  for (const [key, value] of Object.entries(vars)) out[key] = value instanceof Unknown || value instanceof SetValue ? value : fromJson(value);
  return out;
}

/** The value as plain JSON (records, sets and unknowns made comparable). */
function plain(value: Value): unknown {
  const planned = toPlanned(value);
  return planned.unknown === undefined ? planned.value : { value: planned.value, unknown: planned.unknown };
}

const expectProblem = (text: string, pattern: RegExp, vars: Record<string, Value> = {}) => assert.throws(() => evaluate(text, vars), (error: unknown) => error instanceof EvalError && pattern.test(error.message));

describe('HCL expression evaluation', () => {
  it('evaluates literals, arithmetic, comparison and logic like Terraform', () => {
    assert.equal(evaluate('1 + 2 * 3'), 7);
    assert.equal(evaluate('(1 + 2) * 3 % 4'), 1);
    assert.equal(evaluate('"5" + 1'), 6);
    assert.equal(evaluate('10 / 4'), 2.5);
    assert.equal(evaluate('-var.n', { n: 3 }), -3);
    assert.equal(evaluate('1 == "1"'), false);
    assert.equal(evaluate('[1, {a = "b"}] == [1, {a = "b"}]'), true);
    assert.equal(evaluate('3 >= 3 && !(2 > 3) || false'), true);
    assert.equal(evaluate('null'), null);
    expectProblem('1 / 0', /division by zero/);
    expectProblem('"a" * 2', /a number operand is required/);
  });

  it('renders templates, directives with strip markers, and heredocs', () => {
    assert.equal(evaluate('"${var.env}-${var.n + 1}-${true}"', { env: 'prod', n: 1 }), 'prod-2-true');
    assert.equal(evaluate('"%{ if var.on }on%{ else }off%{ endif }"', { on: false }), 'off');
    assert.equal(evaluate('"%{ for k, v in var.m }${k}=${v};%{ endfor }"', { m: { b: 2, a: 1 } }), 'a=1;b=2;');
    assert.equal(evaluate('"[ %{~ for x in var.l ~} ${x} %{~ endfor ~} ]"', { l: ['a', 'b'] }), '[ab]');
    assert.equal(evaluate('<<-EOT\n    {\n      "k": "${var.v}"\n    }\n    EOT\n', { v: 'x' }), '{\n  "k": "x"\n}\n');
    // A lone interpolation keeps the value's own type.
    assert.equal(evaluate('"${var.n}"', { n: 5 }), 5);
    expectProblem('"x${var.l}"', /a string, number or bool to interpolate is required, but the value is a tuple/, { l: [] });
  });

  it('keeps unknown values unknown through every operation, never false or null', () => {
    const unknown = { u: UNKNOWN };
    for (const text of ['var.u + 1', '"x-${var.u}"', 'var.u == 1', '!var.u', 'var.u ? 1 : 2', 'upper(var.u)', 'var.u.attr', 'var.u[0]', '[for x in var.u : x]', 'jsonencode({ a = var.u })', 'coalesce(var.u, "x")', 'contains([var.u], "a")', 'can(var.u)']) {
      assert.ok(evaluate(text, unknown) instanceof Unknown, text);
    }
    // ...except where the known part decides: false && anything is false; a list of unknowns has a known length.
    assert.equal(evaluate('false && var.u', unknown), false);
    assert.equal(evaluate('true || var.u', unknown), true);
    assert.equal(evaluate('length([var.u, 1])', unknown), 2);
    assert.equal(evaluate('true ? "known" : var.u', unknown), 'known');
    assert.deepEqual(plain(evaluate('{ a = var.u, b = 1, c = [var.u] }', unknown)), { value: { b: 1, c: [null] }, unknown: { a: true, c: [true] } });
    // Functions keydrift does not know evaluate to unknown, never to an error.
    assert.ok(evaluate('timestamp()') instanceof Unknown);
    assert.ok(evaluate('file("policy.json")') instanceof Unknown);
  });

  it('evaluates for expressions, grouping, splats and indexes', () => {
    assert.deepEqual(plain(evaluate('[for s in var.l : upper(s) if s != "b"]', { l: ['a', 'b', 'c'] })), ['A', 'C']);
    assert.deepEqual(plain(evaluate('{for k, v in var.m : v => k...}', { m: { x: 1, y: 1, z: 2 } })), { '1': ['x', 'y'], '2': ['z'] });
    assert.deepEqual(plain(evaluate('var.l[*].id', { l: [{ id: 1 }, { id: 2 }] })), [1, 2]);
    assert.deepEqual(plain(evaluate('var.l.*.id', { l: [{ id: 1 }] })), [1]);
    assert.deepEqual(plain(evaluate('var.o[*].id', { o: { id: 3 } })), [3]);
    assert.deepEqual(plain(evaluate('var.n[*]', { n: null })), []);
    assert.equal(evaluate('var.m["a"].b[1]', { m: { a: { b: [0, 9] } } }), 9);
    assert.equal(evaluate('var.l.1', { l: ['a', 'b'] }), 'b');
    expectProblem('{for k, v in var.m : v => k}', /two elements have the key "1"/, { m: { x: 1, y: 1 } });
    expectProblem('var.l[5]', /index 5 is out of range/, { l: [1] });
    expectProblem('var.m.missing', /no attribute "missing"/, { m: {} });
  });

  it('computes the built-in functions', () => {
    const cases: [string, unknown][] = [
      ['lower("ABC")', 'abc'],
      ['upper("abc")', 'ABC'],
      ['format("%s-%03d-%.2f-%t-%q-%v", "a", 7, 3.14159, true, "q", 5)', 'a-007-3.14-true-"q"-5'],
      ['join(",", ["a", "b"], ["c"])', 'a,b,c'],
      ['split(",", "a,b")', ['a', 'b']],
      ['concat([1], [2, 3])', [1, 2, 3]],
      ['merge({a = 1, b = 2}, {b = 3}, null)', { a: 1, b: 3 }],
      ['lookup({a = 1}, "b", "dflt")', 'dflt'],
      ['length("héllo")', 5],
      ['keys({b = 1, a = 2})', ['a', 'b']],
      ['values({b = 1, a = 2})', [2, 1]],
      ['tomap({a = "x"})', { a: 'x' }],
      ['toset(["b", "a", "b"])', ['a', 'b']],
      ['tolist(toset(["b", "a"]))', ['a', 'b']],
      ['tonumber("42")', 42],
      ['tostring(42)', '42'],
      ['coalesce(null, "", "x")', 'x'],
      ['try(var.missing.attr, "fallback")', 'fallback'],
      ['can(var.missing.attr)', false],
      ['can("ok")', true],
      ['max(1, 5, 3)', 5],
      ['min(4, 2)', 2],
      ['max([1, 9]...)', 9],
      ['contains(["a"], "a")', true],
      ['element(["a", "b"], 3)', 'b'],
      ['flatten([[1, [2]], [], 3])', [1, 2, 3]],
      ['distinct([1, 1, 2])', [1, 2]],
      ['replace("a-b-c", "-", "_")', 'a_b_c'],
      ['trimspace("  x \\n")', 'x'],
      ['jsonencode({b = [1, true, null], a = "<x>"})', '{"a":"\\u003cx\\u003e","b":[1,true,null]}'],
      ['jsondecode("{\\"a\\": [1, 2]}").a[1]', 2],
      ['range(3)', [0, 1, 2]],
      ['range(1, 10, 4)', [1, 5, 9]],
      ['zipmap(["a", "b"], [1, 2])', { a: 1, b: 2 }],
      ['substr("hello", 1, 3)', 'ell'],
      ['substr("hello", -3, -1)', 'llo'],
      ['startswith("arn:aws:kms", "arn:")', true],
      ['endswith("key.pem", ".pem")', true],
      ['title("hello world")', 'Hello World'],
      ['sha256("x")', '2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881'],
      ['base64decode(base64encode("k"))', 'k'],
      ['one([])', null],
      ['setunion(["a"], ["b", "a"])', ['a', 'b']],
      ['sum([1, 2.5])', 3.5],
      ['parseint("ff", 16)', 255],
    ];
    for (const [text, expected] of cases) assert.deepEqual(plain(evaluate(text, { missing: {} })), expected, text);
    expectProblem('lookup({a = 1}, "b")', /no key "b"/);
    expectProblem('upper()', /takes 1 argument, not 0/);
    expectProblem('lower(null)', /must not be null/);
  });

  it('converts a variable value to its type constraint', () => {
    const type = (text: string) => parseTypeConstraint(parseExpression(text), new Evaluator());
    const pos = { file: 'variables.tf', line: 1, column: 1 };
    assert.ok(convert(fromJson(['b', 'a']), type('set(string)'), pos) instanceof SetValue);
    assert.equal(convert('30', type('number'), pos), 30);
    assert.deepEqual(plain(convert(fromJson({ name: 'k' }), type('object({ name = string, rotate = optional(bool, true), days = optional(number) })'), pos)), { name: 'k', rotate: true, days: null });
    assert.deepEqual(plain(convert(fromJson({ a: 1 }), type('map(string)'), pos)), { a: '1' });
    assert.ok(convert(UNKNOWN, type('number'), pos) instanceof Unknown);
    assert.throws(() => convert('abc', type('number'), pos), /a number is required/);
    assert.throws(() => convert(fromJson({}), type('object({ name = string })'), pos), /"name" is required/);
  });

  it('bounds work: huge ranges, long strings and deep JSON fail with a limit instead of exhausting memory', () => {
    expectProblem('range(1000000)', /more than 100000 elements/);
    expectProblem('jsondecode(var.deep)', /nested deeper than 200 levels/, { deep: `${'['.repeat(1000)}${']'.repeat(1000)}` });
    expectProblem('format("%1000000000d", 1)', /width over/);
    const evaluator = new Evaluator(1_000);
    assert.throws(() => evaluator.evaluate(parseExpression('[for i in range(1000) : [for j in range(1000) : i * j]]'), CONSTANT_SCOPE), /more than 1000 evaluation steps/);
  });
});
