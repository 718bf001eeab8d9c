// How an AWS failure is reported: the call and the resource are always named, the message never
// carries credentials (SDK errors do not include them; we keep only name, code and message).

export type AwsFailure = 'access-denied' | 'throttled' | 'unreachable' | 'not-found' | 'error';

const DENIED = new Set(['AccessDeniedException', 'AccessDenied', 'UnauthorizedOperation', 'UnrecognizedClientException', 'InvalidClientTokenId', 'ExpiredTokenException', 'AuthFailure']);
const THROTTLED = new Set(['ThrottlingException', 'Throttling', 'TooManyRequestsException', 'RequestLimitExceeded', 'LimitExceededException', 'ThrottledException']);
const NOT_FOUND = new Set(['NotFoundException', 'ResourceNotFoundException']);
const NETWORK = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'TimeoutError', 'RequestTimeout']);

export function classify(error: unknown): AwsFailure {
  const name = errorName(error);
  if (DENIED.has(name)) return 'access-denied';
  if (THROTTLED.has(name)) return 'throttled';
  if (NOT_FOUND.has(name)) return 'not-found';
  if (NETWORK.has(name) || NETWORK.has((error as { code?: string })?.code ?? '')) return 'unreachable';
  return 'error';
}

export function errorName(error: unknown): string {
  if (error && typeof error === 'object') {
    const candidate = error as { name?: string; code?: string; Code?: string };
    return candidate.code && NETWORK.has(candidate.code) ? candidate.code : (candidate.name ?? candidate.Code ?? 'Error');
  }
  return 'Error';
}

export function describeFailure(operation: string, resource: string, error: unknown): { code: string; message: string; resource: string } {
  const kind = classify(error);
  const name = errorName(error);
  const detail = error instanceof Error ? firstLine(error.message) : String(error);
  const what =
    kind === 'access-denied'
      ? 'access denied'
      : kind === 'throttled'
        ? 'still throttled after retries'
        : kind === 'unreachable'
          ? 'endpoint unreachable'
          : 'failed';
  return { code: `aws-${kind}`, message: `${operation} on ${resource}: ${what} (${name}${detail && detail !== name ? `: ${detail}` : ''})`, resource };
}

function firstLine(text: string): string {
  return (text.split('\n')[0] ?? '').slice(0, 300);
}
