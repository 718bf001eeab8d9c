import { SEVERITIES } from '../model/severity.ts';
import { bySeverity } from '../findings/outcome.ts';
import type { Report } from './types.ts';

/**
 * A single self-contained page for auditors: no scripts, no external assets. Every value from the
 * report is escaped (a report can be crafted, a file name can be anything), and the page's
 * Content-Security-Policy forbids scripts and remote content should anything slip through.
 */
export function toHtml(report: Report): string {
  const findings = [...report.findings].sort(bySeverity);
  const rows = findings
    .map(
      (finding) => `<tr class="${escape(finding.severity)}${finding.waiver ? ' waived' : ''}"><td>${escape(finding.severity)}${finding.waiver ? ' (waived)' : ''}</td>` +
        `<td>${escape(finding.ruleId)}</td><td>${escape(finding.title)}</td><td title="${escape(finding.resource.uid)}">${escape(finding.resource.name)}</td>` +
        `<td>${escape(finding.message)}</td><td>${escape(finding.remediation.text)}</td></tr>`,
    )
    .join('\n');
  const sources = report.sources
    .map((source) => `<tr><td>${escape(source.id)}</td><td>${escape(source.type)}</td><td>${escape(source.status)}</td><td>${escape(source.items)}</td>` +
      `<td>${source.errors.map((error) => escape(error.message)).join('<br>')}</td></tr>`)
    .join('\n');
  const counts = SEVERITIES.map((severity) => `<li>${severity}: ${escape(report.summary.findings[severity])}</li>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>keydrift report: ${escape(report.scan.configName)}</title>
<style>body{font:14px system-ui,sans-serif;margin:2rem}table{border-collapse:collapse;width:100%}td,th{border:1px solid #ccc;padding:4px;text-align:left;vertical-align:top}
.critical td:first-child{background:#f4b6b6}.high td:first-child{background:#f9d3a8}.medium td:first-child{background:#fbeaa5}.waived{opacity:.6}</style></head>
<body><h1>keydrift report: ${escape(report.scan.configName)}</h1>
<p>Evaluated at ${escape(report.scan.now)} with profile <code>${escape(report.scan.policy.profile)}</code>; ${escape(report.summary.items)} items; exit code ${escape(report.summary.exitCode)}.</p>
<p>Policy ${escape(report.scan.policyDigest)}; inventory ${escape(report.scan.inventoryDigest)}.</p>
<ul>${counts}</ul>
<h2>Findings</h2><table><thead><tr><th>severity</th><th>rule</th><th>title</th><th>resource</th><th>message</th><th>remediation</th></tr></thead><tbody>
${rows}
</tbody></table>
<h2>Sources</h2><table><thead><tr><th>source</th><th>type</th><th>status</th><th>items</th><th>errors</th></tr></thead><tbody>
${sources}
</tbody></table></body></html>
`;
}

/** Text and attribute values alike; fields are typed, but a crafted report can hold anything. */
function escape(value: unknown): string {
  return String(value).replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll("'", '&#39;');
}
