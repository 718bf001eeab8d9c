import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | null = null;

/**
 * The keydrift package folder (policies/, rules/, schemas/ live there), found by walking up from
 * this module: the same answer from src/ (tsx), dist/ (tsc) and the bundled Action in dist/.
 */
export function packageRoot(): string {
  if (root) return root;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'keydrift') {
      root = dir;
      return dir;
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('keydrift package folder not found above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
}

export function packagePath(...parts: string[]): string {
  return path.join(packageRoot(), ...parts);
}
