/** The minimal Vault policy (HCL) a scanning token needs for the given mounts: read and list only. */
export function vaultScanPolicy(mounts: { transit: string[]; pki: string[] }): string {
  const stanza = (path: string, capabilities: string[]) => `path "${path}" {\n  capabilities = [${capabilities.map((c) => `"${c}"`).join(', ')}]\n}`;
  const parts = [stanza('sys/mounts', ['read'])];
  for (const mount of mounts.transit) {
    parts.push(stanza(`${mount}/keys`, ['list']), stanza(`${mount}/keys/*`, ['read']));
  }
  for (const mount of mounts.pki) {
    parts.push(
      stanza(`${mount}/certs`, ['list']),
      stanza(`${mount}/cert/*`, ['read']),
      stanza(`${mount}/roles`, ['list']),
      stanza(`${mount}/roles/*`, ['read']),
      stanza(`sys/mounts/${mount}/tune`, ['read']),
    );
  }
  return parts.join('\n\n') + '\n';
}
