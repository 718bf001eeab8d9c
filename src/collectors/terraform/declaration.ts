import { fileSourceSchema } from '../file-source-schema.ts';
import type { CollectorDeclaration } from '../types.ts';

/**
 * Infrastructure code written for Terraform or OpenTofu: configuration files and `terraform show
 * -json` plan and state files matched by glob patterns, judged before (configuration, plan) or as
 * (state) they are applied.
 */
export const terraformDeclaration: CollectorDeclaration = {
  type: 'terraform',
  // Each resource yields an item of the provider it will live in.
  providers: ['aws-kms', 'aws-acm', 'gcp-kms', 'vault-transit', 'vault-pki', 'x509-file', 'azure-key-vault'],
  // It globs and reads files; it never runs terraform nor calls a backend.
  operations: ['fs:glob', 'fs:read'],
  configSchema: fileSourceSchema({ paths: 'Globs, relative to the config, of Terraform/OpenTofu configuration files (.tf, .tofu; each one\'s directory is read as a module) and `terraform show -json` plan and state files.', maxFileBytes: 'Files larger than this are reported and not read (default 268435456, 256 MiB).' }),
  load: async () => (await import('./collector.ts')).terraformCollector,
};
