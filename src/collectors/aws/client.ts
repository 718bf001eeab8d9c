import { fromIni, fromTemporaryCredentials } from '@aws-sdk/credential-providers';

type AwsCredentialIdentityProvider = ReturnType<typeof fromIni>;
import type { CollectContext, SourceConfig } from '../types.ts';

/** What every aws-* source accepts (CONTRACT section 2). */
export interface AwsSource extends SourceConfig {
  regions?: string[] | 'all';
  profile?: string;
  roleArn?: string;
  endpoint?: string;
}

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
  credentials?: AwsCredentialIdentityProvider;
  maxAttempts: number;
  retryMode: 'adaptive';
}

/**
 * One credentials provider per source: the default chain, a named profile, or a role assumed
 * from either (sessions are cached and refreshed by the provider).
 */
export function credentialsFor(source: AwsSource, region: string): AwsCredentialIdentityProvider | undefined {
  const base = source.profile ? fromIni({ profile: source.profile }) : undefined;
  if (!source.roleArn) return base;
  return fromTemporaryCredentials({
    params: { RoleArn: source.roleArn, RoleSessionName: `keydrift-${source.id}`.slice(0, 64), DurationSeconds: 3600 },
    ...(base ? { masterCredentials: base } : {}),
    clientConfig: { region, ...(source.endpoint ? { endpoint: source.endpoint } : {}) },
  });
}

export function clientSettings(source: AwsSource, region: string, credentials: AwsCredentialIdentityProvider | undefined): ClientSettings {
  return {
    region,
    maxAttempts: maxAttempts(),
    retryMode: 'adaptive',
    ...(source.endpoint ? { endpoint: source.endpoint } : {}),
    ...(credentials ? { credentials } : {}),
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
