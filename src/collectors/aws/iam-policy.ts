/**
 * The least-privilege IAM policy for scanning, from the actions the AWS collectors declare (and
 * tested against the actions they actually call). Read-only by construction.
 */
export function leastPrivilegePolicy(declaredActions: readonly string[]): { Version: string; Statement: { Sid: string; Effect: 'Allow'; Action: string[]; Resource: '*' }[] } {
  const actions = [...new Set<string>(declaredActions)].sort();
  return {
    Version: '2012-10-17',
    Statement: [{ Sid: 'KeydriftReadOnlyScan', Effect: 'Allow', Action: actions, Resource: '*' }],
  };
}

/**
 * What the scanning identity needs for organization discovery (`accounts`), in the management or
 * a delegated administrator account: to read the organization, and to assume the member role
 * `roleName` in every account (its trust policy must name that identity too).
 */
export function organizationDiscoveryPolicy(
  discoveryActions: readonly string[],
  roleName: string,
): { Version: string; Statement: { Sid: string; Effect: 'Allow'; Action: string[]; Resource: string }[] } {
  const actions = [...new Set<string>(discoveryActions)].sort();
  return {
    Version: '2012-10-17',
    Statement: [
      { Sid: 'KeydriftListOrganizationAccounts', Effect: 'Allow', Action: actions.filter((action) => action.startsWith('organizations:')), Resource: '*' },
      { Sid: 'KeydriftAssumeMemberRole', Effect: 'Allow', Action: actions.filter((action) => action.startsWith('sts:')), Resource: `arn:aws:iam::*:role/${roleName}` },
    ],
  };
}
