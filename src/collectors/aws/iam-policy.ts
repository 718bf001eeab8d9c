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
