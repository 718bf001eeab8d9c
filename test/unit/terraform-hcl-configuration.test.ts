import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { loadTerraformConfiguration, type HclProblem, type HclResource } from '../../src/collectors/terraform/hcl/configuration.ts';
import { attribute, MAPPERS } from '../../src/collectors/terraform/resources.ts';

const roots: string[] = [];
after(() => Promise.all(roots.map((root) => rm(root, { recursive: true, force: true }))));

/** Writes the files (paths relative to a fresh directory) and loads the configuration of those matching `match`. */
async function load(files: Record<string, string>, match: (name: string) => boolean = (name) => /\.(tf|tofu)$/.test(name)) {
  const root = await mkdtemp(path.join(os.tmpdir(), 'keydrift-hcl-'));
  roots.push(root);
  for (const [name, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, name)), { recursive: true });
    await writeFile(path.join(root, name), text);
  }
  const matched = Object.keys(files)
    .filter(match)
    .map((name) => path.join(root, name));
  const result = await loadTerraformConfiguration(matched, (file) => readFile(file, 'utf8'));
  const byAddress = new Map(result.resources.map((resource) => [resource.address, resource]));
  const get = (address: string): HclResource => {
    const found = byAddress.get(address);
    assert.ok(found, `no ${address} among ${[...byAddress.keys()].join(', ')}`);
    return found;
  };
  const problems = result.problems.map((problem: HclProblem) => ({ ...problem, file: path.relative(root, problem.file) }));
  return { root, resources: result.resources, get, problems };
}

/** Where the attribute at `path` is declared, through the same attribute() the mappers use. */
function declared(resource: HclResource, ...steps: (string | number)[]) {
  const found = attribute(resource, ...steps);
  return found.at === null ? null : (resource.positions.get(found.at) ?? null);
}

describe('Terraform configuration files', () => {
  it('yields each resource with its values, nested blocks as lists of objects, and where each attribute is', async () => {
    const { get, problems, root } = await load({
      'main.tf': `resource "google_kms_crypto_key" "sign" {
  name            = "crypto-key-example"
  key_ring        = "projects/p/locations/global/keyRings/r"
  rotation_period = "7776000s"

  version_template {
    algorithm        = "EC_SIGN_P384_SHA384"
    protection_level = "HSM"
  }

  lifecycle {
    prevent_destroy = true
  }
}

resource "azurerm_key_vault_key" "generated" {
  name     = "generated-certificate"
  key_type = "RSA"
  key_size = 2048
  key_opts = ["decrypt", "encrypt"]

  rotation_policy {
    automatic {
      time_before_expiry = "P30D"
    }

    expire_after         = "P90D"
    notify_before_expiry = "P29D"
  }
}
`,
    });
    assert.deepEqual(problems, []);
    const sign = get('google_kms_crypto_key.sign');
    assert.equal(sign.type, 'google_kms_crypto_key');
    assert.equal(sign.file, path.join(root, 'main.tf'));
    assert.deepEqual(sign.block, { line: 1, column: 1 });
    assert.deepEqual(sign.values, {
      name: 'crypto-key-example',
      key_ring: 'projects/p/locations/global/keyRings/r',
      rotation_period: '7776000s',
      version_template: [{ algorithm: 'EC_SIGN_P384_SHA384', protection_level: 'HSM' }],
    });
    assert.deepEqual(sign.unknown, {});
    assert.deepEqual(attribute(sign, 'version_template', 0, 'algorithm'), { value: 'EC_SIGN_P384_SHA384', unknown: false, at: '/version_template/0/algorithm' });
    assert.deepEqual(declared(sign, 'rotation_period'), { line: 4, column: 3 });
    assert.deepEqual(declared(sign, 'version_template', 0), { line: 6, column: 3 });
    assert.deepEqual(declared(sign, 'version_template', 0, 'protection_level'), { line: 8, column: 5 });

    // The live collectors' mappers read these resources as they read a plan's.
    const { item, sets } = MAPPERS['google_kms_crypto_key']!(sign, { fallbackUid: 'u', sourceId: 'iac', file: 'main.tf' });
    assert.deepEqual([item.algorithm, item.curve, item.rotation?.periodDays], ['EC-P384', 'P-384', 90]);
    assert.equal(sets['algorithm']?.at, '/version_template/0/algorithm');

    const azure = get('azurerm_key_vault_key.generated');
    assert.deepEqual(azure.values['rotation_policy'], [{ expire_after: 'P90D', notify_before_expiry: 'P29D', automatic: [{ time_before_expiry: 'P30D' }] }]);
    assert.deepEqual(declared(azure, 'rotation_policy', 0, 'automatic', 0, 'time_before_expiry'), { line: 24, column: 7 });
    assert.deepEqual(declared(azure, 'key_opts', 1), { line: 20, column: 26 });
  });

  it('reads variables from defaults, terraform.tfvars and *.auto.tfvars, and locals that use each other', async () => {
    const { get } = await load({
      'variables.tf': `variable "window" {
  type    = number
  default = 30
}
variable "rotate" {
  default = false
}
variable "spec" {
  default = "SYMMETRIC_DEFAULT"
}
`,
      'main.tf': `locals {
  name     = "\${local.prefix}-key"
  prefix   = "corp"
  settings = { rotate = var.rotate, days = var.window * 2 }
}
resource "aws_kms_key" "k" {
  description              = local.name
  enable_key_rotation      = local.settings.rotate
  deletion_window_in_days  = var.window
  rotation_period_in_days  = local.settings.days
  customer_master_key_spec = var.spec
  tags                     = { for k in ["a", "b"] : k => upper(k) }
}
`,
      'terraform.tfvars': 'window = "7"\nrotate = true\n',
      'b.auto.tfvars': 'spec = "RSA_4096"\n',
      'a.auto.tfvars': 'spec = "RSA_2048"\n',
    });
    assert.deepEqual(get('aws_kms_key.k').values, {
      description: 'corp-key',
      enable_key_rotation: true,
      deletion_window_in_days: 7,
      rotation_period_in_days: 14,
      customer_master_key_spec: 'RSA_4096',
      tags: { a: 'A', b: 'B' },
    });
  });

  it('keeps values unknown before apply unknown: another resource\'s attribute, a variable without a value, a data source', async () => {
    const { get } = await load({
      'main.tf': `variable "rotate" {}
data "aws_caller_identity" "me" {}
resource "aws_kms_key" "a" {
  enable_key_rotation = var.rotate
  description         = "for \${data.aws_caller_identity.me.account_id}"
  policy = jsonencode({
    Statement = [{ Principal = { AWS = "arn:aws:iam::\${data.aws_caller_identity.me.account_id}:root" } }]
  })
  deletion_window_in_days = 10
}
resource "aws_kms_key" "b" {
  description         = aws_kms_key.a.arn
  enable_key_rotation = var.rotate ? true : false
  tags                = { source = aws_kms_key.a.key_id, team = "sec" }
}
`,
    });
    const a = get('aws_kms_key.a');
    assert.deepEqual(a.values, { deletion_window_in_days: 10 });
    assert.deepEqual(a.unknown, { enable_key_rotation: true, description: true, policy: true });
    assert.deepEqual(attribute(a, 'enable_key_rotation'), { value: null, unknown: true, at: null });
    const b = get('aws_kms_key.b');
    assert.deepEqual(b.values, { tags: { team: 'sec' } });
    assert.deepEqual(b.unknown, { description: true, enable_key_rotation: true, tags: { source: true } });
    assert.equal(attribute(b, 'tags', 'source').unknown, true);
  });

  it('records which managed resource attribute an unknown value is, through locals, variables and instance keys', async () => {
    const { get } = await load({
      'main.tf': `resource "aws_kms_key" "a" {
  description = "a"
}
resource "aws_kms_key" "many" {
  for_each = toset(["x", "y"])
}
locals {
  key = aws_kms_key.a.key_id
}
resource "aws_kms_alias" "direct" {
  name          = "alias/direct"
  target_key_id = aws_kms_key.a.key_id
}
resource "aws_kms_alias" "through_local" {
  target_key_id = local.key
}
resource "aws_kms_alias" "indexed" {
  for_each      = aws_kms_key.many
  target_key_id = aws_kms_key.many["x"].key_id
  name          = "alias/\${aws_kms_key.a.key_id}"
}
module "kms" {
  source = "./kms"
  key    = aws_kms_key.a.arn
}
`,
      'kms/main.tf': `variable "key" {}
resource "aws_kms_key" "this" {
  for_each = { prod = 1 }
}
resource "aws_kms_alias" "this" {
  target_key_id = aws_kms_key.this["prod"].key_id
  description   = var.key
}
`,
    });
    assert.deepEqual(get('aws_kms_alias.direct').refs, { target_key_id: 'aws_kms_key.a.key_id' });
    assert.deepEqual(get('aws_kms_alias.through_local').refs, { target_key_id: 'aws_kms_key.a.key_id' });
    // for_each over a resource is not known before apply: one instance without a key.
    const indexed = get('aws_kms_alias.indexed');
    assert.deepEqual(indexed.refs, { target_key_id: 'aws_kms_key.many["x"].key_id' });
    assert.equal(indexed.unknown['name'], true);
    assert.deepEqual(get('module.kms.aws_kms_alias.this').refs, { target_key_id: 'module.kms.aws_kms_key.this["prod"].key_id', description: 'aws_kms_key.a.arn' });
  });

  it('expands count and for_each with Terraform\'s addresses, and a module called once per map element', async () => {
    const { resources, get, problems } = await load({
      'main.tf': `resource "aws_kms_key" "counted" {
  count       = 2
  description = "key \${count.index}"
}
resource "aws_kms_key" "none" {
  count = 0
}
resource "aws_kms_key" "named" {
  for_each            = { payments = 7, ledger = 30 }
  description         = each.key
  deletion_window_in_days = each.value
}
variable "unknown_count" {}
resource "aws_kms_key" "maybe" {
  count               = var.unknown_count
  enable_key_rotation = true
  description         = "n\${count.index}"
}
module "kms" {
  source   = "./modules/kms"
  for_each = { prod = { window = 30 }, dev = { window = 7 } }
  name     = each.key
  window   = each.value.window
}
resource "aws_kms_key" "from_output" {
  enable_key_rotation = module.kms["prod"].rotation
  description         = module.kms["dev"].key
}
`,
      'modules/kms/main.tf': `variable "name" { type = string }
variable "window" { type = number }
variable "rotate" {
  type    = bool
  default = true
}
resource "aws_kms_key" "this" {
  description             = "\${var.name} key"
  deletion_window_in_days = var.window
  enable_key_rotation     = var.rotate
}
module "inner" {
  source = "../inner"
  on     = var.rotate
}
output "rotation" {
  value = var.rotate
}
output "key" {
  value = aws_kms_key.this.key_id
}
`,
      'modules/inner/main.tf': `variable "on" {}
resource "aws_kms_key" "inner" {
  enable_key_rotation = var.on
}
`,
    });
    assert.deepEqual(problems, []);
    assert.deepEqual(
      resources.map((resource) => resource.address),
      [
        'aws_kms_key.counted[0]',
        'aws_kms_key.counted[1]',
        'aws_kms_key.named["ledger"]',
        'aws_kms_key.named["payments"]',
        'aws_kms_key.maybe',
        'aws_kms_key.from_output',
        'module.kms["dev"].aws_kms_key.this',
        'module.kms["dev"].module.inner.aws_kms_key.inner',
        'module.kms["prod"].aws_kms_key.this',
        'module.kms["prod"].module.inner.aws_kms_key.inner',
      ],
    );
    assert.equal(get('aws_kms_key.counted[1]').values['description'], 'key 1');
    assert.deepEqual(get('aws_kms_key.named["payments"]').values, { description: 'payments', deletion_window_in_days: 7 });
    // count unknown: one instance, the plain address, what it can evaluate, count.index unknown.
    const maybe = get('aws_kms_key.maybe');
    assert.deepEqual([maybe.values, maybe.unknown], [{ enable_key_rotation: true }, { description: true }]);
    const prod = get('module.kms["prod"].aws_kms_key.this');
    assert.deepEqual(prod.values, { description: 'prod key', deletion_window_in_days: 30, enable_key_rotation: true });
    assert.ok(prod.file.endsWith(path.join('modules', 'kms', 'main.tf')));
    assert.deepEqual(declared(prod, 'deletion_window_in_days'), { line: 9, column: 3 });
    assert.equal(get('module.kms["dev"].module.inner.aws_kms_key.inner').values['enable_key_rotation'], true);
    // A module's outputs are evaluated in the module instance: known values stay known, resource attributes stay unknown.
    const fromOutput = get('aws_kms_key.from_output');
    assert.deepEqual([fromOutput.values, fromOutput.unknown, fromOutput.refs], [{ enable_key_rotation: true }, { description: true }, { description: 'module.kms["dev"].aws_kms_key.this.key_id' }]);
  });

  it('expands dynamic blocks, with the block label or `iterator` as the iterator, and an unknown for_each as an unknown block', async () => {
    const { get } = await load({
      'main.tf': `variable "policies" {
  default = [{ expire = "P90D", notify = "P29D" }]
}
variable "later" {}
resource "azurerm_key_vault_key" "k" {
  dynamic "rotation_policy" {
    for_each = var.policies
    content {
      expire_after         = rotation_policy.value.expire
      notify_before_expiry = rotation_policy.value.notify
      dynamic "automatic" {
        for_each = ["P30D"]
        iterator = before
        content {
          time_before_expiry = before.value
        }
      }
    }
  }
}
resource "azurerm_key_vault_key" "later" {
  name = "later"
  dynamic "rotation_policy" {
    for_each = var.later
    content {
      expire_after = "P1Y"
    }
  }
}
`,
    });
    const k = get('azurerm_key_vault_key.k');
    assert.deepEqual(k.values, { rotation_policy: [{ expire_after: 'P90D', notify_before_expiry: 'P29D', automatic: [{ time_before_expiry: 'P30D' }] }] });
    assert.deepEqual(declared(k, 'rotation_policy', 0, 'automatic', 0, 'time_before_expiry'), { line: 15, column: 11 });
    const later = get('azurerm_key_vault_key.later');
    assert.deepEqual([later.values, later.unknown], [{ name: 'later' }, { rotation_policy: true }]);
    assert.equal(attribute(later, 'rotation_policy', 0, 'expire_after').unknown, true);
  });

  it('reports a syntax error by file, line and column and still reads the other files of the directory', async () => {
    const { resources, problems } = await load({
      'broken.tf': 'resource "aws_kms_key" "broken" {\n  description = "x"\n\nresource "aws_kms_key" "after" {}\n',
      'good.tf': 'resource "aws_kms_key" "good" {\n  enable_key_rotation = false\n}\n',
      'variables.tf': 'variable "unused" {}\n',
    });
    assert.deepEqual(
      resources.map((resource) => resource.address),
      ['aws_kms_key.good'],
    );
    assert.equal(problems.length, 1);
    assert.equal(problems[0]!.code, 'terraform-hcl-invalid');
    assert.equal(problems[0]!.file, 'broken.tf');
    assert.match(problems[0]!.message, /expected an attribute name|expected "}" to close the block opened at line 1/);
    assert.ok(problems[0]!.line >= 4);
  });

  it('reads every .tf and .tofu file of a matched directory, not only the matched ones, and skips .terraform', async () => {
    const { resources } = await load(
      {
        'main.tf': 'resource "aws_kms_key" "main" {\n  description = var.d\n}\n',
        'variables.tf': 'variable "d" {\n  default = "from variables.tf"\n}\n',
        'extra.tofu': 'resource "tls_private_key" "k" {\n  algorithm = "ED25519"\n}\n',
        '.terraform/modules/x/main.tf': 'resource "aws_kms_key" "vendored" {}\n',
      },
      (name) => name === 'main.tf' || name.startsWith('.terraform/'),
    );
    assert.deepEqual(
      resources.map((resource) => [resource.address, resource.values]),
      [
        ['tls_private_key.k', { algorithm: 'ED25519' }],
        ['aws_kms_key.main', { description: 'from variables.tf' }],
      ],
    );
  });

  it('reads a directory called by another matched directory only as its module, not as a root of its own', async () => {
    const { resources } = await load({
      'envs/prod/main.tf': 'module "kms" {\n  source = "../../modules/kms"\n  days = 7\n}\n',
      'modules/kms/main.tf': 'variable "days" {}\nresource "aws_kms_key" "k" {\n  deletion_window_in_days = var.days\n}\n',
    });
    assert.deepEqual(
      resources.map((resource) => [resource.address, resource.values]),
      [['module.kms.aws_kms_key.k', { deletion_window_in_days: 7 }]],
    );
  });

  it('uses a module terraform init installed, and names one it did not', async () => {
    const { get, problems } = await load({
      'main.tf': `module "kms" {
  source  = "terraform-aws-modules/kms/aws"
  version = "3.1.0"
  rotate  = true
}

module "missing" {
  source = "git::https://example.com/modules.git//kms"
}
`,
      '.terraform/modules/modules.json': JSON.stringify({ Modules: [{ Key: '', Source: '', Dir: '.' }, { Key: 'kms', Source: 'registry.terraform.io/terraform-aws-modules/kms/aws', Version: '3.1.0', Dir: '.terraform/modules/kms' }] }),
      '.terraform/modules/kms/main.tf': 'variable "rotate" {}\nresource "aws_kms_key" "this" {\n  enable_key_rotation = var.rotate\n}\n',
    });
    assert.equal(get('module.kms.aws_kms_key.this').values['enable_key_rotation'], true);
    assert.deepEqual(problems, [
      {
        file: 'main.tf',
        line: 7,
        column: 1,
        code: 'terraform-module-not-installed',
        message: 'module "missing" (source git::https://example.com/modules.git//kms) is not installed; run terraform init, or scan the output of terraform show -json',
      },
    ]);
  });

  it('reports what Terraform would reject, at its position, and keeps going', async () => {
    const { get, problems } = await load({
      'main.tf': `locals {
  a = local.b
  b = local.a
}
resource "aws_kms_key" "dup" {
  description = "one"
  description = "two"
}
resource "aws_kms_key" "list" {
  for_each = ["a", "b"]
}
resource "aws_kms_key" "cycle" {
  description = local.a
}
module "self" {
  source = "./"
}
`,
    });
    assert.equal(get('aws_kms_key.dup').values['description'], 'one');
    assert.equal(get('aws_kms_key.cycle').unknown['description'], true);
    const found = problems.map((problem) => `${problem.line}:${problem.column} ${problem.message}`);
    assert.ok(found.includes('7:3 the attribute "description" is set twice (first at line 6)'), found.join('\n'));
    assert.ok(found.some((line) => /^10:3 .*for_each needs a map or a set of strings/.test(line)), found.join('\n'));
    assert.ok(found.some((line) => /^[23]:3 local\.[ab] refers to itself/.test(line)), found.join('\n'));
    assert.ok(found.some((line) => /^15:1 module "self" calls its own module/.test(line)), found.join('\n'));
    assert.ok(problems.every((problem) => problem.code === 'terraform-hcl-invalid'));
  });

  it('records a file the reader cannot read and reads the rest', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'keydrift-hcl-'));
    roots.push(root);
    await writeFile(path.join(root, 'a.tf'), 'resource "aws_kms_key" "a" {}\n');
    await writeFile(path.join(root, 'b.tf'), 'resource "aws_kms_key" "b" {}\n');
    const result = await loadTerraformConfiguration([path.join(root, 'a.tf')], async (file) => {
      if (file.endsWith('b.tf')) throw new Error('file larger than 1 MiB, skipped');
      return readFile(file, 'utf8');
    });
    assert.deepEqual(
      result.resources.map((resource) => resource.address),
      ['aws_kms_key.a'],
    );
    assert.deepEqual(result.problems, [{ file: path.join(root, 'b.tf'), line: 1, column: 1, code: 'file-unreadable', message: 'file larger than 1 MiB, skipped' }]);
  });

  it('fails cleanly on hostile input: deep nesting, long reference chains, huge expansions', async () => {
    const chain = Array.from({ length: 3_000 }, (_, i) => `  l${i} = [local.l${i + 1}]\n`).join('');
    const { get, problems } = await load({
      'deep.tf': `locals {\n  deep = ${'['.repeat(50_000)}${']'.repeat(50_000)}\n}\n`,
      'chain.tf': `locals {\n${chain}  l3000 = 1\n}\nresource "aws_kms_key" "chained" {\n  description = local.l0\n}\n`,
      'huge.tf': 'resource "aws_kms_key" "huge" {\n  count = 1000000000\n}\nresource "aws_kms_key" "work" {\n  tags = { for i in range(99999) : i => [for j in range(99999) : j] }\n}\n',
      'fine.tf': 'resource "aws_kms_key" "fine" {\n  enable_key_rotation = true\n}\n',
    });
    assert.equal(get('aws_kms_key.fine').values['enable_key_rotation'], true);
    assert.equal(get('aws_kms_key.chained').unknown['description'], true);
    const messages = problems.map((problem) => `${problem.file}:${problem.line} ${problem.message}`);
    assert.ok(messages.some((line) => /^deep\.tf:2 nested deeper than 128 levels/.test(line)), messages.join('\n'));
    assert.ok(messages.some((line) => /^chain\.tf:\d+ references and expressions nested deeper than/.test(line)), messages.join('\n'));
    assert.ok(messages.some((line) => /^huge\.tf:2 .*count is 1000000000; only the first 10000 instances are read/.test(line)), messages.join('\n'));
    assert.ok(messages.some((line) => /evaluation steps/.test(line)), messages.join('\n'));
  });
});

describe('terraform configuration errors never carry credentials', () => {
  it('a module source URL loses its user and token in the not-installed problem', async () => {
    const { withoutCredentials } = await import('../../src/collectors/terraform/hcl/module-loader.ts');
    assert.equal(withoutCredentials('git::https://deploy:ghp_CANARYtoken123@example.com/org/kms.git?ref=v1'), 'git::https://***@example.com/org/kms.git?ref=v1');
    assert.equal(withoutCredentials('git@github.com:org/kms.git'), 'git@github.com:org/kms.git');
    assert.equal(withoutCredentials('hashicorp/consul/aws'), 'hashicorp/consul/aws');
  });
});
