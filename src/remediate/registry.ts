import { awsKmsRemediation } from './aws-kms/declaration.ts';
import { gcpKmsRemediation } from './gcp-kms/declaration.ts';
import type { RemediationDeclaration } from './types.ts';
import { vaultTransitRemediation } from './vault-transit/declaration.ts';

/** Every provider keydrift can change, one declaration each (their operations are the write policies). */
export const REMEDIATIONS: readonly RemediationDeclaration[] = [awsKmsRemediation, gcpKmsRemediation, vaultTransitRemediation];

export function remediationFor(provider: string): RemediationDeclaration | undefined {
  return REMEDIATIONS.find((declaration) => declaration.provider === provider);
}
