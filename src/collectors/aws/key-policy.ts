// Reads a KMS key policy for two questions: can anyone use this key (KD-ACC-001), and which
// principals can both administer and use it (KD-ACC-002)? Conditions are parsed before a
// statement is called public: a wildcard principal narrowed to an account or organisation is not.

export interface PolicyAccess {
  public: boolean;
  publicPrincipals: string[];
  publicActions: string[];
  publicGrantSource: string | null;
  adminAndUse: string[];
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
const USE_ACTIONS = ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncryptFrom', 'kms:ReEncryptTo', 'kms:GenerateDataKey', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:GenerateDataKeyPair', 'kms:GenerateDataKeyPairWithoutPlaintext', 'kms:Sign', 'kms:Verify', 'kms:GenerateMac', 'kms:VerifyMac', 'kms:DeriveSharedSecret'];
const ADMIN_ACTIONS = ['kms:PutKeyPolicy', 'kms:ScheduleKeyDeletion', 'kms:CancelKeyDeletion', 'kms:DisableKey', 'kms:EnableKey', 'kms:CreateGrant', 'kms:RevokeGrant', 'kms:UpdateKeyDescription', 'kms:TagResource', 'kms:UntagResource', 'kms:DisableKeyRotation', 'kms:EnableKeyRotation', 'kms:ImportKeyMaterial', 'kms:DeleteImportedKeyMaterial', 'kms:UpdateAlias', 'kms:CreateAlias', 'kms:DeleteAlias'];

export function analyseKeyPolicy(policyJson: string, accountId: string | null): PolicyAccess {
  const document = JSON.parse(policyJson) as { Statement?: Statement | Statement[] };
  const statements = Array.isArray(document.Statement) ? document.Statement : document.Statement ? [document.Statement] : [];
  const publicPrincipals = new Set<string>();
  const publicActions = new Set<string>();
  let publicGrantSource: string | null = null;
  const admins = new Set<string>();
  const users = new Set<string>();

  statements.forEach((statement, index) => {
    if ((statement.Effect ?? '').toLowerCase() !== 'allow') return;
    const actions = list(statement.Action);
    const grantsUse = statement.NotAction !== undefined || USE_ACTIONS.some((action) => actions.some((pattern) => matches(pattern, action)));
    const grantsAdmin = statement.NotAction !== undefined || ADMIN_ACTIONS.some((action) => actions.some((pattern) => matches(pattern, action)));
    const principals = principalsOf(statement.Principal);
    const wildcard = statement.NotPrincipal !== undefined || principals.includes('*');
    if (wildcard && !narrowed(statement.Condition)) {
      const significant = statement.NotAction !== undefined ? ['NotAction'] : actions.filter((action) => !READ_ONLY.test(action));
      if (significant.length > 0) {
        publicPrincipals.add(statement.NotPrincipal !== undefined ? 'NotPrincipal' : '*');
        for (const action of significant) publicActions.add(action);
        publicGrantSource ??= `key policy statement ${statement.Sid ?? `#${index + 1}`}`;
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
  };
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
