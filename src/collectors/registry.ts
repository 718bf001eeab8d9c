import type { Collector } from './types.ts';
import { acmCollector } from './aws/acm/collector.ts';
import { kmsCollector } from './aws/kms/collector.ts';
import { gcpKmsCollector } from './gcp-kms/collector.ts';
import { vaultCollector } from './vault/collector.ts';
import { pkcs11Collector } from './pkcs11/collector.ts';
import { snapshotCollector } from './snapshot/collector.ts';
import { tlsCollector } from './tls/collector.ts';
import { x509FilesCollector } from './x509/files.ts';

/** Config `type` -> collector. Types the schema knows but this build cannot collect are absent. */
export const COLLECTORS: ReadonlyMap<string, Collector> = new Map(
  [x509FilesCollector, tlsCollector, snapshotCollector, kmsCollector, acmCollector, gcpKmsCollector, vaultCollector, pkcs11Collector].map((collector) => [collector.type, collector]),
);
