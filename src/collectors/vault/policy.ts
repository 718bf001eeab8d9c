import { vaultDeclaration } from './declaration.ts';

/**
 * The minimal Vault policy (HCL) a scanning token needs for the given mounts: read and list only,
 * built from the collector's declared operations (`<capability> <path>`, where `<transit>` and
 * `<pki>` stand for each mount of that kind). With `namespaces` (full paths, null for the one the
 * policy is written in), every block is repeated under each: a policy grants paths of its own
 * namespace's children by their path prefix (`team-a/transit/keys`), which is how one policy in the
 * starting namespace covers a `namespaces: recursive` scan.
 */
export function vaultScanPolicy(
  mounts: { transit: string[]; pki: string[] },
  operations: readonly string[] = vaultDeclaration.operations,
  namespaces: readonly (string | null)[] = [null],
): string {
  const stanza = (path: string, capabilities: string[]) => `path "${path}" {\n  capabilities = [${capabilities.map((c) => `"${c}"`).join(', ')}]\n}`;
  const declared = operations.map((operation) => {
    const [capability, path] = operation.split(' ') as [string, string];
    return { capability, path };
  });
  const parts: string[] = [];
  for (const namespace of namespaces) {
    const prefix = namespace ? `${namespace.replace(/^\/+|\/+$/g, '')}/` : '';
    for (const [placeholder, mountsOfKind] of [[null, ['']], ['<transit>', mounts.transit], ['<pki>', mounts.pki]] as const) {
      for (const mount of mountsOfKind) {
        for (const { capability, path } of declared) {
          const own = placeholder === null ? !path.includes('<') : path.includes(placeholder);
          if (own) parts.push(stanza(prefix + (placeholder === null ? path : path.replace(placeholder, mount)), [capability]));
        }
      }
    }
  }
  return parts.join('\n\n') + '\n';
}
