import { html } from './escape.ts';
import type { ReportView } from './view.ts';

/** How the estate itself changed since the baseline: present only when the report has a baseline. */
export function driftSection(view: ReportView): string {
  const drift = view.report.drift;
  if (!drift || typeof drift !== 'object') return '';
  const added = list(drift.added);
  const removed = list(drift.removed);
  const changed = list(drift.changed);
  const items = (entries: readonly { uid: string; name: string }[], what: string) =>
    `<table id="drift-${what}" data-drift="${what}"><caption>Items ${what}: ${entries.length}</caption><thead><tr><th scope="col">Name</th><th scope="col">uid</th></tr></thead><tbody>` +
    (entries.map((entry) => `<tr data-uid="${html(entry.uid)}"><td>${html(entry.name)}</td><td class="mono">${html(entry.uid)}</td></tr>`).join('') || `<tr><td colspan="2">None.</td></tr>`) +
    '</tbody></table>';
  const changeRows = changed.flatMap((entry) => {
    const changes = entry.changes && typeof entry.changes === 'object' ? Object.entries(entry.changes) : [];
    return changes.map(([field, change], index) =>
      `<tr${index === 0 ? ` data-uid="${html(entry.uid)}"` : ''}><td>${html(entry.name)}<br><span class="note mono">${html(entry.uid)}</span></td><td><code>${html(field)}</code></td>` +
      `<td>${value(change?.before)}</td><td>${value(change?.after)}</td></tr>`);
  });
  return `<section id="drift" aria-labelledby="drift-title">
<h2 id="drift-title">Inventory drift since the baseline</h2>
<p>Baseline evaluated at ${typeof drift.baselineNow === 'string' ? `<time datetime="${html(drift.baselineNow)}">${html(drift.baselineNow)}</time>` : 'an unknown time'}: ` +
    `<span data-drift-count="added">${added.length}</span> added, <span data-drift-count="removed">${removed.length}</span> removed, <span data-drift-count="changed">${changed.length}</span> changed.</p>
${items(added, 'added')}
${items(removed, 'removed')}
<table id="drift-changed" data-drift="changed"><caption>Items changed: ${changed.length}</caption><thead><tr><th scope="col">Item</th><th scope="col">Field</th><th scope="col">Before</th><th scope="col">After</th></tr></thead><tbody>
${changeRows.join('\n') || '<tr><td colspan="4">None.</td></tr>'}
</tbody></table>
</section>`;
}

function list<T>(value: T[] | undefined): T[] {
  return Array.isArray(value) ? value : [];
}

function value(inner: unknown): string {
  if (inner === null || inner === undefined) return '<span class="note">unknown</span>';
  return `<code>${html(typeof inner === 'string' ? inner : JSON.stringify(inner))}</code>`;
}
