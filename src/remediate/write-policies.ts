import { leastPrivilegePolicy } from '../collectors/aws/iam-policy.ts';
import { remediationFor } from './registry.ts';

// The write policies the README shows, generated from each provider's declared remediation
// operations: the identity that applies plans gets these and nothing more. The integration tests
// prove each list is exactly the calls the provider makes.

function permissionsOf(provider: string): string[] {
  const declaration = remediationFor(provider);
  if (!declaration) throw new Error(`no remediation declared for ${provider}`);
  return [...new Set(declaration.operations.map((operation) => operation.permission))].sort();
}

/** AWS: an IAM policy with the KMS actions remediation makes (scope Resource to your keys' ARNs). */
export function awsRemediationPolicy(): string {
  const policy = leastPrivilegePolicy(permissionsOf('aws-kms'));
  policy.Statement[0]!.Sid = 'KeydriftRemediation';
  return JSON.stringify(policy, null, 2);
}

/** Google Cloud: the permissions of a custom role for the identity that applies plans. */
export function gcpRemediationPermissions(): string {
  return permissionsOf('gcp-kms').join('\n');
}

/**
 * Vault: HCL for the given transit mounts. A permission is `<capability> <path>` with `<transit>`
 * standing for each mount, the same form the collector's read operations use.
 */
export function vaultRemediationPolicy(transitMounts: readonly string[]): string {
  const byPath = new Map<string, Set<string>>();
  for (const permission of permissionsOf('vault-transit')) {
    const [capability, template] = permission.split(' ') as [string, string];
    for (const mount of template.includes('<transit>') ? transitMounts : ['']) {
      const path = template.replace('<transit>', mount);
      if (!byPath.has(path)) byPath.set(path, new Set());
      byPath.get(path)!.add(capability);
    }
  }
  return [...byPath]
    .map(([path, capabilities]) => `path "${path}" {\n  capabilities = [${[...capabilities].sort().map((capability) => `"${capability}"`).join(', ')}]\n}`)
    .join('\n\n');
}
