import { fromIni, fromNodeProviderChain, fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { registerSecret } from '../../util/redact.ts';
import type { SourceConfig } from '../../model/source.ts';
import type { CollectContext } from '../types.ts';

type AwsCredentialIdentityProvider = ReturnType<typeof fromIni>;

/** What every aws-* source accepts (CONTRACT section 2). */
export interface AwsSource extends SourceConfig {
  regions?: string[] | 'all';
  profile?: string;
  roleArn?: string;
  endpoint?: string;
  /** Deadline per HTTP call, in milliseconds. */
  timeoutMs?: number;
}

export const DEFAULT_TIMEOUT_MS = 30_000;

/** Connect within this (or the call's deadline, if shorter): a black-holed endpoint fails fast. */
const CONNECT_TIMEOUT_MS = 10_000;

/**
 * Throttling gets the SDK's adaptive retry: client-side rate limiting plus backoff with jitter,
 * 8 attempts unless AWS_MAX_ATTEMPTS says otherwise (as it does for every AWS tool).
 */
export const MAX_ATTEMPTS = 8;

export function maxAttempts(): number {
  const fromEnv = Number(process.env['AWS_MAX_ATTEMPTS']);
  return Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : MAX_ATTEMPTS;
}

export interface ClientSettings {
  region: string;
  endpoint?: string;
  credentials: AwsCredentialIdentityProvider;
  maxAttempts: number;
  retryMode: 'adaptive';
  requestHandler: { requestTimeout: number; connectionTimeout: number; throwOnRequestTimeout: true };
}

/**
 * One credentials provider per source: the default chain, a named profile, or a role assumed
 * from either (sessions are cached and refreshed by the provider). Whatever it resolves is
 * registered with the redactor, so an endpoint that echoes a signed request cannot leak it.
 */
export function credentialsFor(source: AwsSource, region: string): AwsCredentialIdentityProvider {
  const member = (source as Partial<AccountScoped>)[MEMBER_CREDENTIALS];
  if (member) return member;
  const base = source.profile ? fromIni({ profile: source.profile }) : fromNodeProviderChain();
  if (!source.roleArn) return registering(base);
  return registering(
    fromTemporaryCredentials({
      params: { RoleArn: source.roleArn, RoleSessionName: sessionName(source), DurationSeconds: 3600 },
      masterCredentials: registering(base),
      clientConfig: { region, requestHandler: requestHandler(source), ...(source.endpoint ? { endpoint: source.endpoint } : {}) },
    }),
  );
}

// A source narrowed to one member account (organization discovery) carries that account's
// assumed-role credentials under a symbol, so no config field can name or override them; every
// client of the per-account code then calls as the member role.
const MEMBER_CREDENTIALS = Symbol('member account credentials');

export interface AccountScoped extends AwsSource {
  readonly [MEMBER_CREDENTIALS]: AwsCredentialIdentityProvider;
}

/** The source as seen from one member account: the same settings, the member role's credentials. */
export function scopedToAccount(source: AwsSource, credentials: AwsCredentialIdentityProvider): AccountScoped {
  return { ...source, [MEMBER_CREDENTIALS]: credentials };
}

/**
 * A role in `roleArn` assumed with `base` credentials: one AssumeRole (counted as sts:AssumeRole),
 * then the session is shared by every client until shortly before it expires. The STS client has
 * the source's deadline and the same bounded adaptive retry as every other client.
 */
export function assumedRole(
  source: AwsSource,
  region: string,
  roleArn: string,
  base: AwsCredentialIdentityProvider,
  ctx: Pick<CollectContext, 'apiCalls'>,
): AwsCredentialIdentityProvider {
  const assume = fromTemporaryCredentials({
    params: { RoleArn: roleArn, RoleSessionName: sessionName(source), DurationSeconds: 3600 },
    masterCredentials: base,
    clientConfig: {
      region,
      requestHandler: requestHandler(source),
      maxAttempts: maxAttempts(),
      retryMode: 'adaptive',
      ...(source.endpoint ? { endpoint: source.endpoint } : {}),
    },
  });
  return registering(
    memoized(async (options) => {
      ctx.apiCalls['sts:AssumeRole'] = (ctx.apiCalls['sts:AssumeRole'] ?? 0) + 1;
      return assume(options);
    }),
  );
}

/** The source's credentials resolved once and shared (until near expiry), for the many calls organization discovery makes with them. */
export function sharedCredentials(source: AwsSource, region: string): AwsCredentialIdentityProvider {
  return memoized(credentialsFor(source, region));
}

export function sessionName(source: AwsSource): string {
  return `keydrift-${source.id}`.slice(0, 64);
}

/** Renew this long before a session expires, so no call is signed with credentials about to lapse. */
const EXPIRY_MARGIN_MS = 5 * 60_000;

/** One resolution shared by concurrent callers and reused until near its expiry; a failure is not kept. */
function memoized(provider: AwsCredentialIdentityProvider): AwsCredentialIdentityProvider {
  let cached: ReturnType<AwsCredentialIdentityProvider> | null = null;
  let renewAt = Infinity;
  return (options) => {
    if (cached && Date.now() < renewAt) return cached;
    const pending = provider(options);
    cached = pending;
    renewAt = Infinity;
    pending.then(
      (identity) => {
        if (cached === pending && identity.expiration) renewAt = identity.expiration.getTime() - EXPIRY_MARGIN_MS;
      },
      () => {
        if (cached === pending) cached = null;
      },
    );
    return pending;
  };
}

function registering(provider: AwsCredentialIdentityProvider): AwsCredentialIdentityProvider {
  return async (options) => {
    const identity = await provider(options);
    registerSecret(identity.accessKeyId);
    registerSecret(identity.secretAccessKey);
    registerSecret(identity.sessionToken);
    return identity;
  };
}

function requestHandler(source: AwsSource): ClientSettings['requestHandler'] {
  const timeout = source.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return { requestTimeout: timeout, connectionTimeout: Math.min(timeout, CONNECT_TIMEOUT_MS), throwOnRequestTimeout: true };
}

export function clientSettings(source: AwsSource, region: string, credentials: AwsCredentialIdentityProvider): ClientSettings {
  return {
    region,
    maxAttempts: maxAttempts(),
    retryMode: 'adaptive',
    requestHandler: requestHandler(source),
    ...(source.endpoint ? { endpoint: source.endpoint } : {}),
    credentials,
  };
}

interface MiddlewareClient {
  middlewareStack: {
    add(
      middleware: (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) => (args: unknown) => Promise<unknown>,
      options: { step: 'initialize'; name: string },
    ): void;
  };
}

/** Counts each logical API call (retries are the SDK's business) under "<service>:<Operation>". */
export function countCalls<T>(client: T, service: string, ctx: Pick<CollectContext, 'apiCalls'>): T {
  (client as unknown as MiddlewareClient).middlewareStack.add(
    (next, context) => async (args) => {
      const operation = `${service}:${(context.commandName ?? 'Unknown').replace(/Command$/, '')}`;
      ctx.apiCalls[operation] = (ctx.apiCalls[operation] ?? 0) + 1;
      return next(args);
    },
    { step: 'initialize', name: 'keydriftCallCounter' },
  );
  return client;
}
