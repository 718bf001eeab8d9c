import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CreateAliasCommand, CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import type { InventoryItem } from '../../src/inventory/types.ts';
import { kmsCollector } from '../../src/collectors/aws/kms/collector.ts';
import { AWS_ENV } from '../support/aws.ts';
import { quietContext } from '../support/collect.ts';
import { startLocalKms, type LocalKms } from '../support/local-kms.ts';

// local-kms pages ListAliases (at most 100 a page) the way KMS does, with Marker/NextMarker and
// Truncated; moto returns every alias at once. So this is where the collector has to follow the
// marker, and where each page must be counted as one call.

const ALIASES = Array.from({ length: 101 }, (_, i) => `alias/page-${String(i).padStart(3, '0')}`);

describe('aws-kms follows list markers', () => {
  let kms: LocalKms;

  before(async () => {
    for (const name of Object.keys(process.env)) if (name.startsWith('AWS_')) delete process.env[name];
    Object.assign(process.env, AWS_ENV);
    kms = await startLocalKms({ region: 'us-east-1' });
  });
  after(async () => {
    await kms?.stop();
  });

  test('101 aliases of one key arrive over two ListAliases pages: all on the item, two calls counted', async () => {
    const client = new KMSClient({ region: 'us-east-1', endpoint: kms.endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    try {
      const created = await client.send(new CreateKeyCommand({ Description: 'many aliases' }));
      for (const alias of ALIASES) await client.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: created.KeyMetadata!.KeyId! }));
    } finally {
      client.destroy();
    }

    const ctx = quietContext();
    const items: InventoryItem[] = [];
    for await (const item of kmsCollector.collect({ id: 'kms', type: 'aws-kms', regions: ['us-east-1'], endpoint: kms.endpoint }, ctx)) items.push(item);

    assert.equal(items.length, 1);
    assert.deepEqual(items[0]!.evidence['aliases'], ALIASES);
    assert.equal(ctx.apiCalls['kms:ListAliases'], 2, 'one call per page');
    assert.equal(ctx.apiCalls['kms:ListKeys'], 1);
    assert.equal(ctx.apiCalls['kms:ListResourceTags'], 1);
  });
});
