import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CreateAliasCommand, CreateKeyCommand, EnableKeyRotationCommand, KMSClient, ScheduleKeyDeletionCommand, TagResourceCommand } from '@aws-sdk/client-kms';
import type { Log } from 'sarif';
import type { Report } from '../../src/report/types.ts';
import { AWS_ENV } from '../support/aws.ts';
import { removeDir, tempDir } from '../support/certs.ts';
import { runCli } from '../support/cli.ts';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.ts';
import { startMoto, withoutAwsEnv, type Moto } from '../support/moto.ts';
import { assertReportsValid } from '../support/reports.ts';

// Declared-versus-live drift against moto. Three keys are created as a Terraform state declares
// them (rotation every 365 days, an alias, a team tag) and the state is written the way
// `terraform show -json` renders it. Then, out of band: one key's rotation period is changed to
// 180 days, one key is scheduled for deletion, and a key nobody declared is created. The scan reads
// the state and the account together, with the account declared fully managed as code:
//   KD-DRF-003 on `payments` (rotation.periodDays 180 live, 365 declared),
//   KD-DRF-001 on `reports` (declared, pending deletion live),
//   KD-DRF-002 on the undeclared key.
// moto 5.2.5 drops RotationPeriodInDays, so the fault proxy keeps the period each
// EnableKeyRotation sent and answers GetKeyRotationStatus with it, as AWS does.

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
const DECLARED = ['orders', 'payments', 'reports'] as const;

describe('terraform state against live AWS KMS (moto): declared-versus-live drift', () => {
  let moto: Moto;
  let proxy: FaultProxy;
  let dir: string;
  const arns = new Map<string, string>();
  let undeclaredArn = '';

  before(async () => {
    moto = await startMoto();
    proxy = await startFaultProxy(moto.endpoint, [], { rotationPeriods: true });
    dir = tempDir();
    const kms = new KMSClient({ region: 'us-east-1', endpoint: proxy.endpoint, credentials });
    try {
      for (const name of DECLARED) {
        const created = await kms.send(new CreateKeyCommand({ Description: name, Tags: [{ TagKey: 'team', TagValue: name }] }));
        const metadata = created.KeyMetadata!;
        arns.set(name, metadata.Arn!);
        await kms.send(new EnableKeyRotationCommand({ KeyId: metadata.KeyId, RotationPeriodInDays: 365 }));
        await kms.send(new CreateAliasCommand({ AliasName: `alias/${name}`, TargetKeyId: metadata.KeyId }));
      }
      writeFileSync(path.join(dir, 'state.json'), stateJson(arns));
      // Out of band, after the state was written:
      await kms.send(new EnableKeyRotationCommand({ KeyId: arns.get('payments')!.split('/')[1], RotationPeriodInDays: 180 }));
      await kms.send(new ScheduleKeyDeletionCommand({ KeyId: arns.get('reports')!.split('/')[1], PendingWindowInDays: 7 }));
      const undeclared = await kms.send(new CreateKeyCommand({ Description: 'made in the console' }));
      undeclaredArn = undeclared.KeyMetadata!.Arn!;
      await kms.send(new TagResourceCommand({ KeyId: undeclaredArn, Tags: [{ TagKey: 'team', TagValue: 'unknown' }] }));
    } finally {
      kms.destroy();
    }
  });
  after(async () => {
    await proxy?.stop();
    await moto?.stop();
    removeDir(dir);
  });

  async function scan(extra = ''): Promise<{ report: Report; sarif: Log; code: number }> {
    const config = path.join(dir, `keydrift-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(
      config,
      [
        'version: 1',
        'sources:',
        '  - { id: iac, type: terraform, paths: [state.json] }',
        `  - { id: aws, type: aws-kms, regions: [us-east-1], endpoint: "${proxy.endpoint}" }`,
        'report: { failOn: high }',
        extra,
      ].join('\n'),
    );
    const out = path.join(dir, `out-${Math.random().toString(36).slice(2)}`);
    const run = await runCli(['scan', '--config', config, '--out', out, '--format', 'json,sarif'], { cwd: dir, env: { ...withoutAwsEnv(process.env), ...AWS_ENV } });
    const report = assertReportsValid(out);
    return { report, sarif: JSON.parse(readFileSync(path.join(out, 'keydrift.sarif'), 'utf8')) as Log, code: run.code };
  }

  const drift = (report: Report) =>
    report.findings
      .filter((finding) => finding.ruleId.startsWith('KD-DRF-'))
      .map((finding) => `${finding.ruleId} ${finding.resource.name}`)
      .sort();

  test('one changed rotation period, one deleted key and one undeclared key: exactly one KD-DRF-003, KD-DRF-001 and KD-DRF-002', async () => {
    const { report, sarif } = await scan('drift: { managedAsCode: [ { source: aws } ] }');
    assert.deepEqual(
      report.sources.map((source) => `${source.id} ${source.status}`),
      ['iac ok', 'aws ok'],
      JSON.stringify(report.sources.map((source) => source.errors)),
    );
    // The undeclared key has no alias: its name is its key id.
    assert.deepEqual(drift(report), ['KD-DRF-001 aws_kms_key.reports', `KD-DRF-002 ${undeclaredArn.split('/')[1]}`, 'KD-DRF-003 aws_kms_key.payments']);

    const changed = report.findings.find((finding) => finding.ruleId === 'KD-DRF-003')!;
    assert.equal(changed.evidence['setting'], 'rotation.periodDays');
    assert.equal(changed.evidence['liveValue'], 180);
    assert.equal(changed.evidence['declaredValue'], 365);
    assert.equal(changed.evidence['liveUid'], arns.get('payments'));
    assert.match(changed.message, /rotation\.periodDays is 180 live but 365 in state\.json:\d+/);

    const deleted = report.findings.find((finding) => finding.ruleId === 'KD-DRF-001')!;
    assert.equal(deleted.evidence['liveState'], 'pending-deletion');
    assert.equal(deleted.resource.uid, 'terraform:state.json#aws_kms_key.reports');
    assert.equal(deleted.evidence['liveUid'], arns.get('reports'));
    assert.equal(report.findings.find((finding) => finding.ruleId === 'KD-DRF-002')!.resource.uid, undeclaredArn);

    // The KD-DRF-003 result points at the declared rotation_period_in_days line of the state.
    const lines = readFileSync(path.join(dir, 'state.json'), 'utf8').split('\n');
    const result = sarif.runs[0]!.results!.find((candidate) => candidate.ruleId === 'KD-DRF-003')!;
    const location = result.locations![0]!.physicalLocation!;
    assert.equal(location.artifactLocation!.uri, 'state.json');
    assert.match(lines[location.region!.startLine! - 1]!, /"rotation_period_in_days": 365/);
    const payments = lines.findIndex((line) => line.includes(`"${arns.get('payments')}"`));
    assert.ok(location.region!.startLine! > payments + 1 - 20 && location.region!.startLine! < payments + 1 + 20, 'the payments key block');
  });

  test('without a scope managed as code, an undeclared key is not drift; the other two still are', async () => {
    const { report } = await scan();
    assert.deepEqual(drift(report), ['KD-DRF-001 aws_kms_key.reports', 'KD-DRF-003 aws_kms_key.payments']);
  });

  test('a state that cannot be read makes no live key look undeclared', async () => {
    writeFileSync(path.join(dir, 'broken.json'), '{\n  "format_version": "1.0",\n  "values": {\n');
    const config = 'drift: { managedAsCode: [ { source: aws } ] }';
    const configFile = path.join(dir, 'keydrift-broken.yaml');
    writeFileSync(
      configFile,
      `version: 1\nreport: { failOn: none }\nsources:\n  - { id: iac, type: terraform, paths: [state.json, broken.json] }\n  - { id: aws, type: aws-kms, regions: [us-east-1], endpoint: "${proxy.endpoint}" }\n${config}\n`,
    );
    const out = path.join(dir, 'out-broken');
    const run = await runCli(['scan', '--config', configFile, '--out', out, '--format', 'json'], { cwd: dir, env: { ...withoutAwsEnv(process.env), ...AWS_ENV } });
    const report = assertReportsValid(out);
    assert.equal(report.sources.find((source) => source.id === 'iac')?.status, 'partial');
    assert.deepEqual(drift(report), ['KD-DRF-001 aws_kms_key.reports', 'KD-DRF-003 aws_kms_key.payments']);
    assert.ok(report.findings.some((finding) => finding.ruleId === 'KD-GOV-003'));
    assert.equal(run.code, 3);
  });
});

/** A state as `terraform show -json` renders it after applying the declarations (provider 5.x attribute names). */
function stateJson(arns: Map<string, string>): string {
  const resources = [];
  for (const [name, arn] of arns) {
    const keyId = arn.split('/')[1]!;
    resources.push({
      address: `aws_kms_key.${name}`,
      mode: 'managed',
      type: 'aws_kms_key',
      name,
      provider_name: 'registry.terraform.io/hashicorp/aws',
      schema_version: 0,
      values: {
        arn,
        bypass_policy_lockout_safety_check: false,
        custom_key_store_id: '',
        customer_master_key_spec: 'SYMMETRIC_DEFAULT',
        deletion_window_in_days: 30,
        description: name,
        enable_key_rotation: true,
        id: keyId,
        is_enabled: true,
        key_id: keyId,
        key_usage: 'ENCRYPT_DECRYPT',
        multi_region: false,
        rotation_period_in_days: 365,
        tags: { team: name },
        tags_all: { team: name },
        xks_key_id: '',
      },
      sensitive_values: { tags: {}, tags_all: {} },
    });
    resources.push({
      address: `aws_kms_alias.${name}`,
      mode: 'managed',
      type: 'aws_kms_alias',
      name,
      provider_name: 'registry.terraform.io/hashicorp/aws',
      schema_version: 0,
      values: { arn: arn.replace(/:key\/.*$/, `:alias/${name}`), id: `alias/${name}`, name: `alias/${name}`, name_prefix: '', target_key_arn: arn, target_key_id: keyId },
      sensitive_values: {},
      depends_on: [`aws_kms_key.${name}`],
    });
  }
  return JSON.stringify({ format_version: '1.0', terraform_version: '1.9.8', values: { root_module: { resources } } }, null, 2);
}
