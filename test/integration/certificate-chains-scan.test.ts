import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import type net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { effectivePolicy } from '../../src/config/settings.ts';
import { tlsCollector } from '../../src/collectors/tls/collector.ts';
import { x509FilesCollector } from '../../src/collectors/x509/files.ts';
import { PolicyEngine } from '../../src/engine/engine.ts';
import type { RawFinding } from '../../src/findings/types.ts';
import type { InventoryItem } from '../../src/inventory/types.ts';
import type { Profile } from '../../src/model/profile.ts';
import type { SourceConfig, SourceStatus } from '../../src/model/source.ts';
import { quietContext } from '../support/collect.ts';
import { makeCert, removeDir, tempDir, type TestCert } from '../support/certs.ts';

// Certificates the openssl CLI makes, in files and on loopback TLS servers, through the real
// x509-files and tls collectors and the committed policy bundle. The expected findings are
// written by hand from docs/rule-semantics.md (trust anchors, issuer relations, chains, key
// reuse, revocation pointers, names, curves, lifetime-scaled expiry windows), not taken from a run.

const DAY = 86_400_000;

describe('certificate chains and relations in files and on TLS endpoints', () => {
  let dir: string;
  let now: Date;
  let items: InventoryItem[];
  let sources: SourceStatus[];
  let engine: PolicyEngine;
  const servers: tls.Server[] = [];

  const at = (days: number) => new Date(now.getTime() + days * DAY).toISOString();
  const findings = (profile: Profile): RawFinding[] => engine.evaluate({ items, sources, now, policy: effectivePolicy({ policy: { profile } }) });
  const byResource = (list: RawFinding[]) =>
    list
      .filter((finding) => finding.rule.startsWith('KD-CRT'))
      .map((finding) => `${finding.rule} ${finding.severity} ${label(items.find((item) => item.uid === finding.uid)!)}`)
      .sort();

  before(async () => {
    dir = tempDir();
    // Midnight UTC today: the scan clock, so day counts come out whole.
    now = new Date(Math.floor(Date.now() / DAY) * DAY);
    const certs = path.join(dir, 'certs');
    for (const folder of ['ca', 'web']) mkdirSync(path.join(certs, folder), { recursive: true });
    const write = (file: string, ...pems: TestCert[]) => writeFileSync(path.join(certs, file), pems.map((cert) => cert.certPem).join(''));

    const root = makeCert(dir, { cn: 'Chains Root', key: 'rsa:2048', ca: true, notBefore: at(-400), notAfter: at(3650) });
    const v1Root = makeCert(dir, { cn: 'Chains V1 Root', key: 'rsa:2048', v1: true, md: 'sha1', notBefore: at(-4000), notAfter: at(3000) });
    const issuingA = makeCert(dir, { cn: 'Chains Issuing A', key: 'ec:P-384', ca: true, issuer: root, notBefore: at(-100), notAfter: at(40) });
    const issuingB = makeCert(dir, { cn: 'Chains Issuing B', key: 'ec:P-384', ca: true, issuer: root, notBefore: at(-100), notAfter: at(1000) });
    write('ca/root.pem', root);
    write('ca/v1-root.pem', v1Root);
    write('ca/issuing-a.pem', issuingA);
    write('ca/issuing-b.pem', issuingB);

    const leaf = (cn: string, options: Partial<Parameters<typeof makeCert>[1]> = {}) =>
      makeCert(dir, { cn, issuer: issuingB, notBefore: at(-10), notAfter: at(80), ...options });
    write('web/outlives.pem', leaf('outlives.test', { issuer: issuingA, notAfter: at(100) }));
    const ok = leaf('ok.test');
    write('web/fullchain-ok.pem', ok, issuingB);
    write('web/fullchain-wrong.pem', leaf('wrong.test'), issuingA);
    const first = leaf('www.renew.test', { notBefore: at(-60), notAfter: at(35) });
    write('web/renew-1.pem', first);
    write('web/renew-2.pem', leaf('www.renew.test', { keyFrom: first, notBefore: at(-5), notAfter: at(85) }));
    write('web/norev.pem', leaf('norev.test', { crl: false }));
    write('web/norev-from-root.pem', leaf('rootleaf.test', { issuer: root, crl: false }));
    write('web/wildcard.pem', leaf('wild.test', { sans: ['DNS:*.wild.test'] }));
    write('web/cn-only.pem', leaf('cn-only.test', { sans: [] }));
    write('web/client.pem', leaf('svc-account-7', { sans: [], extendedKeyUsage: 'clientAuth' }));
    write('web/k1.pem', leaf('k1.test', { key: 'ec:secp256k1' }));
    write('web/selfsigned-v3-sha1.pem', makeCert(dir, { cn: 'appliance.test', key: 'rsa:2048', md: 'sha1', notBefore: at(-300), notAfter: at(3350) }));
    // 47 days of validity, 20 left: inside the fixed 30 days, outside a third of the lifetime (16 days)
    write('web/short-47d.pem', leaf('short.test', { notBefore: at(-27), notAfter: new Date(now.getTime() + 20 * DAY - 1000).toISOString() }));

    const served = leaf('served.test');
    // One server per source: an item's uid is the endpoint and the certificate.
    const leafOnly = await serve(served.certPem, served.keyPem);
    const leafOnlyAgain = await serve(served.certPem, served.keyPem);
    const withChain = await serve(served.certPem + issuingB.certPem, served.keyPem);
    servers.push(leafOnly.server, leafOnlyAgain.server, withChain.server);
    writeFileSync(path.join(dir, 'root.pem'), root.certPem);

    const sourceConfigs: SourceConfig[] = [
      { id: 'files', type: 'x509-files', paths: ['certs/**/*.pem'] } as SourceConfig,
      { id: 'leaf-only-unjudged', type: 'tls', trustStore: 'none', endpoints: [{ host: '127.0.0.1', port: leafOnly.port, servername: 'served.test' }] } as SourceConfig,
      { id: 'leaf-only-trusted-root', type: 'tls', caFile: 'root.pem', endpoints: [{ host: '127.0.0.1', port: leafOnlyAgain.port, servername: 'served.test' }] } as SourceConfig,
      { id: 'full-chain', type: 'tls', caFile: 'root.pem', endpoints: [{ host: '127.0.0.1', port: withChain.port, servername: 'served.test' }] } as SourceConfig,
    ];
    items = [];
    sources = [];
    for (const source of sourceConfigs) {
      const ctx = quietContext(dir);
      const collector = source.type === 'tls' ? tlsCollector : x509FilesCollector;
      let count = 0;
      for await (const item of collector.collect(source, ctx)) {
        items.push(item);
        count++;
      }
      assert.deepEqual(ctx.errors, [], source.id);
      sources.push({ id: source.id, type: source.type, status: 'ok', items: count, errors: [] });
    }
    // A small batch size, so certificates and their issuers land in different batches.
    engine = await PolicyEngine.load(undefined, 3);
  });

  after(() => {
    for (const server of servers) server.close();
    removeDir(dir);
  });

  const DEFAULT_EXPECTED = [
    // valid 60 days after Issuing A, which issued it (authorityKeyIdentifier = A's subjectKeyIdentifier)
    'KD-CRT-008 medium web/outlives.pem outlives.test',
    // a bundle of the leaf and a CA that is not its issuer
    'KD-CRT-009 medium web/fullchain-wrong.pem wrong.test',
    // the second certificate for www.renew.test on the first one's key pair
    'KD-CRT-010 low web/renew-2.pem www.renew.test',
    // issued by Issuing B (a subordinate CA in the inventory), no CRL or OCSP pointer
    'KD-CRT-011 medium web/norev.pem norev.test',
    'KD-CRT-012 low web/wildcard.pem wild.test',
    'KD-CRT-013 medium web/cn-only.pem cn-only.test',
    // self-signed v3 without cA: a leaf, not a trust anchor
    'KD-CRT-003 medium web/selfsigned-v3-sha1.pem appliance.test',
    'KD-CRT-005 high web/selfsigned-v3-sha1.pem appliance.test',
    // 20 days left, within the fixed 30
    'KD-CRT-002 medium web/short-47d.pem short.test',
    // only the leaf served and trust not judged
    'KD-CRT-009 high leaf-only-unjudged served.test',
    // only the leaf served, OpenSSL could not find its issuer: KD-CRT-006, not KD-CRT-009 again
    'KD-CRT-006 high leaf-only-trusted-root served.test',
  ].sort();

  test('default profile: exactly the hand-written findings', () => {
    assert.deepEqual(byResource(findings('default')), DEFAULT_EXPECTED);
  });

  test('public-tls: secp256k1 is not a BR curve, and the 47-day certificate is not yet in its renewal third', () => {
    const expected = [...DEFAULT_EXPECTED.filter((line) => !line.startsWith('KD-CRT-002 medium web/short-47d.pem')), 'KD-CRT-014 medium web/k1.pem k1.test'].sort();
    assert.deepEqual(byResource(findings('public-tls')), expected);
  });

  test('the evidence says which issuer and chain', () => {
    const all = findings('default');
    const outlives = all.find((finding) => finding.rule === 'KD-CRT-008')!;
    assert.equal(outlives.evidence['daysBeyondIssuer'], 60);
    assert.equal(outlives.evidence['issuer'], 'CN=Chains Issuing A');
    const wrong = all.find((finding) => finding.rule === 'KD-CRT-009' && finding.severity === 'medium')!;
    assert.deepEqual(wrong.evidence, { issuer: 'CN=Chains Issuing B', chain: 'file', chainLength: 2 });
    const reuse = all.find((finding) => finding.rule === 'KD-CRT-010')!;
    assert.equal(reuse.evidence['earlierCertificates'], 1);
    assert.equal(reuse.evidence['previousNotBefore'], at(-60).replace('.000Z', 'Z'));
  });

  test('the v1 root, the root-issued leaf without pointers and the client certificate are not reported', () => {
    const reported = new Set(findings('default').map((finding) => items.find((item) => item.uid === finding.uid)!.location));
    for (const file of ['ca/v1-root.pem', 'web/norev-from-root.pem', 'web/client.pem', 'web/fullchain-ok.pem', 'web/renew-1.pem']) {
      assert.ok(![...reported].some((location) => location.endsWith(file)), `${file} has no finding`);
    }
  });
});

function label(item: InventoryItem): string {
  if (item.provider === 'tls-endpoint') return `${item.sourceId} ${item.name}`;
  return `${item.location.replace(/^.*certs\//, '')} ${item.name}`;
}

async function serve(cert: string, key: string): Promise<{ server: tls.Server; port: number }> {
  const server = tls.createServer({ cert, key });
  server.on('secureConnection', (socket) => socket.end());
  const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));
  return { server, port };
}
