import { html, shellWord } from './escape.ts';
import type { ReportView } from './view.ts';

/**
 * What an auditor needs to reproduce the findings: the tool, the clock, the digests, and the
 * command that re-derives them from the JSON report saved next to this page.
 */
export function metadataSection(view: ReportView): string {
  const { report } = view;
  const scan = report.scan ?? ({} as Partial<typeof report.scan>);
  const bundles = Array.isArray(scan.policy?.bundles) ? scan.policy.bundles : [];
  const now = typeof scan.now === 'string' ? scan.now : '';
  const command = `keydrift evaluate --inventory keydrift.json --now ${shellWord(now)}`;
  const rows: [string, string][] = [
    ['Tool', `${html(report.tool?.name)} ${html(report.tool?.version)}`],
    ['Profile', `<code>${html(scan.policy?.profile)}</code>`],
    ['Fail on', `<code>${html(scan.failOn)}</code>`],
    ['Evaluation clock (scan.now)', `<time datetime="${html(now)}">${html(now)}</time>`],
    ['Scan started', html(scan.startedAt)],
    ['Scan finished', html(scan.finishedAt)],
    ['Config name', html(scan.configName)],
    ['Config digest', scan.configDigest ? `<code>${html(scan.configDigest)}</code>` : '<span class="note">none (no config file)</span>'],
    ['Policy digest', `<code>${html(scan.policyDigest)}</code>`],
    ['Inventory digest', `<code>${html(scan.inventoryDigest)}</code>`],
    ['Custom policy bundles', bundles.length > 0 ? bundles.map((bundle) => `<code>${html(bundle)}</code>`).join(', ') : 'none'],
    ['Report schema version', html(report.schemaVersion)],
  ];
  return `<section id="metadata" aria-labelledby="metadata-title">
<h2 id="metadata-title">Reproducing this report</h2>
<table id="metadata-table"><caption>Scan metadata</caption><tbody>
${rows.map(([label, value]) => `<tr><th scope="row">${label}</th><td>${value}</td></tr>`).join('\n')}
</tbody></table>
<p>The findings are re-derived from the JSON report saved with this page (<code>keydrift.json</code>), with the policy and clock it records:</p>
<pre id="reproduce-command"><code>${html(command)}</code></pre>
</section>`;
}
