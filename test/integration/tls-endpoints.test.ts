import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { tlsCollector } from '../../src/collectors/tls/collector.ts';
import type { SourceConfig, SourceError } from '../../src/collectors/types.ts';
import { quietContext } from '../support/collect.ts';
import type { InventoryItem } from '../../src/inventory/types.ts';
import { validator } from '../../src/util/schemas.ts';
import { makeCert, removeDir, tempDir, type TestCert } from '../support/certs.ts';

async function collect(source: SourceConfig): Promise<{ items: InventoryItem[]; errors: SourceError[] }> {
  const items: InventoryItem[] = [];
  const ctx = quietContext();
  const errors = ctx.errors;
  const validate = validator('inventory-item');
  for await (const item of tlsCollector.collect(source, ctx)) {
    // Every collected item must match the published inventory item schema.
    assert.ok(validate(item), `${item.uid}: ${JSON.stringify(validate.errors)}`);
    items.push(item);
  }
  return { items, errors };
}

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));
}

describe('tls source against real node:tls servers on loopback', () => {
  let dir: string;
  let root: TestCert;
  let intermediate: TestCert;
  let shop: TestCert;
  let api: TestCert;
  let server: tls.Server;
  let port: number;
  const sockets = new Set<net.Socket>();
  let hanging: net.Server;
  let hangingPort: number;

  before(async () => {
    dir = tempDir();
    root = makeCert(dir, { cn: 'Test Root', key: 'rsa:2048', ca: true });
    intermediate = makeCert(dir, { cn: 'Test Issuing', key: 'ec:P-384', ca: true, issuer: root });
    shop = makeCert(dir, { cn: 'shop.test', key: 'ec:P-256', issuer: intermediate });
    api = makeCert(dir, { cn: 'api.test', key: 'rsa:2048', md: 'sha1', issuer: intermediate });
    const contexts = new Map([
      ['shop.test', tls.createSecureContext({ cert: shop.certPem + intermediate.certPem, key: shop.keyPem })],
      ['api.test', tls.createSecureContext({ cert: api.certPem, key: api.keyPem })],
    ]);
    server = tls.createServer({
      cert: shop.certPem + intermediate.certPem,
      key: shop.keyPem,
      SNICallback: (name, done) => done(null, contexts.get(name) ?? contexts.get('shop.test')),
    });
    server.on('secureConnection', (socket) => socket.end());
    port = await listen(server);
    // Accepts TCP and never answers the ClientHello: a handshake that hangs.
    hanging = net.createServer((socket) => sockets.add(socket));
    hangingPort = await listen(hanging);
  });

  after(() => {
    for (const socket of sockets) socket.destroy();
    server.close();
    hanging.close();
    removeDir(dir);
  });

  test('collects the full presented chain, leaf first, each item valid against the inventory schema', async () => {
    const { items, errors } = await collect({ id: 'edge', type: 'tls', endpoints: [`localhost:${port}`] });
    assert.deepEqual(errors, []);
    assert.equal(items.length, 2);
    const [leaf, issuer] = items as [InventoryItem, InventoryItem];
    assert.equal(leaf.name, 'shop.test');
    assert.equal(leaf.provider, 'tls-endpoint');
    assert.equal(leaf.algorithm, 'EC-P256');
    assert.equal(leaf.certificate?.isCA, false);
    assert.equal(leaf.evidence['chainIndex'], 0);
    assert.equal(issuer.name, 'Test Issuing');
    assert.equal(issuer.algorithm, 'EC-P384');
    assert.equal(issuer.certificate?.isCA, true);
    assert.match(leaf.uid, new RegExp(`^tls://localhost:${port}#sha256:[0-9a-f]{64}$`));
    const validate = validator('inventory-item');
    for (const item of items) assert.ok(validate(item), JSON.stringify(validate.errors));
  });

  test('sends SNI: the server name picks the certificate', async () => {
    const { items, errors } = await collect({
      id: 'edge',
      type: 'tls',
      endpoints: [{ host: '127.0.0.1', port, servername: 'api.test' }],
    });
    assert.deepEqual(errors, []);
    assert.equal(items[0]?.name, 'api.test');
    assert.equal(items[0]?.certificate?.signatureAlgorithm, 'ECDSA-SHA1'); // signed by the EC intermediate
    assert.equal(items[0]?.location, `127.0.0.1:${port}/api.test`);
  });

  test('a refused port is a source error naming the endpoint; other endpoints are still collected', async () => {
    const closed = net.createServer();
    const closedPort = await listen(closed);
    await new Promise((resolve) => closed.close(resolve));
    const { items, errors } = await collect({
      id: 'edge',
      type: 'tls',
      endpoints: [`127.0.0.1:${closedPort}`, `localhost:${port}`],
    });
    assert.equal(items.length, 2);
    assert.equal(errors.length, 1);
    assert.equal(errors[0]?.code, 'tls-unreachable');
    assert.match(errors[0]!.message, new RegExp(`127\\.0\\.0\\.1:${closedPort}: connection refused`));
  });

  test('a server that never completes the handshake times out after timeoutMs', async () => {
    const { items, errors } = await collect({ id: 'edge', type: 'tls', endpoints: [`127.0.0.1:${hangingPort}`], timeoutMs: 300 });
    assert.equal(items.length, 0);
    assert.equal(errors[0]?.code, 'tls-timeout');
    assert.match(errors[0]!.message, /no TLS handshake within 300 ms/);
  });

  test('a malformed endpoint is reported, not thrown', async () => {
    const { errors } = await collect({ id: 'edge', type: 'tls', endpoints: ['host:99999'] });
    assert.equal(errors[0]?.code, 'endpoint-invalid');
  });
});
