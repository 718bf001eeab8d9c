import assert from 'node:assert/strict';
import { constants, createPublicKey, publicEncrypt, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CreateKeyCommand, DescribeKeyCommand, GetParametersForImportCommand, ImportKeyMaterialCommand, KMSClient, ListKeysCommand } from '@aws-sdk/client-kms';
import type { InventoryItem } from '../../src/inventory/types.ts';
import type { Report } from '../../src/report/types.ts';
import { ACCOUNT } from '../fixtures/aws/estate.ts';
import { AWS_ENV } from '../support/aws.ts';
import { removeDir, tempDir } from '../support/certs.ts';
import { runCli } from '../support/cli.ts';
import { startLocalKms, type LocalKms } from '../support/local-kms.ts';
import { withoutAwsEnv } from '../support/moto.ts';
import { assertReportsValid } from '../support/reports.ts';

// KD-RET-007: a key whose imported material expired is unusable (AWS KMS deletes the material and
// moves the key to PendingImport). moto 5.2.5 implements neither GetParametersForImport nor
// ImportKeyMaterial (and creates EXTERNAL keys Enabled), so this runs against local-kms, the
// project's other KMS emulator, which imports real wrapped material with a ValidTo and expires it.
// local-kms also clears ValidTo and ExpirationModel on expiry; AWS's documentation does not say
// whether AWS does. keydrift then keeps the expiry the baseline report saw (--baseline).

describe('aws-kms: imported key material that expired (local-kms)', () => {
  let kms: LocalKms;
  let dir: string;
  let config: string;
  let validTo: Date;

  before(async () => {
    kms = await startLocalKms({ region: 'us-east-1', accountId: ACCOUNT });
    dir = tempDir();
    config = path.join(dir, 'keydrift.yaml');
    writeFileSync(config, `version: 1\nsources:\n  - { id: kms, type: aws-kms, regions: [us-east-1], endpoint: "${kms.endpoint}" }\n`);
    const client = new KMSClient({ region: 'us-east-1', endpoint: kms.endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    try {
      for (const name of ['byok-expiring', 'byok-never-imported']) {
        await client.send(new CreateKeyCommand({ Origin: 'EXTERNAL', Description: name, Tags: [{ TagKey: 'scenario', TagValue: name }] }));
      }
      const keys = await Promise.all(
        (await client.send(new ListKeysCommand({}))).Keys!.map(async (entry) => (await client.send(new DescribeKeyCommand({ KeyId: entry.KeyId! }))).KeyMetadata!),
      );
      const expiring = keys.find((metadata) => metadata.Description === 'byok-expiring')!;
      assert.equal(expiring.KeyState, 'PendingImport');
      const parameters = await client.send(new GetParametersForImportCommand({ KeyId: expiring.KeyId!, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' }));
      const wrappingKey = createPublicKey({ key: Buffer.from(parameters.PublicKey!), format: 'der', type: 'spki' });
      const material = publicEncrypt({ key: wrappingKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, randomBytes(32));
      // Whole seconds: local-kms reads ValidTo as an integer.
      validTo = new Date((Math.floor(Date.now() / 1000) + 4) * 1000);
      await client.send(
        new ImportKeyMaterialCommand({ KeyId: expiring.KeyId!, ImportToken: parameters.ImportToken!, EncryptedKeyMaterial: material, ExpirationModel: 'KEY_MATERIAL_EXPIRES', ValidTo: validTo }),
      );
    } finally {
      client.destroy();
    }
  });
  after(async () => {
    await kms?.stop();
    removeDir(dir);
  });

  async function scan(name: string, baseline?: string): Promise<{ report: Report; file: string }> {
    const out = path.join(dir, name);
    await runCli(['scan', '--config', config, '--out', out, '--format', 'json', ...(baseline ? ['--baseline', baseline] : [])], { env: { ...withoutAwsEnv(process.env), ...AWS_ENV } });
    return { report: assertReportsValid(out), file: path.join(out, 'keydrift.json') };
  }

  const item = (report: Report, scenario: string): InventoryItem => report.inventory.find((candidate) => candidate.tags['scenario'] === scenario)!;
  const findings = (report: Report) =>
    report.findings
      .filter((finding) => finding.ruleId.startsWith('KD-RET-') && finding.baselineState !== 'absent')
      .map((finding) => `${report.inventory.find((candidate) => candidate.uid === finding.resource.uid)!.tags['scenario']} ${finding.ruleId} ${finding.severity}`)
      .sort();

  test('before, during and after the expiry: KD-RET-004 high, then KD-RET-007 high once the key is unusable', async () => {
    const first = await scan('before');
    assert.equal(item(first.report, 'byok-expiring').state, 'enabled');
    assert.equal(item(first.report, 'byok-expiring').expiresAt, validTo.toISOString().replace('.000Z', 'Z'));
    assert.equal(item(first.report, 'byok-never-imported').state, 'unavailable');
    assert.deepEqual(findings(first.report), ['byok-expiring KD-RET-004 high']);

    await sleep(Math.max(0, validTo.getTime() - Date.now()) + 1500);

    // local-kms has moved the key to PendingImport and dropped ValidTo: on its own the scan cannot
    // tell expired material from material never imported, and stays silent.
    const alone = await scan('after-alone');
    assert.equal(item(alone.report, 'byok-expiring').state, 'unavailable');
    assert.equal(item(alone.report, 'byok-expiring').evidence['KeyState'], 'PendingImport');
    assert.equal(item(alone.report, 'byok-expiring').expiresAt, null);
    assert.deepEqual(findings(alone.report), []);

    // With the earlier report as baseline the expiry is known: the key is unusable because its material expired.
    const carried = await scan('after-baseline', first.file);
    assert.equal(item(carried.report, 'byok-expiring').expiresAt, item(first.report, 'byok-expiring').expiresAt);
    assert.deepEqual(findings(carried.report), ['byok-expiring KD-RET-007 high']);
    const finding = carried.report.findings.find((candidate) => candidate.ruleId === 'KD-RET-007')!;
    assert.equal(finding.evidence['providerState'], 'PendingImport');
    assert.equal(finding.evidence['expiresAtSource'], 'baseline');
    // The next scan keeps it through its own report.
    const next = await scan('after-chain', carried.file);
    assert.deepEqual(findings(next.report), ['byok-expiring KD-RET-007 high']);
  });
});
