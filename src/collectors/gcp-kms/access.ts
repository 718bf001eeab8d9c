import type { Access } from '../../inventory/types.ts';

// A Cloud KMS key's effective IAM policy is the union of its own bindings and those of every
// resource above it: a role granted on the key ring applies to each key in the ring. keydrift
// reads two levels, the key and its ring (project and organisation policies are not read), and
// judges their union for KD-ACC-001 (public) and KD-ACC-002 (admin and use).

export interface GcpBinding {
  role?: string | null;
  members?: string[] | null;
}

const PUBLIC_MEMBERS = new Set(['allUsers', 'allAuthenticatedUsers']);
// KD-ACC-002 in Cloud KMS terms: roles/cloudkms.admin together with a role that uses the key.
const ADMIN_ROLES = new Set(['roles/cloudkms.admin']);
const USE_ROLES = /^roles\/cloudkms\.(cryptoKey(Encrypter|Decrypter|EncrypterDecrypter)(ViaDelegation)?|signer|signerVerifier|macSigner|macSignerVerifier|decapsulator|cryptoOperator)$/;

export function gcpAccess(bindings: GcpBinding[]): { public: boolean; adminAndUse: string[]; publicMembers: string[]; publicRoles: string[] } {
  const admins = new Set<string>();
  const users = new Set<string>();
  const publicMembers = new Set<string>();
  const publicRoles = new Set<string>();
  for (const binding of bindings) {
    const role = binding.role ?? '';
    for (const member of binding.members ?? []) {
      if (PUBLIC_MEMBERS.has(member)) {
        publicMembers.add(member);
        publicRoles.add(role);
      }
      if (ADMIN_ROLES.has(role)) admins.add(member);
      if (USE_ROLES.test(role)) users.add(member);
    }
  }
  const both = [...admins].filter((member) => users.has(member));
  return { public: publicMembers.size > 0, adminAndUse: both.sort(), publicMembers: [...publicMembers].sort(), publicRoles: [...publicRoles].sort() };
}

export interface EffectiveGcpAccess {
  access: Access | null;
  /** Evidence for KD-ACC-001 when public. */
  publicMembers: string[];
  publicRoles: string[];
  publicGrantSource: string | null;
}

/**
 * `keyBindings` / `ringBindings`: null when GetIamPolicy failed (unknown); `ringBindings` undefined
 * when the ring was not read at all (a caller with the key alone). With a part unknown, what the
 * known part shows is reported (a public grant or an admin-and-use member is there whatever the
 * rest says), public stays null unless shown, and nothing shown is unknown access (null), not
 * "private".
 */
export function effectiveGcpAccess(keyBindings: GcpBinding[] | null, ringBindings?: GcpBinding[] | null): EffectiveGcpAccess {
  const levels = [
    { name: 'IAM policy on the key', bindings: keyBindings },
    ...(ringBindings === undefined ? [] : [{ name: 'IAM policy on the key ring', bindings: ringBindings }]),
  ];
  const known = levels.filter((level): level is { name: string; bindings: GcpBinding[] } => level.bindings !== null);
  const none: EffectiveGcpAccess = { access: null, publicMembers: [], publicRoles: [], publicGrantSource: null };
  if (known.length === 0) return none;
  const union = gcpAccess(known.flatMap((level) => level.bindings));
  const publicAt = known.filter((level) => gcpAccess(level.bindings).public).map((level) => level.name);
  const complete = known.length === levels.length;
  if (!complete && !union.public && union.adminAndUse.length === 0) return none;
  return {
    access: { public: union.public ? true : complete ? false : null, adminAndUse: union.adminAndUse },
    publicMembers: union.publicMembers,
    publicRoles: union.publicRoles,
    publicGrantSource: publicAt.length > 0 ? publicAt.join(' and ') : null,
  };
}
