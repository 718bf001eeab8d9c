import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Plan } from '../../src/remediate/types.ts';
import { READ_KEY, ROTATE, UPDATE_CONFIG, vaultTransitRemediation } from '../../src/remediate/vault-transit/declaration.ts';
import { vaultRemediationPolicy } from '../../src/remediate/write-policies.ts';
import type { Report } from '../../src/report/types.ts';
import { removeDir, tempDir } from '../support/certs.ts';
import { runCli, type CliRun } from '../support/cli.ts';
import { assertReportsValid } from '../support/reports.ts';
import { ROOT_TOKEN, startVault, type VaultServer } from '../support/vault-server.ts';

// keydrift remediate plan/apply/rollback/rotate-now against a real Vault 1.14 dev server, through
// a loopback proxy that records every call (method and path) and injects the answers a real
// Vault gives when a policy denies (403), a rate-limit quota trips (429) or a node fails (500).
// Each test seeds its own transit mount, so the tests share one server and stay independent.

const DAY_MS = 86_400_000;
const ROTATION_ALLOW = ['    - { rule: KD-ROT-001 }', '    - { rule: KD-ROT-002 }'];
const RETIRE_ALLOW = ['    - { rule: KD-RET-003, source: vault }'];
const WRITES = new Set(vaultTransitRemediation.operations.filter((operation) => operation.access === 'write').map((operation) => operation.name));

interface SeenCall {
  method: string;
  /** The API path without /v1/ and the query string: "transit/keys/a/config". */
  path: string;
  status: number;
  faulted: boolean;
}

interface Fault {
  method: string;
  path: string;
  status: number;
  /** Vault's `errors`; given the request's token, to play a server that echoes headers back. */
  errors: (token: string) => string[];
  times?: number;
}

interface VaultProxy {
  endpoint: string;
  calls: SeenCall[];
  /** Every X-Vault-Token the proxy saw, to prove none of them reaches an output. */
  tokens: Set<string>;
  setFaults(faults: Fault[]): void;
  stop(): Promise<void>;
}

/**
 * A proxy on the TCP level: Vault's LIST verb is not one Node's HTTP server parses, so requests
 * are read by hand (one per connection: the collector's transport uses no keep-alive agent).
 */
async function startVaultProxy(target: string): Promise<VaultProxy> {
  const calls: SeenCall[] = [];
  const tokens = new Set<string>();
  let faults: Fault[] = [];
  const upstreamAt = new URL(target);
  const server = net.createServer((socket) => {
    let buffered = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      const headEnd = buffered.indexOf('\r\n\r\n');
      if (headEnd < 0) return;
      const [requestLine = '', ...headerLines] = buffered.subarray(0, headEnd).toString('latin1').split('\r\n');
      const headers = headerLines.map((line) => [line.slice(0, line.indexOf(':')).trim(), line.slice(line.indexOf(':') + 1).trim()] as const);
      const header = (name: string) => headers.find(([key]) => key.toLowerCase() === name)?.[1];
      const length = Number(header('content-length') ?? 0);
      if (buffered.length < headEnd + 4 + length) return;
      socket.off('data', onData);
      const body = buffered.subarray(headEnd + 4, headEnd + 4 + length);
      const [method = '', url = '/'] = requestLine.split(' ');
      const apiPath = new URL(url, 'http://proxy').pathname.replace(/^\/v1\//, '');
      const token = header('x-vault-token') ?? '';
      if (token) tokens.add(token);
      const fault = faults.find((candidate) => candidate.method === method && candidate.path === apiPath && (candidate.times ?? Infinity) > 0);
      if (fault) {
        fault.times = (fault.times ?? Infinity) - 1;
        calls.push({ method, path: apiPath, status: fault.status, faulted: true });
        const answer = Buffer.from(JSON.stringify({ errors: fault.errors(token) }));
        socket.end(Buffer.concat([Buffer.from(`HTTP/1.1 ${fault.status} Fault\r\ncontent-type: application/json\r\ncontent-length: ${answer.length}\r\nconnection: close\r\n\r\n`), answer]));
        return;
      }
      const upstream = net.connect(Number(upstreamAt.port), upstreamAt.hostname);
      const forwarded = headerLines.filter((line) => !/^(connection|host):/i.test(line));
      upstream.write(Buffer.concat([Buffer.from([requestLine, `host: ${upstreamAt.host}`, 'connection: close', ...forwarded, '', ''].join('\r\n'), 'latin1'), body]));
      upstream.once('data', (first: Buffer) => {
        calls.push({ method, path: apiPath, status: Number(/^HTTP\/1\.\d (\d{3})/.exec(first.toString('latin1'))?.[1] ?? 0), faulted: false });
      });
      upstream.pipe(socket);
      upstream.on('error', () => socket.destroy());
      socket.on('error', () => upstream.destroy());
    };
    socket.on('data', onData);
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    calls,
    tokens,
    setFaults: (next) => {
      faults = next.map((fault) => ({ ...fault }));
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The declared operation a recorded call is, or "<METHOD> <path>" when it is none of them. */
function operationOf(call: SeenCall): string {
  const match = /^(.+)\/keys\/([^/]+)(\/config|\/rotate)?$/.exec(call.path);
  if (match && call.method === 'GET' && match[3] === undefined) return READ_KEY;
  if (match && call.method === 'POST' && match[3] === '/config') return UPDATE_CONFIG;
  if (match && call.method === 'POST' && match[3] === '/rotate') return ROTATE;
  return `${call.method} ${call.path}`;
}

const DENIED = () => ['1 error occurred:\n\t* permission denied\n\n'];

interface KeySeed {
  type?: string;
  autoRotate?: string;
  rotations?: number;
}

describe('vault-transit remediation against a real Vault dev server', () => {
  let vault: VaultServer;
  let proxy: VaultProxy;
  let dir: string;
  /** Every plan, log and output of the file's runs: none may hold a token the proxy saw. */
  const outputs: string[] = [];

  before(async () => {
    vault = await startVault();
    proxy = await startVaultProxy(vault.address);
    dir = tempDir();
  });
  after(async () => {
    await proxy?.stop();
    await vault?.stop();
    removeDir(dir);
  });

  const file = (name: string) => path.join(dir, name);
  const uid = (mount: string, name: string) => `${proxy.endpoint}/v1/${mount}/keys/${name}`;

  async function seed(mount: string, keys: Record<string, KeySeed>): Promise<void> {
    await vault.api('POST', `sys/mounts/${mount}`, { type: 'transit' });
    for (const [name, key] of Object.entries(keys)) {
      await vault.api('POST', `${mount}/keys/${name}`, { type: key.type ?? 'aes256-gcm96', ...(key.autoRotate ? { auto_rotate_period: key.autoRotate } : {}) });
      for (let i = 0; i < (key.rotations ?? 0); i++) await vault.api('POST', `${mount}/keys/${name}/rotate`, {});
    }
  }

  async function keyData(mount: string, name: string): Promise<{ auto_rotate_period: number; latest_version: number; min_decryption_version: number }> {
    return ((await vault.api('GET', `${mount}/keys/${name}`)) as { data: { auto_rotate_period: number; latest_version: number; min_decryption_version: number } }).data;
  }

  function config(mount: string, allow: string[], extra: { auth?: string } = {}): string {
    const name = file(`${mount}-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(
      name,
      [
        'version: 1',
        'name: remediate-vault',
        'sources:',
        `  - { id: vault, type: vault, address: "${proxy.endpoint}", mounts: { transit: [${mount}], pki: [] }${extra.auth ? `, auth: ${extra.auth}` : ''} }`,
        'policy:',
        '  settings:',
        // Signing keys may live 180 days: a planned period follows the key's purpose.
        '    rotation: { purposeMaxDays: { sign: 180 } }',
        ...(allow.length > 0 ? ['remediation:', '  allow:', ...allow] : []),
        '',
      ].join('\n'),
    );
    return name;
  }

  async function cli(args: string[], token = ROOT_TOKEN): Promise<CliRun> {
    const run = await runCli(args, { env: { VAULT_TOKEN: token, VAULT_ADDR: '', VAULT_NAMESPACE: '', HOME: dir } });
    outputs.push(run.stdout, run.stderr);
    return run;
  }

  /** The calls the proxy saw while `run` ran. */
  async function observe(run: () => Promise<CliRun>): Promise<{ run: CliRun; calls: SeenCall[] }> {
    const from = proxy.calls.length;
    const finished = await run();
    return { run: finished, calls: proxy.calls.slice(from) };
  }

  async function scan(configFile: string, now?: Date): Promise<Report> {
    const out = file(`scan-${Math.random().toString(36).slice(2)}`);
    const run = await cli(['scan', '--config', configFile, '--out', out, '--format', 'json', ...(now ? ['--now', now.toISOString()] : [])]);
    assert.ok(run.code === 0 || run.code === 1, run.stdout + run.stderr);
    const report = assertReportsValid(out);
    assert.equal(report.sources[0]?.status, 'ok', JSON.stringify(report.sources[0]?.errors));
    return report;
  }

  const findings = (report: Report, rules: string[]) =>
    report.findings
      .filter((finding) => rules.includes(finding.ruleId))
      .map((finding) => `${finding.ruleId} ${finding.resource.name}`)
      .sort();

  function readPlan(planFile: string): Plan {
    const text = readFileSync(planFile, 'utf8');
    outputs.push(text);
    return JSON.parse(text) as Plan;
  }

  function readLog(logFile: string): { id: string; resource: string; actor: string; result: { status: string; detail?: string } }[] {
    const text = readFileSync(logFile, 'utf8');
    outputs.push(text);
    return text.trim().split('\n').map((line) => JSON.parse(line) as { id: string; resource: string; actor: string; result: { status: string; detail?: string } });
  }

  async function plan(configFile: string, planFile: string, extra: string[] = []): Promise<Plan> {
    const run = await cli(['remediate', 'plan', '--config', configFile, '--plan', planFile, ...extra]);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    return readPlan(planFile);
  }

  const lineFor = (run: CliRun, key: string) => run.stdout.split('\n').find((line) => line.includes(`${key}:`)) ?? '';
  const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

  test('plan then apply fixes every KD-ROT-001 and KD-ROT-002 finding with read, write, read back; a rescan shows them gone; a second apply writes nothing', async () => {
    const mount = 'fix';
    await seed(mount, { 'off-aes': {}, 'off-ed25519': { type: 'ed25519' }, long: { type: 'aes128-gcm96', autoRotate: '9600h' }, yearly: { autoRotate: '8760h' } });
    const configFile = config(mount, ROTATION_ALLOW);
    assert.deepEqual(findings(await scan(configFile), ['KD-ROT-001', 'KD-ROT-002']), ['KD-ROT-001 off-aes', 'KD-ROT-001 off-ed25519', 'KD-ROT-002 long']);

    const planFile = file('fix-plan.json');
    const planned = await plan(configFile, planFile);
    const byName = new Map(planned.actions.map((action) => [action.resource.name, action]));
    assert.equal(planned.actions.length, 3);
    assert.deepEqual(byName.get('off-aes')!.calls, [{ operation: UPDATE_CONFIG, params: { mount, name: 'off-aes', auto_rotate_period: '8760h' } }]);
    assert.deepEqual(byName.get('off-aes')!.before, { rotationAutomatic: false, rotationPeriodDays: null });
    assert.equal(byName.get('off-ed25519')!.calls[0]!.params['auto_rotate_period'], '4320h');
    assert.deepEqual(byName.get('long')!.before, { rotationAutomatic: true, rotationPeriodDays: 400 });
    assert.deepEqual(byName.get('long')!.after, { rotationAutomatic: true, rotationPeriodDays: 365 });
    assert.equal(byName.get('off-aes')!.resource.uid, uid(mount, 'off-aes'));

    const logFile = file('fix-audit.jsonl');
    const { run: applied, calls } = await observe(() => cli(['remediate', 'apply', planFile, '--config', configFile, '--audit-log', logFile, '--actor', 'ops-test']));
    assert.equal(applied.code, 0, applied.stdout + applied.stderr);
    for (const action of planned.actions) assert.ok(applied.stdout.includes(`applied  ${action.id} ${action.rule} ${action.resource.uid}`), applied.stdout);
    // One read, one write, one read back per action, each on its own key.
    for (const name of ['off-aes', 'off-ed25519', 'long']) {
      assert.deepEqual(calls.filter((call) => call.path.startsWith(`${mount}/keys/${name}`)).map((call) => `${call.method} ${call.path}`), [`GET ${mount}/keys/${name}`, `POST ${mount}/keys/${name}/config`, `GET ${mount}/keys/${name}`]);
    }
    assert.equal(calls.length, 9, calls.map((call) => `${call.method} ${call.path}`).join(' '));
    assert.equal((await keyData(mount, 'off-aes')).auto_rotate_period, 8760 * 3600);
    assert.equal((await keyData(mount, 'off-ed25519')).auto_rotate_period, 4320 * 3600);
    assert.equal((await keyData(mount, 'long')).auto_rotate_period, 8760 * 3600);
    assert.deepEqual(readLog(logFile).map((entry) => `${entry.actor} ${entry.result.status}`), Array(3).fill('ops-test applied'));
    assert.equal((await cli(['audit', 'verify', logFile])).code, 0);

    assert.deepEqual(findings(await scan(configFile), ['KD-ROT-001', 'KD-ROT-002']), []);

    const { run: again, calls: rerun } = await observe(() => cli(['remediate', 'apply', planFile, '--config', configFile, '--audit-log', logFile]));
    assert.equal(again.code, 0, again.stdout + again.stderr);
    for (const action of planned.actions) assert.ok(again.stdout.includes(`skipped  ${action.id} ${action.rule} ${action.resource.uid}: already right`), again.stdout);
    assert.match(again.stdout, /0 applied, 3 already right/);
    assert.deepEqual(rerun.filter((call) => call.method !== 'GET'), [], 'the second apply wrote nothing');
    assert.equal(rerun.length, 3, 'one read per action');
  });

  test('a 403 on one key fails only that action, naming the call and key; a 429 is retried; a 500 that echoes the token is redacted; a rerun completes the plan', async () => {
    const mount = 'faults';
    await seed(mount, { denied: {}, throttled: {}, broken: {}, fine: {} });
    const configFile = config(mount, ROTATION_ALLOW);
    const planFile = file('faults-plan.json');
    const planned = await plan(configFile, planFile);
    assert.equal(planned.actions.length, 4);
    proxy.setFaults([
      { method: 'POST', path: `${mount}/keys/denied/config`, status: 403, errors: DENIED },
      // Vault's rate-limit quota: fewer refusals than the executor's attempts.
      { method: 'POST', path: `${mount}/keys/throttled/config`, status: 429, errors: () => [`request path "${mount}/keys/throttled/config": rate limit quota exceeded`], times: 2 },
      // A broken node (or a proxy in front of it) that echoes the request's headers back.
      { method: 'POST', path: `${mount}/keys/broken/config`, status: 500, errors: (token) => [`internal error (session ${token})`] },
    ]);
    const logFile = file('faults-audit.jsonl');
    let failed: CliRun;
    try {
      ({ run: failed } = await observe(() => cli(['remediate', 'apply', planFile, '--config', configFile, '--audit-log', logFile])));
    } finally {
      proxy.setFaults([]);
    }
    assert.equal(failed.code, 1, failed.stdout + failed.stderr);
    assert.match(lineFor(failed, uid(mount, 'denied')), new RegExp(`^failed .*source "vault", ${escape(uid(mount, 'denied'))}: ${escape(UPDATE_CONFIG)} failed: POST ${mount}/keys/denied/config: HTTP 403: 1 error occurred: \\* permission denied$`));
    assert.match(lineFor(failed, uid(mount, 'throttled')), /^applied /);
    assert.equal(proxy.calls.filter((call) => call.path === `${mount}/keys/throttled/config` && call.status === 429).length, 2, 'the 429s were retried');
    assert.match(lineFor(failed, uid(mount, 'broken')), new RegExp(`^failed .*POST ${mount}/keys/broken/config: HTTP 500: internal error \\(session \\[REDACTED\\]\\)$`));
    assert.match(lineFor(failed, uid(mount, 'fine')), /^applied /);
    assert.match(failed.stdout, /2 applied, 0 already right, 0 changed since planning, 2 failed \(exit 1\)/);
    assert.equal((await keyData(mount, 'denied')).auto_rotate_period, 0);
    assert.equal((await keyData(mount, 'fine')).auto_rotate_period, 8760 * 3600);

    const rerun = await cli(['remediate', 'apply', planFile, '--config', configFile, '--audit-log', logFile]);
    assert.equal(rerun.code, 0, rerun.stdout + rerun.stderr);
    assert.match(rerun.stdout, /2 applied, 2 already right/);
    assert.equal((await keyData(mount, 'denied')).auto_rotate_period, 8760 * 3600);
    assert.equal((await keyData(mount, 'broken')).auto_rotate_period, 8760 * 3600);
    const log = readLog(logFile);
    assert.equal(log.length, 8, 'one entry per action per attempt');
    assert.deepEqual(log.slice(0, 4).map((entry) => entry.result.status).sort(), ['applied', 'applied', 'failed', 'failed']);
    assert.match(log.find((entry) => entry.resource === uid(mount, 'denied'))!.result.detail!, /HTTP 403/);
    assert.equal((await cli(['audit', 'verify', logFile])).code, 0);
  });

  test('a key changed between plan and apply is skipped as changed since planning, with no write to it', async () => {
    const mount = 'stale';
    await seed(mount, { changed: {}, untouched: {} });
    const configFile = config(mount, ROTATION_ALLOW);
    const planFile = file('stale-plan.json');
    assert.equal((await plan(configFile, planFile)).actions.length, 2);
    // Someone else's change after the plan was reviewed: 30 days, which the plan must not overwrite.
    await vault.api('POST', `${mount}/keys/changed/config`, { auto_rotate_period: '720h' });
    const logFile = file('stale-audit.jsonl');
    const { run, calls } = await observe(() => cli(['remediate', 'apply', planFile, '--config', configFile, '--audit-log', logFile]));
    assert.equal(run.code, 3, run.stdout + run.stderr);
    assert.match(lineFor(run, uid(mount, 'changed')), /^skipped .*changed since planning \(rotationAutomatic: expected false, found true; rotationPeriodDays: expected null, found 30\): not applied/);
    assert.match(lineFor(run, uid(mount, 'untouched')), /^applied /);
    assert.deepEqual(calls.filter((call) => call.path.startsWith(`${mount}/keys/changed`)).map((call) => call.method), ['GET']);
    assert.equal((await keyData(mount, 'changed')).auto_rotate_period, 720 * 3600);
  });

  test('raising min_decryption_version (KD-RET-003) needs remediation.allow and --allow-destructive; with both it states the data impact, applies, and rolls back', async () => {
    const mount = 'retire';
    await seed(mount, { old: { autoRotate: '8760h' } });
    const encrypted = (await vault.api('POST', `${mount}/encrypt/old`, { plaintext: Buffer.from('kept for audit').toString('base64') })) as { data: { ciphertext: string } };
    for (let i = 0; i < 3; i++) await vault.api('POST', `${mount}/keys/old/rotate`, {});
    const decrypts = async () => {
      try {
        await vault.api('POST', `${mount}/decrypt/old`, { ciphertext: encrypted.data.ciphertext });
        return true;
      } catch {
        return false;
      }
    };
    assert.ok(encrypted.data.ciphertext.startsWith('vault:v1:'));
    // Versions 1-3 were superseded at seeding: 100 days on they are older than oldVersionMaxDays.
    const now = ['--now', new Date(Date.now() + 100 * DAY_MS).toISOString()];
    const allowed = config(mount, [...ROTATION_ALLOW, ...RETIRE_ALLOW]);
    const rotationOnly = config(mount, ROTATION_ALLOW);

    const withoutFlag = await plan(allowed, file('retire-no-flag.json'), now);
    assert.deepEqual(withoutFlag.actions, []);
    assert.match(withoutFlag.notPlanned.find((left) => left.rule === 'KD-RET-003')!.reason, /--allow-destructive/);
    const withoutAllow = await plan(rotationOnly, file('retire-no-allow.json'), [...now, '--allow-destructive']);
    assert.deepEqual(withoutAllow.actions, []);
    assert.equal(withoutAllow.notPlanned.find((left) => left.rule === 'KD-RET-003')!.reason, 'not allowed by remediation.allow');

    const planFile = file('retire-plan.json');
    const run = await cli(['remediate', 'plan', '--config', allowed, '--plan', planFile, '--allow-destructive', ...now]);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    const [raise] = readPlan(planFile).actions;
    assert.ok(raise);
    assert.equal(raise.rule, 'KD-RET-003');
    assert.equal(raise.destructive, true);
    assert.deepEqual(raise.calls, [{ operation: UPDATE_CONFIG, params: { mount, name: 'old', min_decryption_version: 4 } }]);
    assert.match(raise.dataImpact!, /versions 1 to 3 .*stop being decryptable; rewrap them first/);
    assert.match(run.stdout, /DESTRUCTIVE/);
    assert.match(run.stdout, /data impact: ciphertexts made with versions 1 to 3/);

    const logFile = file('retire-audit.jsonl');
    const applied = await cli(['remediate', 'apply', planFile, '--config', allowed, '--audit-log', logFile]);
    assert.equal(applied.code, 0, applied.stdout + applied.stderr);
    assert.equal((await keyData(mount, 'old')).min_decryption_version, 4);
    assert.equal(await decrypts(), false, 'the data impact is real: a v1 ciphertext no longer decrypts');
    assert.deepEqual(findings(await scan(allowed, new Date(Date.now() + 100 * DAY_MS)), ['KD-RET-003']), []);

    const [entry] = readLog(logFile);
    const rolled = await cli(['remediate', 'rollback', logFile, '--config', allowed, '--entry', entry!.id]);
    assert.equal(rolled.code, 0, rolled.stdout + rolled.stderr);
    assert.match(rolled.stdout, /lower min_decryption_version back to 1/);
    assert.equal((await keyData(mount, 'old')).min_decryption_version, 1);
    assert.equal(await decrypts(), true, 'lowering it again makes the old ciphertext readable again');
  });

  test('rollback after apply restores auto_rotate_period (a rescan shows the findings again); a second rollback does nothing', async () => {
    const mount = 'undo';
    await seed(mount, { off: {}, long: { autoRotate: '9600h' } });
    const configFile = config(mount, ROTATION_ALLOW);
    const planFile = file('undo-plan.json');
    await plan(configFile, planFile);
    const logFile = file('undo-audit.jsonl');
    assert.equal((await cli(['remediate', 'apply', planFile, '--config', configFile, '--audit-log', logFile])).code, 0);
    assert.deepEqual(findings(await scan(configFile), ['KD-ROT-001', 'KD-ROT-002']), []);

    const rolled = await cli(['remediate', 'rollback', logFile, '--config', configFile, '--actor', 'ops-test']);
    assert.equal(rolled.code, 0, rolled.stdout + rolled.stderr);
    assert.match(rolled.stdout, /2 rolled back, 0 already right/);
    assert.match(rolled.stdout, /turn automatic rotation off again/);
    assert.match(rolled.stdout, /put the rotation period back to 400 days \(auto_rotate_period 9600h\)/);
    assert.deepEqual(findings(await scan(configFile), ['KD-ROT-001', 'KD-ROT-002']), ['KD-ROT-001 off', 'KD-ROT-002 long']);
    assert.equal((await keyData(mount, 'off')).auto_rotate_period, 0);
    assert.equal((await keyData(mount, 'long')).auto_rotate_period, 9600 * 3600);
    assert.deepEqual(readLog(logFile).slice(2).map((entry) => `${entry.actor} ${entry.result.status}`), Array(2).fill('ops-test rolled-back'));
    assert.equal((await cli(['audit', 'verify', logFile])).code, 0);

    const again = await cli(['remediate', 'rollback', logFile, '--config', configFile]);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.match(again.stdout, /nothing to roll back/);
  });

  test('rotate-now without --yes changes nothing; with --yes it makes a new latest_version and reports it; a rotation cannot be rolled back', async () => {
    const mount = 'incident';
    await seed(mount, { exposed: { autoRotate: '8760h' }, bystander: { autoRotate: '8760h' } });
    const configFile = config(mount, []);
    const target = ['--resource', `*/${mount}/keys/exposed`, '--reason', 'INC-4411 key exposure'];
    const dry = await observe(() => cli(['remediate', 'rotate-now', '--config', configFile, ...target]));
    assert.equal(dry.run.code, 0, dry.run.stdout + dry.run.stderr);
    assert.match(dry.run.stdout, /1 action\(s\):/);
    assert.match(dry.run.stdout, /nothing changed: rerun with --yes/);
    assert.deepEqual(dry.calls.filter((call) => call.method === 'POST'), []);
    assert.equal((await keyData(mount, 'exposed')).latest_version, 1);

    const logFile = file('incident-audit.jsonl');
    const wet = await observe(() => cli(['remediate', 'rotate-now', '--config', configFile, ...target, '--yes', '--audit-log', logFile]));
    assert.equal(wet.run.code, 0, wet.run.stdout + wet.run.stderr);
    assert.match(wet.run.stdout, new RegExp(`applied  [0-9a-f]{16} rotate-now ${escape(uid(mount, 'exposed'))}: rotated, primary version 1 → 2`));
    assert.equal((await keyData(mount, 'exposed')).latest_version, 2);
    assert.equal((await keyData(mount, 'bystander')).latest_version, 1);
    assert.deepEqual(wet.calls.filter((call) => call.method === 'POST').map((call) => call.path), [`${mount}/keys/exposed/rotate`]);
    const log = readLog(logFile) as unknown as { result: { status: string }; reason: { text: string } }[];
    assert.deepEqual(log.map((entry) => `${entry.result.status} ${entry.reason.text}`), ['applied INC-4411 key exposure']);

    const rollback = await cli(['remediate', 'rollback', logFile, '--config', configFile]);
    assert.match(rollback.stdout, /a rotation cannot be undone/);
    assert.match(rollback.stdout, /nothing to roll back/);
    assert.equal((await keyData(mount, 'exposed')).latest_version, 2);
  });

  test('least privilege: a token holding only the generated write policy (HCL from the declared operations) applies, rolls back and rotates; every call made is declared and every declared write is made', async () => {
    const mount = 'least';
    await seed(mount, { off: {}, long: { autoRotate: '9600h' }, old: { autoRotate: '8760h', rotations: 3 } });
    // The policy the README shows, generated from the declared operations.
    const hcl = vaultRemediationPolicy([mount]);
    assert.match(hcl, new RegExp(`path "${mount}/keys/\\+/config" \\{\\n  capabilities = \\["update"\\]`));
    await vault.api('PUT', 'sys/policies/acl/keydrift-remediate', { policy: hcl });
    const limited = ((await vault.api('POST', 'auth/token/create', { policies: ['keydrift-remediate'], ttl: '1h' })) as { auth: { client_token: string } }).auth.client_token;
    const configFile = config(mount, [...ROTATION_ALLOW, ...RETIRE_ALLOW]);
    const now = ['--now', new Date(Date.now() + 100 * DAY_MS).toISOString()];

    // Planning scans (list, read), which is the scanning policy's business; the changes run with the limited token.
    const planFile = file('least-plan.json');
    const planned = await plan(configFile, planFile, [...now, '--allow-destructive']);
    assert.deepEqual(planned.actions.map((action) => `${action.rule} ${action.resource.name}`).sort(), ['KD-RET-003 old', 'KD-ROT-001 off', 'KD-ROT-002 long']);
    const seen: SeenCall[] = [];
    const record = async (run: () => Promise<CliRun>) => {
      const observed = await observe(run);
      assert.equal(observed.run.code, 0, observed.run.stdout + observed.run.stderr);
      seen.push(...observed.calls);
    };
    const logFile = file('least-audit.jsonl');
    await record(() => cli(['remediate', 'apply', planFile, '--config', configFile, '--audit-log', logFile], limited));
    await record(() => cli(['remediate', 'rollback', logFile, '--config', configFile], limited));
    const rotationPlan = file('least-rotate.json');
    assert.equal((await cli(['remediate', 'rotate-now', '--config', configFile, '--resource', `*/${mount}/keys/off`, '--reason', 'drill', '--plan', rotationPlan])).code, 0);
    // The rotation plan applied as a plan, so no collection calls mix in.
    await record(() => cli(['remediate', 'apply', rotationPlan, '--config', configFile, '--audit-log', logFile], limited));
    assert.deepEqual(readLog(logFile).map((entry) => entry.result.status), ['applied', 'applied', 'applied', 'rolled-back', 'rolled-back', 'rolled-back', 'applied']);
    assert.deepEqual(seen.filter((call) => call.status >= 400), [], 'the declared policy allowed every call');

    const declared = new Set(vaultTransitRemediation.operations.map((operation) => operation.name));
    const made = new Set(seen.map(operationOf));
    for (const operation of made) assert.ok(declared.has(operation), `${operation} is called but not declared`);
    for (const operation of WRITES) assert.ok(made.has(operation), `${operation} is declared but never exercised`);
  });

  test('AppRole: the executor logs in the way the collector does; the role and secret ids and every token stay out of plans, logs and output', async () => {
    const mount = 'approle';
    await seed(mount, { off: {} });
    await vault.api('POST', 'sys/auth/approle', { type: 'approle' });
    await vault.api('PUT', 'sys/policies/acl/approle-remediate', {
      policy: `path "${mount}/keys" { capabilities = ["list"] }\npath "${mount}/keys/+" { capabilities = ["read"] }\npath "${mount}/keys/+/config" { capabilities = ["update"] }\n`,
    });
    await vault.api('POST', 'auth/approle/role/remediate', { token_policies: ['approle-remediate'], token_ttl: '1h' });
    const roleId = ((await vault.api('GET', 'auth/approle/role/remediate/role-id')) as { data: { role_id: string } }).data.role_id;
    const secretId = ((await vault.api('POST', 'auth/approle/role/remediate/secret-id', {})) as { data: { secret_id: string } }).data.secret_id;
    writeFileSync(file('role-id'), roleId);
    writeFileSync(file('secret-id'), secretId);
    const configFile = config(mount, ROTATION_ALLOW, { auth: `{ method: approle, roleIdFile: "${file('role-id')}", secretIdFile: "${file('secret-id')}" }` });
    const planFile = file('approle-plan.json');
    const before = proxy.tokens.size;
    assert.equal((await plan(configFile, planFile)).actions.length, 1);
    const logFile = file('approle-audit.jsonl');
    const { run, calls } = await observe(() => cli(['remediate', 'apply', planFile, '--config', configFile, '--audit-log', logFile], ''));
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.deepEqual(calls.map((call) => `${call.method} ${call.path}`), ['POST auth/approle/login', `GET ${mount}/keys/off`, `POST ${mount}/keys/off/config`, `GET ${mount}/keys/off`]);
    assert.equal((await keyData(mount, 'off')).auto_rotate_period, 8760 * 3600);
    assert.ok(proxy.tokens.size > before, 'the minted tokens were seen');
    readLog(logFile);
    for (const text of outputs) for (const secret of [roleId, secretId]) assert.ok(!text.includes(secret), `an AppRole id leaked: ${text.slice(0, 200)}`);
  });

  test('canary: the root token and every token the proxy saw never appear in a plan, an audit log or any output', () => {
    assert.ok(outputs.length > 40, 'the other tests ran');
    assert.ok(proxy.tokens.has(ROOT_TOKEN));
    for (const text of outputs) for (const token of proxy.tokens) assert.ok(!text.includes(token), `a Vault token leaked: ${text.slice(0, 300)}`);
  });
});
