import { setTimeout as sleep } from 'node:timers/promises';
import { rfc3339FromSeconds } from '../../../util/rfc3339.ts';
import type { CollectContext } from '../../types.ts';
import { credentialsFor, DEFAULT_TIMEOUT_MS, maxAttempts, type AwsSource } from '../client.ts';
import { describeFailure } from '../errors.ts';
import { cachedCredentials, callAwsJson } from './cloudtrail-client.ts';
import { cloudTrailSettings, type CloudTrailOption, type CloudTrailSettings } from './cloudtrail-settings.ts';

// When a key entered its state, from the CloudTrail event history (opt-in: the source's
// `cloudTrail`). LookupEvents keeps 90 days of management events per region, answers 50 events a
// page, takes one lookup attribute per request and allows two requests a second per account and
// region (CloudTrail API reference). keydrift asks only in a region that has a disabled or
// pending-deletion key, once per state-changing event name, newest first, a bounded number of pages.

export interface AwsKmsSource extends AwsSource {
  cloudTrail?: CloudTrailOption;
}

const PAGE_SIZE = 50;
/** Two LookupEvents a second per account and region: one call every 550 ms stays under it. */
export const CALL_SPACING_MS = 550;
export const LOOKUP_OPERATION = 'cloudtrail:LookupEvents';

/** The events that move a key into or out of Disabled and PendingDeletion. */
export const STATE_EVENTS = ['DisableKey', 'EnableKey', 'ScheduleKeyDeletion', 'CancelKeyDeletion'] as const;
export type StateEventName = (typeof STATE_EVENTS)[number];

const TRANSITIONS: Record<string, { enter: readonly StateEventName[]; leave: readonly StateEventName[] }> = {
  // CancelKeyDeletion leaves a key disabled.
  Disabled: { enter: ['DisableKey', 'CancelKeyDeletion'], leave: ['EnableKey', 'ScheduleKeyDeletion'] },
  PendingDeletion: { enter: ['ScheduleKeyDeletion'], leave: ['CancelKeyDeletion'] },
};

export function tracksState(keyState: string | undefined): boolean {
  return keyState !== undefined && keyState in TRANSITIONS;
}

export interface StateEvent {
  name: StateEventName;
  /** Epoch seconds. */
  time: number;
  eventId: string;
  /** Key ARNs and ids the event names (Resources, requestParameters.keyId). */
  keys: string[];
}

export interface StateEventLog {
  events: StateEvent[];
  /** Epoch seconds from which the events of every name were all read (the window's start, or later where pages ran out). */
  completeSince: number;
}

export interface LookupEventsRequest {
  LookupAttributes: { AttributeKey: 'EventName'; AttributeValue: string }[];
  StartTime: number;
  EndTime: number;
  MaxResults: number;
  NextToken?: string;
}

export interface LookupEventsResponse {
  Events?: {
    EventId?: string;
    EventName?: string;
    EventTime?: number;
    Resources?: { ResourceType?: string; ResourceName?: string }[];
    CloudTrailEvent?: string;
  }[];
  NextToken?: string;
}

export type LookupPage = (request: LookupEventsRequest) => Promise<LookupEventsResponse>;

/**
 * Every successful state-changing KMS event of the window, per event name newest first, at most
 * `maxPages` pages each. Where pages run out, that name is complete only back to its oldest event
 * read, and so is the log (completeSince).
 */
export async function lookupStateEvents(lookup: LookupPage, settings: CloudTrailSettings, now: Date, pause: () => Promise<void> = async () => {}): Promise<StateEventLog> {
  const end = Math.floor(now.getTime() / 1000);
  const start = end - settings.lookbackDays * 86_400;
  const events: StateEvent[] = [];
  let completeSince = start;
  let first = true;
  for (const name of STATE_EVENTS) {
    let token: string | undefined;
    let pages = 0;
    let oldest = end;
    do {
      if (!first) await pause();
      first = false;
      const page = await lookup({ LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: name }], StartTime: start, EndTime: end, MaxResults: PAGE_SIZE, ...(token ? { NextToken: token } : {}) });
      pages += 1;
      for (const raw of page.Events ?? []) {
        if (typeof raw.EventTime === 'number') oldest = Math.min(oldest, raw.EventTime);
        const event = stateEvent(name, raw);
        if (event) events.push(event);
      }
      token = page.NextToken || undefined;
    } while (token && pages < settings.maxPages);
    if (token) completeSince = Math.max(completeSince, oldest);
  }
  return { events, completeSince };
}

function stateEvent(name: StateEventName, raw: NonNullable<LookupEventsResponse['Events']>[number]): StateEvent | null {
  if (raw.EventName !== name || typeof raw.EventTime !== 'number') return null;
  const keys = (raw.Resources ?? []).filter((resource) => resource.ResourceType === 'AWS::KMS::Key' && resource.ResourceName).map((resource) => resource.ResourceName!);
  if (raw.CloudTrailEvent) {
    let detail: { errorCode?: unknown; requestParameters?: { keyId?: unknown } | null } = {};
    try {
      detail = JSON.parse(raw.CloudTrailEvent) as typeof detail;
    } catch {
      // an unreadable record says nothing about success: skip it
      return null;
    }
    // A denied or failed call is logged too, and changed nothing.
    if (detail.errorCode !== undefined && detail.errorCode !== null) return null;
    if (typeof detail.requestParameters?.keyId === 'string') keys.push(detail.requestParameters.keyId);
  }
  return keys.length > 0 ? { name, time: raw.EventTime, eventId: raw.EventId ?? '', keys } : null;
}

export interface StateChange {
  /** RFC 3339 time of the event that put the key in its current state. */
  since: string;
  event: { name: StateEventName; eventId: string };
}

/**
 * When the key entered `keyState`: the first entering event after the last leaving one, counting
 * only events inside the complete part of the log. Nothing found, or a leaving event as the last
 * word (an event not yet delivered), is unknown (null), never a guess.
 */
export function stateChangeOf(log: StateEventLog, keyArn: string, keyId: string | undefined, keyState: string | undefined): StateChange | null {
  const transition = keyState ? TRANSITIONS[keyState] : undefined;
  if (!transition) return null;
  const mine = log.events
    .filter((event) => event.time >= log.completeSince && event.keys.some((key) => key === keyArn || key === keyId || key.endsWith(`:key/${keyId}`)))
    .sort((a, b) => a.time - b.time);
  const lastLeave = mine.filter((event) => transition.leave.includes(event.name)).at(-1);
  const entered = mine.find((event) => transition.enter.includes(event.name) && (!lastLeave || event.time > lastLeave.time));
  if (!entered) return null;
  return { since: rfc3339FromSeconds(entered.time), event: { name: entered.name, eventId: entered.eventId } };
}

/**
 * The region's state-change log, looked up on first need and shared by its keys; null when the
 * source does not ask for it. A failed lookup is reported once (the source is partial) and reads
 * as null: every key's stateSince stays unknown.
 */
export function regionStateEvents(source: AwsKmsSource, region: string, ctx: CollectContext): (() => Promise<StateEventLog | null>) | null {
  const settings = cloudTrailSettings(source.cloudTrail);
  if (!settings) return null;
  let pending: Promise<StateEventLog | null> | null = null;
  const credentials = cachedCredentials(credentialsFor(source, region));
  const lookup: LookupPage = (request) => {
    ctx.apiCalls[LOOKUP_OPERATION] = (ctx.apiCalls[LOOKUP_OPERATION] ?? 0) + 1;
    return callAwsJson<LookupEventsResponse>(
      {
        region,
        ...(source.endpoint ? { endpoint: source.endpoint } : {}),
        service: 'cloudtrail',
        target: 'CloudTrail_20131101.LookupEvents',
        credentials,
        timeoutMs: source.timeoutMs ?? DEFAULT_TIMEOUT_MS,
        attempts: maxAttempts(),
        signal: ctx.signal,
      },
      request,
    );
  };
  return () => {
    pending ??= lookupStateEvents(lookup, settings, ctx.now, () => sleep(CALL_SPACING_MS, undefined, { signal: ctx.signal })).catch((error: unknown) => {
      ctx.error(describeFailure(LOOKUP_OPERATION, region, error));
      return null;
    });
    return pending;
  };
}
