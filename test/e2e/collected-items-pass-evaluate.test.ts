import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { COLLECTORS } from '../../src/collectors/registry.ts';
import type { InventoryFile } from '../../src/inventory/file.ts';
import { makeCert, removeDir, tempDir } from '../support/certs.ts';
import { REPO, runCli } from '../support/cli.ts';
import { assertEvaluateAccepts } from '../support/evidence.ts';

// What a scan collects, `evaluate` accepts: for every collector, the inventory written by
// `keydrift inventory` from that collector's test estate is accepted by `keydrift evaluate`.
// The file and loopback collectors are run here, as processes; the collectors with a backend
// (emulators, a Vault dev server, SoftHSM) prove it in their own integration test, with the same
// check (test/support/evidence.ts), on what they collected from that backend.

const NOW = '2026-11-01T00:00:00Z';

/** Config type -> the tests that run its collector's output through assertEvaluateAccepts. */
const PROVEN_IN: Record<string, string[]> = {
  'x509-files': ['test/e2e/collected-items-pass-evaluate.test.ts'],
  tls: ['test/e2e/collected-items-pass-evaluate.test.ts', 'test/integration/tls-endpoints.test.ts'],
  snapshot: ['test/e2e/collected-items-pass-evaluate.test.ts'],
  'aws-kms': ['test/integration/aws-moto-scan.test.ts', 'test/integration/aws-local-kms-scan.test.ts'],
  'aws-acm': ['test/integration/aws-moto-scan.test.ts'],
  'gcp-kms': ['test/integration/gcp-kms-scan.test.ts'],
  vault: ['test/integration/vault-scan.test.ts'],
  pkcs11: ['test/integration/pkcs11-softhsm-scan.test.ts'],
  terraform: ['test/e2e/cli-terraform-scan.test.ts'],
  cloudformation: ['test/e2e/cli-cloudformation-scan.test.ts'],
  kubernetes: ['test/e2e/cli-kubernetes-scan.test.ts'],
};

describe('scan output always passes evaluate', () => {
  let dir: string;
  let server: tls.Server;
  let port: number;
  const sockets = new Set<net.Socket>();

  before(async () => {
    dir = tempDir();
    const certs = path.join(dir, 'certs');
    mkdirSync(certs);
    // A spread of what certificate files hold: chains, CAs, weak and odd keys, expired, DER, PKCS#7, IP SANs.
    const root = makeCert(dir, { cn: 'Contract Root', key: 'rsa:2048', ca: true, notBefore: '2026-01-01T00:00:00Z', notAfter: '2036-01-01T00:00:00Z' });
    const issuing = makeCert(dir, { cn: 'Contract Issuing', key: 'ec:P-384', ca: true, issuer: root });
    const leaf = makeCert(dir, { cn: 'shop.test', key: 'ec:P-256', issuer: issuing, sans: ['DNS:shop.test', 'DNS:*.shop.test', 'IP:127.0.0.1'] });
    const weak = makeCert(dir, { cn: 'legacy.test', key: 'rsa:1024', md: 'sha1' });
    const edwards = makeCert(dir, { cn: 'ed.test', key: 'ed25519' });
    const expired = makeCert(dir, { cn: 'old.test', notBefore: '2025-01-01T00:00:00Z', notAfter: '2025-06-01T00:00:00Z' });
    writeFileSync(path.join(certs, 'chain.pem'), leaf.certPem + issuing.certPem + root.certPem);
    writeFileSync(path.join(certs, 'legacy.pem'), weak.keyPem + weak.certPem);
    writeFileSync(path.join(certs, 'ed.der'), edwards.der);
    writeFileSync(path.join(certs, 'old.crt'), expired.certPem);
    execFileSync('openssl', ['crl2pkcs7', '-nocrl', '-certfile', leaf.certPath, '-certfile', issuing.certPath, '-outform', 'DER', '-out', path.join(certs, 'chain.p7b')]);

    server = tls.createServer({ cert: leaf.certPem + issuing.certPem, key: leaf.keyPem });
    server.on('secureConnection', (socket) => socket.end());
    server.on('connection', (socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));

    writeFileSync(
      path.join(dir, 'live.yaml'),
      [
        'version: 1',
        'sources:',
        '  - { id: files, type: x509-files, paths: ["certs/*"] }',
        `  - { id: edge, type: tls, endpoints: [{ host: 127.0.0.1, port: ${port}, servername: shop.test }] }`,
        '',
      ].join('\n'),
    );
    writeFileSync(path.join(dir, 'replay.yaml'), 'version: 1\nsources:\n  - { id: saved, type: snapshot, path: live-inventory.json }\n');
  });
  after(() => {
    for (const socket of sockets) socket.destroy();
    server?.close();
    removeDir(dir);
  });

  /** `keydrift inventory`, then `keydrift evaluate` on what it wrote: evaluate must accept it. */
  async function inventoryThenEvaluate(config: string, output: string): Promise<InventoryFile> {
    const written = path.join(dir, output);
    const collected = await runCli(['inventory', '--config', path.join(dir, config), '--output', written, '--now', NOW]);
    assert.equal(collected.code, 0, collected.stderr);
    const inventory = JSON.parse(readFileSync(written, 'utf8')) as InventoryFile;
    await assertEvaluateAccepts(inventory.items, inventory.sources);
    const evaluated = await runCli(['evaluate', '--inventory', written, '--now', NOW, '--out', path.join(dir, `out-${config}`), '--format', 'json']);
    // 0 or 1 by the findings; 2 would mean evaluate refused what inventory wrote.
    assert.ok(evaluated.code === 0 || evaluated.code === 1, `evaluate exited ${evaluated.code}: ${evaluated.stderr}`);
    return inventory;
  }

  test('x509-files and tls: the inventory they write is accepted by evaluate', async () => {
    const inventory = await inventoryThenEvaluate('live.yaml', 'live-inventory.json');
    assert.deepEqual(inventory.sources.map((source) => `${source.id} ${source.status}`), ['files ok', 'edge ok']);
    const providers = new Set(inventory.items.map((item) => item.provider));
    assert.deepEqual([...providers].sort(), ['tls-endpoint', 'x509-file']);
    assert.ok(inventory.items.length >= 8, `${inventory.items.length} items`);
  });

  test('snapshot: replaying a saved inventory writes one evaluate accepts', async () => {
    const original = JSON.parse(readFileSync(path.join(dir, 'live-inventory.json'), 'utf8')) as InventoryFile;
    const replayed = await inventoryThenEvaluate('replay.yaml', 'replayed-inventory.json');
    assert.equal(replayed.items.length, original.items.length);
  });

  test('every registered collector has a test that runs its output through the check', () => {
    assert.deepEqual(Object.keys(PROVEN_IN).sort(), [...COLLECTORS.keys()].sort(), 'a collector was added or removed: name the test that proves its output passes evaluate');
    for (const [type, files] of Object.entries(PROVEN_IN)) {
      for (const file of files) {
        assert.ok(readFileSync(path.join(REPO, file), 'utf8').includes('assertEvaluateAccepts('), `${type}: ${file} does not call assertEvaluateAccepts`);
      }
    }
  });
});
