import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { isMap, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { Region } from '../model/region.ts';
import type { SourceConfig } from '../model/source.ts';
import { describeError, fieldPath, validator } from '../util/schemas.ts';
import { didYouMean } from '../util/did-you-mean.ts';
import { globMatches } from '../util/glob-matches.ts';
import { displayPath } from '../util/paths.ts';
import type { Config } from './types.ts';
import { SOURCE_TYPES } from './types.ts';

/** A configuration problem: exit code 2, nothing is scanned. */
export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(problems.join('\n'));
    this.problems = problems;
  }
}

export async function loadConfig(file: string): Promise<Config> {
  const shown = displayPath(file);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError([
      code === 'ENOENT' ? `${shown}: config file not found (use --config FILE)` : `${shown}: cannot read config file (${code})`,
    ]);
  }
  return parseConfig(text, file);
}

export function parseConfig(text: string, file: string): Config {
  const shown = displayPath(file);
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number) => {
    const { line, col } = lineCounter.linePos(offset);
    return `${shown}:${line}:${col}`;
  };
  if (document.errors.length > 0) {
    throw new ConfigError(document.errors.map((error) => `${at(error.pos[0])}: invalid YAML: ${firstLine(error.message)}`));
  }
  const raw: unknown = document.toJS();
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError([`${shown}:1:1: the config must be a YAML mapping with "version" and "sources"`]);
  }

  const validate = validator('config');
  if (!validate(raw)) {
    const problems = (validate.errors ?? [])
      // oneOf/anyOf summaries repeat what their branches already said.
      .filter((error) => error.keyword !== 'oneOf' && error.keyword !== 'anyOf' && error.keyword !== 'if')
      .map((error) => {
        const where = positionOf(document, error.instancePath, lineCounter);
        let message = describeError(error);
        if (error.keyword === 'discriminator') {
          const given = (error.params as { tagValue?: unknown }).tagValue;
          message += `${typeof given === 'string' ? didYouMean(given, SOURCE_TYPES) : ''}; expected one of ${SOURCE_TYPES.join(', ')}`;
        }
        return `${shown}:${where.line}:${where.col}: ${fieldPath(error.instancePath)}: ${message}`;
      });
    throw new ConfigError(dedupe(problems));
  }

  const config = raw as Omit<Config, 'file' | 'baseDir' | 'name' | 'regions'> & { name?: string };
  const regions: Record<string, Region> = {};
  const problems: string[] = [];
  const ids = new Map<string, number>();
  config.sources.forEach((source: SourceConfig, index: number) => {
    const where = positionOf(document, `/sources/${index}`, lineCounter);
    const region = regionOf(document, `/sources/${index}`, lineCounter);
    if (ids.has(source.id)) {
      problems.push(`${shown}:${where.line}:${where.col}: sources[${index}].id: "${source.id}" is already used by sources[${ids.get(source.id)}]; ids must be unique`);
    }
    ids.set(source.id, index);
    regions[source.id] = region;
  });
  for (const [index, waiver] of (config.waivers ?? []).entries()) {
    if (!isRealDate(waiver.expires)) {
      const where = positionOf(document, `/waivers/${index}/expires`, lineCounter);
      problems.push(`${shown}:${where.line}:${where.col}: waivers[${index}].expires: "${waiver.expires}" is not a real date`);
    }
  }
  const problemAt = (instancePath: string, message: string) => {
    const where = positionOf(document, instancePath, lineCounter);
    problems.push(`${shown}:${where.line}:${where.col}: ${fieldPath(instancePath)}: ${message}`);
  };
  expiryProblems(config.policy?.settings, '/policy/settings', problemAt);
  for (const [tier, settings] of Object.entries(config.policy?.tierSettings ?? {})) expiryProblems(settings, `/policy/tierSettings/${tier.replaceAll('~', '~0').replaceAll('/', '~1')}`, problemAt);
  const sourceIds = config.sources.map((source) => source.id);
  for (const [index, scope] of (config.drift?.managedAsCode ?? []).entries()) {
    if (!sourceIds.some((id) => globMatches(scope.source, id))) {
      problemAt(`/drift/managedAsCode/${index}/source`, `"${scope.source}" names no source${didYouMean(scope.source, sourceIds)}; sources are ${sourceIds.join(', ')}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const waivers = (config.waivers ?? []).map((waiver, index) => ({
    ...waiver,
    declaredAt: { file: shown, region: regionOf(document, `/waivers/${index}`, lineCounter) },
  }));

  return {
    ...config,
    ...(config.waivers ? { waivers } : {}),
    file: path.resolve(file),
    baseDir: path.dirname(path.resolve(file)),
    name: config.name ?? path.basename(file).replace(/\.(ya?ml)$/i, ''),
    regions: { ...regions, $config: { startLine: 1, startColumn: 1, endLine: 1, endColumn: 2 } },
  };
}

function nodeAt(document: Document, instancePath: string): Node | null {
  const keys = instancePath
    .split('/')
    .slice(1)
    .map((part) => (/^\d+$/.test(part) ? Number(part) : part.replaceAll('~1', '/').replaceAll('~0', '~')));
  // Walk up until a node exists: a missing field is reported at its parent.
  for (let depth = keys.length; depth >= 0; depth--) {
    const node = depth === 0 ? document.contents : document.getIn(keys.slice(0, depth), true);
    if (node && typeof node === 'object' && 'range' in node && (node as Node).range) return node as Node;
  }
  return null;
}

function positionOf(document: Document, instancePath: string, lineCounter: LineCounter): { line: number; col: number } {
  const node = nodeAt(document, instancePath);
  return node?.range ? lineCounter.linePos(node.range[0]) : { line: 1, col: 1 };
}

/** The lines a source occupies in the file: where a SARIF result for its resources points. */
function regionOf(document: Document, instancePath: string, lineCounter: LineCounter): Region {
  const node = nodeAt(document, instancePath);
  if (!node?.range) return { startLine: 1, startColumn: 1, endLine: 1, endColumn: 2 };
  const start = lineCounter.linePos(node.range[0]);
  // range[1] is the end of the value itself; trailing comments and blank lines are not part of it.
  let endOffset = node.range[1];
  if ((isMap(node) || isSeq(node)) && node.range[1] > node.range[0]) endOffset = node.range[1];
  const end = lineCounter.linePos(Math.max(node.range[0], endOffset - 1));
  return { startLine: start.line, startColumn: start.col, endLine: end.line, endColumn: end.col + 1 };
}

/** Date.parse accepts 2027-02-31 (rolling into March); a waiver's expiry must be a calendar date. */
export function isRealDate(text: string): boolean {
  const match = /^(\d{4})-(\d{2})-(\d{2})/.exec(text);
  if (!match || Number.isNaN(Date.parse(text))) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}

function dedupe(values: string[]): string[] {
  return [...new Set(values)];
}

/** failDays is the later, sharper threshold: above warnDays the warning would never come first. */
function expiryProblems(settings: { expiry?: { warnDays?: number; failDays?: number } } | undefined, at: string, problemAt: (instancePath: string, message: string) => void): void {
  const expiry = settings?.expiry;
  if (expiry?.warnDays === undefined || expiry.failDays === undefined) return;
  if (expiry.failDays > expiry.warnDays) {
    problemAt(`${at}/expiry/failDays`, `${expiry.failDays} is above warnDays (${expiry.warnDays}): a certificate would fail before it is warned about; failDays must be at most warnDays`);
  }
}
