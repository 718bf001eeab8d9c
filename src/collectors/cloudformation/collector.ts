import path from 'node:path';
import type { InventoryItem } from '../../inventory/types.ts';
import type { SourceConfig } from '../../model/source.ts';
import { displayPath, posix } from '../../util/paths.ts';
import { FileReadError, MIB, readRegularFile } from '../../util/read-regular-file.ts';
import type { CollectContext, Collector } from '../types.ts';
import { matchFiles } from '../x509/files.ts';
import { cloudformationDeclaration } from './declaration.ts';
import { kmsKeyItem, type TemplateFile } from './kms-key.ts';
import { Template, TemplateSyntaxError } from './template.ts';

export interface CloudformationSource extends SourceConfig {
  type: 'cloudformation';
  paths: string[];
  maxFileBytes?: number;
}

export const DEFAULT_MAX_TEMPLATE_BYTES = 10 * MIB;

const READ_FAILURE_CODES = { unreadable: 'file-unreadable', 'not-regular': 'file-not-regular', 'too-large': 'file-too-large' } as const;

export const cloudformationCollector: Collector = {
  type: cloudformationDeclaration.type,
  provides: cloudformationDeclaration.providers,
  operations: cloudformationDeclaration.operations,
  async *collect(source, ctx) {
    const config = source as CloudformationSource;
    for (const file of await matchFiles(config.paths, ctx)) {
      if (ctx.signal.aborted) return;
      yield* keysInTemplate(file, config, ctx);
    }
  },
};

async function* keysInTemplate(file: string, source: CloudformationSource, ctx: CollectContext): AsyncGenerator<InventoryItem> {
  const shown = displayPath(file);
  let text: string;
  try {
    text = (await readRegularFile(file, source.maxFileBytes ?? DEFAULT_MAX_TEMPLATE_BYTES)).toString('utf8');
  } catch (error) {
    if (!(error instanceof FileReadError)) throw error;
    ctx.error({ code: READ_FAILURE_CODES[error.reason], message: `${shown}: ${error.message}`, resource: shown });
    return;
  }
  let template: Template | null;
  try {
    template = Template.parse(text);
  } catch (error) {
    if (!(error instanceof TemplateSyntaxError)) throw error;
    ctx.error({ code: 'template-invalid', message: `${shown}:${error.line}:${error.column}: not a valid YAML or JSON template: ${error.message}`, resource: shown });
    return;
  }
  if (!template) {
    // A glob such as **/*.yaml meets other YAML too: only a document with a Resources map is a template.
    ctx.logger.debug(`${shown}: no Resources map, not a CloudFormation template; skipped`);
    return;
  }
  const templateFile: TemplateFile = { uidPath: posix(path.relative(ctx.baseDir, file)) || path.basename(file), shown, sourceId: source.id };
  for (const resource of template.resources()) {
    if (!resource.body || resource.body.get('Type') !== 'AWS::KMS::Key') continue;
    // A resource under a Condition is judged whatever the defaults make of it: the stack may well be
    // deployed with the parameters that create it (evidence records the condition and its value).
    yield kmsKeyItem(template, { logicalId: resource.logicalId, key: resource.key, body: resource.body }, templateFile);
  }
}
