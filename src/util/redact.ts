// Backends sometimes echo a request back in an error body (headers, form fields, signed query
// strings). Every error text passes through here before it is stored or printed, so a credential
// the process holds can never reach a report, a log line or a snapshot.

const MASK = '[REDACTED]';
/** Shorter values would mask ordinary words; no real credential is this short. */
const MIN_SECRET_LENGTH = 6;

const liveSecrets = new Set<string>();

/**
 * Credentials by shape, for the ones the process never held itself (a token the backend minted,
 * a header it reflected): Vault service/batch/recovery tokens, AWS access key ids, signed
 * request fields, bearer tokens, private key blocks.
 */
const PATTERNS: readonly RegExp[] = [
  /\bhv[sbr]\.[A-Za-z0-9_-]{20,}/g,
  /\b[sbr]\.[A-Za-z0-9]{24}\b/g,
  /\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|APKA)[A-Z0-9]{16}\b/g,
  /\bya29\.[A-Za-z0-9._-]{20,}/g,
  /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/g,
  /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)/g,
];

/** `name: value`, `"name":"value"` or `name=value` for a field that carries a credential. */
const CREDENTIAL_FIELD =
  /\b(x-vault-token|x-amz-security-token|x-amz-credential|x-amz-signature|authorization|proxy-authorization|cookie|set-cookie|secret_id|secret-id|role_id|role-id|client_token|accessor|jwt|password|passphrase|aws_secret_access_key|aws_session_token)("?\s*[:=]\s*"?)(?!\[REDACTED\])[^\s",;&}]{4,}/gi;

/** Registers a credential the process holds (a token, an id, a PIN) so that it is masked everywhere. */
export function registerSecret(value: string | null | undefined): void {
  if (typeof value !== 'string') return;
  const trimmed = value.trim();
  if (trimmed.length >= MIN_SECRET_LENGTH) liveSecrets.add(trimmed);
  // A secret is also masked in the encodings a backend is likely to echo it in.
  for (const variant of [encodeURIComponent(trimmed), JSON.stringify(trimmed).slice(1, -1)]) {
    if (variant !== trimmed && variant.length >= MIN_SECRET_LENGTH) liveSecrets.add(variant);
  }
}

/** The credentials every collector may read from the environment, registered before any source runs. */
export const CREDENTIAL_VARIABLES = [
  'VAULT_TOKEN',
  'VAULT_ROLE_ID',
  'VAULT_SECRET_ID',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_SECURITY_TOKEN',
  'AWS_WEB_IDENTITY_TOKEN',
  'GOOGLE_OAUTH_ACCESS_TOKEN',
  'ACTIONS_ID_TOKEN_REQUEST_TOKEN',
  'GITHUB_TOKEN',
] as const;

export function registerEnvironmentSecrets(env: NodeJS.ProcessEnv = process.env, extra: readonly string[] = []): void {
  for (const name of [...CREDENTIAL_VARIABLES, ...extra]) registerSecret(env[name]);
}

/** Only the credentials the process holds, by value: cheap enough for a whole report. */
export function redactLive(text: string): string {
  if (liveSecrets.size === 0) return text;
  let out = text;
  // Longest first, so a secret that contains another is masked whole.
  for (const secret of [...liveSecrets].sort((a, b) => b.length - a.length)) {
    if (out.includes(secret)) out = out.split(secret).join(MASK);
  }
  return out;
}

/** Whether redactLive has anything to mask (bytes written without decoding them need not be looked at otherwise). */
export function holdsLiveSecrets(): boolean {
  return liveSecrets.size > 0;
}

/** Credentials by value and by shape: for error texts, which a backend may have filled with anything. */
export function redact(text: string): string {
  let out = redactLive(text);
  for (const pattern of PATTERNS) out = out.replace(pattern, MASK);
  // Keep the field's name, so the reader still learns what the backend echoed.
  return out.replace(CREDENTIAL_FIELD, (_match, name: string, separator: string) => `${name}${separator}${MASK}`);
}
