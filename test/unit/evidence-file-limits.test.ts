import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync, symlinkSync, writeFileSync, ftruncateSync } from 'node:fs';
import { MAX_STREAMED_FILE_BYTES } from '../../src/evaluate/run.ts';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Collector } from '../../src/collectors/types.ts';
import type { SourceConfig, SourceError } from '../../src/model/source.ts';
import { snapshotCollector } from '../../src/collectors/snapshot/collector.ts';
import { x509FilesCollector } from '../../src/collectors/x509/files.ts';
import { InventoryFileError, loadEvidence } from '../../src/inventory/file.ts';
import { baseItem, type InventoryItem } from '../../src/inventory/types.ts';
import { displayPath } from '../../src/util/paths.ts';
import { validator } from '../../src/util/schemas.ts';
import { runCli } from '../support/cli.ts';
import { quietContext } from '../support/collect.ts';
import { makeCert, removeDir, tempDir } from '../support/certs.ts';

// Every file a source or `evaluate --inventory` reads is a regular file of bounded size: a FIFO,
// a device or a /proc walk must not hang a scan, and a hostile evidence file must be one clear
// error (exit 2), never a stack overflow or a quote of whatever file the path pointed at.

const NOW = '2026-11-01T00:00:00Z';
const PROMPT_MS = 20_000;

/** Runs a collector to the end, failing (rather than hanging the suite) if it does not finish promptly. */
async function collect(collector: Collector, source: SourceConfig, baseDir: string): Promise<{ items: InventoryItem[]; errors: SourceError[] }> {
  const ctx = quietContext(baseDir);
  const items: InventoryItem[] = [];
  const run = (async () => {
    for await (const item of collector.collect(source, ctx)) items.push(item);
    return 'done' as const;
  })();
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), PROMPT_MS)));
  const result = await Promise.race([run, late]);
  clearTimeout(timer);
  assert.equal(result, 'done', `${source.type} source ${source.id} did not return within ${PROMPT_MS} ms`);
  return { items, errors: ctx.errors };
}

function item(uid: string, evidence: Record<string, unknown> = {}): InventoryItem {
  return baseItem({ uid, kind: 'key', provider: 'aws-kms', sourceId: 'saved', name: uid, location: 'us-east-1', algorithm: 'AES-256', evidence });
}

function inventory(items: unknown[], sources: unknown = []): string {
  return JSON.stringify({ schemaVersion: '1', kind: 'inventory', tool: { name: 'keydrift', version: '0' }, collectedAt: NOW, sources, items });
}

async function loadError(file: string): Promise<string> {
  try {
    await loadEvidence(file);
  } catch (error) {
    assert.ok(error instanceof InventoryFileError, String(error));
    return error.message;
  }
  assert.fail(`${file} loaded without an error`);
}

describe('evidence and certificate file limits', () => {
  let dir: string;
  let certPem: string;

  before(() => {
    dir = tempDir();
    certPem = makeCert(dir, { cn: 'limits.test' }).certPem;
  });
  after(() => removeDir(dir));

  test('a FIFO is refused at once by the snapshot source and the x509-files glob, naming it', async () => {
    const sub = path.join(dir, 'fifo');
    mkdirSync(sub);
    writeFileSync(path.join(sub, 'good.pem'), certPem);
    execFileSync('mkfifo', [path.join(sub, 'pipe.pem')]);
    const shown = displayPath(path.join(sub, 'pipe.pem'));

    const files = await collect(x509FilesCollector, { id: 'certs', type: 'x509-files', paths: ['fifo/*.pem'] }, dir);
    assert.deepEqual(files.items.map((found) => found.name), ['limits.test']);
    assert.deepEqual(files.errors, [{ code: 'file-not-regular', message: `${shown}: not a regular file (a FIFO), skipped`, resource: shown }]);

    const snapshot = await collect(snapshotCollector, { id: 'saved', type: 'snapshot', path: 'fifo/pipe.pem' }, dir);
    assert.deepEqual(snapshot.items, []);
    assert.deepEqual(snapshot.errors, [{ code: 'file-not-regular', message: `${shown}: not a regular file (a FIFO), skipped`, resource: 'fifo/pipe.pem' }]);
  });

  test('a link to /dev/zero is refused by both sources, naming the link', async () => {
    const sub = path.join(dir, 'device');
    mkdirSync(sub);
    symlinkSync('/dev/zero', path.join(sub, 'zero.pem'));
    const shown = displayPath(path.join(sub, 'zero.pem'));
    const files = await collect(x509FilesCollector, { id: 'certs', type: 'x509-files', paths: ['device/*'] }, dir);
    assert.deepEqual(files.errors, [{ code: 'file-not-regular', message: `${shown}: not a regular file (a character device), skipped`, resource: shown }]);
    const snapshot = await collect(snapshotCollector, { id: 'saved', type: 'snapshot', path: 'device/zero.pem' }, dir);
    assert.deepEqual(snapshot.errors.map((error) => [error.code, error.message]), [['file-not-regular', `${shown}: not a regular file (a character device), skipped`]]);
  });

  test('globs never walk /proc, /sys or /dev: the collector returns promptly and reports the skip once per pattern', async () => {
    const patterns = ['/proc/self/**/*', '/proc/self/status', '/*/self/status', '/dev/*'];
    const { items, errors } = await collect(x509FilesCollector, { id: 'system', type: 'x509-files', paths: patterns }, dir);
    assert.deepEqual(items, []);
    assert.deepEqual(
      errors.map((error) => [error.code, error.resource, error.message]),
      [
        ['system-path-skipped', '/proc/self/**/*', '"/proc/self/**/*": /proc skipped: kernel and device files are never read'],
        ['system-path-skipped', '/proc/self/status', '"/proc/self/status": /proc skipped: kernel and device files are never read'],
        // Walking from "/" prunes /proc instead of entering it.
        ['system-path-skipped', '/*/self/status', '"/*/self/status": /dev, /proc, /sys skipped: kernel and device files are never read'],
        ['system-path-skipped', '/dev/*', '"/dev/*": /dev skipped: kernel and device files are never read'],
      ],
    );
  });

  test('a certificate file over maxFileBytes (default 10 MiB) is reported and not read', async () => {
    const sub = path.join(dir, 'large');
    mkdirSync(sub);
    writeFileSync(path.join(sub, 'small.pem'), certPem);
    // Sparse: 10 MiB and one byte on disk costs nothing.
    const big = openSync(path.join(sub, 'big.pem'), 'w');
    ftruncateSync(big, 10 * 1024 * 1024 + 1);
    closeSync(big);
    const defaults = await collect(x509FilesCollector, { id: 'certs', type: 'x509-files', paths: ['large/*.pem'] }, dir);
    assert.equal(defaults.items.length, 1);
    const bigShown = displayPath(path.join(sub, 'big.pem'));
    assert.deepEqual(defaults.errors, [
      { code: 'file-too-large', message: `${bigShown}: larger than 10 MiB (10485760 bytes) (maxFileBytes), skipped`, resource: bigShown },
    ]);
    const capped = await collect(x509FilesCollector, { id: 'certs', type: 'x509-files', paths: ['large/small.pem'], maxFileBytes: 100 }, dir);
    assert.deepEqual(capped.items, []);
    assert.deepEqual(capped.errors.map((error) => [error.code, error.message]), [
      ['file-too-large', `${displayPath(path.join(sub, 'small.pem'))}: larger than 100 bytes (maxFileBytes), skipped`],
    ]);
  });

  test('a snapshot or inventory file over maxFileBytes (default 512 MiB) is reported and not read', async () => {
    const file = path.join(dir, 'saved.json');
    writeFileSync(file, inventory([item('key-1')]));
    const capped = await collect(snapshotCollector, { id: 'saved', type: 'snapshot', path: 'saved.json', maxFileBytes: 64 }, dir);
    assert.deepEqual(capped.errors.map((error) => [error.code, error.message]), [['file-too-large', `${displayPath(file)}: larger than 64 bytes (maxFileBytes), skipped`]]);
    const huge = path.join(dir, 'huge.json');
    const handle = openSync(huge, 'w');
    ftruncateSync(handle, 512 * 1024 * 1024 + 1);
    closeSync(handle);
    assert.equal(await loadError(huge), `${displayPath(huge)}: larger than 512 MiB (536870912 bytes) (maxFileBytes), skipped`);
    // evaluate streams its evidence: a large file is read item by item, and this one stops at its first byte.
    const run = await runCli(['evaluate', '--inventory', huge, '--now', NOW], { cwd: dir });
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /huge\.json: not valid JSON: .*at byte 0/);
    const larger = path.join(dir, 'larger.json');
    const sparse = openSync(larger, 'w');
    ftruncateSync(sparse, MAX_STREAMED_FILE_BYTES + 1);
    closeSync(sparse);
    const refused = await runCli(['evaluate', '--inventory', larger, '--now', NOW], { cwd: dir });
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /larger\.json: larger than 64 GiB \(68719476737 bytes\), refused/);
    rmSync(larger);
    // A /proc file says its size is 0; the read itself is what stops it.
    await assert.rejects(loadEvidence('/proc/self/status', { maxFileBytes: 16 }), { message: '/proc/self/status: larger than 16 bytes (maxFileBytes), skipped' });
  });

  test('a file that is not JSON is "not valid JSON", without quoting a byte of it', async () => {
    const secret = 'root:$y$j9T$Xq3sEcReTsAlT$hashhashhash:19000:0:99999:7:::';
    const shadow = path.join(dir, 'shadow');
    writeFileSync(shadow, `${secret}\n`);
    assert.equal(await loadError(shadow), `${displayPath(shadow)}: not valid JSON`);
    const snapshot = await collect(snapshotCollector, { id: 'saved', type: 'snapshot', path: 'shadow' }, dir);
    assert.deepEqual(snapshot.errors, [{ code: 'snapshot-invalid', message: `${displayPath(shadow)}: not valid JSON`, resource: 'shadow' }]);
    const run = await runCli(['evaluate', '--inventory', shadow, '--now', NOW], { cwd: dir });
    assert.equal(run.code, 2);
    assert.ok(!run.stderr.includes('root:') && !run.stderr.includes('hash'), run.stderr);

    const cut = path.join(dir, 'cut.json');
    writeFileSync(cut, '{"items": [');
    assert.equal(await loadError(cut), `${displayPath(cut)}: not valid JSON (the file ends early)`);
    const misplaced = path.join(dir, 'misplaced.json');
    writeFileSync(misplaced, '{\n  "items": []\n  "sources": []\n}');
    assert.equal(await loadError(misplaced), `${displayPath(misplaced)}: not valid JSON (line 3, column 3)`);
  });

  test('evidence nested 5,000 deep: evaluate exits 2 naming the file, item and uid, with no stack overflow', async () => {
    const file = path.join(dir, 'deep.json');
    const deep = `${'{"a":'.repeat(5000)}{}${'}'.repeat(5000)}`;
    writeFileSync(file, inventory([item('key-1'), item('key-2', { deep: '@@' })]).replace('"@@"', deep));
    const run = await runCli(['evaluate', '--inventory', 'deep.json', '--now', NOW], { cwd: dir });
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /deep\.json: item 1 \(key-2\): "evidence" nests objects or arrays more than 32 levels deep/);
    assert.doesNotMatch(run.stderr, /stack size|RangeError|^\s+at /m);
    // The item is level 1 and its evidence level 2: 30 objects under evidence reach the limit, 31 pass it.
    const nested = (objects: number) => inventory([item('key-1', { deep: '@@' })]).replace('"@@"', `${'{"a":'.repeat(objects - 1)}{}${'}'.repeat(objects - 1)}`);
    writeFileSync(path.join(dir, 'at-limit.json'), nested(30));
    assert.equal((await loadEvidence(path.join(dir, 'at-limit.json'))).items.length, 1);
    writeFileSync(path.join(dir, 'past-limit.json'), nested(31));
    assert.match(await loadError(path.join(dir, 'past-limit.json')), /past-limit\.json: item 0 \(key-1\): "evidence" nests/);
  });

  test('sources and a report\'s recorded scan settings are validated before use, naming the field', async () => {
    const write = (name: string, content: unknown) => {
      const file = path.join(dir, name);
      writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
      return file;
    };
    const notArray = write('sources-5.json', inventory([item('key-1')], 5));
    assert.equal(await loadError(notArray), `${displayPath(notArray)}: "sources" must be an array`);
    const badStatus = write('sources-status.json', inventory([item('key-1')], [{ id: 'a', type: 'aws-kms', status: 'fine', items: 1, errors: [] }]));
    assert.match(await loadError(badStatus), /sources-status\.json: sources\[0\]\.status: must be one of "ok", "partial", "failed"$/);
    const deepSource = write('sources-deep.json', inventory([item('key-1')], [{ id: 'a', type: 'x', status: 'ok', items: 1, errors: [], apiCalls: '@@' }]).replace('"@@"', `${'['.repeat(5000)}${']'.repeat(5000)}`));
    assert.match(await loadError(deepSource), /sources-deep\.json: sources\[0\]\.apiCalls: nests objects or arrays more than 32 levels deep$/);

    const report = (scan: unknown, sources: unknown = []) => ({ schemaVersion: '1', inventory: [item('key-1')], findings: [], sources, scan });
    const cases: [string, unknown, RegExp][] = [
      ['policy-string.json', report({ policy: 'x' }), /scan\.policy: must be object$/],
      ['policy-empty.json', report({ policy: {} }), /scan\.policy: missing required field "profile"$/],
      ['policy-no-settings.json', report({ policy: { profile: 'default', settings: {}, tierSettings: {} } }), /scan\.policy\.settings\.rotation: missing/],
      ['policy-bad-setting.json', report({ policy: { profile: 'default', settings: { rotation: 5 }, tierSettings: {} } }), /scan\.policy\.settings\.rotation: must be object$/],
      ['policy-profile.json', report({ policy: { profile: 'nope', settings: {}, tierSettings: {} } }), /scan\.policy\.profile: must be one of "default"/],
      ['fail-on.json', report({ failOn: 'sometimes' }), /scan\.failOn: must be one of "critical"/],
      ['scan-string.json', report('x'), /"scan" must be an object$/],
      ['report-sources.json', report(undefined, { id: 'a' }), /"sources" must be an array$/],
    ];
    for (const [name, content, expected] of cases) {
      assert.match(await loadError(write(name, content)), expected, name);
    }
    const run = await runCli(['evaluate', '--inventory', 'policy-no-settings.json', '--now', NOW], { cwd: dir });
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /policy-no-settings\.json: scan\.policy\.settings\.rotation: missing/);
    assert.doesNotMatch(run.stderr, /Cannot read properties|TypeError|is not iterable/);
  });

  test('maxFileBytes is a configurable field of the x509-files and snapshot sources', () => {
    const validate = validator('config');
    const config = (source: Record<string, unknown>) => ({ version: 1, sources: [{ id: 's', ...source }] });
    assert.ok(validate(config({ type: 'x509-files', paths: ['*.pem'], maxFileBytes: 1024 })), JSON.stringify(validate.errors));
    assert.ok(validate(config({ type: 'snapshot', path: 'saved.json', maxFileBytes: 1024 })), JSON.stringify(validate.errors));
    assert.equal(validate(config({ type: 'x509-files', paths: ['*.pem'], maxFileBytes: 0 })), false);
    assert.equal(validate(config({ type: 'snapshot', path: 'saved.json', maxFileBytes: 1.5 })), false);
  });
});
