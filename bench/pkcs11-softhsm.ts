// 5,000 objects on one SoftHSM token (AES keys, RSA and EC pairs), collected through pkcs11js:
// wall time, PKCS#11 calls per object, peak RSS. Usage: node bench/pkcs11-softhsm.ts [objects=5000]
import { quietContext } from '../test/support/collect.ts';
import { pkcs11Collector } from '../src/collectors/pkcs11/collector.ts';
import { createSoftHsm, generateAes, generateEc, openModule, openUserSession } from '../test/support/softhsm.ts';

const count = Number(process.argv[2] ?? 5000);
const hsm = createSoftHsm();
try {
  const token = await hsm.initToken('bench', '5678', '1234');
  const module = openModule(hsm);
  const session = openUserSession(module.pkcs11, module.slot(token), '1234');
  const seedStarted = performance.now();
  let objects = 0;
  for (let i = 0; objects < count; i++) {
    const id = i.toString(16).padStart(6, '0');
    if (i % 10 === 9) {
      generateEc(session, { label: `ec-${i}`, id, curve: 'P-256', startDate: '20260101' });
      objects += 2;
    } else {
      generateAes(session, { label: `aes-${i}`, id, bits: 256, extractable: false, sensitive: true, private: false, startDate: '20260101' });
      objects += 1;
    }
  }
  session.close();
  module.close();
  console.log(`seeded ${objects} objects in ${((performance.now() - seedStarted) / 1000).toFixed(1)} s`);
  process.env['BENCH_PIN'] = '1234';
  const ctx = quietContext();
  const { apiCalls, errors } = ctx;
  const rssBefore = process.memoryUsage().rss;
  const started = performance.now();
  let items = 0;
  for await (const _ of pkcs11Collector.collect({ id: 'bench', type: 'pkcs11', module: hsm.modulePath, token: 'bench', pinEnv: 'BENCH_PIN' }, ctx)) items++;
  const seconds = (performance.now() - started) / 1000;
  const calls = Object.values(apiCalls).reduce((sum, n) => sum + n, 0);
  console.log(`${objects} objects -> ${items} items in ${seconds.toFixed(2)} s (${Math.round(objects / seconds)} objects/s), errors ${errors.length}`);
  console.log(`${calls} PKCS#11 calls = ${(calls / objects).toFixed(1)} per object (attributes read one at a time)`);
  console.log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB (before collecting ${(rssBefore / 1048576).toFixed(0)} MiB)`);
} finally {
  hsm.cleanup();
}
