import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { readCertificateFile } from '../../src/certificates/certificate-file.ts';
import { x509FilesCollector } from '../../src/collectors/x509/files.ts';
import { displayPath } from '../../src/util/paths.ts';
import { quietContext } from '../support/collect.ts';
import { makeCert, makePkcs7, removeDir, tempDir } from '../support/certs.ts';

// Damaged certificate files must never crash the x509-files source, hang it, or read as "no
// certificates here" (which would turn an expired certificate into a compliant scan). Seeded, so a
// failure names a case that can be replayed: CASES cases through the parser the collector uses,
// and a sample through the real collector over files on disk.

const SEED = 0x6b657964; // "keyd"
const CASES = 10_000;
const ON_DISK = 300;
/** Far beyond any honest parse (a few milliseconds): a case this slow counts as a hang. */
const HANG_MS = 2_000;

/** mulberry32: a tiny deterministic PRNG, so the cases are the same on every run and machine. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Seed {
  name: string;
  bytes: Buffer;
  pem: boolean;
}

type Random = () => number;
type Mutation = (bytes: Buffer, random: Random, seed: Seed) => Buffer;

const int = (random: Random, below: number) => Math.floor(random() * below);
const pick = <T>(random: Random, list: readonly T[]): T => list[int(random, list.length)]!;
const randomBytes = (random: Random, count: number) => Buffer.from(Array.from({ length: count }, () => int(random, 256)));

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Offsets of the DER headers (tag, then length) in a certificate-like structure, found by a shallow walk. */
function headerOffsets(der: Buffer): number[] {
  const offsets: number[] = [];
  const walk = (start: number, end: number, depth: number) => {
    let offset = start;
    while (offset + 2 <= end && depth < 6) {
      const tag = der[offset]!;
      let length = der[offset + 1]!;
      let header = 2;
      if (length & 0x80) {
        const count = length & 0x7f;
        if (count === 0 || count > 4 || offset + 2 + count > end) return;
        length = 0;
        for (let i = 0; i < count; i++) length = length * 256 + der[offset + 2 + i]!;
        header += count;
      }
      if (offset + header + length > end) return;
      offsets.push(offset);
      if (tag & 0x20) walk(offset + header, offset + header + length, depth + 1);
      offset += header + length;
    }
  };
  walk(0, der.length, 0);
  return offsets;
}

/** Applies `change` to the DER inside one PEM block (re-encoding it), or to the bytes themselves for DER files. */
function inDer(bytes: Buffer, random: Random, seed: Seed, change: (der: Buffer) => Buffer): Buffer {
  if (!seed.pem) return change(Buffer.from(bytes));
  const text = bytes.toString('latin1');
  const blocks = [...text.matchAll(/(-----BEGIN [^-]+-----\r?\n)([A-Za-z0-9+/=\r\n]+?)(-----END [^-]+-----)/g)];
  if (blocks.length === 0) return bytes;
  const block = pick(random, blocks);
  const der = change(Buffer.from(block[2]!.replace(/\s+/g, ''), 'base64'));
  const body = der.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n?$/, '\n');
  const start = block.index! + block[1]!.length;
  return Buffer.from(text.slice(0, start) + body + text.slice(start + block[2]!.length), 'latin1');
}

const MUTATIONS: Record<string, Mutation> = {
  flipByte: (bytes, random) => {
    if (bytes.length === 0) return bytes;
    const out = Buffer.from(bytes);
    out[int(random, out.length)]! ^= 1 + int(random, 255);
    return out;
  },
  truncate: (bytes, random) => bytes.subarray(0, int(random, bytes.length)),
  insertBytes: (bytes, random) => {
    const at = int(random, bytes.length + 1);
    return Buffer.concat([bytes.subarray(0, at), randomBytes(random, 1 + int(random, 8)), bytes.subarray(at)]);
  },
  deleteBytes: (bytes, random) => {
    const at = int(random, bytes.length);
    return Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1 + int(random, 16))]);
  },
  lineEndings: (bytes, random) => {
    const text = bytes.toString('latin1').replace(/\r\n|\r/g, '\n');
    const style = int(random, 3);
    const changed = style === 0 ? text.replaceAll('\n', '\r') : style === 1 ? text.replaceAll('\n', '\r\n') : text.replace(/\n/g, () => pick(random, ['\n', '\r', '\r\n']));
    return Buffer.from(changed, 'latin1');
  },
  mangleLabel: (bytes, random) => {
    const text = bytes.toString('latin1');
    const boundaries = [...text.matchAll(/-----(BEGIN|END) ([^-\r\n]*)-----/g)];
    if (boundaries.length === 0) return MUTATIONS['flipByte']!(bytes, random, { name: '', bytes, pem: false });
    const boundary = pick(random, boundaries);
    const line = boundary[0];
    const label = boundary[2]!;
    const position = int(random, Math.max(1, label.length));
    const damaged = pick(random, [
      () => line.replace(label, label.slice(0, position) + pick(random, ['X', 'x', '#', ' ', '']) + label.slice(position + 1)),
      () => line.replace(label, label.toLowerCase()),
      () => line.slice(1), // "----BEGIN ..."
      () => line.slice(0, -1), // "...----"
      () => line.slice(0, 5 + int(random, line.length - 5)), // a truncated boundary line
      () => line.replace(boundary[1]!, boundary[1]!.slice(0, 3) + 'X' + boundary[1]!.slice(4)), // "BEGXN"
      () => line.replace(' ', ''), // "-----BEGINCERTIFICATE-----"
      () => line.replace(label, `${label} ${label}`),
    ])();
    return Buffer.from(text.slice(0, boundary.index) + damaged + text.slice(boundary.index! + line.length), 'latin1');
  },
  base64Corrupt: (bytes, random, seed) => {
    if (!seed.pem) return MUTATIONS['flipByte']!(bytes, random, seed);
    const text = bytes.toString('latin1');
    const lines = text.split('\n');
    const body = lines.map((line, index) => [line, index] as const).filter(([line]) => /^[A-Za-z0-9+/=]+\r?$/.test(line));
    if (body.length === 0) return bytes;
    const [line, index] = pick(random, body);
    const at = int(random, line.length);
    lines[index] = pick(random, [
      () => line.slice(0, at) + pick(random, BASE64.split('')) + line.slice(at + 1),
      () => line.slice(0, at) + pick(random, ['!', '*', '-', '_', '.', ' ', '\t', '=', ':']) + line.slice(at + 1),
      () => line.slice(0, at) + line.slice(at + 1),
      () => line.slice(0, at) + '=' + line.slice(at),
      () => '',
    ])();
    return Buffer.from(lines.join('\n'), 'latin1');
  },
  derLength: (bytes, random, seed) =>
    inDer(bytes, random, seed, (der) => {
      const offsets = headerOffsets(der);
      if (offsets.length === 0) return der;
      const offset = pick(random, offsets) + 1;
      if (offset >= der.length) return der;
      der[offset] = pick(random, [0x00, 0x7f, 0x80, 0x81, 0x84, 0x85, 0xff, (der[offset]! + 1) & 0xff, (der[offset]! - 1) & 0xff]);
      return der;
    }),
  derTag: (bytes, random, seed) =>
    inDer(bytes, random, seed, (der) => {
      const offsets = headerOffsets(der);
      if (offsets.length === 0) return der;
      der[pick(random, offsets)] = pick(random, [0x02, 0x03, 0x04, 0x05, 0x06, 0x1f, 0x30, 0x31, 0xa0, 0xa3, 0xff]);
      return der;
    }),
  duplicate: (bytes, random) => {
    const start = int(random, bytes.length);
    const slice = bytes.subarray(start, start + 1 + int(random, Math.max(1, bytes.length - start)));
    const at = int(random, bytes.length + 1);
    return random() < 0.3 ? Buffer.concat([bytes, bytes]) : Buffer.concat([bytes.subarray(0, at), slice, bytes.subarray(at)]);
  },
};

const NAMES = Object.keys(MUTATIONS);

interface Case {
  id: number;
  seed: string;
  mutations: string[];
  bytes: Buffer;
}

/** Case `id` is fully determined by the seed and its id, so one failing case can be rebuilt alone. */
function makeCase(id: number, seeds: Seed[]): Case {
  const random = prng(SEED ^ Math.imul(id + 1, 0x9e3779b1));
  const seed = seeds[id % seeds.length]!;
  const mutations: string[] = [];
  let bytes = seed.bytes;
  const count = 1 + int(random, 3);
  for (let i = 0; i < count; i++) {
    const name = pick(random, NAMES);
    mutations.push(name);
    bytes = MUTATIONS[name]!(bytes, random, seed);
  }
  return { id, seed: seed.name, mutations, bytes };
}

describe('certificate file fuzzing', () => {
  let dir: string;
  let seeds: Seed[];

  before(() => {
    dir = tempDir();
    const root = makeCert(dir, { cn: 'Fuzz Root', key: 'rsa:2048', ca: true, notBefore: '2020-01-01T00:00:00Z', notAfter: '2035-01-01T00:00:00Z' });
    const leaf = makeCert(dir, { cn: 'fuzz.test', key: 'ec:P-256', issuer: root, notBefore: '2025-01-01T00:00:00Z', notAfter: '2026-01-01T00:00:00Z' });
    const edwards = makeCert(dir, { cn: 'ed.fuzz.test', key: 'ed25519', issuer: root });
    const pkcs7Der = readFileSync(makePkcs7(dir, [leaf, root], 'DER', 'seed.p7b'));
    const pkcs7Pem = readFileSync(makePkcs7(dir, [edwards, root], 'PEM', 'seed.p7c'));
    seeds = [
      { name: 'pem', bytes: Buffer.from(leaf.certPem), pem: true },
      { name: 'pem-chain', bytes: Buffer.from(`# chain\n${leaf.certPem}${edwards.certPem}${root.certPem}`), pem: true },
      { name: 'der', bytes: leaf.der, pem: false },
      { name: 'der-rsa', bytes: root.der, pem: false },
      { name: 'pkcs7-der', bytes: pkcs7Der, pem: false },
      { name: 'pkcs7-pem', bytes: pkcs7Pem, pem: true },
    ];
    // The seeds themselves are clean: every certificate read, no problem.
    for (const seed of seeds) {
      const contents = readCertificateFile(seed.bytes);
      assert.deepEqual(contents.problems, [], seed.name);
      assert.ok(contents.certificates.length > 0, seed.name);
    }
  });

  after(() => removeDir(dir));

  test(`${CASES} damaged files through the parser: no crash, no hang, none silent`, (t) => {
    const crashes: string[] = [];
    const hangs: string[] = [];
    const silent: string[] = [];
    const leaks: string[] = [];
    const outcome = { itemsOnly: 0, errorsOnly: 0, itemsAndErrors: 0 };
    const bySeed = new Map<string, number>();
    let slowest = 0;
    for (let id = 0; id < CASES; id++) {
      const fuzzCase = makeCase(id, seeds);
      const name = `case ${id} (${fuzzCase.seed}: ${fuzzCase.mutations.join(', ')})`;
      bySeed.set(fuzzCase.seed, (bySeed.get(fuzzCase.seed) ?? 0) + 1);
      const started = performance.now();
      let contents;
      try {
        contents = readCertificateFile(fuzzCase.bytes);
      } catch (error) {
        crashes.push(`${name}: ${(error as Error).stack}`);
        continue;
      }
      const elapsed = performance.now() - started;
      slowest = Math.max(slowest, elapsed);
      if (elapsed > HANG_MS) hangs.push(`${name}: ${Math.round(elapsed)} ms`);
      const items = contents.certificates.length > 0;
      const errors = contents.problems.length > 0;
      if (!items && !errors) silent.push(`${name}: skipped ${JSON.stringify(contents.skipped)}`);
      else if (items && errors) outcome.itemsAndErrors++;
      else if (items) outcome.itemsOnly++;
      else outcome.errorsOnly++;
      // Our words only: node:crypto's "PEM routines::no start line" for a DER failure misleads.
      for (const problem of contents.problems) {
        if (/routines|error:[0-9A-F]{8}|TypeError|Cannot read|stack size/.test(problem.message)) leaks.push(`${name}: ${problem.message}`);
      }
    }
    t.diagnostic(`cases: ${CASES} (${[...bySeed].map(([seed, count]) => `${seed} ${count}`).join(', ')})`);
    t.diagnostic(`outcomes: items only ${outcome.itemsOnly}, errors only ${outcome.errorsOnly}, items and errors ${outcome.itemsAndErrors}`);
    t.diagnostic(`crashes ${crashes.length}, hangs ${hangs.length}, silent ${silent.length}; slowest case ${slowest.toFixed(1)} ms`);
    assert.deepEqual(crashes.slice(0, 5), []);
    assert.deepEqual(hangs.slice(0, 5), []);
    assert.deepEqual(silent.slice(0, 5), []);
    assert.deepEqual(leaks.slice(0, 5), []);
    assert.equal(outcome.itemsOnly + outcome.errorsOnly + outcome.itemsAndErrors, CASES);
  });

  test(`${ON_DISK} damaged files through the x509-files collector: every file yields an item or an error`, async (t) => {
    const cases = path.join(dir, 'cases');
    mkdirSync(cases);
    const files = new Map<string, string>();
    for (let i = 0; i < ON_DISK; i++) {
      // Spread over the whole case space, not just its start.
      const fuzzCase = makeCase(Math.floor((i * CASES) / ON_DISK) + 7, seeds);
      const file = path.join(cases, `case-${fuzzCase.id}.${fuzzCase.seed.startsWith('pem') ? 'pem' : 'der'}`);
      writeFileSync(file, fuzzCase.bytes);
      files.set(displayPath(file), `case ${fuzzCase.id} (${fuzzCase.seed}: ${fuzzCase.mutations.join(', ')})`);
    }
    const ctx = quietContext(dir);
    const items: string[] = [];
    const run = (async () => {
      for await (const item of x509FilesCollector.collect({ id: 'fuzz', type: 'x509-files', paths: ['cases/*'] }, ctx)) {
        items.push(item.location);
      }
    })();
    let timer: NodeJS.Timeout | undefined;
    const hung = new Promise<'hung'>((resolve) => (timer = setTimeout(() => resolve('hung'), 60_000)));
    // A crash rejects `run` and fails the test here with the collector's own error.
    const result = await Promise.race([run.then(() => 'done' as const), hung]);
    clearTimeout(timer);
    assert.equal(result, 'done', 'the collector did not finish within 60 s');
    const withItem = new Set(items);
    const withError = new Set(ctx.errors.map((error) => error.resource));
    const silent = [...files].filter(([file]) => !withItem.has(file) && !withError.has(file)).map(([, name]) => name);
    t.diagnostic(`files: ${files.size}; with items ${withItem.size}, with errors ${withError.size}, silent ${silent.length}`);
    assert.deepEqual(silent.slice(0, 5), []);
    for (const error of ctx.errors) {
      assert.doesNotMatch(error.message, /routines|error:[0-9A-F]{8}/, error.message);
      assert.ok(files.has(error.resource ?? ''), `error about an unexpected resource: ${error.message}`);
    }
  });
});
