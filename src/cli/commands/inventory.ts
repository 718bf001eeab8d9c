import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { collectAll } from '../../collectors/run.ts';
import { EXIT } from '../../findings/outcome.ts';
import type { InventoryFile } from '../../inventory/file.ts';
import { TOOL } from '../../model/tool.ts';
import { writeFileAtomic, writeFileAtomicStream } from '../../util/atomic-write.ts';
import { didYouMean } from '../../util/did-you-mean.ts';
import { displayPath } from '../../util/paths.ts';
import { redactLive } from '../../util/redact.ts';
import { COLLECT_HELP, COLLECT_OPTIONS, LOGGING_OPTIONS, loggerFor, parse, parseNow, parseShardOption, parseTimeout, sharedHelp, sharedOptions, UsageError } from '../options.ts';
import { configDigest, configFrom } from './shared.ts';
import { help } from './scan.ts';
import { terminalLine } from '../../util/terminal.ts';

export const INVENTORY_HELP = `Usage: keydrift inventory [options] [--output FILE]

Collect only, no policies: write the normalized inventory as JSON (default: <out>/keydrift-inventory.json;
--output - writes to stdout). Exit: 0 complete, 3 some source not fully collected, 2 config error.
With --inventory-format jsonl: JSON Lines (default file keydrift-inventory.jsonl), the first line the
header (sources, collection time), then one item per line, written as it goes; "keydrift evaluate"
reads either.

Options:
${sharedHelp('config', 'out', 'now', 'quiet', 'no-color', 'help')}
${COLLECT_HELP}
  --output FILE          where to write the inventory ("-" for stdout)
  --inventory-format F   json (default) or jsonl
${sharedHelp('shard')}`;

export async function inventory(argv: string[]): Promise<number> {
  // Only what collecting uses: a judging option (--format, --fail-on, --baseline, --profile) would be ignored, so it is refused.
  const { values } = parse(argv, { ...sharedOptions('config', 'out', 'now'), ...LOGGING_OPTIONS, ...COLLECT_OPTIONS, output: { type: 'string', short: 'o' }, 'inventory-format': { type: 'string' }, ...sharedOptions('shard') });
  if (values['help']) return help(INVENTORY_HELP);
  const logger = loggerFor(values);
  const now = parseNow(values['now'] as string | undefined) ?? new Date();
  const timeoutMs = parseTimeout(values['timeout'] as string | undefined);
  const config = await configFrom(values);
  const format = (values['inventory-format'] as string | undefined) ?? 'json';
  if (format !== 'json' && format !== 'jsonl') throw new UsageError(`--inventory-format: "${format}" is not json or jsonl${didYouMean(format, ['json', 'jsonl'])}`);
  const shard = parseShardOption(values['shard'] as string | undefined);
  const { items, sources } = await collectAll(config, { logger, now, ...(timeoutMs !== undefined ? { timeoutMs } : {}), ...(shard ? { shard } : {}) });
  const document: InventoryFile = {
    schemaVersion: '1',
    kind: 'inventory',
    tool: { ...TOOL },
    collectedAt: now.toISOString(),
    configDigest: configDigest(config),
    sources,
    items,
  };
  const output = (values['output'] as string | undefined) ?? path.join((values['out'] as string | undefined) ?? 'reports', `keydrift-inventory.${format}`);
  if (output === '-') {
    if (format === 'json') process.stdout.write(redactLive(JSON.stringify(document, null, 2) + '\n'));
    else for (const line of jsonLines(document)) process.stdout.write(line);
  } else {
    await mkdir(path.dirname(output), { recursive: true });
    if (format === 'json') await writeFileAtomic(output, redactLive(JSON.stringify(document, null, 2) + '\n'));
    else await writeFileAtomicStream(output, async (write) => {
      for (const line of jsonLines(document)) await write(line);
    });
    if (!values['quiet']) process.stdout.write(`${terminalLine(`keydrift: ${items.length} items from ${sources.length} sources -> ${displayPath(output)}`)}\n`);
  }
  return sources.every((source) => source.status === 'ok') ? EXIT.compliant : EXIT.incomplete;
}

/** The inventory as JSON Lines: its header (everything but the items), then one item per line. */
function* jsonLines(document: InventoryFile): Generator<string> {
  const { items, ...header } = document;
  yield redactLive(JSON.stringify(header)) + '\n';
  for (const item of items) yield redactLive(JSON.stringify(item)) + '\n';
}
