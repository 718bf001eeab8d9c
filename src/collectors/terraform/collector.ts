import path from 'node:path';
import type { InventoryItem, DeclaredPosition } from '../../inventory/types.ts';
import type { SourceConfig } from '../../model/source.ts';
import { displayPath, posix } from '../../util/paths.ts';
import { FileReadError, MIB, readRegularFile } from '../../util/read-regular-file.ts';
import type { CollectContext, Collector } from '../types.ts';
import { matchFiles } from '../x509/files.ts';
import { terraformDeclaration } from './declaration.ts';
import { JsonSyntaxError, parsePositionedJson, type PositionedJson } from './json-positions.ts';
import { loadTerraformConfiguration, type HclResource } from './hcl/configuration.ts';
import { withProviderDefaults } from './provider-defaults.ts';
import { linkAliases, linkCertificateKeys, MAPPERS } from './resources.ts';
import { resourceInstances, ShowJsonError, type ResourceInstance } from './show-json.ts';

export interface TerraformSource extends SourceConfig {
  type: 'terraform';
  paths: string[];
  maxFileBytes?: number;
}

/** Plans of large estates run to tens of MiB; this leaves room and still bounds the read. */
export const DEFAULT_MAX_TERRAFORM_FILE_BYTES = 256 * MIB;

const READ_FAILURE_CODES = { unreadable: 'file-unreadable', 'not-regular': 'file-not-regular', 'too-large': 'file-too-large' } as const;

const FIRST: DeclaredPosition = { line: 1, column: 1 };

export const terraformCollector: Collector = {
  type: terraformDeclaration.type,
  provides: terraformDeclaration.providers,
  operations: terraformDeclaration.operations,
  async *collect(source, ctx) {
    const config = source as TerraformSource;
    // A plan and the state it was made from list the same keys (same native id): the first file (in path order) wins.
    const seen = new Set<string>();
    const files = await matchFiles(config.paths, ctx);
    const configuration = files.filter((file) => CONFIGURATION.test(file));
    const documents = files.filter((file) => !CONFIGURATION.test(file));
    for (const file of documents) {
      if (ctx.signal.aborted) return;
      for (const item of await declaredItems(file, config, ctx)) {
        const nativeId = item.evidence['nativeId'];
        const identity = typeof nativeId === 'string' ? `${item.provider}|${nativeId}` : item.uid;
        if (seen.has(identity)) {
          ctx.logger.debug(`${item.declaredIn?.file}: ${item.address} is also declared in an earlier file; kept once`);
          continue;
        }
        seen.add(identity);
        yield item;
      }
    }
    if (configuration.length > 0 && !ctx.signal.aborted) yield* await configuredItems(configuration, config, ctx);
  },
};

/** Configuration files: read as modules, directory by directory (.tf.json is refused by name in declaredItems). */
const CONFIGURATION = /\.(tf|tofu)$/;

/** Resources of the root modules the matched .tf/.tofu files belong to, each at the line that declares it. */
async function configuredItems(files: string[], source: TerraformSource, ctx: CollectContext): Promise<InventoryItem[]> {
  const read = async (file: string) => {
    try {
      return (await readRegularFile(file, source.maxFileBytes ?? DEFAULT_MAX_TERRAFORM_FILE_BYTES)).toString('utf8');
    } catch (error) {
      if (!(error instanceof FileReadError)) throw error;
      throw new Error(`${READ_FAILURE_CODES[error.reason]}: ${error.message}`);
    }
  };
  const { resources, problems } = await loadTerraformConfiguration(files, read);
  for (const problem of problems) {
    const shown = displayPath(problem.file);
    const [code, message] = problem.code === 'file-unreadable' && /^file-[a-z-]+: /.test(problem.message) ? splitCode(problem.message) : [problem.code, problem.message];
    ctx.error({ code, message: `${shown}: line ${problem.line}, column ${problem.column}: ${message}`, resource: shown });
  }
  const byRoot = new Map<string, HclResource[]>();
  for (const resource of resources) {
    const root = resource.root ?? path.dirname(resource.file);
    byRoot.set(root, [...(byRoot.get(root) ?? []), resource]);
  }
  const items: InventoryItem[] = [];
  let skipped = 0;
  for (const [root, group] of byRoot) {
    const rootPath = posix(path.relative(ctx.baseDir, root)) || '.';
    const mapped: ResourceInstance[] = [];
    const rootItems: InventoryItem[] = [];
    for (const original of group) {
      const map = MAPPERS[original.type];
      if (!map) {
        skipped++;
        mapped.push(original);
        continue;
      }
      const resource = withProviderDefaults(original);
      mapped.push(resource);
      const shown = displayPath(resource.file);
      const { item, sets } = map(resource, { fallbackUid: `terraform:${rootPath}#${resource.address}`, sourceId: source.id, file: shown });
      const attributes: Record<string, DeclaredPosition> = {};
      for (const [field, attribute] of Object.entries(sets)) {
        const at = attribute.at !== null ? resource.positions.get(attribute.at) : undefined;
        if (at) attributes[field] = at;
      }
      rootItems.push({ ...item, declared: true, address: resource.address, declaredIn: { file: shown, line: resource.block.line, column: resource.block.column, attributes } });
    }
    linkAliases(mapped, rootItems);
    linkCertificateKeys(mapped, rootItems);
    items.push(...rootItems);
  }
  ctx.logger.debug(`${files.length} configuration files: ${items.length} keys and certificate templates, ${skipped} other resources`);
  return items;
}

function splitCode(message: string): [string, string] {
  const at = message.indexOf(': ');
  return [message.slice(0, at), message.slice(at + 2)];
}

async function declaredItems(file: string, source: TerraformSource, ctx: CollectContext): Promise<InventoryItem[]> {
  const shown = displayPath(file);
  const fail = (code: string, message: string): InventoryItem[] => {
    ctx.error({ code, message: `${shown}: ${message}`, resource: shown });
    return [];
  };
  if (/\.(tf|tofu)\.json$/.test(file)) {
    return fail('terraform-json-configuration-unsupported', 'configuration in JSON syntax is not read (without provider schemas a nested block and a map look alike); scan the .tf files, or the output of `terraform show -json` for a plan');
  }
  let bytes: Buffer;
  try {
    bytes = await readRegularFile(file, source.maxFileBytes ?? DEFAULT_MAX_TERRAFORM_FILE_BYTES);
  } catch (error) {
    if (!(error instanceof FileReadError)) throw error;
    return fail(READ_FAILURE_CODES[error.reason], error.message);
  }
  // `terraform plan -out` writes a zip archive: only its `terraform show -json` rendering is JSON.
  if (bytes[0] === 0x50 && bytes[1] === 0x4b) return fail('terraform-binary-plan', 'a binary plan file; run `terraform show -json <plan>` and scan its output');
  let json: PositionedJson;
  try {
    json = parsePositionedJson(bytes.toString('utf8'));
  } catch (error) {
    if (!(error instanceof JsonSyntaxError)) throw error;
    return fail('terraform-json-invalid', `not valid JSON at ${error.message}`);
  }
  let resources: ResourceInstance[];
  try {
    resources = resourceInstances(json).resources;
  } catch (error) {
    if (!(error instanceof ShowJsonError)) throw error;
    const at = error.at ? json.positions.get(error.at) : undefined;
    return fail('terraform-json-unexpected', `${at ? `line ${at.line}, column ${at.column}: ` : ''}${error.message}`);
  }
  const uidPath = posix(path.relative(ctx.baseDir, file)) || path.basename(file);
  const items: InventoryItem[] = [];
  let skipped = 0;
  for (const resource of resources) {
    const map = MAPPERS[resource.type];
    if (!map) {
      skipped++;
      continue;
    }
    const { item, sets } = map(resource, { fallbackUid: `terraform:${uidPath}#${resource.address}`, sourceId: source.id, file: shown });
    const block = json.positions.get(resource.at) ?? FIRST;
    const attributes: Record<string, DeclaredPosition> = {};
    for (const [field, attribute] of Object.entries(sets)) {
      const at = attribute.at ? json.positions.get(attribute.at) : undefined;
      if (at) attributes[field] = at;
    }
    items.push({ ...item, declared: true, address: resource.address, declaredIn: { file: shown, line: block.line, column: block.column, attributes } });
  }
  ctx.logger.debug(`${shown}: ${items.length} keys and certificate templates, ${skipped} other resources`);
  return items;
}
