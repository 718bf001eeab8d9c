import {
  DescribeKeyCommand,
  GetKeyPolicyCommand,
  GetKeyRotationStatusCommand,
  KMSClient,
  paginateListAliases,
  paginateListKeyRotations,
  paginateListKeys,
  paginateListResourceTags,
  type GetKeyRotationStatusResponse,
  type GrantListEntry,
  type KeyListEntry,
  type KeyMetadata,
  type RotationsListEntry,
} from '@aws-sdk/client-kms';
import type { InventoryItem } from '../../../inventory/types.ts';
import { mapBounded } from '../../../util/limit.ts';
import type { CollectContext, Collector } from '../../types.ts';
import { kmsDeclaration } from './declaration.ts';
import { clientSettings, countCalls, credentialsFor, type AwsSource } from '../client.ts';
import { classify, describeFailure } from '../errors.ts';
import { analyseKeyPolicy, type PolicyAccess } from '../key-policy.ts';
import { eachAccount } from '../accounts.ts';
import { attemptFor, eachRegion } from '../regions.ts';
import { listGrants } from './grants.ts';
import { regionStateEvents, stateChangeOf, tracksState, type AwsKmsSource, type StateEventLog } from './cloudtrail.ts';
import { kmsItem, rotationSupported } from './map.ts';

export const DEFAULT_CONCURRENCY = 16;

export const kmsCollector: Collector = {
  type: kmsDeclaration.type,
  provides: kmsDeclaration.providers,
  operations: kmsDeclaration.operations,
  collect: (source, ctx) => eachAccount(source as AwsSource, ctx, DEFAULT_CONCURRENCY, collectAccount),
};

/** One account, every configured region: the source's own, or a member account of its organization. */
function collectAccount(source: AwsSource, ctx: CollectContext): AsyncGenerator<InventoryItem> {
  return eachRegion(source, ctx, (region) => collectRegion(source, region, ctx));
}

async function* collectRegion(source: AwsSource, region: string, ctx: CollectContext): AsyncGenerator<InventoryItem> {
  const client = countCalls(new KMSClient(clientSettings(source, region, credentialsFor(source, region))), 'kms', ctx);
  try {
    let keys: KeyListEntry[];
    try {
      keys = await listKeys(client);
    } catch (error) {
      // Without the key list the region is unknown territory: say so, and carry on elsewhere.
      ctx.error({ ...describeFailure('kms:ListKeys', region, error), code: `aws-region-${classify(error)}` });
      return;
    }
    const aliases = await listAliases(client, region, ctx);
    const stateEvents = regionStateEvents(source as AwsKmsSource, region, ctx);
    const inspected = mapBounded(keys, source.concurrency ?? DEFAULT_CONCURRENCY, (key) => inspectKey(client, key, region, source, aliases, ctx, stateEvents));
    for await (const item of inspected) yield item;
  } finally {
    client.destroy();
  }
}

// KMS marks the last page with Truncated: false; the SDK's paginators look only at NextMarker,
// so each loop below stops on Truncated as well (a stray marker on the last page is not followed).

async function listKeys(client: KMSClient): Promise<KeyListEntry[]> {
  const keys: KeyListEntry[] = [];
  for await (const page of paginateListKeys({ client, pageSize: 1000 }, {})) {
    keys.push(...(page.Keys ?? []));
    if (!page.Truncated) break;
  }
  return keys;
}

async function listAliases(client: KMSClient, region: string, ctx: CollectContext): Promise<Map<string, string[]>> {
  const byKey = new Map<string, string[]>();
  try {
    for await (const page of paginateListAliases({ client, pageSize: 100 }, {})) {
      for (const alias of page.Aliases ?? []) {
        if (!alias.TargetKeyId || !alias.AliasName) continue;
        byKey.set(alias.TargetKeyId, [...(byKey.get(alias.TargetKeyId) ?? []), alias.AliasName]);
      }
      if (!page.Truncated) break;
    }
  } catch (error) {
    ctx.error(describeFailure('kms:ListAliases', region, error));
  }
  return byKey;
}

/**
 * Every listed key yields an item, whatever fails: a denied call leaves its fields unknown and
 * is reported against the source with the call and the key named.
 */
async function inspectKey(
  client: KMSClient,
  key: KeyListEntry,
  region: string,
  source: AwsSource,
  aliases: Map<string, string[]>,
  ctx: CollectContext,
  stateEvents: (() => Promise<StateEventLog | null>) | null = null,
): Promise<InventoryItem> {
  const keyId = key.KeyId ?? key.KeyArn ?? 'unknown';
  const resource = key.KeyArn ?? keyId;
  const attempt = attemptFor(ctx, resource);

  const described = await attempt('kms:DescribeKey', async () => (await client.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata);
  const metadata: KeyMetadata = described ?? { KeyId: keyId, ...(key.KeyArn ? { Arn: key.KeyArn } : {}), AWSAccountId: key.KeyArn?.split(':')[4] };
  const customer = described !== null && metadata.KeyManager === 'CUSTOMER';
  const judgedOnCadence = customer && rotationSupported(metadata) && metadata.KeyState !== 'PendingDeletion' && metadata.KeyState !== 'PendingImport';

  let rotationStatus: GetKeyRotationStatusResponse | null = null;
  let rotations: RotationsListEntry[] | null = null;
  let tags: Record<string, string> | null = null;
  let access: PolicyAccess | null = null;
  let grants: GrantListEntry[] | null = null;
  // Opt-in (cloudTrail): when a disabled or pending-deletion key entered that state.
  const stateLog = customer && stateEvents && tracksState(metadata.KeyState) ? stateEvents() : null;
  if (customer) {
    [rotationStatus, rotations, tags, access, grants] = await Promise.all([
      judgedOnCadence ? attempt('kms:GetKeyRotationStatus', () => client.send(new GetKeyRotationStatusCommand({ KeyId: keyId }))) : null,
      judgedOnCadence ? attempt('kms:ListKeyRotations', () => listRotations(client, keyId)) : null,
      attempt('kms:ListResourceTags', () => listTags(client, keyId)),
      attempt('kms:GetKeyPolicy', async () => {
        const response = await client.send(new GetKeyPolicyCommand({ KeyId: keyId, PolicyName: 'default' }));
        return response.Policy ? analyseKeyPolicy(response.Policy, metadata.AWSAccountId ?? null) : null;
      }),
      attempt('kms:ListGrants', () => listGrants(client, keyId)),
    ]);
  }
  const log = await stateLog;
  return kmsItem({
    metadata,
    region,
    sourceId: source.id,
    aliases: aliases.get(metadata.KeyId ?? keyId) ?? [],
    rotationStatus,
    rotations,
    tags,
    access,
    grants,
    stateChange: log ? stateChangeOf(log, metadata.Arn ?? resource, metadata.KeyId, metadata.KeyState) : null,
  });
}

async function listRotations(client: KMSClient, keyId: string): Promise<RotationsListEntry[]> {
  const rotations: RotationsListEntry[] = [];
  for await (const page of paginateListKeyRotations({ client, pageSize: 1000 }, { KeyId: keyId })) {
    rotations.push(...(page.Rotations ?? []));
    if (!page.Truncated) break;
  }
  return rotations;
}

async function listTags(client: KMSClient, keyId: string): Promise<Record<string, string>> {
  const tags: Record<string, string> = {};
  for await (const page of paginateListResourceTags({ client, pageSize: 50 }, { KeyId: keyId })) {
    for (const tag of page.Tags ?? []) if (tag.TagKey) tags[tag.TagKey] = tag.TagValue ?? '';
    if (!page.Truncated) break;
  }
  return tags;
}
