import path from 'node:path';
import type { InventoryItem, DeclaredPosition } from '../../inventory/types.ts';
import type { SourceConfig } from '../../model/source.ts';
import { displayPath, posix } from '../../util/paths.ts';
import { FileReadError, MIB, readRegularFile } from '../../util/read-regular-file.ts';
import type { CollectContext, Collector } from '../types.ts';
import { matchFiles } from '../x509/files.ts';
import { terraformDeclaration } from './declaration.ts';
import { JsonSyntaxError, parsePositionedJson, type PositionedJson } from './json-positions.ts';
import { MAPPERS } from './resources.ts';
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
    for (const file of await matchFiles(config.paths, ctx)) {
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
  },
};

async function declaredItems(file: string, source: TerraformSource, ctx: CollectContext): Promise<InventoryItem[]> {
  const shown = displayPath(file);
  const fail = (code: string, message: string): InventoryItem[] => {
    ctx.error({ code, message: `${shown}: ${message}`, resource: shown });
    return [];
  };
  if (/\.(tf|tofu|tf\.json|tofu\.json)$/.test(file)) {
    return fail('terraform-hcl-unsupported', 'configuration files are not read yet; give keydrift the output of `terraform show -json` for a plan or state');
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
