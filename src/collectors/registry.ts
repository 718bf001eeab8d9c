import type { Collector, CollectorDeclaration } from './types.ts';

/**
 * Every collector, in the order the config schema, the source-type list and the provider list are
 * generated in (scripts/gen-collector-artifacts.ts). Adding a collector is its folder and one line
 * here, which imports the folder's declaration (small: no SDK) where it lists it. Each
 * implementation is imported only when a source of its type is configured: Google Cloud's client
 * loads its .proto files from node_modules at run time (the bundled Action works without it
 * otherwise), and pkcs11js, a native addon, is loaded by its collector on first use.
 */
export const DECLARATIONS: readonly CollectorDeclaration[] = [
  (await import('./aws/kms/declaration.ts')).kmsDeclaration,
  (await import('./aws/acm/declaration.ts')).acmDeclaration,
  (await import('./gcp-kms/declaration.ts')).gcpKmsDeclaration,
  (await import('./vault/declaration.ts')).vaultDeclaration,
  (await import('./pkcs11/declaration.ts')).pkcs11Declaration,
  (await import('./x509/declaration.ts')).x509FilesDeclaration,
  (await import('./tls/declaration.ts')).tlsDeclaration,
  (await import('./snapshot/declaration.ts')).snapshotDeclaration,
  (await import('./terraform/declaration.ts')).terraformDeclaration,
  (await import('./cloudformation/declaration.ts')).cloudformationDeclaration,
  (await import('./kubernetes/declaration.ts')).kubernetesDeclaration,
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
