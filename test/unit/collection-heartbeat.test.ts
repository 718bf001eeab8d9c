import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { createLogger } from '../../src/cli/logger.ts';
import { parseConfig } from '../../src/config/load.ts';
import { collectAll } from '../../src/collectors/run.ts';
import type { Collector } from '../../src/collectors/types.ts';
import { baseItem } from '../../src/inventory/types.ts';

test('a source still collecting says so on every heartbeat, with items and API calls so far, and stops when done', async () => {
  const slow: Collector = {
    type: 'snapshot',
    provides: ['aws-kms'],
    operations: [],
    async *collect(_source, ctx) {
      for (let page = 0; page < 3; page++) {
        ctx.apiCalls['kms:ListKeys'] = (ctx.apiCalls['kms:ListKeys'] ?? 0) + 1;
        yield baseItem({ uid: `k${page}`, kind: 'key', provider: 'aws-kms', sourceId: 'slow', name: `k${page}`, location: 'us-east-1', algorithm: 'AES-256' });
        await delay(120);
      }
    },
  };
  const config = parseConfig('version: 1\nsources:\n  - { id: slow, type: snapshot, path: unused.json }\n', '/tmp/keydrift-test/keydrift.yaml');
  const lines: string[] = [];
  const logger = createLogger('normal', false, (line) => lines.push(line));
  await collectAll(config, { logger, now: new Date('2026-11-01T00:00:00Z'), heartbeatMs: 100, collectors: new Map([['snapshot', async () => slow]]) });
  const beats = lines.filter((line) => line.includes('still collecting'));
  assert.ok(beats.length >= 2, lines.join('\n'));
  assert.match(beats[0]!, /slow: still collecting after \d+ s: 1 item, 1 API call so far/);
  const after = lines.length;
  await delay(250);
  assert.equal(lines.length, after, 'no heartbeat after the source finished');
});
