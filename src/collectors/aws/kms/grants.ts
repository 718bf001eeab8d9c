import { paginateListGrants, type GrantListEntry, type KMSClient } from '@aws-sdk/client-kms';
import type { Access, ExternalUse } from '../../../inventory/types.ts';
import { accountOf, DECRYPT_ACTIONS, USE_ACTIONS, type PolicyAccess } from '../key-policy.ts';

// Grants are the other half of a KMS key's access: a key policy can be tight while a grant lets
// another account decrypt. A grant names one grantee and the operations it may call (without the
// `kms:` prefix); it can narrow them by encryption context but never widen them to "anyone".

// Grant operations are the policy's action names without their service prefix.
const USE_OPERATIONS = new Set(USE_ACTIONS.map((action) => action.slice('kms:'.length)));
const DECRYPT_OPERATIONS = new Set(DECRYPT_ACTIONS.map((action) => action.slice('kms:'.length)));

/** Every grant on the key, page by page (Limit 100, the API's maximum). */
export async function listGrants(client: KMSClient, keyId: string): Promise<GrantListEntry[]> {
  const grants: GrantListEntry[] = [];
  for await (const page of paginateListGrants({ client, pageSize: 100 }, { KeyId: keyId })) {
    grants.push(...(page.Grants ?? []));
    // KMS marks the last page with Truncated: false; the SDK's paginator looks only at NextMarker.
    if (!page.Truncated) break;
  }
  return grants;
}

export interface GrantAccess {
  /** Grantees allowed at least one use operation. */
  users: string[];
  /** Grantees of other accounts allowed a use operation, one entry per grant. */
  externalUse: ExternalUse[];
}

export function analyseGrants(grants: readonly GrantListEntry[], accountId: string | null): GrantAccess {
  const users = new Set<string>();
  const externalUse: ExternalUse[] = [];
  for (const grant of grants) {
    const grantee = grant.GranteePrincipal ?? grant.GranteeServicePrincipal;
    if (!grantee) continue;
    const operations = (grant.Operations ?? []).filter((operation) => USE_OPERATIONS.has(operation));
    if (operations.length === 0) continue;
    users.add(grantee);
    const account = accountOf(grantee);
    if (accountId !== null && account !== null && account !== accountId) {
      externalUse.push({
        principal: grantee,
        account,
        actions: [...operations].sort(),
        decrypt: operations.some((operation) => DECRYPT_OPERATIONS.has(operation)),
        source: `grant ${grant.GrantId ?? grant.Name ?? 'without id'}`,
      });
    }
  }
  return { users: [...users].sort(), externalUse };
}

/**
 * The key's access from its policy and its grants. The policy decides public and who administers
 * (a grant's CreateGrant only passes on the grant's own operations, so it makes no administrator);
 * grants add users, so a policy administrator holding a use grant administers and uses the key.
 * Unknown policy: unknown access (null). Unknown grants: externalUse is what the policy shows when
 * that is not empty (a known "yes"), else null (not "nobody").
 */
export function kmsAccess(policy: PolicyAccess | null, grants: readonly GrantListEntry[] | null, accountId: string | null): Access | null {
  if (!policy) return null;
  const fromGrants = grants === null ? null : analyseGrants(grants, accountId);
  const grantUsers = new Set(fromGrants?.users ?? []);
  const adminAndUse = [...new Set([...policy.adminAndUse, ...policy.administrators.filter((principal) => grantUsers.has(principal))])].sort();
  const externalUse = [...policy.externalUse, ...(fromGrants?.externalUse ?? [])];
  return {
    public: policy.public,
    adminAndUse,
    externalUse: fromGrants === null && externalUse.length === 0 ? null : externalUse,
  };
}
