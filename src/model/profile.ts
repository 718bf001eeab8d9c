/** The compliance profiles shipped in policies/profiles/ (one YAML each). */
export const PROFILES = ['default', 'cis-aws', 'cis-gcp', 'nist-800-57', 'pci-dss', 'public-tls'] as const;

export type Profile = (typeof PROFILES)[number];
