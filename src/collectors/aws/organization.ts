import {
  OrganizationsClient,
  paginateListAccounts,
  paginateListAccountsForParent,
  paginateListOrganizationalUnitsForParent,
  paginateListRoots,
  type Account,
} from '@aws-sdk/client-organizations';
import { accountKey, inShard } from '../../shard/shard.ts';
import type { CollectContext } from '../types.ts';
import { clientSettings, countCalls, type AwsSource } from './client.ts';
import { classify, describeFailure } from './errors.ts';

// Which accounts of an AWS organization a source with `accounts` scans. One ListAccounts (paged)
// gives every account with its state; OU selectors are resolved by walking down from each named
// OU (ListOrganizationalUnitsForParent + ListAccountsForParent per OU beneath it), which costs
// calls per OU rather than per account (ListParents) and nothing at all when no OU is named.

export type AccountsOption = 'organization' | { organization: true; include?: string[]; exclude?: string[] };

/** An aws-* source that may discover its accounts (source-schema.ts: `accounts`, `roleName`). */
export interface OrganizationSource extends AwsSource {
  accounts?: AccountsOption;
  roleName?: string;
}

export interface MemberAccount {
  id: string;
  /** The partition of the organization (`aws`, `aws-cn`, `aws-us-gov`), for the role ARN. */
  partition: string;
}

type Credentials = Parameters<typeof clientSettings>[2];

/** Organizations pages hold at most 20 entries (MaxResults 1..20 on every List call used here). */
const PAGE_SIZE = 20;

/**
 * The lifecycle state that keeps an account out of the scan, or null. `State` replaces `Status`
 * (which AWS retires in September 2026); an answer may carry either or both. Only ACTIVE accounts
 * are scanned: a suspended, closing or closed account cannot be signed into, and a pending one has
 * no role yet. An account whose state is not given at all is scanned (unknown is not inactive).
 */
export function inactiveState(account: Pick<Account, 'State' | 'Status'>): string | null {
  const state = account.State ?? account.Status;
  return state !== undefined && state !== 'ACTIVE' ? state : null;
}

/** The partition in an Organizations ARN (`arn:aws:organizations::...`), else the region's. */
export function partitionOf(arn: string | undefined, region: string): string {
  const fromArn = /^arn:(aws[a-z-]*):/.exec(arn ?? '')?.[1];
  if (fromArn) return fromArn;
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

export function memberRoleArn(account: MemberAccount, roleName: string): string {
  return `arn:${account.partition}:iam::${account.id}:role/${roleName}`;
}

/**
 * The accounts this run scans, or null when the organization cannot be read (the source is then
 * failed: nothing is scanned rather than a guess). Problems with part of the selection (an
 * included OU that cannot be walked, an included account that is not in the organization) are
 * reported and the rest is scanned.
 */
export async function discoverAccounts(source: OrganizationSource, region: string, credentials: Credentials, ctx: CollectContext): Promise<MemberAccount[] | null> {
  const option = source.accounts!;
  const include = typeof option === 'object' ? (option.include ?? null) : null;
  const exclude = typeof option === 'object' ? (option.exclude ?? []) : [];
  const client = countCalls(new OrganizationsClient(clientSettings(source, region, credentials)), 'organizations', ctx);
  try {
    let listed: Account[];
    try {
      listed = await listAccounts(client);
    } catch (error) {
      const failure = describeFailure('organizations:ListAccounts', 'the organization', error);
      ctx.error({
        ...failure,
        code: `aws-organization-${classify(error)}`,
        message: `${failure.message}; the organization's accounts are unknown, so none was scanned (accounts: needs the management account or a delegated administrator)`,
      });
      return null;
    }
    const tree = new OrganizationTree(client, listed);

    const excluded = new Set<string>();
    for (const target of exclude) {
      try {
        for (const id of await tree.accountsUnder(target)) excluded.add(id);
      } catch (error) {
        const failure = describeTargetFailure(target, error);
        ctx.error({ ...failure, message: `accounts.exclude ${target}: ${failure.message}; nothing was scanned rather than an excluded account` });
        return null;
      }
    }
    let included: Set<string> | null = null;
    if (include) {
      included = new Set();
      for (const target of include) {
        try {
          for (const id of await tree.accountsUnder(target)) included.add(id);
        } catch (error) {
          const failure = describeTargetFailure(target, error);
          ctx.error({ ...failure, message: `accounts.include ${target}: ${failure.message}; the accounts beneath it were not scanned` });
        }
      }
      const known = new Set(listed.map((account) => account.Id));
      for (const target of include.filter((entry) => /^\d{12}$/.test(entry) && !known.has(entry))) {
        ctx.error({ code: 'aws-organization-unknown-account', message: `accounts.include ${target}: not an account of the organization (ListAccounts does not list it), so it was not scanned`, resource: target });
      }
    }

    const chosen: MemberAccount[] = [];
    const inactive: string[] = [];
    let outOfShard = 0;
    for (const account of listed) {
      const id = account.Id;
      if (!id || (included && !included.has(id)) || excluded.has(id)) continue;
      const state = inactiveState(account);
      if (state) inactive.push(`${id} (${state})`);
      else if (!inShard(accountKey(id), ctx.shard)) outOfShard++;
      else chosen.push({ id, partition: partitionOf(account.Arn, region) });
    }
    ctx.logger.info(
      `${source.id}: the organization lists ${listed.length} account${listed.length === 1 ? '' : 's'}; scanning ${chosen.length}` +
        (inactive.length > 0 ? `; not active, skipped: ${inactive.join(', ')}` : '') +
        (outOfShard > 0 ? `; ${outOfShard} belong to other shards` : ''),
    );
    return chosen;
  } finally {
    client.destroy();
  }
}

function describeTargetFailure(target: string, error: unknown): { code: string; message: string; resource: string } {
  if (error instanceof TargetError) return { code: 'aws-organization-target', message: error.message, resource: target };
  const operation = error !== null && typeof error === 'object' ? failedCalls.get(error) : undefined;
  const failure = describeFailure(operation ?? 'organizations', target, error);
  return { ...failure, code: `aws-organization-${classify(error)}` };
}

class TargetError extends Error {}

/** The organization's structure, read lazily and each part once, for the selectors that need it. */
class OrganizationTree {
  private readonly client: OrganizationsClient;
  private readonly all: Account[];
  private readonly beneath = new Map<string, Promise<Set<string>>>();
  private roots: Promise<string[]> | null = null;

  constructor(client: OrganizationsClient, all: Account[]) {
    this.client = client;
    this.all = all;
  }

  /** The ids of the accounts a selector names: an account, every account beneath an OU, or every account (the root). */
  async accountsUnder(target: string): Promise<Set<string>> {
    if (/^\d{12}$/.test(target)) return new Set([target]);
    if (target.startsWith('r-')) {
      this.roots ??= listRoots(this.client);
      const roots = await this.roots;
      if (!roots.includes(target)) throw new TargetError(`not this organization's root (ListRoots answers ${roots.join(', ') || 'no root'})`);
      return new Set(this.all.map((account) => account.Id).filter((id): id is string => Boolean(id)));
    }
    return this.walk(target);
  }

  private walk(unit: string): Promise<Set<string>> {
    let pending = this.beneath.get(unit);
    if (!pending) {
      pending = (async () => {
        const accounts = new Set(await childAccounts(this.client, unit));
        for (const child of await childUnits(this.client, unit)) {
          for (const id of await this.walk(child)) accounts.add(id);
        }
        return accounts;
      })();
      this.beneath.set(unit, pending);
    }
    return pending;
  }
}

/** The call each failure came from, for the message naming it. */
const failedCalls = new WeakMap<object, string>();

async function naming<T>(operation: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error && typeof error === 'object') failedCalls.set(error, operation);
    throw error;
  }
}

async function listAccounts(client: OrganizationsClient): Promise<Account[]> {
  const accounts: Account[] = [];
  for await (const page of paginateListAccounts({ client, pageSize: PAGE_SIZE }, {})) accounts.push(...(page.Accounts ?? []));
  return accounts;
}

function listRoots(client: OrganizationsClient): Promise<string[]> {
  return naming('organizations:ListRoots', async () => {
    const roots: string[] = [];
    for await (const page of paginateListRoots({ client, pageSize: PAGE_SIZE }, {})) roots.push(...(page.Roots ?? []).map((root) => root.Id ?? ''));
    return roots.filter(Boolean);
  });
}

function childAccounts(client: OrganizationsClient, parent: string): Promise<string[]> {
  return naming('organizations:ListAccountsForParent', async () => {
    const ids: string[] = [];
    for await (const page of paginateListAccountsForParent({ client, pageSize: PAGE_SIZE }, { ParentId: parent })) ids.push(...(page.Accounts ?? []).map((account) => account.Id ?? ''));
    return ids.filter(Boolean);
  });
}

function childUnits(client: OrganizationsClient, parent: string): Promise<string[]> {
  return naming('organizations:ListOrganizationalUnitsForParent', async () => {
    const ids: string[] = [];
    for await (const page of paginateListOrganizationalUnitsForParent({ client, pageSize: PAGE_SIZE }, { ParentId: parent })) {
      ids.push(...(page.OrganizationalUnits ?? []).map((unit) => unit.Id ?? ''));
    }
    return ids.filter(Boolean);
  });
}
