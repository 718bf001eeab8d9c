import type { ExternalUse } from '../../inventory/types.ts';

// Reads a KMS key policy for three questions: can anyone use this key (KD-ACC-001), which
// principals can both administer and use it (KD-ACC-002), and which other accounts can use it
// (KD-ACC-003)? Conditions are parsed before a statement is called public: a wildcard principal
// narrowed to an account or organisation is not, and one narrowed to another account is that
// account's use.

export interface PolicyAccess {
  public: boolean;
  publicPrincipals: string[];
  publicActions: string[];
  publicGrantSource: string | null;
  adminAndUse: string[];
  /** Principals with administrative actions (the account root aside): grants add users to match them against. */
  administrators: string[];
  /** Principals of other accounts allowed a use action, one entry per statement that allows it. */
  externalUse: ExternalUse[];
}

interface Statement {
  Sid?: string;
  Effect?: string;
  Principal?: unknown;
  NotPrincipal?: unknown;
  Action?: string | string[];
  NotAction?: string | string[];
  Condition?: Record<string, Record<string, unknown>>;
}

// Condition keys that pin the caller to known accounts, organisations, principals or networks.
const RESTRICTIVE_KEYS = new Set(
  [
    'kms:CallerAccount',
    'aws:PrincipalOrgID',
    'aws:PrincipalOrgPaths',
    'aws:PrincipalAccount',
    'aws:PrincipalArn',
    'aws:SourceAccount',
    'aws:SourceArn',
    'aws:SourceOwner',
    'aws:SourceOrgID',
    'aws:SourceOrgPaths',
    'aws:SourceVpc',
    'aws:SourceVpce',
    'aws:userid',
    'aws:username',
  ].map((key) => key.toLowerCase()),
);

// Operators that narrow (a positive match). Negated operators (StringNotEquals...) and
// IfExists variants (absent key = match) do not.
const NARROWING = /^(ForAnyValue:|ForAllValues:)?(StringEquals|StringEqualsIgnoreCase|StringLike|ArnEquals|ArnLike|IpAddress)$/i;

const READ_ONLY = /^kms:(Describe|Get|List)/i;
export const USE_ACTIONS = ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncryptFrom', 'kms:ReEncryptTo', 'kms:GenerateDataKey', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:GenerateDataKeyPair', 'kms:GenerateDataKeyPairWithoutPlaintext', 'kms:Sign', 'kms:Verify', 'kms:GenerateMac', 'kms:VerifyMac', 'kms:DeriveSharedSecret'];
// Use that recovers protected plaintext: data (Decrypt, and ReEncrypt, which decrypts inside KMS)
// or the secret a key-agreement key derives.
export const DECRYPT_ACTIONS = ['kms:Decrypt', 'kms:ReEncryptFrom', 'kms:DeriveSharedSecret'];
// Condition keys whose values name the calling account or principal: a wildcard narrowed by them
// to another account is that account's use.
const CALLER_ACCOUNT_KEYS = new Set(['kms:calleraccount', 'aws:principalaccount']);
const CALLER_ARN_KEYS = new Set(['aws:principalarn']);
const ADMIN_ACTIONS = ['kms:PutKeyPolicy', 'kms:ScheduleKeyDeletion', 'kms:CancelKeyDeletion', 'kms:DisableKey', 'kms:EnableKey', 'kms:CreateGrant', 'kms:RevokeGrant', 'kms:UpdateKeyDescription', 'kms:TagResource', 'kms:UntagResource', 'kms:DisableKeyRotation', 'kms:EnableKeyRotation', 'kms:ImportKeyMaterial', 'kms:DeleteImportedKeyMaterial', 'kms:UpdateAlias', 'kms:CreateAlias', 'kms:DeleteAlias'];

export function analyseKeyPolicy(policyJson: string, accountId: string | null): PolicyAccess {
  const document = JSON.parse(policyJson) as { Statement?: Statement | Statement[] };
  const statements = Array.isArray(document.Statement) ? document.Statement : document.Statement ? [document.Statement] : [];
  const publicPrincipals = new Set<string>();
  const publicActions = new Set<string>();
  let publicGrantSource: string | null = null;
  const admins = new Set<string>();
  const users = new Set<string>();
  const externalUse: ExternalUse[] = [];

  statements.forEach((statement, index) => {
    if ((statement.Effect ?? '').toLowerCase() !== 'allow') return;
    const actions = list(statement.Action);
    const allows = (action: string) =>
      statement.NotAction !== undefined ? !list(statement.NotAction).some((pattern) => matches(pattern, action)) : actions.some((pattern) => matches(pattern, action));
    const grantsUse = statement.NotAction !== undefined || USE_ACTIONS.some((action) => actions.some((pattern) => matches(pattern, action)));
    const grantsAdmin = statement.NotAction !== undefined || ADMIN_ACTIONS.some((action) => actions.some((pattern) => matches(pattern, action)));
    const principals = principalsOf(statement.Principal);
    const wildcard = statement.NotPrincipal !== undefined || principals.includes('*');
    const source = `key policy statement ${statement.Sid ?? `#${index + 1}`}`;
    const isNarrowed = narrowed(statement.Condition);
    if (wildcard && !isNarrowed) {
      const significant = statement.NotAction !== undefined ? ['NotAction'] : actions.filter((action) => !READ_ONLY.test(action));
      if (significant.length > 0) {
        publicPrincipals.add(statement.NotPrincipal !== undefined ? 'NotPrincipal' : '*');
        for (const action of significant) publicActions.add(action);
        publicGrantSource ??= source;
      }
    }
    if (grantsUse && accountId !== null) {
      const useActions = statement.NotAction !== undefined ? ['NotAction'] : actions.filter((pattern) => USE_ACTIONS.some((action) => matches(pattern, action)));
      const decrypt = DECRYPT_ACTIONS.some(allows);
      const named = principals.filter((principal) => principal !== '*');
      const narrowedTo = wildcard && isNarrowed ? callersOf(statement.Condition) : [];
      for (const principal of [...named, ...narrowedTo]) {
        const account = accountOf(principal);
        if (account !== null && account !== accountId) externalUse.push({ principal, account, actions: useActions, decrypt, source });
      }
    }
    for (const principal of principals) {
      if (principal === '*' || isAccountRoot(principal, accountId)) continue;
      if (grantsUse) users.add(principal);
      if (grantsAdmin) admins.add(principal);
    }
  });

  return {
    public: publicPrincipals.size > 0,
    publicPrincipals: [...publicPrincipals].sort(),
    publicActions: [...publicActions].sort(),
    publicGrantSource,
    adminAndUse: [...admins].filter((principal) => users.has(principal)).sort(),
    administrators: [...admins].sort(),
    externalUse,
  };
}

/** The account an AWS principal belongs to (`arn:aws:iam::<account>:...`, `arn:aws:sts::<account>:...`); null for a service or anything else. */
export function accountOf(principal: string): string | null {
  if (/^\d{12}$/.test(principal)) return principal;
  return /^arn:aws[a-z-]*:(?:iam|sts)::(\d{12}):/.exec(principal)?.[1] ?? null;
}

/**
 * The callers a narrowing condition names: kms:CallerAccount and aws:PrincipalAccount values as
 * account roots, aws:PrincipalArn values as they are. Other narrowing keys (organisation, network,
 * source) name no account: the zone of trust they draw is not another account's.
 */
function callersOf(condition: Statement['Condition']): string[] {
  const callers: string[] = [];
  for (const [operator, entries] of Object.entries(condition ?? {})) {
    if (!NARROWING.test(operator)) continue;
    for (const [key, value] of Object.entries(entries ?? {})) {
      const values = (Array.isArray(value) ? value : [value]).filter((entry): entry is string => typeof entry === 'string');
      if (CALLER_ACCOUNT_KEYS.has(key.toLowerCase())) callers.push(...values.filter((entry) => /^\d{12}$/.test(entry)).map((entry) => `arn:aws:iam::${entry}:root`));
      if (CALLER_ARN_KEYS.has(key.toLowerCase())) callers.push(...values);
    }
  }
  return callers;
}

function list(value: string | string[] | undefined): string[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

/** "*", {"AWS": "*"}, {"AWS": ["arn..."]}, {"Service": "..."}: AWS principals and the wildcard. */
function principalsOf(principal: unknown): string[] {
  if (principal === '*') return ['*'];
  if (!principal || typeof principal !== 'object') return [];
  const aws = (principal as Record<string, unknown>)['AWS'];
  const values = Array.isArray(aws) ? aws : aws === undefined ? [] : [aws];
  return values.filter((value): value is string => typeof value === 'string').map((value) => (/^\d{12}$/.test(value) ? `arn:aws:iam::${value}:root` : value));
}

// The account root delegates to IAM (the default key policy): not a person holding both duties.
function isAccountRoot(principal: string, accountId: string | null): boolean {
  return /^arn:aws[a-z-]*:iam::\d{12}:root$/.test(principal) && (accountId === null || principal.includes(`::${accountId}:`));
}

function narrowed(condition: Statement['Condition']): boolean {
  if (!condition) return false;
  for (const [operator, entries] of Object.entries(condition)) {
    if (!NARROWING.test(operator)) continue;
    for (const [key, value] of Object.entries(entries ?? {})) {
      if (!RESTRICTIVE_KEYS.has(key.toLowerCase())) continue;
      const values = Array.isArray(value) ? value : [value];
      if (values.length > 0 && values.every((entry) => typeof entry === 'string' && entry !== '' && entry !== '*')) return true;
    }
  }
  return false;
}

/** IAM action patterns: case-insensitive, `*` and `?` wildcards. */
function matches(pattern: string, action: string): boolean {
  if (pattern === '*') return true;
  const expression = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*').replaceAll('?', '.')}$`, 'i');
  return expression.test(action);
}
