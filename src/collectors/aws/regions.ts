import { DescribeRegionsCommand, EC2Client } from '@aws-sdk/client-ec2';
import type { CollectContext } from '../types.ts';
import { clientSettings, countCalls, credentialsFor, type AwsSource } from './client.ts';
import { describeFailure } from './errors.ts';

/** The region that answers account-wide questions when the config names none. */
export function homeRegion(): string {
  return process.env['AWS_REGION'] ?? process.env['AWS_DEFAULT_REGION'] ?? 'us-east-1';
}

/**
 * The configured regions; `all` asks EC2 for the account's enabled regions (opted-in ones
 * included); absent means the SDK's default region.
 */
export async function resolveRegions(source: AwsSource, ctx: CollectContext): Promise<string[]> {
  if (Array.isArray(source.regions)) return [...new Set(source.regions)];
  if (source.regions !== 'all') return [homeRegion()];
  const region = homeRegion();
  const ec2 = countCalls(new EC2Client(clientSettings(source, region, credentialsFor(source, region))), 'ec2', ctx);
  try {
    const response = await ec2.send(new DescribeRegionsCommand({ AllRegions: false }));
    const regions = (response.Regions ?? [])
      .filter((entry) => entry.OptInStatus !== 'not-opted-in')
      .map((entry) => entry.RegionName)
      .filter((name): name is string => Boolean(name))
      .sort();
    if (regions.length === 0) ctx.error({ code: 'aws-no-regions', message: `DescribeRegions in ${region} returned no enabled region`, resource: region });
    return regions;
  } catch (error) {
    ctx.error(describeFailure('ec2:DescribeRegions', region, error));
    return [];
  } finally {
    ec2.destroy();
  }
}

/** Every resolved region in turn; the source's other regions go on when one fails. */
export async function* eachRegion<T>(source: AwsSource, ctx: CollectContext, collect: (region: string) => AsyncGenerator<T>): AsyncGenerator<T> {
  for (const region of await resolveRegions(source, ctx)) {
    if (ctx.signal.aborted) return;
    yield* collect(region);
  }
}

/** Runs one per-resource call; a failure is reported naming the call and the resource, and reads as null (unknown). */
export function attemptFor(ctx: CollectContext, resource: string): <T>(operation: string, call: () => Promise<T>) => Promise<T | null> {
  return async (operation, call) => {
    try {
      return await call();
    } catch (error) {
      ctx.error(describeFailure(operation, resource, error));
      return null;
    }
  };
}
