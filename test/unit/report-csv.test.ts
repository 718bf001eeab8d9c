import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { compareWithBaseline } from '../../src/findings/baseline.ts';
import { countBySeverity } from '../../src/findings/outcome.ts';
import { SEVERITIES } from '../../src/model/severity.ts';
import { toCsv } from '../../src/report/csv.ts';
import type { Report } from '../../src/report/types.ts';

// The CSV read back by a strict RFC 4180 parser: every row has every column, and the counts a
// spreadsheet would make (standing by severity, fixed apart, waived apart) are the JSON's summary.

const demo = (): Report => JSON.parse(readFileSync(new URL('../../reports/keydrift.json', import.meta.url), 'utf8')) as Report;

/** RFC 4180: CRLF records, fields quoted with " when they hold , " CR or LF, "" for a quote; anything else is refused. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let index = 0;
  assert.ok(text.endsWith('\r\n'), 'the last record ends with CRLF');
  while (index < text.length) {
    const row: string[] = [];
    for (;;) {
      let cell = '';
      if (text[index] === '"') {
        index++;
        for (;;) {
          const quote = text.indexOf('"', index);
          assert.ok(quote >= 0, 'an unterminated quoted field');
          cell += text.slice(index, quote);
          index = quote + 1;
          if (text[index] === '"') {
            cell += '"';
            index++;
          } else break;
        }
      } else {
        while (index < text.length && text[index] !== ',' && text[index] !== '\r') {
          assert.ok(text[index] !== '"' && text[index] !== '\n', `a bare quote or line feed in an unquoted field at ${index}`);
          cell += text[index++];
        }
      }
      row.push(cell);
      if (text[index] === ',') {
        index++;
        continue;
      }
      assert.equal(text.slice(index, index + 2), '\r\n', `a field ends with , or CRLF at ${index}`);
      index += 2;
      break;
    }
    rows.push(row);
  }
  return rows;
}

function records(report: Report): Record<string, string>[] {
  const [header, ...rows] = parseCsv(toCsv(report));
  for (const row of rows) assert.equal(row.length, header!.length, 'every row has every column');
  return rows.map((row) => Object.fromEntries(header!.map((name, index) => [name, row[index]!])));
}

/** Counts the way a spreadsheet filter would, to compare with the JSON report's summary. */
function tally(rows: readonly Record<string, string>[]) {
  const standing = rows.filter((row) => row['waived'] === 'no' && row['state'] !== 'fixed');
  return {
    bySeverity: Object.fromEntries(SEVERITIES.map((severity) => [severity, standing.filter((row) => row['severity'] === severity).length])),
    waived: rows.filter((row) => row['waived'] === 'yes').length,
    fixed: rows.filter((row) => row['state'] === 'fixed').length,
  };
}

test('CSV: the demo report round-trips, state is empty without a baseline, and the counts equal the summary', () => {
  const report = demo();
  const rows = records(report);
  assert.deepEqual(Object.keys(rows[0]!), ['fingerprint', 'ruleId', 'severity', 'title', 'resourceUid', 'resourceName', 'provider', 'location', 'sourceId', 'message', 'waived', 'state']);
  assert.equal(rows.length, report.findings.length);
  assert.deepEqual(rows.map((row) => row['fingerprint']), report.findings.map((finding) => finding.fingerprint));
  assert.deepEqual(rows.map((row) => row['message']), report.findings.map((finding) => finding.message), 'messages with commas and quotes come back whole');
  assert.ok(rows.every((row) => row['state'] === ''));
  const counts = tally(rows);
  assert.deepEqual(counts.bySeverity, report.summary.findings);
  assert.equal(counts.waived, report.summary.waived);
  assert.equal(counts.fixed, report.summary.fixed);
});

test('CSV: against a baseline, fixed findings stay in with state fixed and count neither as standing nor as waived', () => {
  const baseline = demo();
  const current = demo();
  const fixedIds = new Set([current.findings.find((finding) => finding.ruleId === 'KD-ROT-001')!.fingerprint, current.findings.find((finding) => finding.ruleId === 'KD-CRT-011')!.fingerprint]);
  const findings = current.findings.filter((finding) => !fixedIds.has(finding.fingerprint));
  const updated = findings.find((finding) => finding.ruleId === 'KD-CRT-002')!;
  updated.evidence = { ...updated.evidence, warnDays: 45 };
  const alg = findings.find((finding) => finding.ruleId === 'KD-ALG-001')!;
  findings.push({ ...alg, fingerprint: 'e'.repeat(32), resource: { ...alg.resource, uid: `${alg.resource.uid}-new` } });
  const comparison = compareWithBaseline(findings, baseline, current.inventory, current.sources.map((source) => source.id));
  const report: Report = {
    ...current,
    findings: comparison.findings,
    summary: { ...current.summary, findings: countBySeverity(comparison.findings), waived: comparison.findings.filter((finding) => finding.waiver).length, new: comparison.new, fixed: comparison.fixed },
    drift: comparison.drift,
  };
  const rows = records(report);
  assert.equal(rows.length, report.findings.length, 'fixed findings are kept');
  const counts = tally(rows);
  assert.deepEqual(counts.bySeverity, report.summary.findings);
  assert.equal(counts.waived, report.summary.waived);
  assert.equal(counts.fixed, report.summary.fixed);
  assert.equal(counts.fixed, 2);
  assert.deepEqual(rows.filter((row) => row['state'] === 'fixed').map((row) => row['fingerprint']).sort(), [...fixedIds].sort());
  assert.equal(rows.filter((row) => row['state'] === 'new').length, report.summary.new);
  assert.equal(rows.filter((row) => row['state'] === 'updated').length, 1);
  assert.ok(rows.every((row) => ['new', 'unchanged', 'updated', 'fixed'].includes(row['state']!)));
});

test('CSV: a crafted baseline state is left empty, never passed through', () => {
  const report = demo();
  report.findings = [{ ...report.findings[0]!, baselineState: '=HYPERLINK("http://evil")' as never }];
  assert.equal(records(report)[0]!['state'], '');
});
