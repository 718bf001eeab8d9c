import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type net from 'node:net';

// An HTTP reverse proxy on a free loopback port in front of an emulator (moto, local-kms) that
// injects the failures a real AWS account produces: an IAM deny on one key, throttling, a 5xx, a
// dropped connection. It understands the AWS JSON protocol (KMS, ACM: the operation is in the
// X-Amz-Target header, its parameters in the JSON body; Organizations too). Query-protocol
// requests (STS, EC2) are matched by their Action and form parameters; a fault there is answered
// in STS's XML error shape (e.g. AccessDenied to AssumeRole of one role ARN).
//
// The faults are what the real services send (AWS JSON 1.1 error shape: HTTP status, header
// `x-amzn-ErrorType`, body `{"__type": code, "message": ...}`, content type
// `application/x-amz-json-1.1`), with codes the AWS SDK for JavaScript v3 classifies as the real
// ones are (@smithy/core retry/service-error-classification):
//   access-denied  400 AccessDeniedException: not retried, surfaces at once;
//   throttle       400 ThrottlingException: in THROTTLING_ERROR_CODES, retried with throttling backoff;
//   server-error   500 KMSInternalException (KMS) / InternalFailure (others): 500 is in
//                  TRANSIENT_ERROR_STATUS_CODES, retried;
//   reset          the client socket is destroyed without a response: the SDK sees ECONNRESET
//                  ("socket hang up"), in NODEJS_TIMEOUT_ERROR_CODES, retried.
//
// Two options make moto answer more like AWS: `latencyMs` holds every request back that long (a
// real API round trip), and `rotationPeriods` keeps the RotationPeriodInDays each EnableKeyRotation
// sent and returns it from GetKeyRotationStatus, as AWS does (moto 5.2.5 drops it).

export type Fault = 'access-denied' | 'throttle' | 'server-error' | 'reset';

export interface FaultRule {
  /** The operation: 'DescribeKey', 'DescribeCertificate' (or the full target, 'TrentService.DescribeKey'); a query-protocol Action: 'AssumeRole'. */
  operation: string;
  /** Narrows the rule to requests whose JSON body (or form parameters) match, e.g. `(body) => body['KeyId'] === keyId`. */
  match?: (body: Record<string, unknown>) => boolean;
  fault: Fault;
  /** How many matching requests get the fault; default Infinity. */
  times?: number;
}

export interface ProxyCall {
  /** 'DescribeKey'; for a query-protocol request its Action ('AssumeRole'), or the method and path. */
  operation: string;
  /** The request's KeyId or CertificateArn, if it has one. */
  key?: string;
  /** The fault injected, if any. */
  fault?: Fault;
  /** The request's parameters: its JSON body, or a query-protocol request's form fields. */
  params?: Record<string, unknown>;
}

export interface FaultProxyOptions {
  /** The caller named in access-denied messages. Default arn:aws:iam::111122223333:user/scanner. */
  principalArn?: string;
  /** Delay before each request is answered, in milliseconds. */
  latencyMs?: number;
  /** Keep and echo the KMS rotation period the way AWS does. */
  rotationPeriods?: boolean;
}

export interface FaultProxy {
  /** `http://127.0.0.1:PORT`: give it to the SDK client as its endpoint. */
  endpoint: string;
  /** Every request seen, in order of arrival. */
  calls: ProxyCall[];
  /** Replaces the rules (and their `times` counters). */
  setRules(rules: FaultRule[]): void;
  stop(): Promise<void>;
}

interface ServiceFaults {
  /** The IAM action prefix and ARN service: kms, acm. */
  iamService: string;
  throttleMessage: string;
  serverErrorCode: string;
  serverErrorMessage: string;
}

// Keyed by the X-Amz-Target prefix.
const SERVICES: Record<string, ServiceFaults> = {
  TrentService: {
    iamService: 'kms',
    throttleMessage: 'You have exceeded the rate at which you may call KMS. Reduce the frequency of your calls.',
    serverErrorCode: 'KMSInternalException',
    serverErrorMessage: 'The request was rejected because an internal exception occurred. The request can be retried.',
  },
  CertificateManager: {
    iamService: 'acm',
    throttleMessage: 'Rate exceeded',
    serverErrorCode: 'InternalFailure',
    serverErrorMessage: 'The request processing has failed because of an unknown error, exception or failure.',
  },
  AWSOrganizationsV20161128: {
    iamService: 'organizations',
    throttleMessage: 'AWS Organizations can\'t complete your request because another request is already in progress. Try again later.',
    serverErrorCode: 'ServiceException',
    serverErrorMessage: 'AWS Organizations can\'t complete your request because of an internal service error. Try again later.',
  },
};

const DEFAULT_SERVICE: ServiceFaults = {
  iamService: '',
  throttleMessage: 'Rate exceeded',
  serverErrorCode: 'InternalFailure',
  serverErrorMessage: 'The request processing has failed because of an unknown error, exception or failure.',
};

interface ActiveRule {
  rule: FaultRule;
  remaining: number;
}

export async function startFaultProxy(target: string, rules: FaultRule[], options: FaultProxyOptions = {}): Promise<FaultProxy> {
  const upstream = new URL(target);
  const principalArn = options.principalArn ?? 'arn:aws:iam::111122223333:user/scanner';
  const accountId = /^arn:[^:]+:(?:iam|sts)::(\d{12}):/.exec(principalArn)?.[1] ?? '111122223333';
  const calls: ProxyCall[] = [];
  const periods = new Map<string, number>();
  const keyOf = (value: unknown) => String(value).split('/').pop()!;
  let active: ActiveRule[] = [];
  const setRules = (next: FaultRule[]): void => {
    active = next.map((rule) => ({ rule, remaining: rule.times ?? Infinity }));
  };
  setRules(rules);

  const sockets = new Set<net.Socket>();
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('error', () => request.socket.destroy());
    request.on('end', () => {
      if (options.latencyMs) setTimeout(handle, options.latencyMs);
      else handle();
    });
    const handle = () => {
      const body = Buffer.concat(chunks);
      const amzTarget = headerValue(request.headers['x-amz-target']);
      if (!amzTarget) {
        const operation = queryAction(request, body);
        const params = queryParams(request, body);
        const hit = active.find(({ rule, remaining }) => remaining > 0 && rule.operation === operation && (rule.match?.(params) ?? true));
        const call: ProxyCall = { operation, params };
        calls.push(call);
        if (!hit) {
          forward(request, body, response);
          return;
        }
        hit.remaining -= 1;
        call.fault = hit.rule.fault;
        sendQueryFault(request, response, hit.rule.fault, operation, params, principalArn);
        return;
      }
      const dot = amzTarget.lastIndexOf('.');
      const prefix = dot >= 0 ? amzTarget.slice(0, dot) : '';
      const operation = dot >= 0 ? amzTarget.slice(dot + 1) : amzTarget;
      const params = parseJsonObject(body);
      const key = typeof params['KeyId'] === 'string' ? params['KeyId'] : typeof params['CertificateArn'] === 'string' ? params['CertificateArn'] : undefined;
      const hit = active.find(
        ({ rule, remaining }) => remaining > 0 && (rule.operation === operation || rule.operation === amzTarget) && (rule.match?.(params) ?? true),
      );
      const call: ProxyCall = key === undefined ? { operation, params } : { operation, key, params };
      calls.push(call);
      if (!hit) {
        if (options.rotationPeriods && operation === 'EnableKeyRotation') periods.set(keyOf(key), typeof params['RotationPeriodInDays'] === 'number' ? params['RotationPeriodInDays'] : 365);
        if (options.rotationPeriods && operation === 'DisableKeyRotation') periods.delete(keyOf(key));
        if (options.rotationPeriods && operation === 'GetKeyRotationStatus') {
          forward(request, body, response, (status) => {
            const period = periods.get(keyOf(key));
            if (status['KeyRotationEnabled'] === true && period !== undefined) status['RotationPeriodInDays'] = period;
          });
          return;
        }
        forward(request, body, response);
        return;
      }
      hit.remaining -= 1;
      call.fault = hit.rule.fault;
      const service = SERVICES[prefix] ?? DEFAULT_SERVICE;
      switch (hit.rule.fault) {
        case 'reset':
          request.socket.destroy();
          return;
        case 'access-denied': {
          const action = service.iamService ? `${service.iamService}:${operation}` : operation;
          void resourceArn(service, key, request).then((resource) =>
            sendError(response, 400, 'AccessDeniedException', `User: ${principalArn} is not authorized to perform: ${action} on resource: ${resource} because no identity-based policy allows the ${action} action`),
          );
          return;
        }
        case 'throttle':
          sendError(response, 400, 'ThrottlingException', service.throttleMessage);
          return;
        case 'server-error':
          sendError(response, 500, service.serverErrorCode, service.serverErrorMessage);
          return;
      }
    };
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  /**
   * The resource an IAM deny names: the key's or certificate's ARN, `*` for a list. A KMS key id or
   * alias is resolved to the key's ARN in the emulator (a DescribeKey sent upstream with the
   * request's own headers, so the same account and region), as KMS names the key, not the alias.
   */
  async function resourceArn(service: ServiceFaults, key: string | undefined, request: http.IncomingMessage): Promise<string> {
    if (key === undefined) return '*';
    if (service.iamService !== 'kms' || (key.startsWith('arn:') && !key.includes(':alias/'))) return key;
    const headers = { ...request.headers, 'x-amz-target': 'TrentService.DescribeKey' };
    delete headers['content-length'];
    delete headers['transfer-encoding'];
    try {
      const answer = await new Promise<string>((resolve, reject) => {
        const lookup = http.request({ protocol: upstream.protocol, hostname: upstream.hostname, port: upstream.port, method: 'POST', path: '/', headers, agent: false }, (reply) => {
          const chunks: Buffer[] = [];
          reply.on('data', (chunk: Buffer) => chunks.push(chunk));
          reply.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
          reply.on('error', reject);
        });
        lookup.on('error', reject);
        lookup.end(JSON.stringify({ KeyId: key }));
      });
      const arn = (parseJsonObject(Buffer.from(answer))['KeyMetadata'] as { Arn?: unknown } | undefined)?.Arn;
      if (typeof arn === 'string') return arn;
    } catch {
      // the emulator does not know it: name what the caller asked for
    }
    const region = regionOf(request);
    return key.startsWith('arn:') ? key : key.startsWith('alias/') ? `arn:aws:kms:${region}:${accountId}:${key}` : `arn:aws:kms:${region}:${accountId}:key/${key}`;
  }

  /** Passes the request on; `patch` may edit a successful JSON answer before it is returned. */
  function forward(request: http.IncomingMessage, body: Buffer, response: http.ServerResponse, patch?: (answer: Record<string, unknown>) => void): void {
    const headers = { ...request.headers, 'content-length': String(body.length) };
    delete headers['transfer-encoding'];
    delete headers['connection'];
    const upstreamRequest = http.request(
      { protocol: upstream.protocol, hostname: upstream.hostname, port: upstream.port, method: request.method, path: request.url, headers, agent: false },
      (upstreamResponse) => {
        const responseHeaders = { ...upstreamResponse.headers };
        delete responseHeaders['connection'];
        delete responseHeaders['keep-alive'];
        upstreamResponse.on('error', () => response.destroy());
        if (!patch || upstreamResponse.statusCode !== 200) {
          response.writeHead(upstreamResponse.statusCode ?? 502, responseHeaders);
          upstreamResponse.pipe(response);
          return;
        }
        const replyChunks: Buffer[] = [];
        upstreamResponse.on('data', (chunk: Buffer) => replyChunks.push(chunk));
        upstreamResponse.on('end', () => {
          const answer = parseJsonObject(Buffer.concat(replyChunks));
          patch(answer);
          const out = Buffer.from(JSON.stringify(answer));
          delete responseHeaders['transfer-encoding'];
          response.writeHead(200, { ...responseHeaders, 'content-length': String(out.length) });
          response.end(out);
        });
      },
    );
    upstreamRequest.on('error', (error) => {
      // The emulator is down or dropped us: pass that on as a dropped connection, not a made-up answer.
      if (!response.headersSent) response.socket?.destroy(error);
      else response.destroy(error);
    });
    upstreamRequest.end(body);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    calls,
    setRules,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}

function sendError(response: http.ServerResponse, status: number, code: string, message: string): void {
  const body = JSON.stringify({ __type: code, message });
  response.writeHead(status, {
    'x-amzn-RequestId': randomUUID(),
    'x-amzn-ErrorType': code,
    'Content-Type': 'application/x-amz-json-1.1',
    'Content-Length': String(Buffer.byteLength(body)),
  });
  response.end(body);
}

/** The region the client signed for (SigV4 credential scope: AKID/DATE/REGION/SERVICE/aws4_request). */
function regionOf(request: http.IncomingMessage): string {
  return /Credential=[^/,\s]+\/\d{8}\/([^/,\s]+)\//.exec(headerValue(request.headers['authorization']) ?? '')?.[1] ?? 'us-east-1';
}

/**
 * A fault in the AWS query protocol's shape, as STS sends it (the only query-protocol service the
 * tests fault): an XML ErrorResponse with Type, Code and Message; AccessDenied is HTTP 403 and
 * names the caller, the action and the resource (AssumeRole: the role ARN).
 */
function sendQueryFault(request: http.IncomingMessage, response: http.ServerResponse, fault: Fault, operation: string, params: Record<string, string>, principalArn: string): void {
  if (fault === 'reset') {
    request.socket.destroy();
    return;
  }
  const [status, type, code, message] =
    fault === 'access-denied'
      ? [403, 'Sender', 'AccessDenied', `User: ${principalArn} is not authorized to perform: sts:${operation} on resource: ${params['RoleArn'] ?? '*'}`]
      : fault === 'throttle'
        ? [400, 'Sender', 'Throttling', 'Rate exceeded']
        : [500, 'Receiver', 'InternalFailure', 'The request processing has failed because of an unknown error, exception or failure.'];
  const requestId = randomUUID();
  const escape = (text: string) => text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
  const body = `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">\n  <Error>\n    <Type>${type}</Type>\n    <Code>${code}</Code>\n    <Message>${escape(message)}</Message>\n  </Error>\n  <RequestId>${requestId}</RequestId>\n</ErrorResponse>\n`;
  response.writeHead(status, { 'x-amzn-RequestId': requestId, 'Content-Type': 'text/xml', 'Content-Length': String(Buffer.byteLength(body)) });
  response.end(body);
}

/** A query-protocol request's parameters (the form body, else the URL's query). */
function queryParams(request: http.IncomingMessage, body: Buffer): Record<string, string> {
  const url = new URL(request.url ?? '/', 'http://proxy.invalid');
  const form = /^application\/x-www-form-urlencoded/i.test(headerValue(request.headers['content-type']) ?? '') ? new URLSearchParams(body.toString('utf8')) : url.searchParams;
  return Object.fromEntries(form.entries());
}

function queryAction(request: http.IncomingMessage, body: Buffer): string {
  const url = new URL(request.url ?? '/', 'http://proxy.invalid');
  const fromBody = /^application\/x-www-form-urlencoded/i.test(headerValue(request.headers['content-type']) ?? '')
    ? new URLSearchParams(body.toString('utf8')).get('Action')
    : null;
  return fromBody ?? url.searchParams.get('Action') ?? `${request.method ?? 'GET'} ${url.pathname}`;
}

function parseJsonObject(body: Buffer): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(body.toString('utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
