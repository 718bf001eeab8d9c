// Infrastructure code end to end: `keydrift scan` over Terraform configuration files (read, parse,
// evaluate variables/locals/for_each, map, judge, write JSON + SARIF), as a separate process, timed
// with its peak RSS. The estate: 50 root modules of 10 .tf files each (500 files), 10 resource
// blocks per file (5,000 resources): KMS keys and aliases, Cloud KMS keys, Vault transit keys and
// PKI roles, TLS keys, with variables, locals, for_each and values known only after apply.
// Usage: node bench/terraform-hcl.ts [stacks=50] [runs=1]
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PACKAGE_ROOT } from '../src/engine/opa-cli.ts';

const stacks = Number(process.argv[2] ?? 50);
const runs = Number(process.argv[3] ?? 1);
const FILES_PER_STACK = 10;
const RESOURCES_PER_FILE = 10;

/** One resource block, the kind chosen by its number so every file mixes them. */
function resource(stack: number, file: number, n: number): string {
  const name = `r${file}_${n}`;
  switch (n % 6) {
    case 0:
      return `resource "aws_kms_key" "${name}" {\n  description             = "\${local.prefix}-${name}"\n  enable_key_rotation     = var.rotate\n  rotation_period_in_days = ${n % 4 === 0 ? 365 : 90}\n  deletion_window_in_days = 30\n  tags = merge(local.tags, { name = "${name}" })\n}`;
    case 1:
      return `resource "aws_kms_alias" "${name}" {\n  name          = "alias/s${stack}-${name}"\n  target_key_id = aws_kms_key.r${file}_${n - 1}.key_id\n}`;
    case 2:
      return `resource "google_kms_crypto_key" "${name}" {\n  name            = "${name}"\n  key_ring        = google_kms_key_ring.ring.id\n  rotation_period = "${n % 4 === 2 ? '7776000s' : '31536000s'}"\n  version_template {\n    algorithm        = "GOOGLE_SYMMETRIC_ENCRYPTION"\n    protection_level = "HSM"\n  }\n  labels = local.tags\n}`;
    case 3:
      return `resource "vault_transit_secret_backend_key" "${name}" {\n  backend            = "transit"\n  name               = "s${stack}-${name}"\n  type               = "${n % 2 === 1 ? 'aes256-gcm96' : 'rsa-2048'}"\n  auto_rotate_period = ${n % 4 === 3 ? 0 : 2592000}\n  exportable         = false\n}`;
    case 4:
      return `resource "vault_pki_secret_backend_role" "${name}" {\n  backend  = "pki"\n  name     = "s${stack}-${name}"\n  max_ttl  = ${n % 4 === 0 ? 31536000 : 7776000}\n  key_type = "ec"\n  key_bits = 256\n}`;
    default:
      return `resource "tls_private_key" "${name}" {\n  algorithm = "${n % 4 === 1 ? 'RSA' : 'ECDSA'}"\n  rsa_bits  = 2048\n  ecdsa_curve = "P256"\n}`;
  }
}

function writeEstate(root: string): void {
  for (let stack = 0; stack < stacks; stack++) {
    const dir = path.join(root, `stack-${String(stack).padStart(3, '0')}`);
    mkdirSync(dir, { recursive: true });
    for (let file = 0; file < FILES_PER_STACK; file++) {
      const blocks: string[] = [];
      if (file === 0) {
        blocks.push('variable "rotate" {\n  type    = bool\n  default = true\n}', `locals {\n  prefix = "stack-${stack}"\n  tags   = { team = "platform", stack = "${stack}" }\n}`);
      }
      for (let n = 0; n < RESOURCES_PER_FILE; n++) blocks.push(resource(stack, file, n));
      writeFileSync(path.join(dir, `keys-${file}.tf`), `# generated for bench/terraform-hcl.ts\n\n${blocks.join('\n\n')}\n`);
    }
  }
}

const dir = mkdtempSync(path.join(tmpdir(), 'keydrift-bench-hcl-'));
try {
  writeEstate(path.join(dir, 'infra'));
  writeFileSync(path.join(dir, 'keydrift.yaml'), 'version: 1\nsources:\n  - { id: iac, type: terraform, paths: ["infra/**/*.tf"] }\nreport: { failOn: none }\n');
  const files = stacks * FILES_PER_STACK;
  console.log(`keydrift scan of Terraform configuration: ${files} .tf files in ${stacks} root modules, ${files * RESOURCES_PER_FILE} resources, ${runs} run(s)`);
  for (let run = 1; run <= runs; run++) {
    const out = path.join(dir, `out-${run}`);
    const started = performance.now();
    const result = spawnSync(
      '/usr/bin/time',
      ['-f', '%M %U %S', process.execPath, path.join(PACKAGE_ROOT, 'src/cli/main.ts'), 'scan', '--config', 'keydrift.yaml', '--now', '2026-11-01T00:00:00Z', '--out', out, '--format', 'json,sarif', '--quiet'],
      { cwd: dir, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
    );
    const seconds = (performance.now() - started) / 1000;
    const lines = result.stderr.trim().split('\n').filter((line) => !line.startsWith('Command exited'));
    if (result.status !== 0) throw new Error(`scan exited ${result.status}: ${result.stderr}`);
    const [peakKiB, user, system] = lines.pop()!.split(' ').map(Number) as [number, number, number];
    const report = JSON.parse((await import('node:fs')).readFileSync(path.join(out, 'keydrift.json'), 'utf8')) as { inventory: unknown[]; findings: unknown[]; sources: { status: string; errors: unknown[] }[] };
    if (report.sources[0]?.status !== 'ok') throw new Error(`the source is ${report.sources[0]?.status}: ${JSON.stringify(report.sources[0]?.errors.slice(0, 3))}`);
    console.log(
      `  run ${run}: wall ${seconds.toFixed(2)} s, CPU ${(user + system).toFixed(2)} s, peak RSS ${(peakKiB / 1024).toFixed(0)} MiB; ${report.inventory.length} items, ${report.findings.length} findings`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
