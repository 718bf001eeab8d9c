import assert from 'node:assert/strict';
import { test } from 'node:test';
import { stateChangeOf, tracksState, type StateEvent, type StateEventLog } from '../../src/collectors/aws/kms/cloudtrail.ts';
import { cloudTrailSettings } from '../../src/collectors/aws/kms/cloudtrail-settings.ts';
import { kmsItem } from '../../src/collectors/aws/kms/map.ts';

// When an AWS KMS key entered its state, from the state-changing CloudTrail events of its region:
// the first entering event after the last leaving one, inside the part of the log read completely.

const ARN = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';
const T = Date.parse('2026-10-01T00:00:00Z') / 1000;
const DAY = 86_400;

const event = (name: StateEvent['name'], daysAfter: number, keys: string[] = [ARN]): StateEvent => ({ name, time: T + daysAfter * DAY, eventId: `${name}-${daysAfter}`, keys });
const log = (events: StateEvent[], completeSince = T - 90 * DAY): StateEventLog => ({ events, completeSince });

test('a disabled key dates from its DisableKey; repeated DisableKey calls do not move it', () => {
  assert.deepEqual(stateChangeOf(log([event('DisableKey', 0), event('DisableKey', 5)]), ARN, KEY_ID, 'Disabled'), {
    since: '2026-10-01T00:00:00Z',
    event: { name: 'DisableKey', eventId: 'DisableKey-0' },
  });
});

test('re-enabled and disabled again: the state began with the last DisableKey after the last EnableKey', () => {
  const change = stateChangeOf(log([event('DisableKey', 0), event('EnableKey', 10), event('DisableKey', 20)]), ARN, KEY_ID, 'Disabled');
  assert.equal(change?.since, '2026-10-21T00:00:00Z');
});

test('CancelKeyDeletion leaves a key disabled: it dates the disabled state after a scheduled deletion', () => {
  const events = [event('DisableKey', 0), event('ScheduleKeyDeletion', 3), event('CancelKeyDeletion', 8)];
  assert.equal(stateChangeOf(log(events), ARN, KEY_ID, 'Disabled')?.event.name, 'CancelKeyDeletion');
  assert.equal(stateChangeOf(log(events.slice(0, 2)), ARN, KEY_ID, 'PendingDeletion')?.since, '2026-10-04T00:00:00Z');
});

test('a leaving event as the last word (the entering one not delivered yet) or no event at all is unknown', () => {
  assert.equal(stateChangeOf(log([event('DisableKey', 0), event('EnableKey', 10)]), ARN, KEY_ID, 'Disabled'), null);
  assert.equal(stateChangeOf(log([]), ARN, KEY_ID, 'Disabled'), null);
  assert.equal(stateChangeOf(log([event('ScheduleKeyDeletion', 1), event('CancelKeyDeletion', 2)]), ARN, KEY_ID, 'PendingDeletion'), null);
});

test('only the completely read part of the log counts: an older DisableKey may hide a later EnableKey', () => {
  const events = [event('DisableKey', 0)];
  assert.equal(stateChangeOf(log(events, T + DAY), ARN, KEY_ID, 'Disabled'), null);
  assert.equal(stateChangeOf(log(events, T), ARN, KEY_ID, 'Disabled')?.since, '2026-10-01T00:00:00Z');
});

test('events name the key by ARN or by the id the caller gave; other keys\' events do not count', () => {
  assert.equal(stateChangeOf(log([event('DisableKey', 2, [KEY_ID])]), ARN, KEY_ID, 'Disabled')?.since, '2026-10-03T00:00:00Z');
  assert.equal(stateChangeOf(log([event('DisableKey', 2, ['arn:aws:kms:us-east-1:111122223333:key/other'])]), ARN, KEY_ID, 'Disabled'), null);
});

test('only Disabled and PendingDeletion are dated', () => {
  assert.equal(tracksState('Disabled'), true);
  assert.equal(tracksState('PendingDeletion'), true);
  assert.equal(tracksState('Enabled'), false);
  assert.equal(tracksState('PendingImport'), false);
  assert.equal(tracksState(undefined), false);
  assert.equal(stateChangeOf(log([event('DisableKey', 0)]), ARN, KEY_ID, 'Enabled'), null);
});

test('cloudTrail: true takes CloudTrail\'s 90 days and 10 pages; bounds are capped, false or absent is off', () => {
  assert.equal(cloudTrailSettings(undefined), null);
  assert.equal(cloudTrailSettings(false), null);
  assert.deepEqual(cloudTrailSettings(true), { lookbackDays: 90, maxPages: 10 });
  assert.deepEqual(cloudTrailSettings({ lookbackDays: 30 }), { lookbackDays: 30, maxPages: 10 });
  assert.deepEqual(cloudTrailSettings({ lookbackDays: 400, maxPages: 1000 }), { lookbackDays: 90, maxPages: 100 });
});

test('the item carries the date and the event that began the state', () => {
  const item = kmsItem({
    metadata: { KeyId: KEY_ID, Arn: ARN, AWSAccountId: '111122223333', KeyManager: 'CUSTOMER', KeyState: 'Disabled', KeySpec: 'SYMMETRIC_DEFAULT', KeyUsage: 'ENCRYPT_DECRYPT', Origin: 'AWS_KMS' },
    region: 'us-east-1',
    sourceId: 'kms',
    aliases: [],
    rotationStatus: null,
    rotations: null,
    tags: {},
    access: null,
    stateChange: { since: '2026-10-01T00:00:00Z', event: { name: 'DisableKey', eventId: 'e-1' } },
  });
  assert.equal(item.stateSince, '2026-10-01T00:00:00Z');
  assert.equal(item.evidence['stateSinceSource'], 'cloudtrail');
  assert.deepEqual(item.evidence['stateSinceEvent'], { name: 'DisableKey', eventId: 'e-1' });
  const unknown = kmsItem({ metadata: { KeyId: KEY_ID, Arn: ARN, KeyManager: 'CUSTOMER', KeyState: 'Disabled' }, region: 'us-east-1', sourceId: 'kms', aliases: [], rotationStatus: null, rotations: null, tags: {}, access: null });
  assert.equal(unknown.stateSince, null);
  assert.equal(unknown.evidence['stateSinceSource'], undefined);
});
