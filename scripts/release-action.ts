// Cuts a release of the GitHub Action. main carries no bundle (an 11 MB file rebuilt on nearly
// every commit would grow the repository by megabytes per change); a release commit does: HEAD's
// tree plus dist/action.js, built twice to prove the build reproducible, a child of HEAD on no
// branch, tagged v<version>, with the major tag v<major> moved to it. Users pin those tags.
// Nothing in the working tree or on any branch changes.
//
// Usage: node scripts/release-action.ts [version]     (default: package.json's version)
// Then:  git push origin v<version> && git push --force origin v<major>
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const work = mkdtempSync(path.join(tmpdir(), 'keydrift-release-'));
const index = path.join(work, 'index');
const git = (args: string[], env: NodeJS.ProcessEnv = {}) => execFileSync('git', args, { encoding: 'utf8', env: { ...process.env, ...env } }).trim();

try {
  const version = process.argv[2] ?? (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;
  if (!/^\d+\.\d+\.\d+$/.test(version)) throw new Error(`"${version}" is not a version such as 1.2.3`);
  const tag = `v${version}`;
  const major = `v${version.split('.')[0]}`;
  // The bundle must be built from exactly the sources HEAD records.
  if (git(['status', '--porcelain', '--untracked-files=no']) !== '') throw new Error('commit or discard your changes first: the release is built from HEAD');
  if (spawnSync('git', ['rev-parse', '--verify', '--quiet', `refs/tags/${tag}`]).status === 0) throw new Error(`tag ${tag} exists already`);

  const bundles = [path.join(work, 'action.js'), path.join(work, 'again.js')];
  for (const bundle of bundles) execFileSync(process.execPath, ['scripts/build-action.ts', bundle], { stdio: 'inherit' });
  if (!readFileSync(bundles[0]!).equals(readFileSync(bundles[1]!))) throw new Error('two builds of the Action bundle differ: the build is not reproducible');

  // HEAD's tree plus the bundle, through a private index: the checkout's own index is not touched.
  const blob = git(['hash-object', '-w', bundles[0]!]);
  git(['read-tree', 'HEAD'], { GIT_INDEX_FILE: index });
  git(['update-index', '--add', '--cacheinfo', `100644,${blob},dist/action.js`], { GIT_INDEX_FILE: index });
  const tree = git(['write-tree'], { GIT_INDEX_FILE: index });
  const commit = git(['commit-tree', tree, '-p', 'HEAD', '-m', `Release ${tag}: the bundled Action (dist/action.js)`]);
  git(['tag', '--annotate', tag, '-m', `keydrift ${tag}`, commit]);
  git(['tag', '--force', '--annotate', major, '-m', `keydrift ${tag}`, commit]);
  console.log(`release: ${tag} and ${major} -> ${commit.slice(0, 12)} (HEAD plus dist/action.js)`);
  console.log(`release: publish with: git push origin ${tag} && git push --force origin ${major}`);
} catch (error) {
  console.error(`release: ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  rmSync(work, { recursive: true, force: true });
}
