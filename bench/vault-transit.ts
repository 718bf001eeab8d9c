// 5,000 transit keys in a real Vault dev server on loopback, collected at concurrency 1 and at the
// default: wall time, requests per key, peak RSS. Usage: node bench/vault-transit.ts [keys=5000]
import { quietContext } from '../test/support/collect.ts';
import { DEFAULT_CONCURRENCY, vaultCollector } from '../src/collectors/vault/collector.ts';
import { mapBounded } from '../src/util/limit.ts';
import { ROOT_TOKEN, startVault } from '../test/support/vault-server.ts';

const count = Number(process.argv[2] ?? 5000);
const vault = await startVault();
try {
  await vault.api('POST', 'sys/mounts/transit', { type: 'transit' });
  const types = ['aes256-gcm96', 'aes256-gcm96', 'aes128-gcm96', 'chacha20-poly1305', 'ed25519', 'ecdsa-p256'];
  const seedStarted = performance.now();
  for await (const _ of mapBounded(Array.from({ length: count }, (_, i) => i), 16, (i) =>
    vault.api('POST', `transit/keys/k${i}`, { type: types[i % types.length], ...(i % 3 === 0 ? { auto_rotate_period: '720h' } : {}) }),
  )) void _;
  console.log(`seeded ${count} transit keys in ${((performance.now() - seedStarted) / 1000).toFixed(1)} s`);
  process.env['VAULT_TOKEN'] = ROOT_TOKEN;
  for (const concurrency of [1, DEFAULT_CONCURRENCY]) {
    const ctx = quietContext();
    const { apiCalls, errors } = ctx;
    const started = performance.now();
    let items = 0;
    for await (const _ of vaultCollector.collect({ id: 'bench', type: 'vault', address: vault.address, mounts: { transit: ['transit'] }, concurrency }, ctx)) items++;
    const seconds = (performance.now() - started) / 1000;
    const requests = Object.values(apiCalls).reduce((sum, n) => sum + n, 0);
    console.log(
      `concurrency ${String(concurrency).padStart(2)}: ${items} keys in ${seconds.toFixed(2)} s (${Math.round(items / seconds)} keys/s), ` +
        `${requests} requests = ${(requests / items).toFixed(3)} per key, errors ${errors.length}, peak RSS so far ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`,
    );
  }
} finally {
  await vault.stop();
}
