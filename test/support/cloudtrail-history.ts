import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type net from 'node:net';

// CloudTrail's event history for tests. moto 5.2.5 has no LookupEvents (it answers HTTP 500, "not
// implemented") and records no events, so this loopback HTTP server sits in front of it (or of a
// fault proxy): every request is passed on untouched, the KMS calls that change a key's state
// (DisableKey, EnableKey, ScheduleKeyDeletion, CancelKeyDeletion) are recorded when they succeed,
// as CloudTrail records management events, and CloudTrail_20131101.LookupEvents is answered from
// those records the way the CloudTrail API reference describes it:
//   - one LookupAttributes entry (EventName here; another key → InvalidLookupAttributesException);
//   - events between StartTime and EndTime (epoch seconds), newest first;
//   - MaxResults 1..50 (default 50), an opaque NextToken while more remain;
//   - each event: EventId, EventName, EventTime (epoch seconds), EventSource kms.amazonaws.com,
//     Resources [{ResourceType: AWS::KMS::Key, ResourceName: the key ARN}] and CloudTrailEvent,
//     the record as a JSON string (requestParameters.keyId as the caller gave it, errorCode on a
//     failed call).
// Event times come from `clock()`, so a test can date a DisableKey 120 days back without waiting;
// `record()` adds an event directly (a failed call, an event for any key). Every LookupEvents
// request is kept in `lookups`.

export const STATE_CHANGING = new Set(['DisableKey', 'EnableKey', 'ScheduleKeyDeletion', 'CancelKeyDeletion']);

export interface HistoryEvent {
  name: string;
  /** Epoch milliseconds. */
  time: number;
  keyArn: string;
  /** requestParameters.keyId: what the caller passed (an id, ARN or alias). */
  keyId: string;
  errorCode?: string;
}

export interface LookupRequest {
  LookupAttributes?: { AttributeKey?: string; AttributeValue?: string }[];
  StartTime?: number;
  EndTime?: number;
  MaxResults?: number;
  NextToken?: string;
}

export interface CloudTrailHistory {
  endpoint: string;
  events: HistoryEvent[];
  lookups: LookupRequest[];
  /** The time recorded for the next KMS call (epoch ms); default the real clock. */
  clock: () => number;
  record(event: HistoryEvent): void;
  stop(): Promise<void>;
}

export async function startCloudTrailHistory(target: string): Promise<CloudTrailHistory> {
  const upstream = new URL(target);
  const events: HistoryEvent[] = [];
  const lookups: LookupRequest[] = [];
  const history: CloudTrailHistory = {
    endpoint: '',
    events,
    lookups,
    clock: () => Date.now(),
    record: (event) => events.push(event),
    stop: async () => {},
  };
  const sockets = new Set<net.Socket>();
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks);
      const amzTarget = String(request.headers['x-amz-target'] ?? '');
      const operation = amzTarget.slice(amzTarget.lastIndexOf('.') + 1);
      if (amzTarget.endsWith('CloudTrail_20131101.LookupEvents')) {
        answerLookup(JSON.parse(body.toString('utf8') || '{}') as LookupRequest, response);
        return;
      }
      const time = history.clock();
      void forward(request, body).then(async (answer) => {
        if (amzTarget.startsWith('TrentService.') && STATE_CHANGING.has(operation) && answer.status === 200) {
          const keyId = String((JSON.parse(body.toString('utf8') || '{}') as { KeyId?: unknown }).KeyId ?? '');
          events.push({ name: operation, time, keyArn: await keyArnOf(request, keyId), keyId });
        }
        response.writeHead(answer.status, answer.headers);
        response.end(answer.body);
      }, () => response.socket?.destroy());
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  function answerLookup(lookup: LookupRequest, response: http.ServerResponse): void {
    lookups.push(lookup);
    const attributes = lookup.LookupAttributes ?? [];
    if (attributes.length > 1 || attributes.some((attribute) => attribute.AttributeKey !== 'EventName')) {
      sendJson(response, 400, { __type: 'InvalidLookupAttributesException', message: 'Only one EventName lookup attribute is supported here.' });
      return;
    }
    const max = lookup.MaxResults ?? 50;
    if (max < 1 || max > 50) {
      sendJson(response, 400, { __type: 'InvalidMaxResultsException', message: 'MaxResults must be between 1 and 50.' });
      return;
    }
    const name = attributes[0]?.AttributeValue;
    const start = (lookup.StartTime ?? 0) * 1000;
    const end = (lookup.EndTime ?? Number.MAX_SAFE_INTEGER / 1000) * 1000;
    const matching = events
      .filter((event) => (name === undefined || event.name === name) && event.time >= start && event.time <= end)
      .sort((a, b) => b.time - a.time);
    const offset = lookup.NextToken ? Number(Buffer.from(lookup.NextToken, 'base64url').toString('utf8')) : 0;
    const page = matching.slice(offset, offset + max);
    const next = offset + max < matching.length ? Buffer.from(String(offset + max)).toString('base64url') : undefined;
    sendJson(response, 200, {
      Events: page.map((event) => {
        const eventId = randomUUID();
        return {
          EventId: eventId,
          EventName: event.name,
          ReadOnly: 'false',
          EventTime: event.time / 1000,
          EventSource: 'kms.amazonaws.com',
          Username: 'key-operator',
          Resources: event.errorCode ? [] : [{ ResourceType: 'AWS::KMS::Key', ResourceName: event.keyArn }],
          CloudTrailEvent: JSON.stringify({
            eventVersion: '1.11',
            eventTime: new Date(event.time).toISOString().replace('.000Z', 'Z'),
            eventSource: 'kms.amazonaws.com',
            eventName: event.name,
            awsRegion: /^arn:[^:]+:kms:([^:]+):/.exec(event.keyArn)?.[1] ?? 'us-east-1',
            requestParameters: { keyId: event.keyId },
            responseElements: null,
            ...(event.errorCode ? { errorCode: event.errorCode, errorMessage: 'denied' } : {}),
            eventID: eventId,
            readOnly: false,
            resources: event.errorCode ? [] : [{ accountId: event.keyArn.split(':')[4], type: 'AWS::KMS::Key', ARN: event.keyArn }],
            eventType: 'AwsApiCall',
            managementEvent: true,
            eventCategory: 'Management',
          }),
        };
      }),
      ...(next ? { NextToken: next } : {}),
    });
  }

  function forward(request: http.IncomingMessage, body: Buffer, headersOverride?: Record<string, string>): Promise<{ status: number; headers: http.OutgoingHttpHeaders; body: Buffer }> {
    const headers: http.OutgoingHttpHeaders = { ...request.headers, ...headersOverride, 'content-length': String(body.length) };
    delete headers['transfer-encoding'];
    delete headers['connection'];
    return new Promise((resolve, reject) => {
      const upstreamRequest = http.request(
        { protocol: upstream.protocol, hostname: upstream.hostname, port: upstream.port, method: request.method, path: request.url, headers, agent: false },
        (reply) => {
          const replyChunks: Buffer[] = [];
          reply.on('data', (chunk: Buffer) => replyChunks.push(chunk));
          reply.on('error', reject);
          reply.on('end', () => {
            const replyHeaders = { ...reply.headers };
            delete replyHeaders['transfer-encoding'];
            delete replyHeaders['connection'];
            const out = Buffer.concat(replyChunks);
            resolve({ status: reply.statusCode ?? 502, headers: { ...replyHeaders, 'content-length': String(out.length) }, body: out });
          });
        },
      );
      upstreamRequest.on('error', reject);
      upstreamRequest.end(body);
    });
  }

  /** CloudTrail names the key by ARN: ask the emulator (DescribeKey with the caller's own headers: same account and region). */
  async function keyArnOf(request: http.IncomingMessage, keyId: string): Promise<string> {
    if (keyId.startsWith('arn:') && !keyId.includes(':alias/')) return keyId;
    const answer = await forward(request, Buffer.from(JSON.stringify({ KeyId: keyId })), { 'x-amz-target': 'TrentService.DescribeKey' });
    const arn = (JSON.parse(answer.body.toString('utf8') || '{}') as { KeyMetadata?: { Arn?: unknown } }).KeyMetadata?.Arn;
    return typeof arn === 'string' ? arn : keyId;
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  history.endpoint = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  history.stop = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const socket of sockets) socket.destroy();
    });
  return history;
}

function sendJson(response: http.ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  response.writeHead(status, {
    'x-amzn-RequestId': randomUUID(),
    ...(status === 200 ? {} : { 'x-amzn-ErrorType': (value as { __type: string }).__type }),
    'Content-Type': 'application/x-amz-json-1.1',
    'Content-Length': String(Buffer.byteLength(body)),
  });
  response.end(body);
}
