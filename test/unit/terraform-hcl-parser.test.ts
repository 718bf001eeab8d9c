import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Block, Body, Expression } from '../../src/collectors/terraform/hcl/ast.ts';
import { HclSyntaxError, tokenize } from '../../src/collectors/terraform/hcl/lexer.ts';
import { MAX_NESTING, parseBody, parseExpression } from '../../src/collectors/terraform/hcl/parser.ts';

const block = (body: Body, type: string, ...labels: string[]): Block => {
  const found = body.blocks.find((candidate) => candidate.type === type && labels.every((label, index) => candidate.labels[index] === label));
  assert.ok(found, `no ${type} ${labels.join(' ')} block`);
  return found;
};
const attribute = (body: Body, name: string): Expression => {
  const found = body.attributes.find((candidate) => candidate.name === name);
  assert.ok(found, `no attribute ${name}`);
  return found.expr;
};
const literal = (expr: Expression): unknown => {
  if (expr.kind === 'literal') return expr.value;
  if (expr.kind === 'template' && expr.parts.every((part) => part.kind === 'literal')) return expr.parts.map((part) => (part as { value: string }).value).join('');
  return expr.kind;
};
const syntaxError = (text: string): HclSyntaxError => {
  try {
    parseBody(text, 'main.tf');
  } catch (error) {
    if (error instanceof HclSyntaxError) return error;
    throw error;
  }
  assert.fail('expected a syntax error');
};

describe('HCL lexer and parser', () => {
  it('reads the aws_kms_key documentation example, a jsonencode policy with an interpolated data source included', () => {
    const body = parseBody(
      `data "aws_caller_identity" "current" {}

resource "aws_kms_key" "example" {
  description             = "An example symmetric encryption KMS key"
  enable_key_rotation     = true
  deletion_window_in_days = 20
  policy = jsonencode({
    Version = "2012-10-17"
    Id      = "key-default-1"
    Statement = [
      {
        Sid    = "Enable IAM User Permissions"
        Effect = "Allow"
        Principal = {
          AWS = "arn:aws:iam::\${data.aws_caller_identity.current.account_id}:root"
        },
        Action   = "kms:*"
        Resource = "*"
      },
    ]
  })
}
`,
      '/cfg/main.tf',
    );
    const key = block(body, 'resource', 'aws_kms_key', 'example');
    assert.deepEqual(key.pos, { file: '/cfg/main.tf', line: 3, column: 1 });
    assert.equal(literal(attribute(key.body, 'enable_key_rotation')), true);
    assert.equal(literal(attribute(key.body, 'deletion_window_in_days')), 20);
    const policy = attribute(key.body, 'policy');
    assert.equal(policy.kind === 'call' && policy.name, 'jsonencode');
    assert.deepEqual(block(body, 'data', 'aws_caller_identity', 'current').body, { attributes: [], blocks: [] });
  });

  it('reads google_kms_crypto_key with a version_template block and a lifecycle block', () => {
    const body = parseBody(
      `resource "google_kms_key_ring" "keyring" {
  name     = "keyring-example"
  location = "global"
}

resource "google_kms_crypto_key" "example-asymmetric-sign-key" {
  name     = "crypto-key-example"
  key_ring = google_kms_key_ring.keyring.id
  purpose  = "ASYMMETRIC_SIGN"

  version_template {
    algorithm = "EC_SIGN_P384_SHA384"
  }

  lifecycle {
    prevent_destroy = true
  }
}
`,
      'main.tf',
    );
    const key = block(body, 'resource', 'google_kms_crypto_key', 'example-asymmetric-sign-key');
    const template = block(key.body, 'version_template');
    assert.equal(literal(attribute(template.body, 'algorithm')), 'EC_SIGN_P384_SHA384');
    assert.deepEqual({ line: template.pos.line, column: template.pos.column }, { line: 11, column: 3 });
    const ring = attribute(key.body, 'key_ring');
    assert.equal(ring.kind === 'getattr' && ring.name, 'id');
  });

  it('reads vault_transit_secret_backend_key, azurerm_key_vault_key (nested rotation_policy) and tls_private_key', () => {
    const body = parseBody(
      `resource "vault_mount" "transit" {
  path                      = "transit"
  type                      = "transit"
  default_lease_ttl_seconds = 3600
}

resource "vault_transit_secret_backend_key" "key" {
  backend = vault_mount.transit.path
  name    = "my_key"
}

resource "azurerm_key_vault_key" "generated" {
  name         = "generated-certificate"
  key_vault_id = azurerm_key_vault.example.id
  key_type     = "RSA"
  key_size     = 2048

  key_opts = [
    "decrypt",
    "encrypt",
    "sign",
    "unwrapKey",
    "verify",
    "wrapKey",
  ]

  rotation_policy {
    automatic {
      time_before_expiry = "P30D"
    }

    expire_after         = "P90D"
    notify_before_expiry = "P29D"
  }
}

# ECDSA key with P384 elliptic curve
resource "tls_private_key" "ecdsa-p384-example" {
  algorithm   = "ECDSA"
  ecdsa_curve = "P384"
}

# RSA key of size 4096 bits
resource "tls_private_key" "rsa-4096-example" {
  algorithm = "RSA"
  rsa_bits  = 4096
}
`,
      'main.tf',
    );
    assert.equal(literal(attribute(block(body, 'resource', 'vault_transit_secret_backend_key', 'key').body, 'name')), 'my_key');
    const azure = block(body, 'resource', 'azurerm_key_vault_key', 'generated');
    const opts = attribute(azure.body, 'key_opts');
    assert.equal(opts.kind === 'tuple' && opts.items.length, 6);
    const rotation = block(azure.body, 'rotation_policy');
    assert.equal(literal(attribute(block(rotation.body, 'automatic').body, 'time_before_expiry')), 'P30D');
    assert.equal(literal(attribute(rotation.body, 'notify_before_expiry')), 'P29D');
    assert.equal(literal(attribute(block(body, 'resource', 'tls_private_key', 'rsa-4096-example').body, 'rsa_bits')), 4096);
  });

  it('skips #, // and /* */ comments, a block comment spanning lines included', () => {
    const body = parseBody('# one\n// two\n/* three\n   four */ resource "a" "b" { # five\n  x = 1 // six\n  /* seven */ y = 2\n}\n', 'main.tf');
    const resource = block(body, 'resource', 'a', 'b');
    assert.deepEqual(
      resource.body.attributes.map((a) => [a.name, literal(a.expr), a.pos.line, a.pos.column]),
      [
        ['x', 1, 5, 3],
        ['y', 2, 6, 15],
      ],
    );
  });

  it('keeps heredocs whole, strips the indentation of <<- heredocs, and reads escapes in quoted strings only', () => {
    const body = parseBody('a = <<EOT\n  {"k": "v\\n"}\nEOT\nb = <<-EOT\n    line one\n      line two\n    EOT\nc = "tab\\there \\u00e9 $${literal} %%{literal}"\n', 'main.tf');
    assert.equal(literal(attribute(body, 'a')), '  {"k": "v\\n"}\n');
    assert.equal(literal(attribute(body, 'b')), 'line one\n  line two\n');
    assert.equal(literal(attribute(body, 'c')), 'tab\there é ${literal} %{literal}');
  });

  it('parses operators by precedence, conditionals, for expressions, splats and legacy indexes', () => {
    const sum = parseExpression('1 + 2 * 3 == 7 && !false');
    assert.equal(sum.kind === 'binary' && sum.op, '&&');
    const conditional = parseExpression('var.a ? "x" : var.b ? "y" : "z"');
    assert.equal(conditional.kind === 'conditional' && conditional.else.kind, 'conditional');
    const forObject = parseExpression('{ for k, v in var.m : upper(k) => v... if v != null }');
    assert.ok(forObject.kind === 'for' && forObject.object && forObject.group && forObject.keyVar === 'k' && forObject.cond);
    const splat = parseExpression('aws_kms_key.k[*].arn');
    assert.equal(splat.kind, 'splat');
    const legacy = parseExpression('var.list.0.name');
    assert.ok(legacy.kind === 'getattr' && legacy.source.kind === 'index');
    const provider = parseExpression('provider::aws::arn_parse(var.arn)');
    assert.equal(provider.kind === 'call' && provider.name, 'provider::aws::arn_parse');
  });

  it('turns a lone interpolation into its expression and template directives into a tree', () => {
    assert.equal(parseExpression('"${var.x}"').kind, 'wrap');
    const template = parseExpression('"%{ if var.on }on%{ else }off%{ endif }-%{ for x in var.l }${x},%{ endfor }"');
    assert.ok(template.kind === 'template');
    assert.deepEqual(
      template.parts.map((part) => part.kind),
      ['if', 'literal', 'for'],
    );
  });

  it('names the line and column of a syntax error and what was expected', () => {
    const unclosed = syntaxError('resource "a" "b" {\n  x = 1\n\n');
    assert.match(unclosed.message, /expected "}" to close the block opened at line 1/);
    assert.deepEqual([unclosed.line, unclosed.column], [4, 1]);
    const missingValue = syntaxError('resource "a" "b" {\n  x =\n}\n');
    assert.deepEqual([missingValue.line, missingValue.column], [2, 6]);
    const twoOnALine = syntaxError('x = 1 y = 2\n');
    assert.match(twoOnALine.message, /expected a line end after the attribute/);
    assert.deepEqual([twoOnALine.line, twoOnALine.column], [1, 7]);
    const string = syntaxError('x = "abc\n');
    assert.match(string.message, /unterminated string/);
    assert.deepEqual([string.line, string.column], [1, 5]);
    assert.match(syntaxError('x = <<EOT\nabc\n').message, /unterminated heredoc: expected a line with EOT/);
    assert.match(syntaxError('x = "${var.a b}"\n').message, /expected "}" to close the interpolation/);
    assert.match(syntaxError('x = "%{ if true }a"\n').message, /expected %\{ endif \}/);
    assert.match(syntaxError('x = "\\q"\n').message, /invalid escape sequence/);
    assert.match(syntaxError('x = 1 @ 2\n').message, /unexpected character "@"/);
  });

  it('refuses hostile nesting with a syntax error instead of exhausting the stack', () => {
    for (const text of [
      `x = ${'['.repeat(100_000)}${']'.repeat(100_000)}\n`,
      `x = ${'('.repeat(100_000)}1${')'.repeat(100_000)}\n`,
      `x = a${'.b'.repeat(100_000)}\n`,
      `x = 1${' + 1'.repeat(100_000)}\n`,
      `x = ${'!'.repeat(100_000)}true\n`,
      `x = ${'"${'.repeat(20_000)}""${'}"'.repeat(20_000)}\n`,
      `a {\n${'b {\n'.repeat(20_000)}${'}\n'.repeat(20_001)}`,
    ]) {
      const error = syntaxError(text);
      assert.match(error.message, new RegExp(`nested deeper than ${MAX_NESTING} levels`));
    }
  });

  it('tokenizes in one linear pass', () => {
    const text = `resource "aws_kms_key" "k" {\n  description = "\${var.x}-key"\n}\n`.repeat(20_000);
    const started = performance.now();
    const tokens = tokenize(text);
    assert.equal(tokens.at(-1)?.type, 'eof');
    assert.ok(performance.now() - started < 2_000, 'a 1.2 MB file lexes in well under two seconds');
  });
});
