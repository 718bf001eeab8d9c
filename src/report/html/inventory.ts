import type { InventoryItem } from '../../inventory/types.ts';
import { html } from './escape.ts';
import { daysSince, shortDate, type ReportView } from './view.ts';

/** The next date that matters for an item: a certificate's end, else a key's next rotation, else its expiry. */
export function nextDate(item: InventoryItem): { at: string; what: string } | null {
  if (item.kind === 'certificate') {
    const end = item.certificate?.notAfter ?? item.expiresAt;
    return typeof end === 'string' ? { at: end, what: 'expires' } : null;
  }
  if (typeof item.rotation?.nextRotationAt === 'string') return { at: item.rotation.nextRotationAt, what: 'rotation' };
  return typeof item.expiresAt === 'string' ? { at: item.expiresAt, what: 'expires' } : null;
}

/** One row per item, in the report's order; the script sorts and searches them in place. */
export function inventorySection(view: ReportView): string {
  const items = Array.isArray(view.report.inventory) ? view.report.inventory : [];
  const rows = items.map((item) => itemRow(view, item));
  const head = (label: string, sort?: string, numeric = false) =>
    `<th scope="col"${numeric ? ' class="num"' : ''}>${sort ? `<button type="button" data-sort="${sort}">${label}</button>` : label}</th>`;
  return `<section id="inventory" aria-labelledby="inventory-title">
<h2 id="inventory-title">Inventory</h2>
<form id="inventory-tools" class="filters" role="search" aria-label="Search the inventory" hidden>
<label for="inventory-search">Search<input id="inventory-search" type="search" autocomplete="off" placeholder="name, uid, provider, algorithm, tier"></label>
<output id="inventory-count" for="inventory-search" aria-live="polite">${items.length} of ${items.length} items</output>
</form>
<table id="inventory-table"><caption>Inventory: ${items.length} keys and certificates; age and dates as of the evaluation time</caption>
<thead><tr>${head('Name', 'name')}${head('Kind and state')}${head('Provider', 'provider')}${head('Location')}${head('Algorithm')}${head('Protection')}` +
    `${head('Age (days)', 'age', true)}${head('Last rotation')}${head('Next rotation or expiry', 'expiry')}${head('Tier')}${head('Open findings', 'findings', true)}</tr></thead>
<tbody>
${rows.join('\n') || '<tr><td colspan="11">No items.</td></tr>'}
</tbody></table>
</section>`;
}

function itemRow(view: ReportView, item: InventoryItem): string {
  const age = daysSince(view, item.createdAt);
  const next = nextDate(item);
  const lastRotation = item.rotation?.lastRotatedAt;
  const open = view.openByUid.get(item.uid) ?? [];
  const waived = view.waivedByUid.get(item.uid) ?? 0;
  const findings = open.length === 0 ? '0' : `<a href="#${open[0]!.id}">${open.length}</a>`;
  return `<tr data-uid="${html(item.uid)}"><td>${html(item.name)}${item.declared === true ? ' <span class="note">(declared)</span>' : ''}</td><td>${html(item.kind)}, ${html(item.state)}</td><td>${html(item.provider)}</td>` +
    `<td>${html(item.location)}</td><td>${html(item.algorithm)}</td><td>${html(item.protection)}</td>` +
    `<td>${age === null ? '' : age}</td><td>${date(lastRotation)}</td>` +
    `<td>${next ? `${date(next.at)} ${next.what}` : ''}</td><td>${html(item.tier)}</td>` +
    `<td>${findings}${waived > 0 ? ` <span class="note">+${waived} waived</span>` : ''}</td></tr>`;
}

/** The date alone: it sorts as text, and at 20,000 rows a <time> element per cell is megabytes. */
function date(value: unknown): string {
  return typeof value === 'string' ? html(shortDate(value)) : '';
}
