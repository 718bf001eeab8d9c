import { vaultDeclaration } from './declaration.ts';

/**
 * The minimal Vault policy (HCL) a scanning token needs for the given mounts: read and list only,
 * built from the collector's declared operations (`<capability> <path>`, where `<transit>` and
 * `<pki>` stand for each mount of that kind).
 */
export function vaultScanPolicy(mounts: { transit: string[]; pki: string[] }, operations: readonly string[] = vaultDeclaration.operations): string {
  const stanza = (path: string, capabilities: string[]) => `path "${path}" {\n  capabilities = [${capabilities.map((c) => `"${c}"`).join(', ')}]\n}`;
  const declared = operations.map((operation) => {
    const [capability, path] = operation.split(' ') as [string, string];
    return { capability, path };
  });
  const parts: string[] = [];
  for (const [placeholder, mountsOfKind] of [[null, ['']], ['<transit>', mounts.transit], ['<pki>', mounts.pki]] as const) {
    for (const mount of mountsOfKind) {
      for (const { capability, path } of declared) {
        const own = placeholder === null ? !path.includes('<') : path.includes(placeholder);
        if (own) parts.push(stanza(placeholder === null ? path : path.replace(placeholder, mount), [capability]));
      }
    }
  }
  return parts.join('\n\n') + '\n';
}
