import { createHash, createHmac } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { retry } from '../../../util/retry.ts';
import { classify } from '../errors.ts';

// One AWS JSON 1.1 call (CloudTrail LookupEvents) signed with Signature Version 4, on node built-ins:
// the project ships no CloudTrail SDK client, and this single read-only call does not justify one.
// The signing follows the AWS General Reference ("Create a signed AWS API request"); the unit test
// checks it against AWS's published example.

export interface AwsCredentialsIdentity {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}

export type CredentialsProvider = () => Promise<AwsCredentialsIdentity>;

export interface SignableRequest {
  method: string;
  url: URL;
  /** Header names in any case; host and x-amz-date are added. */
  headers: Record<string, string>;
  body: string;
}

/** Headers to send: the request's own plus host, x-amz-date, x-amz-security-token and authorization. */
export function signV4(request: SignableRequest, credentials: AwsCredentialsIdentity, region: string, service: string, now: Date): Record<string, string> {
  const amzDate = now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const day = amzDate.slice(0, 8);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) headers[name.toLowerCase()] = value;
  headers['host'] = request.url.host;
  headers['x-amz-date'] = amzDate;
  if (credentials.sessionToken) headers['x-amz-security-token'] = credentials.sessionToken;
  const names = Object.keys(headers).sort();
  const canonicalHeaders = names.map((name) => `${name}:${headers[name]!.trim().replace(/\s+/g, ' ')}\n`).join('');
  const signedHeaders = names.join(';');
  const query = [...request.url.searchParams.entries()]
    .map(([key, value]) => [uriEncode(key), uriEncode(value)] as const)
    .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
    .map(([key, value]) => `${key}=${value}`)
    .join('&');
  const path = request.url.pathname.split('/').map((segment) => uriEncode(decodeURIComponent(segment))).join('/') || '/';
  const canonicalRequest = [request.method, path, query, canonicalHeaders, signedHeaders, sha256Hex(request.body)].join('\n');
  const scope = `${day}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
  const signingKey = ['aws4_request'].reduce(
    (key, part) => hmac(key, part),
    [day, region, service].reduce<Buffer>((key, part) => hmac(key, part), Buffer.from(`AWS4${credentials.secretAccessKey}`, 'utf8')),
  );
  const signature = createHmac('sha256', signingKey).update(stringToSign, 'utf8').digest('hex');
  return { ...headers, authorization: `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}` };
}

function hmac(key: Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

function sha256Hex(data: string): string {
  return createHash('sha256').update(data, 'utf8').digest('hex');
}

/** RFC 3986 unreserved characters stay, everything else is %XX (upper case), as SigV4 requires. */
function uriEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** An AWS error answer, shaped like an SDK service exception so errors.ts classifies it the same way. */
export class AwsJsonError extends Error {
  readonly $metadata: { httpStatusCode: number };
  constructor(code: string, message: string, status: number) {
    super(message || code);
    this.name = code;
    this.$metadata = { httpStatusCode: status };
  }
}

export interface JsonCallOptions {
  region: string;
  /** The source's `endpoint` (an emulator or a proxy); default the service's regional endpoint. */
  endpoint?: string;
  service: string;
  /** X-Amz-Target, e.g. CloudTrail_20131101.LookupEvents. */
  target: string;
  credentials: CredentialsProvider;
  timeoutMs: number;
  attempts: number;
  signal: AbortSignal;
}

/** Answers larger than this are refused: a LookupEvents page of 50 events is far smaller. */
export const MAX_RESPONSE_BYTES = 8 * 1024 * 1024;

export function serviceEndpoint(service: string, region: string): string {
  return `https://${service}.${region}.amazonaws.com${region.startsWith('cn-') ? '.cn' : ''}`;
}

/**
 * POSTs `body` and returns the parsed answer. Throttling, 5xx answers and dropped connections are
 * retried with backoff and full jitter (as the SDK's standard retry does); anything else is thrown
 * as an AwsJsonError or the network error. Credentials never reach an error message.
 */
export async function callAwsJson<T>(options: JsonCallOptions, body: unknown): Promise<T> {
  const url = new URL(options.endpoint ?? serviceEndpoint(options.service, options.region));
  const payload = JSON.stringify(body);
  return retry(
    async () => {
      const credentials = await options.credentials();
      const headers = signV4(
        { method: 'POST', url, headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': options.target }, body: payload },
        credentials,
        options.region,
        options.service,
        new Date(),
      );
      const answer = await post(url, headers, payload, options);
      if (answer.status === 200) return JSON.parse(answer.body) as T;
      throw errorOf(answer);
    },
    {
      attempts: options.attempts,
      retriable: (error) => {
        const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
        return classify(error) === 'throttled' || classify(error) === 'unreachable' || (status !== undefined && status >= 500);
      },
      signal: options.signal,
      baseMs: 500,
      maxMs: 20_000,
    },
  );
}

function errorOf(answer: { status: number; body: string; errorType: string | undefined }): AwsJsonError {
  let parsed: { __type?: unknown; message?: unknown; Message?: unknown } = {};
  try {
    parsed = JSON.parse(answer.body) as typeof parsed;
  } catch {
    // not JSON: the status says enough
  }
  // "com.amazonaws.cloudtrail#ThrottlingException" or "ThrottlingException:http://..."
  const raw = typeof parsed.__type === 'string' ? parsed.__type : (answer.errorType ?? `HTTP${answer.status}`);
  const code = raw.split('#').pop()!.split(':')[0]!;
  const message = typeof parsed.message === 'string' ? parsed.message : typeof parsed.Message === 'string' ? parsed.Message : '';
  return new AwsJsonError(code, message.slice(0, 500), answer.status);
}

function post(url: URL, headers: Record<string, string>, payload: string, options: JsonCallOptions): Promise<{ status: number; body: string; errorType: string | undefined }> {
  return new Promise((resolve, reject) => {
    const transport = url.protocol === 'http:' ? http : https;
    const request = transport.request(
      url,
      { method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(payload)) }, timeout: options.timeoutMs, signal: options.signal },
      (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_RESPONSE_BYTES) {
            request.destroy(new Error(`${options.target}: answer larger than ${MAX_RESPONSE_BYTES} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        response.on('error', reject);
        response.on('end', () => {
          const errorType = response.headers['x-amzn-errortype'];
          resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), errorType: Array.isArray(errorType) ? errorType[0] : errorType });
        });
      },
    );
    request.on('timeout', () => request.destroy(Object.assign(new Error(`${options.target}: no answer within ${options.timeoutMs} ms`), { name: 'TimeoutError' })));
    request.on('error', reject);
    request.end(payload);
  });
}

/** The provider's identity, fetched once and kept until five minutes before it expires. */
export function cachedCredentials(provider: CredentialsProvider): CredentialsProvider {
  let current: Promise<AwsCredentialsIdentity> | null = null;
  return async () => {
    if (current) {
      const identity = await current.catch(() => null);
      if (identity && (!identity.expiration || identity.expiration.getTime() - Date.now() > 5 * 60_000)) return identity;
    }
    current = provider();
    return current;
  };
}
