import type { CollectorDeclaration } from '../types.ts';

/** An organization member named in `accounts.include`/`exclude`: an account id, an OU id or the root id (the Organizations id patterns). */
export const ORGANIZATION_TARGET_PATTERN = '^(\\d{12}|ou-[0-9a-z]{4,32}-[0-9a-z]{8,32}|r-[0-9a-z]{4,32})$';

const TARGETS = {
  type: 'array',
  minItems: 1,
  items: { type: 'string', pattern: ORGANIZATION_TARGET_PATTERN },
};

/**
 * The calls organization discovery adds (`accounts`), made with the source's own credentials in
 * the management or delegated administrator account; sts:AssumeRole is on `roleName` in each member.
 */
export const ORGANIZATION_OPERATIONS = [
  'organizations:ListAccounts',
  'organizations:ListRoots',
  'organizations:ListOrganizationalUnitsForParent',
  'organizations:ListAccountsForParent',
  'sts:AssumeRole',
] as const;

/** The fields every aws-* source takes (CONTRACT section 2), shared by the KMS and ACM declarations. */
export const AWS_SOURCE_SCHEMA: CollectorDeclaration['configSchema'] = {
  properties: {
    regions: { $ref: '#/$defs/regions' },
    profile: { type: 'string' },
    roleArn: { type: 'string', pattern: '^arn:aws[a-z-]*:iam::\\d{12}:role/.+' },
    endpoint: { type: 'string', pattern: '^[A-Za-z][A-Za-z0-9+.-]*://' },
    timeoutMs: { $ref: '#/$defs/timeoutMs' },
    accounts: {
      description:
        'Scan every account of the AWS organization (ListAccounts; suspended and closed accounts are skipped) through the role `roleName` in each: "organization", or { organization: true, include, exclude } with account ids, OU ids (every account beneath the OU) or the root id.',
      // if/then/else rather than oneOf: a value is judged only by the form it was written in, so
      // a mistake in the mapping is not also told that it is not the string "organization".
      if: { type: 'string' },
      then: { const: 'organization' },
      else: {
        type: 'object',
        additionalProperties: false,
        required: ['organization'],
        properties: { organization: { const: true }, include: TARGETS, exclude: TARGETS },
      },
    },
    roleName: {
      description: 'With `accounts`: the IAM role assumed in each member account (arn:<partition>:iam::<account>:role/<roleName>); a path may precede the name.',
      type: 'string',
      pattern: '^([\\w+=,.@-]+/)*[\\w+=,.@-]{1,64}$',
    },
  },
  // Discovery needs a role to assume in each account, and a role name alone names no account.
  dependentRequired: { accounts: ['roleName'], roleName: ['accounts'] },
};
