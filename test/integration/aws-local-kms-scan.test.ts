import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ACCOUNT, KMS_SCENARIOS, seedKms } from '../fixtures/aws/estate.ts';
import { AWS_ENV, expectedFindings, scenarioFindings } from '../support/aws.ts';
import { removeDir, tempDir } from '../support/certs.ts';
import { runCli } from '../support/cli.ts';
import { startLocalKms, type LocalKms } from '../support/local-kms.ts';
import { withoutAwsEnv } from '../support/moto.ts';
import { assertEvaluateAccepts } from '../support/evidence.ts';
import { assertReportsValid } from '../support/reports.ts';

// local-kms as a second KMS implementation: the same scenarios, the same expected findings, for
// what it supports. It has no RotateKeyOnDemand, no ListKeyRotations and no ListGrants: those
// scenarios are not seeded, and every ListKeyRotations and ListGrants call is reported (the source
// is partial, never silently ok).

const DAY = 86_400_000;
const UNSUPPORTED = new Set(KMS_SCENARIOS.filter((scenario) => scenario.onDemandRotation).map((scenario) => scenario.name));

describe('aws-kms against local-kms', () => {
  let kms: LocalKms;
  let dir: string;
  let seedTime: Date;

  before(async () => {
    kms = await startLocalKms({ region: 'us-east-1', accountId: ACCOUNT });
    dir = tempDir();
    seedTime = new Date(Math.floor(Date.now() / 1000) * 1000);
    await seedKms(kms.endpoint, 'us-east-1', KMS_SCENARIOS.filter((scenario) => !UNSUPPORTED.has(scenario.name)));
  });
  after(async () => {
    await kms?.stop();
    removeDir(dir);
  });

  for (const clock of ['+30d', '+400d'] as const) {
    test(`at seed time ${clock}: the same findings as moto for the scenarios local-kms supports`, async () => {
      const config = path.join(dir, 'keydrift.yaml');
      writeFileSync(config, `version: 1\nsources:\n  - { id: kms, type: aws-kms, regions: [us-east-1], endpoint: "${kms.endpoint}" }\n`);
      const out = path.join(dir, `out${clock}`);
      const now = new Date(seedTime.getTime() + (clock === '+30d' ? 30 : 400) * DAY).toISOString();
      const run = await runCli(['scan', '--config', config, '--now', now, '--out', out, '--format', 'json'], { env: { ...withoutAwsEnv(process.env), ...AWS_ENV } });
      const report = assertReportsValid(out);
      assert.deepEqual(scenarioFindings(report), expectedFindings(clock, { acm: false, regions: ['us-east-1'], skip: (scenario) => UNSUPPORTED.has(scenario) }));
      assert.equal(report.inventory.length, KMS_SCENARIOS.length - UNSUPPORTED.size);
      const source = report.sources[0]!;
      assert.equal(source.status, 'partial');
      assert.ok(source.errors.length > 0);
      assert.ok(source.errors.every((error) => /^kms:(ListKeyRotations|ListGrants) on /.test(error.message)), JSON.stringify(source.errors[0]));
      assert.equal(source.errors.filter((error) => error.message.startsWith('kms:ListGrants on ')).length, report.inventory.length, 'one per key');
      assert.ok(report.findings.some((finding) => finding.ruleId === 'KD-GOV-003'));
      assert.equal(run.code, 1);
      await assertEvaluateAccepts(report.inventory, report.sources);
    });
  }
});
