// keydrift and Prowler 5.46.0 side by side on one seeded moto estate of KMS keys, check by check.
//
// Seeds moto (through the fault proxy with no faults, which keeps the RotationPeriodInDays that
// moto 5.2.5 drops), runs `keydrift scan --format json` (profile default; then `keydrift evaluate`
// of the same inventory under cis-aws and pci-dss) and `prowler aws --services kms` pointed at
// the same proxy, maps both outputs per key and per Prowler check (check id <-> keydrift rule ids,
// PASS/FAIL <-> finding/none) and prints Markdown: where they agree, where they differ and why.
//
// Usage: bash scripts/prowler-venv.sh && node_modules/.bin/node bench/prowler-compare.ts
//          [--out DIR]            keep the raw outputs (keydrift reports, Prowler OCSF, logs) in DIR
//          [--keydrift-root DIR]  the keydrift checkout to run (default: this one), e.g. an export of a release
// docs/prowler-comparison.md explains the estate and every difference.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  CreateGrantCommand,
  CreateKeyCommand,
  DisableKeyCommand,
  EnableKeyRotationCommand,
  KMSClient,
  ReplicateKeyCommand,
  ScheduleKeyDeletionCommand,
  type CreateKeyCommandInput,
} from '@aws-sdk/client-kms';
import { toolsDir } from '../src/engine/opa-binary.ts';
import { startFaultProxy, type FaultProxy, type ProxyCall } from '../test/support/fault-proxy.ts';
import { startMoto, withoutAwsEnv } from '../test/support/moto.ts';

const PROWLER_VERSION = '5.46.0';
const REGION = 'us-east-1';
const REPLICA_REGION = 'eu-west-1';
/** moto's account (every request without MOTO_ACCOUNT_ID lands in it). */
const ACCOUNT = '123456789012';
const PARTNER = '444455556666';
const CREDENTIALS = { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: REGION, AWS_DEFAULT_REGION: REGION };
const OTHER_PROFILES = ['cis-aws', 'pci-dss'] as const;
const FILE_LIMIT = 64 * 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// The estate: one key per situation a Prowler KMS check or a keydrift rule judges.

const ROOT_STATEMENT = { Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'kms:*', Resource: '*' };
const policy = (...statements: object[]): string => JSON.stringify({ Version: '2012-10-17', Statement: [ROOT_STATEMENT, ...statements] });

interface Scenario {
  name: string;
  what: string;
  create?: Partial<CreateKeyCommandInput>;
  /** Rotation period to enable (days); absent = rotation stays off. */
  rotateEvery?: number;
  grantTo?: string;
  replicate?: boolean;
  disable?: boolean;
  scheduleDeletion?: boolean;
}

const SCENARIOS: Scenario[] = [
  { name: 'rotation-off', what: 'symmetric, automatic rotation off' },
  { name: 'rotation-on', what: 'symmetric, rotation on (365 days)', rotateEvery: 365 },
  { name: 'rotation-long', what: 'symmetric, rotation on every 2,560 days (the KMS maximum)', rotateEvery: 2560 },
  { name: 'deletion-no-hold', what: 'rotation on, then scheduled for deletion (30 days), no legal-hold tag', rotateEvery: 365, scheduleDeletion: true },
  { name: 'deletion-held', what: 'tag legal-hold=true, rotation on, then scheduled for deletion', rotateEvery: 365, scheduleDeletion: true, create: { Tags: [{ TagKey: 'legal-hold', TagValue: 'true' }] } },
  { name: 'disabled', what: 'rotation on, then disabled', rotateEvery: 365, disable: true },
  { name: 'multi-region', what: `multi-Region primary, rotation on, replicated to ${REPLICA_REGION}`, rotateEvery: 365, replicate: true, create: { MultiRegion: true } },
  {
    name: 'public-policy',
    what: 'rotation on; key policy: Principal "*" may kms:Decrypt, no condition',
    rotateEvery: 365,
    create: { Policy: policy({ Sid: 'Anyone', Effect: 'Allow', Principal: '*', Action: ['kms:Decrypt', 'kms:DescribeKey'], Resource: '*' }) },
  },
  {
    name: 'public-org-only',
    what: 'rotation on; key policy: Principal "*" narrowed by aws:PrincipalOrgID',
    rotateEvery: 365,
    create: {
      Policy: policy({ Sid: 'Org', Effect: 'Allow', Principal: { AWS: '*' }, Action: ['kms:Decrypt', 'kms:Encrypt'], Resource: '*', Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-a1b2c3d4e5' } } }),
    },
  },
  {
    name: 'partner-policy',
    what: `rotation on; key policy: account ${PARTNER} may kms:Decrypt`,
    rotateEvery: 365,
    create: { Policy: policy({ Sid: 'PartnerDecrypt', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${PARTNER}:root` }, Action: ['kms:Decrypt', 'kms:DescribeKey'], Resource: '*' }) },
  },
  { name: 'partner-grant', what: `rotation on; a grant lets arn:aws:iam::${PARTNER}:role/Reader Decrypt`, rotateEvery: 365, grantTo: `arn:aws:iam::${PARTNER}:role/Reader` },
  { name: 'asymmetric', what: 'RSA_2048, SIGN_VERIFY', create: { KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' } },
  { name: 'hmac', what: 'HMAC_256, GENERATE_VERIFY_MAC', create: { KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' } },
  { name: 'imported', what: 'Origin EXTERNAL (imported key material), symmetric', create: { Origin: 'EXTERNAL' } },
  {
    name: 'nitro',
    // Prowler picks enclave keys by this tag (or "enclave" in a description, tag or alias).
    what: 'tag prowler:enclave-key=true, rotation on, default key policy (the account root may do kms:*)',
    rotateEvery: 365,
    create: { Tags: [{ TagKey: 'prowler:enclave-key', TagValue: 'true' }] },
  },
];

async function seed(endpoint: string): Promise<Map<string, string>> {
  const kms = new KMSClient({ region: REGION, endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  const arns = new Map<string, string>(); // ARN -> scenario
  try {
    for (const scenario of SCENARIOS) {
      const { Tags = [], ...create } = scenario.create ?? {};
      const created = await kms.send(
        new CreateKeyCommand({
          Description: `prowler-compare ${scenario.name}`,
          // moto returns MultiRegion only when the request set it; Prowler's DescribeKey parsing
          // reads the field unguarded (KeyError) and then loses the key's description.
          MultiRegion: false,
          ...create,
          Tags: [{ TagKey: 'scenario', TagValue: scenario.name }, ...Tags],
        }),
      );
      const keyId = created.KeyMetadata!.KeyId!;
      arns.set(created.KeyMetadata!.Arn!, scenario.name);
      if (scenario.rotateEvery) await kms.send(new EnableKeyRotationCommand({ KeyId: keyId, RotationPeriodInDays: scenario.rotateEvery }));
      if (scenario.grantTo) await kms.send(new CreateGrantCommand({ KeyId: keyId, GranteePrincipal: scenario.grantTo, Operations: ['Decrypt', 'DescribeKey'], Name: 'partner-reader' }));
      if (scenario.replicate) await kms.send(new ReplicateKeyCommand({ KeyId: keyId, ReplicaRegion: REPLICA_REGION }));
      if (scenario.disable) await kms.send(new DisableKeyCommand({ KeyId: keyId }));
      if (scenario.scheduleDeletion) await kms.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 30 }));
    }
  } finally {
    kms.destroy();
  }
  return arns;
}

// ---------------------------------------------------------------------------------------------
// Running the two tools.

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  seconds: number;
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv, cwd: string, timeoutMs: number): Promise<Run> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const keep = (text: string, chunk: Buffer) => (text + chunk.toString('utf8')).slice(-1024 * 1024);
    child.stdout.on('data', (chunk: Buffer) => (stdout = keep(stdout, chunk)));
    child.stderr.on('data', (chunk: Buffer) => (stderr = keep(stderr, chunk)));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`${command} could not be started: ${error.message}`));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, seconds: (performance.now() - started) / 1000 });
    });
  });
}

interface Finding {
  ruleId: string;
  severity: string;
  resource: { uid: string };
}
interface Item {
  uid: string;
  state?: string;
  stateSince?: string | null;
  origin?: string | null;
  keyType?: string | null;
  algorithm?: string;
  rotation?: { supported?: boolean | null; automatic?: boolean | null; periodDays?: number | null } | null;
  access?: { public?: boolean; externalUse?: unknown[] } | null;
  replication?: { multiRegion?: boolean } | null;
}
interface KeydriftReport {
  tool?: { version?: string };
  scan?: { policy?: { profile?: string } };
  sources?: { id: string; status: string; errors?: { code: string; message: string }[] }[];
  findings: Finding[];
  inventory: Item[];
}

function readBounded(file: string): string {
  const text = readFileSync(file);
  if (text.length > FILE_LIMIT) throw new Error(`${file} is larger than ${FILE_LIMIT} bytes`);
  return text.toString('utf8');
}

function readReport(file: string): KeydriftReport {
  if (!existsSync(file)) throw new Error(`keydrift wrote no ${file}`);
  return JSON.parse(readBounded(file)) as KeydriftReport;
}

async function runKeydrift(root: string, endpoint: string, dir: string, now: string): Promise<{ reports: Record<string, KeydriftReport>; scanSeconds: number }> {
  const cli = path.join(root, 'src', 'cli', 'main.ts');
  if (!existsSync(cli)) throw new Error(`--keydrift-root ${root}: no src/cli/main.ts there`);
  const config = path.join(dir, 'keydrift.yaml');
  writeFileSync(config, ['version: 1', 'name: prowler-compare', 'sources:', `  - { id: moto-kms, type: aws-kms, regions: [${REGION}], endpoint: "${endpoint}" }`, ''].join('\n'));
  const env = { ...withoutAwsEnv(process.env), ...CREDENTIALS, NO_COLOR: '1' };
  const node = process.execPath;
  const scanOut = path.join(dir, 'keydrift-default');
  const scan = await run(node, [cli, 'scan', '--config', config, '--now', now, '--out', scanOut, '--format', 'json', '--fail-on', 'none'], env, root, 300_000);
  if (scan.code !== 0) throw new Error(`keydrift scan exited ${scan.code}:\n${scan.stderr.slice(-4000)}`);
  const reports: Record<string, KeydriftReport> = { default: readReport(path.join(scanOut, 'keydrift.json')) };
  for (const profile of OTHER_PROFILES) {
    const out = path.join(dir, `keydrift-${profile}`);
    const evaluated = await run(
      node,
      // --config: with none, evaluate applies the policy the report recorded (profile default) and --profile is not used.
      [cli, 'evaluate', '--inventory', path.join(scanOut, 'keydrift.json'), '--config', config, '--profile', profile, '--now', now, '--out', out, '--format', 'json', '--fail-on', 'none'],
      env,
      root,
      300_000,
    );
    if (evaluated.code !== 0) throw new Error(`keydrift evaluate --profile ${profile} exited ${evaluated.code}:\n${evaluated.stderr.slice(-4000)}`);
    reports[profile] = readReport(path.join(out, 'keydrift.json'));
    const applied = reports[profile]!.scan?.policy?.profile;
    if (applied !== profile) throw new Error(`keydrift evaluate --profile ${profile} evaluated under profile ${applied ?? '(unrecorded)'}`);
  }
  return { reports, scanSeconds: scan.seconds };
}

interface OcsfFinding {
  status_code: string;
  severity?: string;
  status_extended?: string;
  status_detail?: string;
  metadata: { event_code: string };
  resources: { uid: string; data?: { metadata?: ProwlerKey } }[];
}
interface ProwlerKey {
  state?: string | null;
  manager?: string | null;
  spec?: string | null;
  origin?: string | null;
  rotation_enabled?: boolean | null;
  multi_region?: boolean | null;
}

interface ProwlerResult {
  findings: OcsfFinding[];
  run: Run;
  /** Distinct ERROR lines of Prowler's log, HTML bodies cut. */
  errors: string[];
}

async function runProwler(prowlerDir: string, endpoint: string, dir: string): Promise<ProwlerResult> {
  const outDir = path.join(dir, 'prowler');
  mkdirSync(outDir, { recursive: true });
  const env = { ...withoutAwsEnv(process.env), ...CREDENTIALS, AWS_ENDPOINT_URL: endpoint, NO_COLOR: '1' };
  const args = ['aws', '--services', 'kms', '--region', REGION, '--output-formats', 'json-ocsf', '--output-directory', outDir, '--output-filename', 'prowler', '--no-banner', '--no-color', '--log-level', 'ERROR'];
  const result = await run(path.join(prowlerDir, 'bin', 'prowler'), args, env, dir, 600_000);
  writeFileSync(path.join(dir, 'prowler.log'), `${result.stdout}\n${result.stderr}`);
  const file = path.join(outDir, 'prowler.ocsf.json');
  // Prowler exits 3 when a check fails: that is a result, not an error.
  if ((result.code !== 0 && result.code !== 3) || !existsSync(file)) {
    throw new Error(`prowler ${args.join(' ')} exited ${result.code}, ${existsSync(file) ? '' : 'no OCSF output; '}its last output:\n${`${result.stdout}\n${result.stderr}`.slice(-4000)}`);
  }
  const findings = JSON.parse(readBounded(file)) as OcsfFinding[];
  const errors = [
    ...new Set(
      `${result.stdout}\n${result.stderr}`
        .split('\n')
        .filter((line) => /\bERROR:/.test(line))
        .map((line) => line.replace(/^.*?ERROR:\s*/, '').replace(/<!doctype html>.*$/is, '(HTML error page)').trim()),
    ),
  ];
  return { findings, run: result, errors };
}

// ---------------------------------------------------------------------------------------------
// The mapping: each Prowler KMS check and the keydrift rules that judge the same thing.

interface CheckMapping {
  id: string;
  keydrift: string[];
  /** Each tool's condition, from Prowler's check source and keydrift's docs/rule-semantics.md. */
  prowlerFails: string;
  keydriftFires: string;
}

const CHECKS: CheckMapping[] = [
  {
    id: 'kms_cmk_rotation_enabled',
    keydrift: ['KD-ROT-001'],
    prowlerFails: 'customer key, `Enabled`, spec contains `SYMMETRIC`, and `rotation_enabled` not true (GetKeyRotationStatus is not called for `EXTERNAL` origin, so imported keys always fail)',
    keydriftFires: 'customer key, enabled, `rotation.supported` (SYMMETRIC_DEFAULT, ENCRYPT_DECRYPT, origin AWS_KMS) and `rotation.automatic == false`',
  },
  {
    id: 'kms_cmk_not_deleted_unintentionally',
    keydrift: ['KD-RET-002', 'KD-RET-006'],
    prowlerFails: 'customer key in `PendingDeletion` (disabled keys are skipped unless `--scan-unused-services`)',
    keydriftFires: 'KD-RET-002: deletion scheduled while the `legal-hold` tag holds; KD-RET-006: deletion scheduled with no hold',
  },
  {
    id: 'kms_cmk_are_used',
    keydrift: ['KD-RET-001'],
    prowlerFails: 'customer key neither `Enabled` nor `PendingDeletion` (i.e. disabled), at once',
    keydriftFires: 'disabled for more than `retirement.disabledMaxDays` [90] (needs `stateSince`), no deletion scheduled',
  },
  {
    id: 'kms_cmk_not_multi_region',
    keydrift: ['KD-ACC-004'],
    prowlerFails: 'customer key, `Enabled`, `MultiRegion` true',
    keydriftFires: 'KD-ACC-004: key material in more than one region; off in `default`, on where a cited control asks (PCI DSS 3.6.1.4)',
  },
  {
    id: 'kms_key_not_publicly_accessible',
    keydrift: ['KD-ACC-001'],
    prowlerFails: 'customer key, `Enabled`, an `Allow` statement with a public principal and no restricting condition; other accounts are allowed (cross-account is not public); grants are not read',
    keydriftFires: '`access.public` (a wildcard principal not narrowed to an account, organisation or network), any live key (not pending deletion)',
  },
];
const ENCLAVE_CHECK = /^kms_key_enclave_/;

/** Why a keydrift finding has no Prowler counterpart. */
const KEYDRIFT_ONLY: Record<string, string> = {
  'KD-ROT-002': 'Prowler has no check on the rotation period: `kms_cmk_rotation_enabled` passes any period.',
  'KD-ROT-003': 'Prowler has no check on the age of key material.',
  'KD-ROT-004': 'Prowler has no check for an overdue scheduled rotation.',
  'KD-ALG-001': 'Prowler has no algorithm check for KMS keys.',
  'KD-ALG-002': 'Prowler has no key-size check for KMS keys.',
  'KD-ALG-003': 'Prowler has no post-quantum migration check.',
  'KD-ACC-002': 'Prowler has no separation-of-duties check on key policies.',
  'KD-ACC-003': 'Prowler\'s public-access check lets other accounts through (`is_policy_public` with cross-account allowed) and Prowler never calls ListGrants.',
  'KD-ACC-004': 'reported here under a profile Prowler has no notion of (see the multi-Region check).',
  'KD-ACC-005': 'Prowler has no key-usage separation check.',
  'KD-HSM-001': 'Prowler has no exportability check.',
  'KD-HSM-002': 'Prowler has no protection-level check by tier.',
  'KD-RET-003': 'Prowler has no check on superseded key versions.',
  'KD-RET-004': 'Prowler has no key-material expiry check.',
  'KD-RET-005': 'Prowler has no key-material expiry check.',
  'KD-RET-007': 'Prowler has no check for keys whose imported material has expired.',
  'KD-GOV-001': 'Prowler has no required-tag check for KMS keys.',
  'KD-GOV-003': 'Prowler reports collection errors in its log, not as findings.',
};

// ---------------------------------------------------------------------------------------------
// Comparing.

type Status = 'FAIL' | 'PASS' | 'MANUAL' | '—';

interface Cell {
  scenario: string;
  arn: string;
  check: CheckMapping;
  prowler: Status;
  prowlerKey: ProwlerKey | undefined;
  keydrift: Finding[];
  /** Findings of the counterpart rules under the other profiles, where they differ from default. */
  otherProfiles: Record<string, Finding[]>;
  item: Item | undefined;
  catalogue: Set<string>;
}

type Verdict = 'agree' | 'differ' | 'unknown';

function verdict(cell: Cell): Verdict {
  if (cell.prowler === 'MANUAL') return 'unknown';
  return (cell.prowler === 'FAIL') === cell.keydrift.length > 0 ? 'agree' : 'differ';
}

const bothFlag = (cell: Cell): boolean => cell.prowler === 'FAIL' && cell.keydrift.length > 0;

const rules = (findings: Finding[]): string => (findings.length === 0 ? 'none' : findings.map((f) => `${f.ruleId} (${f.severity})`).join(', '));

/** The reason for a cell, from the facts each tool read; an unforeseen combination says so. */
function why(cell: Cell): string {
  const { item, prowlerKey } = cell;
  const state = item?.state ?? prowlerKey?.state ?? '?';
  const both = verdict(cell) === 'agree';
  const unexpected = `unforeseen: Prowler ${cell.prowler}, keydrift ${rules(cell.keydrift)}; inspect the raw outputs (--out)`;
  switch (cell.check.id) {
    case 'kms_cmk_rotation_enabled': {
      if (cell.prowler === 'FAIL' && both) return 'both: enabled symmetric key with automatic rotation off';
      if (cell.prowler === 'PASS' && both) return (item?.rotation?.periodDays ?? 0) > 365 ? `both: rotation on (its ${item?.rotation?.periodDays}-day period is KD-ROT-002's, below)` : 'both: rotation on';
      if (cell.prowler === '—' && both) {
        if (state !== 'enabled') return `both leave rotation of a ${state} key alone`;
        return `neither expects automatic rotation of ${prowlerKey?.spec ?? item?.algorithm}: KMS rotates only symmetric encryption keys`;
      }
      if (cell.prowler === 'FAIL' && item?.origin === 'imported') {
        return 'KMS cannot rotate imported material automatically, so keydrift marks rotation unsupported and KD-ROT-001 does not apply (KD-ROT-003 judges the material\'s age instead); Prowler tests only the key spec and, having skipped GetKeyRotationStatus for EXTERNAL keys, reads rotation as off';
      }
      return unexpected;
    }
    case 'kms_cmk_not_deleted_unintentionally': {
      if (cell.prowler === 'FAIL' && both) {
        const held = cell.keydrift.some((f) => f.ruleId === 'KD-RET-002');
        return held
          ? 'both: deletion scheduled; keydrift\'s KD-RET-002 because the legal-hold tag is set, Prowler\'s for any scheduled deletion'
          : 'both: deletion scheduled without a hold';
      }
      if (cell.prowler === 'PASS' && both) return 'both: no deletion scheduled';
      if (cell.prowler === '—' && both) return state === 'disabled' ? 'Prowler skips disabled keys unless `--scan-unused-services`; keydrift: no deletion scheduled' : 'out of both tools\' scope';
      if (cell.prowler === 'FAIL' && cell.keydrift.length === 0) {
        return cell.catalogue.has('KD-RET-006')
          ? 'KD-RET-006 is in this keydrift\'s catalogue but did not fire: inspect'
          : 'keydrift judges a scheduled deletion only when it breaks a legal hold (KD-RET-002); Prowler fails every scheduled deletion (critical). A rule for deletions without a hold, its severity set by whether the key is still referenced, is planned in this release (issue 14)';
      }
      return unexpected;
    }
    case 'kms_cmk_are_used': {
      if (cell.prowler === 'PASS' && both) {
        return state === 'pending-deletion' ? 'both: Prowler passes a key with a deletion scheduled; KD-RET-001 leaves such keys to the deletion rules' : `both: ${state}`;
      }
      if (cell.prowler === 'FAIL' && cell.keydrift.length === 0 && state === 'disabled') {
        const since = item?.stateSince;
        const known = since
          ? `keydrift knows it was disabled at ${since}, within retirement.disabledMaxDays`
          : 'keydrift does not know since when (`stateSince` null: moto has no CloudTrail LookupEvents and this is the first scan)';
        return `Prowler fails a disabled key at once; KD-RET-001 waits until it has been disabled for 90 days, and ${known}. \`stateSince\` comes from opt-in CloudTrail LookupEvents or the baseline's first sighting; a key disabled today stays within its 90 days either way`;
      }
      if (cell.prowler === 'FAIL' && both) return 'both: disabled beyond the allowed time';
      return unexpected;
    }
    case 'kms_cmk_not_multi_region': {
      if (cell.prowler === 'PASS' && both) return 'both: single-Region key';
      if (cell.prowler === '—' && both) return `Prowler judges only Enabled keys (this one is ${state}); keydrift: ${item?.replication?.multiRegion ? 'multi-Region' : 'single-Region'}`;
      if (cell.prowler === 'FAIL' && both) return 'both: multi-Region key';
      if (cell.prowler === 'FAIL' && cell.keydrift.length === 0) {
        const elsewhere = Object.entries(cell.otherProfiles).filter(([, findings]) => findings.length > 0).map(([profile]) => profile);
        if (elsewhere.length > 0) {
          return `Prowler fails every enabled multi-Region key (medium); keydrift's KD-ACC-004 is off in the default profile and fires under ${elsewhere.join(', ')} (PCI DSS 3.6.1.4: keys in the fewest possible locations)`;
        }
        return cell.catalogue.has('KD-ACC-004')
          ? 'KD-ACC-004 is in this keydrift\'s catalogue but fired under no profile tried: inspect'
          : 'keydrift has no multi-Region rule; one is planned in this release (issue 14): off in default, on where a cited control asks for it (PCI DSS 3.6.1.4)';
      }
      return unexpected;
    }
    case 'kms_key_not_publicly_accessible': {
      if (cell.prowler === 'FAIL' && both) return 'both: a wildcard principal may decrypt, no condition';
      if (cell.prowler === '—' && both) return `Prowler judges only Enabled keys (this one is ${state}); keydrift: not public`;
      if (cell.prowler === 'PASS' && both) {
        if (cell.scenario === 'public-org-only') return 'both: a wildcard narrowed by aws:PrincipalOrgID is not public';
        if (cell.scenario === 'partner-policy' || cell.scenario === 'partner-grant') {
          const reported = cell.catalogue.has('KD-ACC-003') ? 'keydrift reports it as KD-ACC-003 (keydrift-only findings, below)' : 'keydrift does not report it either; reporting it is planned in this release (issue 14)';
          return `both: another named account is not "public"; ${cell.scenario === 'partner-grant' ? 'the use comes from a grant, which Prowler never reads' : 'Prowler allows cross-account access in this check'}; ${reported}`;
        }
        return 'both: only the key\'s own account may use it';
      }
      return unexpected;
    }
    default:
      return unexpected;
  }
}

interface Comparison {
  cells: Cell[];
  enclave: { scenario: string; check: string; status: string; detail: string }[];
  keydriftOnly: { scenario: string; finding: Finding }[];
  prowlerByArn: Map<string, Map<string, OcsfFinding>>;
}

function compare(arns: Map<string, string>, reports: Record<string, KeydriftReport>, prowler: OcsfFinding[] | null, catalogue: Set<string>): Comparison {
  const report = reports['default']!;
  const prowlerByArn = new Map<string, Map<string, OcsfFinding>>();
  for (const finding of prowler ?? []) {
    const uid = finding.resources[0]?.uid ?? '';
    if (!prowlerByArn.has(uid)) prowlerByArn.set(uid, new Map());
    prowlerByArn.get(uid)!.set(finding.metadata.event_code, finding);
  }
  const items = new Map(report.inventory.map((item) => [item.uid, item]));
  const findingsOf = (which: KeydriftReport, arn: string) => which.findings.filter((finding) => finding.resource.uid === arn);
  const cells: Cell[] = [];
  const keydriftOnly: Comparison['keydriftOnly'] = [];
  const counterparts = new Set(CHECKS.flatMap((check) => check.keydrift));
  for (const [arn, scenario] of arns) {
    const byCheck = prowlerByArn.get(arn);
    for (const check of CHECKS) {
      const hit = byCheck?.get(check.id);
      const otherProfiles: Record<string, Finding[]> = {};
      for (const profile of OTHER_PROFILES) otherProfiles[profile] = findingsOf(reports[profile]!, arn).filter((f) => check.keydrift.includes(f.ruleId));
      cells.push({
        scenario,
        arn,
        check,
        prowler: prowler === null ? '—' : ((hit?.status_code ?? '—') as Status),
        prowlerKey: [...(byCheck?.values() ?? [])][0]?.resources[0]?.data?.metadata,
        keydrift: findingsOf(report, arn).filter((f) => check.keydrift.includes(f.ruleId)),
        otherProfiles,
        item: items.get(arn),
        catalogue,
      });
    }
    for (const finding of findingsOf(report, arn)) if (!counterparts.has(finding.ruleId)) keydriftOnly.push({ scenario, finding });
  }
  const enclave: Comparison['enclave'] = [];
  for (const finding of prowler ?? []) {
    if (!ENCLAVE_CHECK.test(finding.metadata.event_code)) continue;
    const uid = finding.resources[0]?.uid ?? '';
    // The CloudTrail-based checks report on the account and region, not on a key.
    enclave.push({ scenario: arns.get(uid) ?? `(account) ${uid}`, check: finding.metadata.event_code, status: finding.status_code, detail: finding.status_detail ?? finding.status_extended ?? '' });
  }
  return { cells, enclave, keydriftOnly, prowlerByArn };
}

// ---------------------------------------------------------------------------------------------
// Prowler's own description of its checks, read from the venv.

interface CheckMetadata {
  CheckID: string;
  Severity: string;
  CheckTitle: string;
}

function prowlerChecks(prowlerDir: string): CheckMetadata[] {
  const lib = path.join(prowlerDir, 'lib');
  const python = existsSync(lib) ? readdirSync(lib).find((name) => name.startsWith('python')) : undefined;
  const kms = python ? path.join(lib, python, 'site-packages', 'prowler', 'providers', 'aws', 'services', 'kms') : '';
  if (!kms || !existsSync(kms)) return [];
  return readdirSync(kms)
    .filter((name) => name.startsWith('kms_') && existsSync(path.join(kms, name, `${name}.metadata.json`)))
    .map((name) => JSON.parse(readBounded(path.join(kms, name, `${name}.metadata.json`))) as CheckMetadata)
    .sort((a, b) => a.CheckID.localeCompare(b.CheckID));
}

function catalogueOf(root: string): Map<string, string> {
  const dir = path.join(root, 'rules');
  const severities = new Map<string, string>();
  for (const name of existsSync(dir) ? readdirSync(dir) : []) {
    const match = /^(KD-[A-Z]+-\d+)\.yaml$/.exec(name);
    if (!match) continue;
    severities.set(match[1]!, /^severity:\s*(\S+)/m.exec(readBounded(path.join(dir, name)))?.[1] ?? '?');
  }
  return severities;
}

// ---------------------------------------------------------------------------------------------
// Output (Markdown on stdout; progress on stderr).

const cellText = (text: string): string => text.replaceAll('|', '\\|').replaceAll('\n', ' ');

function table(header: string[], rows: string[][]): string {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((row) => `| ${row.map(cellText).join(' | ')} |`)].join('\n');
}

/** Operation counts of a slice of the proxy's log: `Name ×n`. */
function callSummary(calls: ProxyCall[]): string {
  const counts = new Map<string, number>();
  for (const call of calls) counts.set(call.operation, (counts.get(call.operation) ?? 0) + 1);
  return [...counts].map(([operation, count]) => `${operation} ×${count}`).join(', ');
}

function print(lines: string[]): void {
  process.stdout.write(`${lines.join('\n')}\n`);
}

function printMapping(metadata: CheckMetadata[], catalogue: Map<string, string>, runBy: string): void {
  const severity = (id: string) => metadata.find((check) => check.CheckID === id)?.Severity ?? '?';
  const kd = (ids: string[]) => ids.map((id) => `${id} (${catalogue.get(id) ?? 'not in this catalogue'})`).join(', ');
  print([`### Check mapping (${runBy})`, '']);
  print([
    table(
      ['Prowler check (severity)', 'Prowler fails when', 'keydrift rule (severity)', 'keydrift fires when'],
      [
        ...CHECKS.map((check) => [`\`${check.id}\` (${severity(check.id)})`, check.prowlerFails, kd(check.keydrift), check.keydriftFires]),
        ...metadata
          .filter((check) => ENCLAVE_CHECK.test(check.CheckID))
                    // Prowler's titles state the passing condition.
          .map((check) => [`\`${check.CheckID}\` (${check.Severity})`, `unless: ${check.CheckTitle}`, 'none', 'keydrift has no Nitro Enclaves attestation rules']),
        ['none', 'other accounts may decrypt (policy or grant)', kd(['KD-ACC-003']), 'another account may use the key; high when it may decrypt'],
        ['none', 'rotation period', kd(['KD-ROT-002']), 'automatic rotation period > `rotation.maxDays` [365]'],
      ],
    ),
    '',
  ]);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { out: { type: 'string' }, 'keydrift-root': { type: 'string' } } });
  const root = path.resolve(values['keydrift-root'] ?? fileURLToPath(new URL('..', import.meta.url)));
  const prowlerDir = path.join(toolsDir(), `prowler-${PROWLER_VERSION}`);
  if (!existsSync(path.join(prowlerDir, '.complete'))) throw new Error(`Prowler ${PROWLER_VERSION} not found at ${prowlerDir}: run "bash scripts/prowler-venv.sh"`);
  const dir = values.out ? path.resolve(values.out) : mkdtempSync(path.join(tmpdir(), 'prowler-compare-'));
  mkdirSync(dir, { recursive: true });
  const metadata = prowlerChecks(prowlerDir);
  const catalogue = catalogueOf(root);

  const moto = await startMoto();
  let proxy: FaultProxy | undefined;
  try {
    proxy = await startFaultProxy(moto.endpoint, [], { rotationPeriods: true });
    process.stderr.write(`prowler-compare: moto at ${moto.endpoint}, proxy at ${proxy.endpoint}; seeding ${SCENARIOS.length} keys\n`);
    const arns = await seed(proxy.endpoint);
    const seeded = proxy.calls.length;
    const now = new Date().toISOString();

    process.stderr.write(`prowler-compare: keydrift scan (${root})\n`);
    const { reports, scanSeconds } = await runKeydrift(root, proxy.endpoint, dir, now);
    const keydriftCalls = proxy.calls.slice(seeded);
    const afterKeydrift = proxy.calls.length;

    process.stderr.write(`prowler-compare: prowler ${PROWLER_VERSION} aws --services kms\n`);
    let prowler: ProwlerResult | null = null;
    let prowlerFailure: string | null = null;
    try {
      prowler = await runProwler(prowlerDir, proxy.endpoint, dir);
    } catch (error) {
      prowlerFailure = (error as Error).message;
    }
    const prowlerCalls = proxy.calls.slice(afterKeydrift);
    const comparison = compare(arns, reports, prowler?.findings ?? null, new Set(catalogue.keys()));

    const version = reports['default']!.tool?.version ?? '?';
    print([
      `## keydrift ${version} vs Prowler ${PROWLER_VERSION} on one moto estate (${SCENARIOS.length} KMS keys, ${REGION})`,
      '',
      `keydrift checkout: ${root}; evaluation clock ${now}; moto 5.2.5.`,
      '',
    ]);
    print(['### The estate', '', table(['key', 'seeded as'], SCENARIOS.map((scenario) => [scenario.name, scenario.what])), '']);
    printMapping(metadata, catalogue, prowler ? 'Prowler\'s check source and metadata; results below by running both' : 'by reading, not by running');

    if (prowlerFailure) {
      print(['### Prowler did not run', '', '```', prowlerFailure, '```', '', 'Only keydrift\'s side is shown below; the mapping above is by reading, not by running.', '']);
    }

    const verdicts = new Map<string, Record<Verdict, number> & { flagged: number }>();
    for (const check of CHECKS) {
      const cells = comparison.cells.filter((cell) => cell.check.id === check.id);
      // Rows where Prowler did not evaluate the key and no keydrift counterpart fired under any profile are summarised.
      const shown = cells.filter((cell) => cell.prowler !== '—' || cell.keydrift.length > 0 || Object.values(cell.otherProfiles).some((f) => f.length > 0));
      const skipped = cells.filter((cell) => !shown.includes(cell));
      const counts = { agree: 0, differ: 0, unknown: 0, flagged: 0 };
      for (const cell of cells) {
        counts[verdict(cell)]++;
        if (bothFlag(cell)) counts.flagged++;
      }
      verdicts.set(check.id, counts);
      print([
        `### \`${check.id}\` ↔ ${check.keydrift.join(', ')}`,
        '',
        table(
          ['key', 'Prowler', 'keydrift (default)', ...OTHER_PROFILES, 'verdict', 'why'],
          shown.map((cell) => [
            cell.scenario,
            cell.prowler,
            rules(cell.keydrift),
            ...OTHER_PROFILES.map((profile) => rules(cell.otherProfiles[profile]!)),
            verdict(cell) === 'differ' ? '**differ**' : verdict(cell),
            why(cell),
          ]),
        ),
        '',
        ...(skipped.length > 0 ? [`Not evaluated by Prowler and silent in keydrift (agree): ${skipped.map((cell) => `${cell.scenario} (${why(cell)})`).join('; ')}.`, ''] : []),
      ]);
    }

    if (prowler) {
      print([
        '### Prowler\'s Nitro Enclaves checks (no keydrift counterpart)',
        '',
        comparison.enclave.length > 0
          ? table(['key', 'check', 'Prowler', 'detail'], comparison.enclave.map((row) => [row.scenario, row.check, row.status, row.detail]))
          : 'No enclave results.',
        '',
      ]);
    }

    print([
      '### keydrift findings with no Prowler check',
      '',
      comparison.keydriftOnly.length > 0
        ? table(
            ['key', 'keydrift finding', 'why Prowler has none'],
            comparison.keydriftOnly.map(({ scenario, finding }) => [scenario, `${finding.ruleId} (${finding.severity})`, KEYDRIFT_ONLY[finding.ruleId] ?? 'no Prowler KMS check covers this rule']),
          )
        : 'None.',
      '',
    ]);

    const row = (name: string, counts: Record<Verdict, number> & { flagged: number }) => [name, String(counts.agree), String(counts.flagged), String(counts.differ), String(counts.unknown)];
    const total = { agree: 0, differ: 0, unknown: 0, flagged: 0 };
    for (const counts of verdicts.values()) for (const field of ['agree', 'differ', 'unknown', 'flagged'] as const) total[field] += counts[field];
    const enclaveFails = comparison.enclave.filter((row) => row.status === 'FAIL').length;
    print([
      '### Summary (per key and check; keydrift profile default)',
      '',
      table(['Prowler check', 'agree', 'of which both flag', 'differ', 'unknown (MANUAL)'], [...[...verdicts].map(([id, counts]) => row(`\`${id}\``, counts)), row('**total**', total)]),
      '',
      `Prowler-only: ${enclaveFails} enclave FAIL(s), ${comparison.enclave.filter((row) => row.status === 'MANUAL').length} MANUAL. keydrift-only: ${comparison.keydriftOnly.length} finding(s).`,
      '',
      '### How each tool ran',
      '',
      `- keydrift scan: ${scanSeconds.toFixed(1)} s, source ${reports['default']!.sources?.map((source) => `${source.id} ${source.status}${source.errors?.length ? ` (${source.errors.map((e) => e.code).join(', ')})` : ''}`).join(', ')}; API calls: ${callSummary(keydriftCalls)}.`,
      prowler
        ? `- Prowler: ${prowler.run.seconds.toFixed(1)} s, exit ${prowler.run.code}, ${prowler.findings.length} OCSF findings; API calls: ${callSummary(prowlerCalls)}.`
        : `- Prowler: did not run (above); API calls seen: ${callSummary(prowlerCalls) || 'none'}.`,
      ...(prowler && prowler.errors.length > 0 ? ['- Prowler\'s logged errors:', ...prowler.errors.map((error) => `  - ${cellText(error).slice(0, 300)}`)] : []),
      `- Raw outputs: ${values.out ? dir : '(temporary; pass --out DIR to keep them)'}.`,
      '',
    ]);
  } finally {
    await proxy?.stop();
    await moto.stop();
    if (!values.out) rmSync(dir, { recursive: true, force: true });
  }
}

await main();
