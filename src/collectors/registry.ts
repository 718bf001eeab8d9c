import type { Collector, CollectorDeclaration } from './types.ts';
import { kmsDeclaration } from './aws/kms/declaration.ts';
import { acmDeclaration } from './aws/acm/declaration.ts';
import { gcpKmsDeclaration } from './gcp-kms/declaration.ts';
import { vaultDeclaration } from './vault/declaration.ts';
import { pkcs11Declaration } from './pkcs11/declaration.ts';
import { x509FilesDeclaration } from './x509/declaration.ts';
import { tlsDeclaration } from './tls/declaration.ts';
import { snapshotDeclaration } from './snapshot/declaration.ts';

/**
 * Every collector, in the order the config schema, the source-type list and the provider list are
 * generated in (scripts/gen-collector-artifacts.ts). Adding a collector is its folder and one line
 * here. Each implementation is imported only when a source of its type is configured: Google
 * Cloud's client loads its .proto files from node_modules at run time (the bundled Action works
 * without it otherwise), and pkcs11js, a native addon, is loaded by its collector on first use.
 */
export const DECLARATIONS: readonly CollectorDeclaration[] = [
  kmsDeclaration,
  acmDeclaration,
  gcpKmsDeclaration,
  vaultDeclaration,
  pkcs11Declaration,
  x509FilesDeclaration,
  tlsDeclaration,
  snapshotDeclaration,
];

type Load = () => Promise<Collector>;

/** Config `type` -> collector. */
export const COLLECTORS: ReadonlyMap<string, Load> = new Map<string, Load>(DECLARATIONS.map((declaration): [string, Load] => [declaration.type, () => declaration.load()]));

/** The declaration of a source type; throws for a type no collector declares. */
export function declarationOf(type: string): CollectorDeclaration {
  const declaration = DECLARATIONS.find((candidate) => candidate.type === type);
  if (!declaration) throw new Error(`no collector declares source type ${type}`);
  return declaration;
}
