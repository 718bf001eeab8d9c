import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Report } from '../../src/report/types.ts';
import { validateSarifMultitool, validateSarifSchema } from './sarif-validate.ts';

interface SarifResult {
  ruleId: string;
  partialFingerprints: { primaryLocationLineHash: string };
  locations: { physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number; startColumn: number } } }[];
}

/**
 * The SARIF a scan of declared resources wrote in `out`: valid for ajv and the Multitool, one
 * result per expected finding in order, each on the file and line given, and each the JSON
 * report's finding with the same fingerprint.
 */
export async function assertSarifOnDeclaredLines(out: string, report: Report, expected: readonly { ruleId: string; file: string; line: number }[]): Promise<void> {
  const sarif = JSON.parse(await readFile(path.join(out, 'keydrift.sarif'), 'utf8')) as { runs: { results: SarifResult[] }[] };
  assert.deepEqual(validateSarifSchema(sarif), []);
  const multitool = await validateSarifMultitool(path.join(out, 'keydrift.sarif'));
  assert.deepEqual(multitool.errors, [], 'SARIF Multitool (Sarif;Ghas rules)');
  const results = sarif.runs[0]!.results;
  assert.deepEqual(
    results.map((result) => ({ ruleId: result.ruleId, file: result.locations[0]!.physicalLocation.artifactLocation.uri, line: result.locations[0]!.physicalLocation.region.startLine })),
    expected.map(({ ruleId, file, line }) => ({ ruleId, file, line })),
  );
  const byFingerprint = new Map(report.findings.map((finding) => [finding.fingerprint, finding.ruleId]));
  for (const result of results) assert.equal(byFingerprint.get(result.partialFingerprints.primaryLocationLineHash), result.ruleId);
}
