import type { Collector } from './types.ts';
import { acmCollector } from './aws/acm/collector.ts';
import { kmsCollector } from './aws/kms/collector.ts';
import { snapshotCollector } from './snapshot/collector.ts';
import { tlsCollector } from './tls/collector.ts';
import { pkcs11Collector } from './pkcs11/collector.ts';
import { vaultCollector } from './vault/collector.ts';
import { x509FilesCollector } from './x509/files.ts';

type Load = () => Promise<Collector>;

/**
 * Config `type` -> collector. Google Cloud's client loads its .proto files from node_modules at
 * run time, so it is imported only when a gcp-kms source is configured (the bundled Action works
 * without it otherwise). pkcs11js, a native addon, is loaded by its collector on first use.
 */
export const COLLECTORS: ReadonlyMap<string, Load> = new Map<string, Load>([
  ...[x509FilesCollector, tlsCollector, snapshotCollector, kmsCollector, acmCollector, vaultCollector, pkcs11Collector].map(
    (collector): [string, Load] => [collector.type, async () => collector],
  ),
  ['gcp-kms', async () => (await import('./gcp-kms/collector.ts')).gcpKmsCollector],
]);
