import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Log, Result } from 'sarif';
import { validateSarifMultitool, validateSarifSchema } from '../support/sarif-validate.ts';

/** The smallest log GitHub code scanning accepts without complaint from either validator. */
function validLog(): Log {
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'keydrift',
            version: '0.1.0',
            informationUri: 'https://example.com/keydrift',
            rules: [
              {
                id: 'KD001',
                name: 'CertificateExpiresSoon',
                shortDescription: { text: 'Certificate expires soon.' },
                fullDescription: { text: 'A certificate expires within the configured warning window.' },
                help: {
                  text: 'Renew the certificate before it expires.',
                  markdown: '**Renew** the certificate before it expires.',
                },
                properties: { tags: ['security', 'certificate'], 'security-severity': '7.5' },
              },
            ],
          },
        },
        results: [
          {
            ruleId: 'KD001',
            ruleIndex: 0,
            level: 'error',
            message: { text: "Certificate 'api' expires in 10 days." },
            locations: [
              {
                physicalLocation: {
                  artifactLocation: { uri: 'certs/api.pem' },
                  region: { startLine: 1, startColumn: 1, endLine: 1, endColumn: 28 },
                },
              },
            ],
            partialFingerprints: { primaryLocationLineHash: 'a1b2c3d4e5f60718:1' },
          },
        ],
      },
    ],
  };
}

/** A copy of the valid log with its only result changed by `edit`. */
function withResult(edit: (result: Result) => void): Log {
  const log = validLog();
  const result = log.runs[0]?.results?.[0];
  assert.ok(result);
  edit(result);
  return log;
}

function physical(result: Result) {
  const location = result.locations?.[0]?.physicalLocation;
  assert.ok(location);
  return location;
}

let dir = '';
async function writeLog(name: string, log: unknown): Promise<string> {
  const file = path.join(dir, `${name}.sarif`);
  await writeFile(file, JSON.stringify(log, null, 2));
  return file;
}

function ruleIds(lines: readonly string[]): string[] {
  return [...new Set(lines.map((line) => line.split(/[ :]/, 1)[0] ?? ''))].sort();
}

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'keydrift-sarif-test-'));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('validateSarifSchema (ajv, SARIF 2.1.0 schema)', () => {
  test('accepts the minimal GitHub-ready log', () => {
    assert.deepEqual(validateSarifSchema(validLog()), []);
  });

  test('rejects a wrong version', () => {
    const errors = validateSarifSchema({ ...validLog(), version: '2.0.0' });
    assert.equal(errors.length, 1);
    assert.match(errors[0] ?? '', /^\/version must be equal to one of the allowed values/);
  });

  test('rejects a missing required property and an unknown property', () => {
    const log = withResult((result) => {
      const loose = result as unknown as Record<string, unknown>;
      loose['bogus'] = true;
      delete loose['message'];
    });
    const errors = validateSarifSchema(log);
    assert.ok(errors.some((e) => e.includes("must have required property 'message'")), errors.join('\n'));
    assert.ok(errors.some((e) => e.includes('must NOT have additional properties')), errors.join('\n'));
  });

  test('checks formats: uri-reference, uri, date-time, uuid', () => {
    const log = withResult((result) => {
      physical(result).artifactLocation = { uri: 'C:\\certs\\api.pem' };
      result.guid = 'not-a-guid';
    });
    const run = log.runs[0];
    assert.ok(run);
    run.tool.driver.informationUri = 'keydrift.example';
    run.invocations = [{ executionSuccessful: true, startTimeUtc: '2026-02-30T00:00:00Z' }];
    const errors = validateSarifSchema(log);
    for (const format of ['uri-reference', 'uri', 'date-time', 'uuid']) {
      assert.ok(errors.some((e) => e.includes(`must match format "${format}"`)), `${format}:\n${errors.join('\n')}`);
    }
    const ok = withResult((result) => {
      physical(result).artifactLocation = { uri: 'certs/my%20api.pem' };
      result.guid = '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';
    });
    ok.runs[0]!.invocations = [{ executionSuccessful: true, startTimeUtc: '2026-02-28T10:00:00.123Z' }];
    assert.deepEqual(validateSarifSchema(ok), []);
  });

  test('does not require locations (that is a GitHub rule, see the multitool tests)', () => {
    assert.deepEqual(validateSarifSchema(withResult((result) => delete result.locations)), []);
  });
});

// Each case: a broken log and the multitool rule ids expected among its errors.
const broken: Array<{ name: string; log: () => Log; expect: string[] }> = [
  { name: 'wrong version', log: () => ({ ...validLog(), version: '2.0.0' as '2.1.0' }), expect: ['JSON1019'] },
  { name: 'result without locations', log: () => withResult((r) => delete r.locations), expect: ['GH1001', 'GH1015'] },
  {
    name: 'physicalLocation without region',
    log: () => withResult((r) => delete physical(r).region),
    expect: ['GH1003'],
  },
  {
    name: 'region without startLine',
    log: () => withResult((r) => (physical(r).region = { startColumn: 1 })),
    expect: ['GH1003', 'SARIF1007'],
  },
  {
    name: 'absolute file URI',
    log: () => withResult((r) => (physical(r).artifactLocation = { uri: 'file:///home/ci/certs/api.pem' })),
    expect: ['GH1006'],
  },
  {
    name: 'non-file absolute URI',
    log: () => withResult((r) => (physical(r).artifactLocation = { uri: 'https://example.com/certs/api.pem' })),
    expect: ['GH1005'],
  },
  {
    name: 'result without ruleId',
    log: () => withResult((r) => {
      delete r.ruleId;
      delete r.ruleIndex;
    }),
    expect: ['SARIF1010'],
  },
  {
    name: 'message with id/arguments but no text',
    log: () => withResult((r) => (r.message = { id: 'default', arguments: ['api'] })),
    expect: ['GH1007', 'GH1015'],
  },
  {
    name: 'rule without help',
    log: () => {
      const log = validLog();
      delete log.runs[0]!.tool.driver.rules![0]!.help;
      return log;
    },
    expect: ['GH2012'],
  },
  {
    name: 'missing $schema',
    log: () => {
      const log = validLog();
      delete log.$schema;
      return log;
    },
    expect: ['GH1013'],
  },
];

describe('validateSarifMultitool (Sarif.Multitool validate, Sarif;Ghas)', { concurrency: 2 }, () => {
  test('accepts the minimal GitHub-ready log with no errors and no warnings', async () => {
    const verdict = await validateSarifMultitool(await writeLog('valid', validLog()));
    assert.deepEqual(verdict.errors, []);
    assert.deepEqual(verdict.warnings, []);
    const out = JSON.parse(verdict.raw) as Log;
    assert.equal(out.runs[0]?.tool.driver.name, 'Sarif.Multitool');
    assert.equal(out.runs[0]?.invocations?.[0]?.executionSuccessful, true);
  });

  for (const { name, log, expect } of broken) {
    test(`flags ${name}: ${expect.join(', ')}`, async () => {
      const verdict = await validateSarifMultitool(await writeLog(name.replace(/\W+/g, '-'), log()));
      const ids = ruleIds(verdict.errors);
      for (const id of expect) assert.ok(ids.includes(id), `expected ${id} in:\n${verdict.errors.join('\n')}`);
      // The lines carry the rule's formatted message, not just its id.
      assert.ok(verdict.errors.every((line) => /^[A-Z]+\d+ \(\d+(:\d+)?\): \S/.test(line)), verdict.errors.join('\n'));
    });
  }

  test('throws a clear error when the multitool binary is missing', async () => {
    await assert.rejects(
      validateSarifMultitool(path.join(dir, 'valid.sarif'), { binary: path.join(dir, 'no-such-Sarif.Multitool') }),
      /SARIF Multitool .* is not installed/,
    );
  });
});
