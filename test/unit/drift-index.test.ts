import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { driftIdentity } from '../../src/drift/identity.ts';
import { driftIndex } from '../../src/drift/index.ts';
import { baseItem, type InventoryItem } from '../../src/inventory/types.ts';
import type { SourceStatus } from '../../src/model/source.ts';

const key = (fields: Partial<InventoryItem> & Pick<InventoryItem, 'uid' | 'provider' | 'sourceId'>): InventoryItem =>
  ({ ...baseItem({ kind: 'key', name: fields.uid, location: 'l', algorithm: 'AES-256', ...fields }), ...fields }) as InventoryItem;
const ok = (id: string, type: string): SourceStatus => ({ id, type, status: 'ok', items: 0, errors: [] });

const ARN = 'arn:aws:kms:us-east-1:111122223333:key/aaaa';

describe('drift identities: a declaration and the live key it became spell the same', () => {
  it('AWS: the ARN from a state, else the aliases a configuration links', () => {
    const live = key({ uid: ARN, provider: 'aws-kms', sourceId: 'aws', location: '111122223333/us-east-1', evidence: { aliases: ['alias/orders'] } });
    const declared = key({ uid: 'terraform:state.json#aws_kms_key.orders', provider: 'aws-kms', sourceId: 'iac', location: '111122223333/us-east-1', declared: true, evidence: { nativeId: ARN, aliases: ['alias/orders'] } });
    assert.deepEqual(driftIdentity(live), { strong: [`aws-kms|id|${ARN}`], weak: ['aws-kms|alias:alias/orders'], scope: 'aws-kms|111122223333/us-east-1' });
    assert.deepEqual(driftIdentity(declared), driftIdentity(live));
    const fromCode = key({ uid: 'terraform:main.tf#aws_kms_key.orders', provider: 'aws-kms', sourceId: 'iac', declared: true, evidence: { aliases: ['alias/orders'] } });
    assert.deepEqual(driftIdentity(fromCode), { strong: [], weak: ['aws-kms|alias:alias/orders'], scope: null });
  });

  it('Cloud KMS by resource name (and ring/key name); Vault by mount path without the server address', () => {
    const name = 'projects/p/locations/global/keyRings/ring/cryptoKeys/k';
    assert.deepEqual(driftIdentity(key({ uid: name, provider: 'gcp-kms', sourceId: 'gcp', location: 'p/global/ring' })).weak, ['gcp-kms|name:ring/k']);
    const vaultLive = key({ uid: 'https://vault.example:8200/v1/team/transit/keys/orders', provider: 'vault-transit', sourceId: 'vault' });
    const vaultDeclared = key({ uid: 'terraform:main.tf#vault_transit_secret_backend_key.orders', provider: 'vault-transit', sourceId: 'iac', declared: true, evidence: { nativeId: 'team/transit/keys/orders' } });
    assert.deepEqual(driftIdentity(vaultLive).strong, driftIdentity(vaultDeclared).strong);
    assert.deepEqual(driftIdentity(vaultLive).weak, ['vault-transit|path:transit/keys/orders']);
  });

  it('certificates and providers without comparable ids have no identity', () => {
    assert.deepEqual(driftIdentity(key({ uid: 'token/label', provider: 'pkcs11', sourceId: 'hsm' })), { strong: [], weak: [], scope: null });
    assert.deepEqual(driftIdentity({ ...key({ uid: ARN, provider: 'aws-acm', sourceId: 'acm' }), kind: 'certificate' }).strong, []);
  });
});

describe('the drift index', () => {
  const declared = key({ uid: 'terraform:state.json#aws_kms_key.orders', provider: 'aws-kms', sourceId: 'iac', declared: true, evidence: { nativeId: ARN } });
  const live = key({ uid: ARN, provider: 'aws-kms', sourceId: 'aws', location: '111122223333/us-east-1', rotation: { supported: true, automatic: true, periodDays: 180, lastRotatedAt: null, nextRotationAt: null } });
  const other = key({ uid: `${ARN}bb`, provider: 'aws-kms', sourceId: 'aws-dev', location: '111122223333/us-east-1' });

  it('is inactive without declarations, so a live-only run judges no drift and pays nothing', () => {
    assert.equal(driftIndex([live], [ok('aws', 'aws-kms')]).active, false);
  });

  it('groups live keys by identity with the settings compared, and marks scopes only for complete sources', () => {
    const index = driftIndex([declared, live, other], [ok('iac', 'terraform'), ok('aws', 'aws-kms'), { ...ok('aws-dev', 'aws-kms'), status: 'partial' }], [{ source: 'aws-*', resource: '*bb' }]);
    assert.equal(index.active, true);
    assert.equal(index.declaredComplete, true);
    assert.deepEqual(index.live[`aws-kms|id|${ARN}`]!.map((summary) => summary.settings['rotation.periodDays']), [180]);
    assert.deepEqual(Object.keys(index.declared), [`aws-kms|id|${ARN}`]);
    assert.deepEqual(Object.keys(index.scopes), ['aws-kms|111122223333/us-east-1']);
    assert.deepEqual(Object.keys(index.managed), [`${ARN}bb`], 'source and resource globs, like waivers');
  });

  it('is not complete when a declaring source was partial', () => {
    assert.equal(driftIndex([declared, live], [{ ...ok('iac', 'terraform'), status: 'partial' }, ok('aws', 'aws-kms')]).declaredComplete, false);
  });
});
