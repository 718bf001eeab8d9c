import { createHash } from 'node:crypto';

/** One part of a run split `count` ways (`--shard index/count`, 1-based). */
export interface Shard {
  index: number;
  count: number;
}

export class ShardError extends Error {}

export function parseShard(text: string): Shard {
  const match = /^(\d{1,4})\/(\d{1,4})$/.exec(text.trim());
  if (!match) throw new ShardError(`--shard must be INDEX/COUNT, such as 1/4 (got "${text}")`);
  const index = Number(match[1]);
  const count = Number(match[2]);
  if (count < 1 || index < 1 || index > count) throw new ShardError(`--shard ${text}: INDEX must be between 1 and COUNT`);
  return { index, count };
}

/**
 * The shard that owns a unit of collection (an AWS account, a Google Cloud project, else a whole
 * source). A hash, not an order, so adding an account moves no other account to another shard.
 */
export function shardOf(key: string, count: number): number {
  if (count <= 1) return 1;
  const digest = createHash('sha256').update(key).digest();
  return (digest.readUInt32BE(0) % count) + 1;
}

export function inShard(key: string, shard: Shard | undefined): boolean {
  return !shard || shardOf(key, shard.count) === shard.index;
}

/** The shard key of an AWS account. */
export const accountKey = (accountId: string) => `aws-account:${accountId}`;
/** The shard key of a Google Cloud project (its id, as resource names carry it). */
export const projectKey = (projectId: string) => `gcp-project:${projectId}`;
/** The shard key of a source that has no accounts or projects: the whole source goes to one shard. */
export const sourceKey = (sourceId: string) => `source:${sourceId}`;

const AWS_ARN = /^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:(\d{12}):/;
const GCP_NAME = /^(?:\/\/[a-z.]+\/)?projects\/([^/]+)\//;

/**
 * Which shard an item belongs to: its AWS account or Google Cloud project when its uid names one,
 * else its source. Every shard of a run applies the same rule, so the shards partition the estate.
 */
export function itemShardKey(item: { uid: string; sourceId: string }): string {
  const account = AWS_ARN.exec(item.uid)?.[1];
  if (account) return accountKey(account);
  const project = GCP_NAME.exec(item.uid)?.[1];
  if (project) return projectKey(project);
  return sourceKey(item.sourceId);
}
