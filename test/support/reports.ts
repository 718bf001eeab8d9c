import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Log } from 'sarif';
import type { Report } from '../../src/report/types.ts';
import { validator } from '../../src/util/schemas.ts';
import { validateSarifSchema } from './sarif-validate.ts';

/** Reads a JSON report and fails the test unless it matches schemas/report.schema.json. */
export function readValidReport(file: string): Report {
  const report = JSON.parse(readFileSync(file, 'utf8')) as Report;
  const validate = validator('report');
  assert.ok(validate(report), `${file}: ${JSON.stringify(validate.errors?.slice(0, 3))}`);
  return report;
}

/** Validates every report a scan wrote into `dir` (JSON against our schema, SARIF against 2.1.0). */
export function assertReportsValid(dir: string): Report {
  const report = readValidReport(path.join(dir, 'keydrift.json'));
  const sarifFile = path.join(dir, 'keydrift.sarif');
  if (existsSync(sarifFile)) {
    assert.deepEqual(validateSarifSchema(JSON.parse(readFileSync(sarifFile, 'utf8')) as Log), [], sarifFile);
  }
  return report;
}
