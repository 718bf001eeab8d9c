import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runAction } from '../support/action.ts';
import { removeDir, tempDir } from '../support/certs.ts';
import { REPO } from '../support/cli.ts';

// main carries no Action bundle; scripts/release-action.ts makes a release commit that does, and
// tags it. Run in a scratch clone of this repository's HEAD, so nothing here is tagged.

const IDENTITY = { GIT_AUTHOR_NAME: 'release test', GIT_AUTHOR_EMAIL: 'release@test.invalid', GIT_COMMITTER_NAME: 'release test', GIT_COMMITTER_EMAIL: 'release@test.invalid' };

describe('releasing the Action', () => {
  let dir: string;
  let clone: string;
  const git = (args: string[]) => execFileSync('git', args, { cwd: clone, encoding: 'utf8' }).trim();

  before(() => {
    dir = tempDir();
    clone = path.join(dir, 'clone');
    execFileSync('git', ['clone', '--quiet', '--no-hardlinks', REPO, clone]);
    symlinkSync(path.join(REPO, 'node_modules'), path.join(clone, 'node_modules'));
  });
  after(() => removeDir(dir));

  test('main tracks no bundle; a release commit is HEAD plus dist/action.js, tagged v<version> and v<major>', { timeout: 180_000 }, () => {
    assert.equal(spawnSync('git', ['ls-files', '--error-unmatch', 'dist/action.js'], { cwd: clone }).status, 1, 'main must not track dist/action.js');
    const head = git(['rev-parse', 'HEAD']);
    const branch = git(['rev-parse', '--abbrev-ref', 'HEAD']);
    const release = spawnSync(process.execPath, ['scripts/release-action.ts', '9.8.7'], { cwd: clone, encoding: 'utf8', env: { ...process.env, ...IDENTITY } });
    assert.equal(release.status, 0, release.stderr);
    assert.match(release.stdout, /release: v9\.8\.7 and v9 -> [0-9a-f]{12}/);

    const tagged = git(['rev-parse', 'v9.8.7^{commit}']);
    assert.equal(git(['rev-parse', 'v9^{commit}']), tagged);
    assert.equal(git(['rev-parse', `${tagged}^`]), head, 'the release commit is a child of HEAD');
    assert.deepEqual(git(['diff', '--name-status', head, tagged]).split('\n'), ['A\tdist/action.js']);
    assert.equal(git(['rev-parse', 'HEAD']), head, 'HEAD did not move');
    assert.equal(git(['rev-parse', '--abbrev-ref', 'HEAD']), branch);
    assert.equal(git(['status', '--porcelain', '--untracked-files=no']), '', 'the working tree and index are untouched');

    // The released bundle is what a build of the same sources produces, and it runs as the Action.
    const fresh = path.join(dir, 'fresh.js');
    execFileSync(process.execPath, ['scripts/build-action.ts', fresh], { cwd: clone });
    assert.ok(execFileSync('git', ['show', 'v9.8.7:dist/action.js'], { cwd: clone, maxBuffer: 64 * 1024 * 1024 }).equals(readFileSync(fresh)));

    const again = spawnSync(process.execPath, ['scripts/release-action.ts', '9.8.7'], { cwd: clone, encoding: 'utf8', env: { ...process.env, ...IDENTITY } });
    assert.equal(again.status, 1);
    assert.match(again.stderr, /release: tag v9\.8\.7 exists already/);
  });

  test('the released tree runs as the Action', { timeout: 180_000 }, async () => {
    const checkout = path.join(dir, 'v9');
    execFileSync('git', ['worktree', 'add', '--quiet', '--detach', checkout, 'v9'], { cwd: clone });
    assert.ok(existsSync(path.join(checkout, 'dist/action.js')));
    const out = path.join(dir, 'out');
    const run = await runAction(
      path.join(checkout, 'dist/action.js'),
      { config: path.join(REPO, 'examples/demo/keydrift.yaml'), 'out-dir': out, now: '2026-11-01T00:00:00Z', formats: 'json' },
      dir,
      checkout,
    );
    assert.equal(run.code, 1, run.stderr);
    assert.equal(run.outputs['scan-failed'], 'false');
    assert.equal(run.outputs['exit-code'], '1');
  });
});
