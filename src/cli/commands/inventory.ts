import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { collectAll } from '../../collectors/run.ts';
import { EXIT } from '../../findings/outcome.ts';
import type { InventoryFile } from '../../inventory/file.ts';
import { TOOL } from '../../model/tool.ts';
import { writeFileAtomic } from '../../util/atomic-write.ts';
import { displayPath } from '../../util/paths.ts';
import { redactLive } from '../../util/redact.ts';
import { COLLECT_HELP, COLLECT_OPTIONS, LOGGING_OPTIONS, loggerFor, parse, parseNow, parseTimeout, sharedHelp, sharedOptions } from '../options.ts';
import { configDigest, configFrom } from './shared.ts';
import { help } from './scan.ts';
import { terminalLine } from '../../util/terminal.ts';

export const INVENTORY_HELP = `Usage: keydrift inventory [options] [--output FILE]

Collect only, no policies: write the normalized inventory as JSON (default: <out>/keydrift-inventory.json;
--output - writes to stdout). Exit: 0 complete, 3 some source not fully collected, 2 config error.

Options:
${sharedHelp('config', 'out', 'now', 'quiet', 'no-color', 'help')}
${COLLECT_HELP}
  --output FILE          where to write the inventory ("-" for stdout)`;

export async function inventory(argv: string[]): Promise<number> {
  // Only what collecting uses: a judging option (--format, --fail-on, --baseline, --profile) would be ignored, so it is refused.
  const { values } = parse(argv, { ...sharedOptions('config', 'out', 'now'), ...LOGGING_OPTIONS, ...COLLECT_OPTIONS, output: { type: 'string', short: 'o' } });
  if (values['help']) return help(INVENTORY_HELP);
  const logger = loggerFor(values);
  const now = parseNow(values['now'] as string | undefined) ?? new Date();
  const timeoutMs = parseTimeout(values['timeout'] as string | undefined);
  const config = await configFrom(values);
  const { items, sources } = await collectAll(config, { logger, now, ...(timeoutMs !== undefined ? { timeoutMs } : {}) });
  const document: InventoryFile = {
    schemaVersion: '1',
    kind: 'inventory',
    tool: { ...TOOL },
    collectedAt: now.toISOString(),
    configDigest: configDigest(config),
    sources,
    items,
  };
  const text = redactLive(JSON.stringify(document, null, 2) + '\n');
  const output = (values['output'] as string | undefined) ?? path.join((values['out'] as string | undefined) ?? 'reports', 'keydrift-inventory.json');
  if (output === '-') {
    process.stdout.write(text);
  } else {
    await mkdir(path.dirname(output), { recursive: true });
    await writeFileAtomic(output, text);
    if (!values['quiet']) process.stdout.write(`${terminalLine(`keydrift: ${items.length} items from ${sources.length} sources -> ${displayPath(output)}`)}\n`);
  }
  return sources.every((source) => source.status === 'ok') ? EXIT.compliant : EXIT.incomplete;
}
