import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { terraformCollector } from '../../src/collectors/terraform/collector.ts';
import { parsePositionedJson } from '../../src/collectors/terraform/json-positions.ts';
import { isoDurationDays, linkAliases, linkCertificateKeys, MAPPERS, referencedResource } from '../../src/collectors/terraform/resources.ts';
import { resourceInstances, type ResourceInstance } from '../../src/collectors/terraform/show-json.ts';
import { effectivePolicy } from '../../src/config/settings.ts';
import { PolicyEngine } from '../../src/engine/engine.ts';
import type { InventoryItem } from '../../src/inventory/types.ts';
import { makeCert, removeDir, tempDir, type TestCert } from '../support/certs.ts';
import { quietContext } from '../support/collect.ts';

// Resource types beyond the first five, mapped from `terraform show -json` plans (resource_changes,
// after_unknown) and states. The resources follow the examples of each provider's registry
// documentation; values terraform learns only on apply are marked unknown as a plan marks them.

async function collect(document: unknown): Promise<InventoryItem[]> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'keydrift-tf-types-'));
  try {
    await writeFile(path.join(dir, 'show.json'), JSON.stringify(document, null, 2));
    const ctx = quietContext(dir);
    const items: InventoryItem[] = [];
    for await (const item of terraformCollector.collect({ id: 'iac', type: 'terraform', paths: ['*.json'] } as never, ctx)) items.push(item);
    assert.deepEqual(ctx.errors, []);
    return items;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const change = (type: string, address: string, after: Record<string, unknown>, unknown: Record<string, unknown> = {}) => ({
  address,
  mode: 'managed',
  type,
  name: address.split('.').pop()!.replace(/\[.*$/, ''),
  change: { actions: ['create'], before: null, after, after_unknown: unknown },
});
const plan = (...changes: unknown[]) => ({ format_version: '1.2', terraform_version: '1.9.0', resource_changes: changes });
const stateResource = (type: string, address: string, values: Record<string, unknown>) => ({ address, mode: 'managed', type, name: address.split('.').pop(), values });
const state = (...resources: unknown[]) => ({ format_version: '1.0', terraform_version: '1.9.0', values: { root_module: { resources } } });

/** The file's resources mapped as the collector maps them, with configuration references added where a test gives them. */
function mapFile(document: unknown, refs: Record<string, Record<string, string>> = {}): { resources: ResourceInstance[]; items: InventoryItem[] } {
  const { resources } = resourceInstances(parsePositionedJson(JSON.stringify(document)));
  for (const resource of resources) if (refs[resource.address]) Object.assign(resource, { refs: refs[resource.address] });
  const items = resources.flatMap((resource) => {
    const map = MAPPERS[resource.type];
    if (!map) return [];
    const { item } = map(resource, { fallbackUid: `terraform:show.json#${resource.address}`, sourceId: 'iac', file: 'show.json' });
    return [{ ...item, declared: true as const, address: resource.address }];
  });
  return { resources, items };
}

const byAddress = (items: InventoryItem[], address: string): InventoryItem => {
  const item = items.find((candidate) => candidate.address === address);
  assert.ok(item, `no item for ${address}`);
  return item;
};

const NOW = new Date('2026-11-01T00:00:00Z');
let engine: PolicyEngine;
/** `<rule> <address>` of every finding the built-in policies (default profile) report on the items. */
const fired = (items: InventoryItem[]): string[] =>
  engine
    .evaluate({ items, sources: [], now: NOW, policy: effectivePolicy({ policy: { profile: 'default' } }) })
    .map((finding) => `${finding.rule} ${items.find((item) => item.uid === finding.uid)?.address ?? finding.uid}`)
    .sort();

before(async () => {
  engine = await PolicyEngine.load();
});

// Canaries: strings that must never leave the resource values. Each looks like what it stands for.
const KEY_MATERIAL = Buffer.from('CANARY-KEY-MATERIAL-0123456789ab').toString('base64');
const PRIVATE_KEY = '-----BEGIN PRIVATE KEY-----\nQ0FOQVJZLVBSSVZBVEUtS0VZ\n-----END PRIVATE KEY-----\n';
const CA_PRIVATE_KEY = '-----BEGIN RSA PRIVATE KEY-----\nQ0FOQVJZLUNBLVBSSVZBVEUtS0VZ\n-----END RSA PRIVATE KEY-----\n';
const assertNoSecret = (items: InventoryItem[]) => {
  const json = JSON.stringify(items);
  for (const secret of [KEY_MATERIAL, 'Q0FOQVJZLVBSSVZBVEUtS0VZ', 'Q0FOQVJZLUNBLVBSSVZBVEUtS0VZ']) assert.ok(!json.includes(secret), 'a secret value reached the item');
};

describe('aws_kms_external_key', () => {
  const EXTERNAL_ARN = 'arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';

  it('maps the documented example as an imported key KMS cannot rotate, leaving computed values null', async () => {
    const [item] = await collect(
      plan(
        change(
          'aws_kms_external_key',
          'aws_kms_external_key.example',
          { description: 'KMS EXTERNAL for AMI encryption', deletion_window_in_days: 30, bypass_policy_lockout_safety_check: false, key_material_base64: null, valid_to: null, tags: null },
          { arn: true, id: true, enabled: true, expiration_model: true, key_state: true, key_usage: true, multi_region: true, policy: true, tags_all: true },
        ),
      ),
    );
    assert.ok(item);
    assert.deepEqual(
      [item.provider, item.kind, item.algorithm, item.purpose, item.origin, item.protection, item.state, item.expiresAt, item.replication],
      ['aws-kms', 'key', 'AES-256', 'encrypt', 'imported', 'hsm', 'enabled', null, null],
    );
    assert.deepEqual(item.rotation, { supported: false, automatic: false, periodDays: null, lastRotatedAt: null, nextRotationAt: null });
    // Region and account are known after apply: the item lives in the declaring file.
    assert.deepEqual([item.uid, item.name, item.location], ['terraform:show.json#aws_kms_external_key.example', 'aws_kms_external_key.example', item.declaredIn!.file]);
    assert.deepEqual([item.evidence['Origin'], item.evidence['ExpirationModel'], item.evidence['keyMaterialInState'], item.evidence['aliases']], ['EXTERNAL', null, false, []]);
    assert.equal(item.evidence['multi_region'], 'known after apply');
  });

  it('never copies key_material_base64, from a plan or a state, into any part of the item', async () => {
    const planned = await collect(
      plan(
        change(
          'aws_kms_external_key',
          'aws_kms_external_key.material',
          { key_material_base64: KEY_MATERIAL, valid_to: '2026-11-20T00:00:00Z', enabled: true, multi_region: false, deletion_window_in_days: 7 },
          { arn: true, id: true, expiration_model: true, key_state: true, key_usage: true },
        ),
      ),
    );
    const stated = await collect(
      state(
        stateResource('aws_kms_external_key', 'aws_kms_external_key.material', {
          arn: EXTERNAL_ARN,
          id: '1234abcd-12ab-34cd-56ef-1234567890ab',
          key_material_base64: KEY_MATERIAL,
          key_state: 'Enabled',
          key_usage: 'ENCRYPT_DECRYPT',
          enabled: true,
          expiration_model: 'KEY_MATERIAL_EXPIRES',
          valid_to: '2026-11-20T00:00:00Z',
          multi_region: false,
          deletion_window_in_days: 7,
          tags: { owner: 'payments' },
        }),
      ),
    );
    assertNoSecret([...planned, ...stated]);
    for (const item of [...planned, ...stated]) {
      assert.equal(item.evidence['keyMaterialInState'], true);
      assert.equal(item.expiresAt, '2026-11-20T00:00:00Z');
      assert.ok(!('key_material_base64' in item.evidence));
    }
    const [live] = stated;
    assert.deepEqual([live!.uid.startsWith('terraform:'), live!.location, live!.tags, live!.evidence['ExpirationModel'], live!.evidence['nativeId']], [true, '111122223333/us-west-2', { owner: 'payments' }, 'KEY_MATERIAL_EXPIRES', EXTERNAL_ARN]);
    assert.deepEqual(live!.replication, { multiRegion: false, role: null, regions: ['us-west-2'] });
    // Rotation is not a gap for imported material; its expiry within 30 days is.
    assert.deepEqual(fired(stated), ['KD-RET-004 aws_kms_external_key.material']);
  });

  it('maps a key still waiting for its material (key_state PendingImport) as unavailable, and an asymmetric key_spec by its spec', async () => {
    const items = await collect(
      state(
        stateResource('aws_kms_external_key', 'aws_kms_external_key.pending', { arn: EXTERNAL_ARN, key_state: 'PendingImport', enabled: false, key_usage: 'ENCRYPT_DECRYPT', expiration_model: '' }),
        stateResource('aws_kms_external_key', 'aws_kms_external_key.signing', { key_spec: 'ECC_NIST_P384', key_usage: 'SIGN_VERIFY', key_state: 'Enabled', enabled: true }),
      ),
    );
    const pending = byAddress(items, 'aws_kms_external_key.pending');
    const signing = byAddress(items, 'aws_kms_external_key.signing');
    assert.equal(pending.state, 'unavailable');
    assert.deepEqual([signing.algorithm, signing.purpose, signing.rotation!.supported], ['EC-P384', 'sign', false]);
  });
});

describe('aws_acm_certificate', () => {
  let dir: string;
  let leaf: TestCert;
  before(() => {
    dir = tempDir();
    leaf = makeCert(dir, { cn: 'example.com', key: 'rsa:2048', notBefore: '2026-01-01T00:00:00Z', notAfter: '2026-11-10T00:00:00Z' });
  });
  after(() => removeDir(dir));

  it('maps a requested certificate before issue: certificate and expiry null, the key unknown until key_algorithm is known', async () => {
    const items = await collect(
      plan(
        change(
          'aws_acm_certificate',
          'aws_acm_certificate.cert',
          { domain_name: 'example.com', validation_method: 'DNS', tags: { Environment: 'test' }, certificate_body: null, private_key: null, certificate_authority_arn: null },
          { arn: true, id: true, key_algorithm: true, not_after: true, not_before: true, status: true, type: true, domain_validation_options: true, subject_alternative_names: true, renewal_eligibility: true, pending_renewal: true, tags_all: true },
        ),
        change('aws_acm_certificate', 'aws_acm_certificate.ec', { domain_name: 'api.example.com', subject_alternative_names: ['api.example.com', 'www.example.com'], validation_method: 'DNS', key_algorithm: 'EC_prime256v1' }, { arn: true, not_after: true, status: true }),
        change('aws_acm_certificate', 'aws_acm_certificate.weak', { domain_name: 'old.example.com', validation_method: 'EMAIL', key_algorithm: 'RSA_1024' }, { arn: true, not_after: true, status: true }),
      ),
    );
    const cert = byAddress(items, 'aws_acm_certificate.cert');
    assert.deepEqual(
      [cert.provider, cert.kind, cert.name, cert.state, cert.certificate, cert.expiresAt, cert.algorithm, cert.keySize, cert.origin, cert.tags],
      ['aws-acm', 'certificate', 'example.com', 'enabled', null, null, 'UNKNOWN:unresolved', null, 'generated', { Environment: 'test' }],
    );
    assert.deepEqual([cert.evidence['Type'], cert.evidence['validation_method'], cert.evidence['NotAfter'], cert.evidence['not_after']], ['AMAZON_ISSUED', 'DNS', null, 'known after apply']);
    const ec = byAddress(items, 'aws_acm_certificate.ec');
    assert.deepEqual([ec.algorithm, ec.keyType, ec.keySize, ec.curve], ['EC-P256', 'ec', 256, 'P-256']);
    assert.deepEqual(ec.evidence['subject_alternative_names'], ['api.example.com', 'www.example.com']);
    // Only the declared key is judged before issue: KD-CRT-004 on the 1024-bit request.
    assert.deepEqual(fired(items), ['KD-CRT-004 aws_acm_certificate.weak']);
  });

  it('maps an issued certificate from a state: ARN, account and region, status and expiry', async () => {
    const arn = 'arn:aws:acm:eu-central-1:123456789012:certificate/7e7a28d2-163f-4b8f-b9cd-822f96c08d6a';
    const [cert] = await collect(
      state(
        stateResource('aws_acm_certificate', 'aws_acm_certificate.cert', {
          arn,
          id: arn,
          domain_name: 'example.com',
          subject_alternative_names: ['example.com'],
          validation_method: 'DNS',
          key_algorithm: 'RSA_2048',
          status: 'ISSUED',
          type: 'AMAZON_ISSUED',
          not_before: '2026-01-01T00:00:00Z',
          not_after: '2027-02-01T23:59:59Z',
          renewal_eligibility: 'ELIGIBLE',
          tags: {},
        }),
      ),
    );
    assert.deepEqual(
      [cert!.uid.startsWith('terraform:'), cert!.location, cert!.state, cert!.algorithm, cert!.createdAt, cert!.expiresAt, cert!.evidence['nativeId']],
      [true, '123456789012/eu-central-1', 'enabled', 'RSA-2048', '2026-01-01T00:00:00Z', '2027-02-01T23:59:59Z', arn],
    );
  });

  it('reads an imported certificate from its body and never copies the private key', async () => {
    const items = await collect(
      plan(
        change(
          'aws_acm_certificate',
          'aws_acm_certificate.imported',
          { certificate_body: leaf.certPem, private_key: PRIVATE_KEY, certificate_chain: null },
          { arn: true, id: true, domain_name: true, key_algorithm: true, not_after: true, not_before: true, status: true, type: true },
        ),
      ),
    );
    assertNoSecret(items);
    const [cert] = items;
    assert.deepEqual(
      [cert!.name, cert!.origin, cert!.algorithm, cert!.expiresAt, cert!.certificate?.commonName, cert!.evidence['Type'], cert!.evidence['privateKeyInState']],
      ['example.com', 'imported', 'RSA-2048', '2026-11-10T00:00:00Z', 'example.com', 'IMPORTED', true],
    );
    assert.deepEqual(fired(items), ['KD-CRT-002 aws_acm_certificate.imported']);
  });
});

describe('tls_self_signed_cert and tls_locally_signed_cert', () => {
  let dir: string;
  let selfSigned: TestCert;
  before(() => {
    dir = tempDir();
    selfSigned = makeCert(dir, { cn: 'example.com', key: 'ec:P-384', notBefore: '2026-01-01T00:00:00Z', notAfter: '2027-06-01T00:00:00Z' });
  });
  after(() => removeDir(dir));

  const documented = {
    private_key_pem: PRIVATE_KEY,
    subject: [{ common_name: 'example.com', organization: 'ACME Examples, Inc' }],
    validity_period_hours: 12,
    early_renewal_hours: 0,
    is_ca_certificate: false,
    allowed_uses: ['key_encipherment', 'digital_signature', 'server_auth'],
    dns_names: null,
  };
  const computed = { cert_pem: true, id: true, key_algorithm: true, ready_for_renewal: true, validity_end_time: true, validity_start_time: true };

  it('maps a planned certificate as a template: the validity it will have, no notBefore or notAfter, the key unknown', async () => {
    const items = await collect(plan(change('tls_self_signed_cert', 'tls_self_signed_cert.example', documented, computed)));
    assertNoSecret(items);
    const [cert] = items;
    assert.deepEqual(
      [cert!.provider, cert!.kind, cert!.certificate, cert!.expiresAt, cert!.createdAt, cert!.algorithm, cert!.keySize, cert!.purpose],
      ['x509-file', 'certificate', null, null, null, 'UNKNOWN:unresolved', null, 'tls'],
    );
    assert.deepEqual(
      [cert!.evidence['durationSeconds'], cert!.evidence['duration'], cert!.evidence['isCA'], cert!.evidence['commonName'], cert!.evidence['selfSigned']],
      [43200, '12h', false, 'example.com', true],
    );
    assert.ok(cert!.declaredIn!.attributes['evidence.durationSeconds'], 'KD-CRT-003 points at validity_period_hours');
  });

  it('judges the declared validity with KD-CRT-003, except for a CA certificate', async () => {
    const twoYears = { ...documented, validity_period_hours: 17520 };
    const items = await collect(
      plan(
        change('tls_self_signed_cert', 'tls_self_signed_cert.leaf', twoYears, computed),
        change('tls_self_signed_cert', 'tls_self_signed_cert.root', { ...twoYears, is_ca_certificate: true, allowed_uses: ['cert_signing', 'crl_signing'] }, computed),
      ),
    );
    assert.deepEqual(byAddress(items, 'tls_self_signed_cert.root').purpose, 'sign');
    assert.deepEqual(fired(items), ['KD-CRT-003 tls_self_signed_cert.leaf']);
  });

  it('reads the certificate itself from a state (cert_pem), never the private key', async () => {
    const items = await collect(
      state(
        stateResource('tls_self_signed_cert', 'tls_self_signed_cert.example', {
          ...documented,
          validity_period_hours: 12408,
          key_algorithm: 'ECDSA',
          cert_pem: selfSigned.certPem,
          id: '12345',
          validity_start_time: '2026-01-01T00:00:00Z',
          validity_end_time: '2027-06-01T00:00:00Z',
          ready_for_renewal: false,
        }),
      ),
    );
    assertNoSecret(items);
    const [cert] = items;
    assert.deepEqual(
      [cert!.name, cert!.algorithm, cert!.certificate?.notAfter, cert!.certificate?.selfSigned, cert!.expiresAt, cert!.origin],
      ['tls_self_signed_cert.example', 'EC-P384', '2027-06-01T00:00:00Z', true, '2027-06-01T00:00:00Z', 'generated'],
    );
    assert.deepEqual(fired(items), ['KD-CRT-003 tls_self_signed_cert.example']);
  });

  it('takes the family from a known key_algorithm, and never reads the CA key of a locally signed certificate', async () => {
    const items = await collect(
      plan(
        change('tls_self_signed_cert', 'tls_self_signed_cert.ed', { ...documented, key_algorithm: 'ED25519' }, { cert_pem: true }),
        change('tls_self_signed_cert', 'tls_self_signed_cert.rsa', { ...documented, key_algorithm: 'RSA' }, { cert_pem: true }),
        change(
          'tls_locally_signed_cert',
          'tls_locally_signed_cert.example',
          { cert_request_pem: null, ca_private_key_pem: CA_PRIVATE_KEY, ca_cert_pem: selfSigned.certPem, validity_period_hours: 12, allowed_uses: ['key_encipherment', 'digital_signature', 'server_auth'] },
          { cert_request_pem: true, cert_pem: true, ca_key_algorithm: true, id: true, ready_for_renewal: true, validity_end_time: true, validity_start_time: true },
        ),
      ),
    );
    assertNoSecret(items);
    assert.deepEqual(byAddress(items, 'tls_self_signed_cert.ed').algorithm, 'Ed25519');
    assert.deepEqual([byAddress(items, 'tls_self_signed_cert.rsa').algorithm, byAddress(items, 'tls_self_signed_cert.rsa').keyType], ['UNKNOWN:RSA', 'rsa']);
    const local = byAddress(items, 'tls_locally_signed_cert.example');
    assert.deepEqual([local.algorithm, local.certificate, local.evidence['selfSigned'], local.evidence['durationSeconds']], ['UNKNOWN:unresolved', null, false, 43200]);
  });

  it('follows private_key_pem references to the tls_private_key the certificate certifies (through the certificate request)', () => {
    const { resources, items } = mapFile(
      plan(
        change('tls_private_key', 'tls_private_key.example', { algorithm: 'ECDSA', ecdsa_curve: 'P384' }, { private_key_pem: true }),
        change('tls_self_signed_cert', 'tls_self_signed_cert.example', { ...documented, private_key_pem: null }, { ...computed, private_key_pem: true }),
        change('tls_private_key', 'module.svc.tls_private_key.k', { algorithm: 'RSA', rsa_bits: 1024 }, { private_key_pem: true }),
        change('tls_cert_request', 'module.svc.tls_cert_request.r', { subject: [{ common_name: 'svc.example.com' }], dns_names: ['svc.example.com'] }, { private_key_pem: true, cert_request_pem: true }),
        change('tls_locally_signed_cert', 'module.svc.tls_locally_signed_cert.c', { validity_period_hours: 720, allowed_uses: ['server_auth'] }, { cert_request_pem: true, cert_pem: true }),
      ),
      {
        'tls_self_signed_cert.example': { private_key_pem: 'tls_private_key.example.private_key_pem' },
        // Inside a module, references are relative to it.
        'module.svc.tls_cert_request.r': { private_key_pem: 'tls_private_key.k.private_key_pem' },
        'module.svc.tls_locally_signed_cert.c': { cert_request_pem: 'tls_cert_request.r.cert_request_pem' },
      },
    );
    linkCertificateKeys(resources, items);
    const selfSignedCert = byAddress(items, 'tls_self_signed_cert.example');
    assert.deepEqual([selfSignedCert.algorithm, selfSignedCert.keySize, selfSignedCert.curve, selfSignedCert.evidence['keyFrom']], ['EC-P384', 384, 'P-384', 'tls_private_key.example']);
    const local = byAddress(items, 'module.svc.tls_locally_signed_cert.c');
    assert.deepEqual(
      [local.algorithm, local.keySize, local.evidence['commonName'], local.evidence['dnsNames'], local.evidence['certRequest']],
      ['RSA-1024', 1024, 'svc.example.com', ['svc.example.com'], 'module.svc.tls_cert_request.r'],
    );
    assert.ok(fired(items).includes('KD-CRT-004 module.svc.tls_locally_signed_cert.c'));
  });
});

describe('azurerm_key_vault_key', () => {
  const documented = {
    name: 'generated-certificate',
    key_type: 'RSA',
    key_size: 2048,
    key_opts: ['decrypt', 'encrypt', 'sign', 'unwrapKey', 'verify', 'wrapKey'],
    rotation_policy: [{ automatic: [{ time_before_expiry: 'P30D', time_after_creation: null }], expire_after: 'P90D', notify_before_expiry: 'P29D' }],
    expiration_date: null,
    not_before_date: null,
    tags: null,
  };
  const computed = { key_vault_id: true, id: true, versionless_id: true, version: true, resource_id: true, resource_versionless_id: true, n: true, e: true, x: true, y: true, public_key_pem: true, public_key_openssh: true, curve: true };
  const vaultId = '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/example-resources/providers/Microsoft.KeyVault/vaults/examplekeyvault';

  it('maps the documented example: a software RSA key rotated 30 days before its 90-day expiry', async () => {
    const [key] = await collect(plan(change('azurerm_key_vault_key', 'azurerm_key_vault_key.generated', documented, computed)));
    assert.deepEqual(
      [key!.provider, key!.kind, key!.name, key!.location, key!.uid, key!.algorithm, key!.keySize, key!.protection, key!.origin, key!.purpose, key!.expiresAt],
      ['azure-key-vault', 'key', 'generated-certificate', key!.declaredIn!.file, 'terraform:show.json#azurerm_key_vault_key.generated', 'RSA-2048', 2048, 'software', 'generated', 'encrypt', null],
    );
    assert.deepEqual(key!.rotation, { supported: true, automatic: true, periodDays: 60, lastRotatedAt: null, nextRotationAt: null });
    assert.deepEqual(key!.attributes!.usages, ['decrypt', 'encrypt', 'sign', 'unwrap', 'verify', 'wrap']);
    assert.deepEqual(key!.evidence['rotationPolicy'], { expireAfter: 'P90D', notifyBeforeExpiry: 'P29D', timeAfterCreation: null, timeBeforeExpiry: 'P30D' });
  });

  it('reports a key without a rotation policy (KD-ROT-001) and a period beyond the cryptoperiod (KD-ROT-002), like any rotatable key', async () => {
    const items = await collect(
      plan(
        change('azurerm_key_vault_key', 'azurerm_key_vault_key.documented', documented, computed),
        change('azurerm_key_vault_key', 'azurerm_key_vault_key.unrotated', { ...documented, key_opts: ['wrapKey', 'unwrapKey'], rotation_policy: [] }, computed),
        change(
          'azurerm_key_vault_key',
          'azurerm_key_vault_key.slow',
          { ...documented, key_type: 'EC-HSM', key_size: null, curve: 'P-256K', key_opts: ['sign', 'verify'], rotation_policy: [{ automatic: [{ time_after_creation: 'P2Y', time_before_expiry: null }], expire_after: null, notify_before_expiry: null }] },
          { ...computed, curve: false },
        ),
        change('azurerm_key_vault_key', 'azurerm_key_vault_key.later', { ...documented, rotation_policy: null }, { ...computed, rotation_policy: true }),
      ),
    );
    const unrotated = byAddress(items, 'azurerm_key_vault_key.unrotated');
    assert.deepEqual([unrotated.rotation!.automatic, unrotated.purpose, unrotated.attributes!.appliesProtection], [false, 'wrap', true]);
    const slow = byAddress(items, 'azurerm_key_vault_key.slow');
    assert.deepEqual([slow.algorithm, slow.curve, slow.protection, slow.purpose, slow.rotation!.periodDays], ['EC-secp256k1', 'secp256k1', 'hsm', 'sign', 730]);
    assert.equal(byAddress(items, 'azurerm_key_vault_key.later').rotation!.automatic, null);
    const findings = fired(items);
    assert.ok(findings.includes('KD-ROT-001 azurerm_key_vault_key.unrotated'));
    assert.ok(findings.includes('KD-ROT-002 azurerm_key_vault_key.slow'));
    assert.ok(!findings.some((finding) => finding.startsWith('KD-ROT') && /documented|later/.test(finding)), findings.join('\n'));
    // Allowed to sign and to decrypt (KD-ACC-005), as key_opts lists all six operations.
    assert.ok(findings.includes('KD-ACC-005 azurerm_key_vault_key.documented'));
  });

  it('takes the vault, the versionless id and the expiry from a state', async () => {
    const versionless = 'https://examplekeyvault.vault.azure.net/keys/generated-certificate';
    const [key] = await collect(
      state(
        stateResource('azurerm_key_vault_key', 'azurerm_key_vault_key.generated', {
          ...documented,
          key_vault_id: vaultId,
          id: `${versionless}/fdf067c93bbb4b22bff4d8b7a9a56217`,
          versionless_id: versionless,
          curve: '',
          expiration_date: '2027-03-01T00:00:00Z',
          tags: { owner: 'payments' },
        }),
      ),
    );
    assert.deepEqual([key!.uid.startsWith('terraform:'), key!.location, key!.expiresAt, key!.tags, key!.evidence['nativeId']], [true, vaultId, '2027-03-01T00:00:00Z', { owner: 'payments' }, versionless]);
  });

  it('reads ISO 8601 durations in days, and nothing else', () => {
    assert.deepEqual(['P90D', 'P1Y', 'P6M', 'P1Y2M3D', 'P2W', 'PT36H', 'P28D'].map(isoDurationDays), [90, 365, 180, 428, 14, 1.5, 28]);
    assert.deepEqual(['P', 'PT', '90D', 'P1.5Y', 'p90d', ''].map(isoDurationDays), [null, null, null, null, null, null]);
  });
});

describe('aws_kms_alias', () => {
  const keyArn = 'arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
  const externalArn = 'arn:aws:kms:us-west-2:111122223333:key/ffffeeee-12ab-34cd-56ef-1234567890ab';

  it('joins alias names to the key whose key id or ARN a state gives, and keeps the key named by its address', () => {
    const { resources, items } = mapFile(
      state(
        stateResource('aws_kms_key', 'aws_kms_key.a', { arn: keyArn, key_id: '1234abcd-12ab-34cd-56ef-1234567890ab', id: '1234abcd-12ab-34cd-56ef-1234567890ab', enable_key_rotation: true }),
        stateResource('aws_kms_external_key', 'aws_kms_external_key.x', { arn: externalArn, id: 'ffffeeee-12ab-34cd-56ef-1234567890ab', key_state: 'Enabled' }),
        stateResource('aws_kms_alias', 'aws_kms_alias.by_id', { name: 'alias/my-key-alias', target_key_id: '1234abcd-12ab-34cd-56ef-1234567890ab', target_key_arn: keyArn }),
        stateResource('aws_kms_alias', 'aws_kms_alias.by_arn', { name: 'alias/another', target_key_id: keyArn }),
        stateResource('aws_kms_alias', 'aws_kms_alias.external', { name: 'alias/imported', target_key_id: 'ffffeeee-12ab-34cd-56ef-1234567890ab', target_key_arn: externalArn }),
        stateResource('aws_kms_alias', 'aws_kms_alias.elsewhere', { name: 'alias/not-here', target_key_id: 'arn:aws:kms:us-west-2:111122223333:key/00000000-0000-0000-0000-000000000000' }),
      ),
    );
    linkAliases(resources, items);
    assert.deepEqual(items.map((item) => [item.address, item.name, item.evidence['aliases']]), [
      ['aws_kms_key.a', 'aws_kms_key.a', ['alias/another', 'alias/my-key-alias']],
      ['aws_kms_external_key.x', 'aws_kms_external_key.x', ['alias/imported']],
    ]);
  });

  it('joins alias names by the configuration reference when a plan knows no key id yet', () => {
    const keyChange = (address: string) => change('aws_kms_key', address, { enable_key_rotation: true }, { arn: true, key_id: true, id: true });
    const aliasChange = (address: string, name: string | null) => change('aws_kms_alias', address, name === null ? { name_prefix: 'alias/tmp-' } : { name }, { target_key_id: true, target_key_arn: true, ...(name === null ? { name: true } : {}) });
    const { resources, items } = mapFile(
      plan(
        keyChange('aws_kms_key.a'),
        aliasChange('aws_kms_alias.a', 'alias/a'),
        aliasChange('aws_kms_alias.prefixed', null),
        keyChange('module.m.aws_kms_key.a[0]'),
        aliasChange('aws_kms_alias.into_module', 'alias/module-absolute'),
        aliasChange('module.m.aws_kms_alias.local', 'alias/module-relative'),
        keyChange('aws_kms_key.counted[0]'),
        aliasChange('aws_kms_alias.counted', 'alias/lone-instance'),
        keyChange('aws_kms_key.pair[0]'),
        keyChange('aws_kms_key.pair[1]'),
        aliasChange('aws_kms_alias.pair', 'alias/ambiguous'),
      ),
      {
        'aws_kms_alias.a': { target_key_id: 'aws_kms_key.a.key_id' },
        'aws_kms_alias.prefixed': { target_key_id: 'aws_kms_key.a.key_id' },
        'aws_kms_alias.into_module': { target_key_id: 'module.m.aws_kms_key.a[0].arn' },
        'module.m.aws_kms_alias.local': { target_key_id: 'aws_kms_key.a.key_id' },
        'aws_kms_alias.counted': { target_key_id: 'aws_kms_key.counted.arn' },
        'aws_kms_alias.pair': { target_key_id: 'aws_kms_key.pair.arn' },
      },
    );
    linkAliases(resources, items);
    assert.deepEqual(Object.fromEntries(items.map((item) => [item.address, item.evidence['aliases']])), {
      'aws_kms_key.a': ['alias/a'],
      'module.m.aws_kms_key.a[0]': ['alias/module-absolute', 'alias/module-relative'],
      'aws_kms_key.counted[0]': ['alias/lone-instance'],
      'aws_kms_key.pair[0]': undefined,
      'aws_kms_key.pair[1]': undefined,
    });
  });

  it('reduces a reference to the resource it names', () => {
    assert.equal(referencedResource('module.m.aws_kms_key.a[0].arn'), 'module.m.aws_kms_key.a[0]');
    assert.equal(referencedResource('module.m["x.y"].aws_kms_key.a["k.1"].key_id'), 'module.m["x.y"].aws_kms_key.a["k.1"]');
    assert.equal(referencedResource('aws_kms_key.a'), 'aws_kms_key.a');
    assert.equal(referencedResource('data.aws_kms_key.k.arn'), null);
    assert.equal(referencedResource('module.m'), null);
  });
});
