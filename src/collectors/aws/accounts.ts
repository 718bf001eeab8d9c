import { mergeBounded } from '../../util/limit.ts';
import type { CollectContext } from '../types.ts';
import { assumedRole, scopedToAccount, sharedCredentials, type AwsSource } from './client.ts';
import { classify, describeFailure } from './errors.ts';
import { discoverAccounts, memberRoleArn, type MemberAccount, type OrganizationSource } from './organization.ts';
import { homeRegion } from './regions.ts';

type Credentials = ReturnType<typeof sharedCredentials>;

/** What a collector does in one account: every configured region, with the credentials the source carries. */
export type AccountCollector<T> = (source: AwsSource, ctx: CollectContext) => AsyncIterable<T>;

/**
 * The source's account, or with `accounts` every selected account of its organization: each
 * through `roleName` assumed with the source's own credentials (its profile or `roleArn`, in the
 * management or delegated administrator account), at most `concurrency` accounts at once. AWS
 * throttles per account, so each account keeps the per-account pace of a single-account scan.
 * An account that cannot be entered or yields nothing but errors is reported with its role ARN,
 * and the other accounts are still collected.
 */
export async function* eachAccount<T>(source: AwsSource, ctx: CollectContext, defaultConcurrency: number, collect: AccountCollector<T>): AsyncGenerator<T> {
  const config = source as OrganizationSource;
  if (config.accounts === undefined) {
    yield* collect(source, ctx);
    return;
  }
  const region = controlRegion(config);
  const management = sharedCredentials(config, region);
  const accounts = await discoverAccounts(config, region, management, ctx);
  if (!accounts) return;
  yield* mergeBounded(accounts, config.concurrency ?? defaultConcurrency, (account) => collectMember(config, account, region, management, ctx, collect));
}

/** Where the organization and STS are asked: the first configured region, else the SDK's default one. */
function controlRegion(source: AwsSource): string {
  return Array.isArray(source.regions) && source.regions[0] ? source.regions[0] : homeRegion();
}

async function* collectMember<T>(
  source: OrganizationSource,
  account: MemberAccount,
  region: string,
  management: Credentials,
  ctx: CollectContext,
  collect: AccountCollector<T>,
): AsyncGenerator<T> {
  if (ctx.signal.aborted) return;
  const roleArn = memberRoleArn(account, source.roleName!);
  const credentials = assumedRole(source, region, roleArn, management, ctx);
  try {
    await credentials();
  } catch (error) {
    const failure = describeFailure('sts:AssumeRole', roleArn, error);
    ctx.error({ ...failure, code: `aws-account-${classify(error)}`, message: `account ${account.id}: not collected: ${failure.message}` });
    return;
  }
  let items = 0;
  let errors = 0;
  const inAccount: CollectContext = {
    ...ctx,
    error: (error) => {
      errors++;
      ctx.error({ ...error, message: `account ${account.id}: ${error.message}` });
    },
  };
  try {
    for await (const item of collect(scopedToAccount(source, credentials), inAccount)) {
      items++;
      yield item;
    }
  } catch (error) {
    ctx.error({ code: 'aws-account-error', message: `account ${account.id}: collection with ${roleArn} stopped: ${firstLine(error)}`, resource: roleArn });
    return;
  }
  if (items === 0 && errors > 0) {
    ctx.error({ code: 'aws-account-not-collected', message: `account ${account.id}: nothing could be collected with ${roleArn} (see the errors above)`, resource: roleArn });
  }
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return (text.split('\n')[0] ?? '').slice(0, 300);
}
