import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { packagePath } from '../util/package-root.ts';

/** The committed built-in policy bundle (`keydrift policy build` writes it). */
export const BUILTIN_BUNDLE = packagePath('policies', 'bundle.tar.gz');
export const ENTRYPOINT = 'keydrift/main/findings';

export interface PolicyBundle {
  wasm: Uint8Array;
  data: unknown;
  manifest: unknown;
}

/** Reads an `opa build -t wasm` bundle: a gzipped ustar archive with /policy.wasm, /data.json, /.manifest. */
export async function readBundle(file: string): Promise<PolicyBundle> {
  const files = untar(gunzipSync(await readFile(file)));
  const wasm = files.get('policy.wasm');
  if (!wasm) throw new Error(`${file}: no policy.wasm in the bundle (build it with "opa build -t wasm")`);
  const json = (name: string) => {
    const bytes = files.get(name);
    return bytes ? (JSON.parse(Buffer.from(bytes).toString('utf8')) as unknown) : null;
  };
  return { wasm, data: json('data.json') ?? {}, manifest: json('.manifest') };
}

function untar(archive: Uint8Array): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  const text = (from: number, length: number) =>
    Buffer.from(archive.subarray(from, from + length)).toString('utf8').replace(/\0.*$/s, '');
  let offset = 0;
  while (offset + 512 <= archive.length) {
    const name = text(offset, 100);
    if (name === '') break;
    const size = parseInt(text(offset + 124, 12).trim() || '0', 8);
    const type = text(offset + 156, 1);
    const prefix = text(offset + 345, 155);
    const full = (prefix ? `${prefix}/${name}` : name).replace(/^\/+/, '');
    if (type === '0' || type === '') files.set(full, archive.subarray(offset + 512, offset + 512 + size));
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  return files;
}
