import {
  CancelKeyDeletionCommand,
  DescribeKeyCommand,
  DisableKeyRotationCommand,
  EnableKeyRotationCommand,
  GetKeyRotationStatusCommand,
  KMSClient,
  paginateListKeyRotations,
  RotateKeyOnDemandCommand,
  ScheduleKeyDeletionCommand,
} from '@aws-sdk/client-kms';
import { clientSettings, countCalls, credentialsFor, type AwsSource } from '../../collectors/aws/client.ts';
import { STATES } from '../../collectors/aws/kms/map.ts';
import { rfc3339OrNull } from '../../util/rfc3339.ts';
import type { ExecuteContext, KeyStateView, PlannedAction, PlannedCall, ProviderSession, RemediationExecutor } from '../types.ts';


/** One KMS client per region of the source, shared by every action on it. */
export const awsKmsExecutor: RemediationExecutor = {
  open(ctx: ExecuteContext): ProviderSession {
    const source = ctx.source as AwsSource;
    const clients = new Map<string, KMSClient>();
    const client = (call: PlannedCall): KMSClient => {
      const region = String(call.params['region']);
      let existing = clients.get(region);
      if (!existing) {
        existing = countCalls(new KMSClient(clientSettings(source, region, credentialsFor(source, region))), 'kms', ctx);
        clients.set(region, existing);
      }
      return existing;
    };
    return {
      read: (action) => readKey(client(action.calls[0]!), action),
      write: (call) => write(client(call), call),
      close: () => {
        for (const each of clients.values()) each.destroy();
      },
    };
  },
};

/** One call: the rotation status for a rotation setting, the rotations list for a rotation, else DescribeKey. */
async function readKey(client: KMSClient, action: PlannedAction): Promise<KeyStateView> {
  const KeyId = String(action.calls[0]!.params['KeyId']);
  if (action.kind === 'rotate') {
    let count = 0;
    for await (const page of paginateListKeyRotations({ client, pageSize: 1000 }, { KeyId })) {
      count += page.Rotations?.length ?? 0;
      if (!page.Truncated) break;
    }
    return { primaryVersion: String(count) };
  }
  if ('rotationAutomatic' in action.after) {
    const rotation = await client.send(new GetKeyRotationStatusCommand({ KeyId }));
    const automatic = rotation.KeyRotationEnabled ?? null;
    return { rotationAutomatic: automatic, rotationPeriodDays: automatic ? (rotation.RotationPeriodInDays ?? null) : null };
  }
  const metadata = (await client.send(new DescribeKeyCommand({ KeyId }))).KeyMetadata;
  return { state: STATES[metadata?.KeyState ?? ''] ?? 'unavailable', deletionScheduledFor: rfc3339OrNull(metadata?.DeletionDate) };
}

async function write(client: KMSClient, call: PlannedCall): Promise<void> {
  const KeyId = String(call.params['KeyId']);
  switch (call.operation) {
    case 'kms:EnableKeyRotation':
      await client.send(new EnableKeyRotationCommand({ KeyId, RotationPeriodInDays: Number(call.params['RotationPeriodInDays']) }));
      return;
    case 'kms:DisableKeyRotation':
      await client.send(new DisableKeyRotationCommand({ KeyId }));
      return;
    case 'kms:RotateKeyOnDemand':
      await client.send(new RotateKeyOnDemandCommand({ KeyId }));
      return;
    case 'kms:CancelKeyDeletion':
      await client.send(new CancelKeyDeletionCommand({ KeyId }));
      return;
    case 'kms:ScheduleKeyDeletion':
      await client.send(new ScheduleKeyDeletionCommand({ KeyId, PendingWindowInDays: Number(call.params['PendingWindowInDays']) }));
      return;
    default:
      throw new Error(`unknown operation ${call.operation}`);
  }
}
