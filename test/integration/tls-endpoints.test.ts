import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { tlsCollector } from '../../src/collectors/tls/collector.ts';
import type { SourceConfig, SourceError } from '../../src/model/source.ts';
import type { Finding } from '../../src/findings/types.ts';
import type { Report } from '../../src/report/types.ts';
import { quietContext } from '../support/collect.ts';
import type { InventoryItem } from '../../src/inventory/types.ts';
import { validator } from '../../src/util/schemas.ts';
import { makeCert, removeDir, tempDir, type TestCert } from '../support/certs.ts';
import { runCli } from '../support/cli.ts';
import { assertEvaluateAccepts } from '../support/evidence.ts';
import { assertReportsValid } from '../support/reports.ts';

async function collect(source: SourceConfig, baseDir?: string): Promise<{ items: InventoryItem[]; errors: SourceError[] }> {
  const items: InventoryItem[] = [];
  const ctx = quietContext(baseDir);
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
    await assertEvaluateAccepts(items);
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

function serve(cert: string, key: string): Promise<{ server: tls.Server; port: number }> {
  const server = tls.createServer({ cert, key });
  server.on('secureConnection', (socket) => socket.end());
  return listen(server).then((port) => ({ server, port }));
}

describe('trust and name of the chain a TLS endpoint presents (KD-CRT-006, KD-CRT-007)', () => {
  let dir: string;
  let root: TestCert;
  let intermediate: TestCert;
  const servers: tls.Server[] = [];
  // Ports of loopback servers, by what they present.
  const port = { selfSigned: 0, selfSignedElsewhere: 0, fullChain: 0, leafOnly: 0, ipLeaf: 0, wildcard: 0, expiredSelfSigned: 0 };
  let report: Report;
  let exitCode: number;
  const findingsOf = (sourceId: string): Finding[] => report.findings.filter((finding) => finding.resource.sourceId === sourceId);
  const rulesOf = (sourceId: string) => findingsOf(sourceId).map((finding) => finding.ruleId).sort();
  const leafOf = (sourceId: string) => report.inventory.find((item) => item.sourceId === sourceId && item.evidence['chainIndex'] === 0)!;

  before(async () => {
    dir = tempDir();
    root = makeCert(dir, { cn: 'Private Root', ca: true });
    intermediate = makeCert(dir, { cn: 'Private Issuing', ca: true, issuer: root });
    const shop = makeCert(dir, { cn: 'shop.test', issuer: intermediate });
    const self = makeCert(dir, { cn: 'self.test' });
    const ipLeaf = makeCert(dir, { cn: 'loopback', sans: ['IP:127.0.0.1'], issuer: intermediate });
    const wildcard = makeCert(dir, { cn: 'wildcard', sans: ['DNS:*.shop.test'], issuer: intermediate });
    const expiredSelf = makeCert(dir, { cn: 'old.test', notBefore: '2020-01-01T00:00:00Z', notAfter: '2021-01-01T00:00:00Z' });
    const started = {
      selfSigned: await serve(self.certPem, self.keyPem),
      // The same certificate on another port: a uid of its own (uids carry host:port).
      selfSignedElsewhere: await serve(self.certPem, self.keyPem),
      fullChain: await serve(shop.certPem + intermediate.certPem, shop.keyPem),
      leafOnly: await serve(shop.certPem, shop.keyPem),
      ipLeaf: await serve(ipLeaf.certPem + intermediate.certPem, ipLeaf.keyPem),
      wildcard: await serve(wildcard.certPem + intermediate.certPem, wildcard.keyPem),
      expiredSelfSigned: await serve(expiredSelf.certPem, expiredSelf.keyPem),
    };
    for (const [name, { server, port: listening }] of Object.entries(started)) {
      servers.push(server);
      port[name as keyof typeof port] = listening;
    }

    // One real scan through the CLI: collector, engine (the committed wasm bundle), report.
    writeFileSync(path.join(dir, 'root.pem'), root.certPem);
    writeFileSync(
      path.join(dir, 'keydrift.yaml'),
      [
        'version: 1',
        'sources:',
        `  - { id: wrong-host, type: tls, endpoints: [{ host: 127.0.0.1, port: ${port.selfSigned}, servername: www.example.test }] }`,
        `  - { id: private-ca, type: tls, caFile: root.pem, endpoints: [{ host: 127.0.0.1, port: ${port.fullChain}, servername: shop.test }] }`,
        `  - { id: incomplete, type: tls, caFile: root.pem, endpoints: [{ host: 127.0.0.1, port: ${port.leafOnly}, servername: shop.test }] }`,
        `  - { id: unjudged, type: tls, trustStore: none, endpoints: [{ host: 127.0.0.1, port: ${port.selfSignedElsewhere}, servername: www.example.test }] }`,
        `  - { id: mismatch, type: tls, caFile: root.pem, endpoints: [{ host: 127.0.0.1, port: ${port.fullChain}, servername: api.test }] }`,
        `  - { id: ip, type: tls, caFile: root.pem, endpoints: ["127.0.0.1:${port.ipLeaf}"] }`,
        '',
      ].join('\n'),
    );
    const out = path.join(dir, 'out');
    const run = await runCli(['scan', '--config', path.join(dir, 'keydrift.yaml'), '--now', new Date().toISOString(), '--out', out, '--format', 'json,sarif']);
    exitCode = run.code;
    assert.ok(run.code === 0 || run.code === 1, run.stderr);
    report = assertReportsValid(out);
  });

  after(() => {
    for (const server of servers) server.close();
    removeDir(dir);
  });

  test('every source was collected and the high findings fail the run', async () => {
    assert.deepEqual(report.sources.map((source) => [source.id, source.status]), [
      ['wrong-host', 'ok'], ['private-ca', 'ok'], ['incomplete', 'ok'], ['unjudged', 'ok'], ['mismatch', 'ok'], ['ip', 'ok'],
    ]);
    assert.equal(exitCode, 1);
    await assertEvaluateAccepts(report.inventory, report.sources);
  });

  test('a self-signed leaf for the wrong host, scanned with a servername, is untrusted and mismatched', () => {
    assert.deepEqual(rulesOf('wrong-host'), ['KD-CRT-006', 'KD-CRT-007']);
    const trust = findingsOf('wrong-host').find((finding) => finding.ruleId === 'KD-CRT-006')!;
    assert.equal(trust.severity, 'high');
    // The operating system's store, or Node's bundled roots where that is empty.
    const { store } = leafOf('wrong-host').evidence['trust'] as { store: string };
    assert.ok(store === 'system' || store === 'default', store);
    assert.deepEqual(trust.evidence, { trustStore: store, verifyError: 'DEPTH_ZERO_SELF_SIGNED_CERT', reason: 'untrusted' });
    assert.match(trust.message, /^The chain presented by 127\.0\.0\.1:\d+\/www\.example\.test is untrusted against the (system|default) trust store \(DEPTH_ZERO_SELF_SIGNED_CERT\)\.$/);
    const name = findingsOf('wrong-host').find((finding) => finding.ruleId === 'KD-CRT-007')!;
    assert.equal(name.evidence['expectedName'], 'www.example.test');
    assert.deepEqual(name.evidence['sans'], ['DNS:self.test']);
    assert.match(name.message, /^Certificate self\.test presented by .* is not valid for www\.example\.test: .*www\.example\.test.*DNS:self\.test/);
  });

  test('a private-CA leaf served with its intermediate, the root as caFile and the right name: neither rule fires', () => {
    assert.deepEqual(rulesOf('private-ca'), []);
    const leaf = leafOf('private-ca');
    assert.deepEqual(leaf.evidence['trust'], { store: 'file', caFile: 'root.pem', verified: true, error: null });
    assert.deepEqual(leaf.evidence['hostname'], { expected: 'shop.test', matches: true, error: null });
  });

  test('the same leaf served without its intermediate is an incomplete chain', () => {
    assert.deepEqual(rulesOf('incomplete'), ['KD-CRT-006']);
    const [finding] = findingsOf('incomplete');
    assert.deepEqual(finding!.evidence, { trustStore: 'file', verifyError: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', reason: 'incomplete' });
    assert.match(finding!.message, /is incomplete against the file trust store \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\)/);
  });

  test('trustStore none records the chain and judges neither trust nor name', () => {
    assert.deepEqual(rulesOf('unjudged'), []);
    const leaf = leafOf('unjudged');
    assert.deepEqual(leaf.evidence['trust'], { store: 'none', caFile: null, verified: null, error: null });
    assert.deepEqual(leaf.evidence['hostname'], { expected: 'www.example.test', matches: null, error: null });
  });

  test('a trusted chain for another name fires only KD-CRT-007', () => {
    assert.deepEqual(rulesOf('mismatch'), ['KD-CRT-007']);
    assert.equal(findingsOf('mismatch')[0]!.evidence['expectedName'], 'api.test');
  });

  test('an IP endpoint without a servername matches the leaf\'s IP SAN', () => {
    assert.deepEqual(rulesOf('ip'), []);
    assert.deepEqual(leafOf('ip').evidence['hostname'], { expected: '127.0.0.1', matches: true, error: null });
  });

  test('trust and name are recorded on the leaf only; issuers keep their evidence as before', () => {
    const issuers = report.inventory.filter((item) => item.sourceId === 'private-ca' && item.evidence['chainIndex'] !== 0);
    assert.ok(issuers.length > 0);
    for (const issuer of issuers) {
      assert.equal(issuer.evidence['trust'], undefined);
      assert.equal(issuer.evidence['hostname'], undefined);
    }
  });

  test('a wildcard SAN covers one label, not the bare domain or two labels', async () => {
    const scan = (servername: string) =>
      collect({ id: 'wild', type: 'tls', caFile: 'root.pem', endpoints: [{ host: '127.0.0.1', port: port.wildcard, servername }] }, dir);
    const matches = async (servername: string) => (await scan(servername)).items[0]!.evidence['hostname'] as { matches: boolean };
    assert.equal((await matches('www.shop.test')).matches, true);
    assert.equal((await matches('shop.test')).matches, false);
    assert.equal((await matches('a.b.shop.test')).matches, false);
  });

  test('an IP SAN does not cover a host name, and a DNS SAN does not cover an IP address', async () => {
    const byName = await collect({ id: 'ip', type: 'tls', caFile: 'root.pem', endpoints: [{ host: '127.0.0.1', port: port.ipLeaf, servername: 'localhost' }] }, dir);
    assert.equal((byName.items[0]!.evidence['hostname'] as { matches: boolean }).matches, false);
    const byIp = await collect({ id: 'shop', type: 'tls', caFile: 'root.pem', endpoints: [`127.0.0.1:${port.fullChain}`] }, dir);
    const hostname = byIp.items[0]!.evidence['hostname'] as { expected: string; matches: boolean; error: string };
    assert.equal(hostname.expected, '127.0.0.1');
    assert.equal(hostname.matches, false);
    assert.match(hostname.error, /IP: 127\.0\.0\.1 is not in the cert's list/);
  });

  test('an expired chain leaves trust unjudged: OpenSSL reports only the expiry, which KD-CRT-001 covers', async () => {
    const { items } = await collect({ id: 'old', type: 'tls', caFile: 'root.pem', endpoints: [`localhost:${port.expiredSelfSigned}`] }, dir);
    assert.deepEqual(items[0]!.evidence['trust'], { store: 'file', caFile: 'root.pem', verified: null, error: 'CERT_HAS_EXPIRED' });
  });

  test('a caFile that is missing or holds no certificate leaves trust unjudged and the source partial', async () => {
    writeFileSync(path.join(dir, 'not-a-ca.pem'), 'just some text\n');
    for (const [caFile, code, message] of [
      ['missing.pem', 'ca-file-unreadable', /^caFile .*missing\.pem: cannot read file \(ENOENT\)$/],
      ['not-a-ca.pem', 'ca-file-invalid', /^caFile .*not-a-ca\.pem: no PEM certificate in the file$/],
    ] as const) {
      const { items, errors } = await collect({ id: 'bad', type: 'tls', caFile, endpoints: [`localhost:${port.fullChain}`] }, dir);
      assert.equal(errors.length, 1);
      assert.equal(errors[0]!.code, code);
      assert.match(errors[0]!.message, message);
      assert.deepEqual(items[0]!.evidence['trust'], { store: 'file', caFile, verified: null, error: null });
      assert.equal((items[0]!.evidence['hostname'] as { matches: boolean }).matches, false, 'the name is still judged');
    }
  });

  test('trustStore none together with a caFile is a configuration error naming the field', async () => {
    const config = path.join(dir, 'contradiction.yaml');
    writeFileSync(config, `version: 1\nsources:\n  - id: edge\n    type: tls\n    trustStore: none\n    caFile: root.pem\n    endpoints: ["localhost:${port.fullChain}"]\n`);
    const run = await runCli(['scan', '--config', config, '--out', path.join(dir, 'never')]);
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /contradiction\.yaml:5:\d+: sources\[0\]\.trustStore: must be "system"/);
  });
});
