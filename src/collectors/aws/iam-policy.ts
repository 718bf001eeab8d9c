import { ACM_OPERATIONS } from './acm/collector.ts';
import { KMS_OPERATIONS } from './kms/collector.ts';

/**
 * The least-privilege IAM policy for scanning, generated from the actions the collectors declare
 * (and tested against the actions they actually call). Read-only by construction.
 */
export function leastPrivilegePolicy(): { Version: string; Statement: { Sid: string; Effect: 'Allow'; Action: string[]; Resource: '*' }[] } {
  const actions = [...new Set<string>([...KMS_OPERATIONS, ...ACM_OPERATIONS])].sort();
  return {
    Version: '2012-10-17',
    Statement: [{ Sid: 'KeydriftReadOnlyScan', Effect: 'Allow', Action: actions, Resource: '*' }],
  };
}
