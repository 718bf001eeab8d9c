import type { FullSettings } from '../../config/settings.ts';
import type { InventoryItem } from '../../inventory/types.ts';
import { SEVERITIES, type Severity } from '../../model/severity.ts';
import type { TrendPoint } from '../history.ts';
import { html } from './escape.ts';
import { DAY_MS, shortDate, type ReportView } from './view.ts';

// Inline SVG only (no script, no remote font): each chart has a <title> and a <desc> that says in
// words what it shows, and marks values with text as well as colour.

export const AGE_BARS = 50;
export const EXPIRY_DAYS = 90;
export const TREND_POINTS = 200;

export function chartsSection(view: ReportView, history: readonly TrendPoint[] | undefined): string {
  return `<section id="charts" aria-labelledby="charts-title">
<h2 id="charts-title">Charts</h2>
<figure class="chart">${ageChart(view)}<figcaption>Key material age against the allowed cryptoperiod (the ${AGE_BARS} oldest active customer-managed keys).</figcaption></figure>
<figure class="chart">${expiryChart(view)}<figcaption>Certificates expiring in the next ${EXPIRY_DAYS} days, by week.</figcaption></figure>
<figure class="chart">${history && history.length > 0 ? trendChart(history) : `<p id="chart-trend-none" class="note">No run history was given, so there is no trend of findings over time.</p>`}<figcaption>Open findings over time, by severity.</figcaption></figure>
</section>`;
}

interface AgeBar {
  name: string;
  age: number;
  limit: number;
  grace: number;
}

/** The key's cryptoperiod as the rules judge it (KD-ROT-003): strictest scoped entry, else by purpose, else maxDays. */
export function cryptoperiod(item: InventoryItem, view: ReportView): { days: number; grace: number } | null {
  const policy = view.report.scan?.policy;
  const tiered = typeof item.tier === 'string' && policy?.tierSettings && Object.hasOwn(policy.tierSettings, item.tier) ? policy.tierSettings[item.tier] : undefined;
  const settings: Partial<FullSettings> | undefined = tiered ?? policy?.settings;
  const rotation = settings?.rotation;
  if (!rotation || typeof rotation.maxDays !== 'number') return null;
  const grace = typeof rotation.graceDays === 'number' ? rotation.graceDays : 0;
  const scoped = (Array.isArray(rotation.scopedMaxDays) ? rotation.scopedMaxDays : [])
    .filter((entry) => (['provider', 'purpose', 'keyType'] as const).every((field) => !Array.isArray(entry[field]) || entry[field].includes(String(item[field]))))
    .map((entry) => entry.maxDays)
    .filter((days) => typeof days === 'number');
  if (scoped.length > 0) return { days: Math.min(...scoped), grace };
  const byPurpose = rotation.purposeMaxDays?.[item.purpose];
  return { days: typeof byPurpose === 'number' ? byPurpose : rotation.maxDays, grace };
}

/** When the key's current material dates from: last rotation, else the primary version, else creation. */
function materialDate(item: InventoryItem): number | null {
  const rotated = Date.parse(String(item.rotation?.lastRotatedAt));
  if (!Number.isNaN(rotated)) return rotated;
  const primaries = (Array.isArray(item.versions) ? item.versions : [])
    .filter((version) => version.primary === true)
    .map((version) => Date.parse(String(version.createdAt)))
    .filter((ms) => !Number.isNaN(ms));
  if (primaries.length > 0) return Math.max(...primaries);
  const created = Date.parse(String(item.createdAt));
  return Number.isNaN(created) ? null : created;
}

function ageChart(view: ReportView): string {
  const inventory = Array.isArray(view.report.inventory) ? view.report.inventory : [];
  const bars: AgeBar[] = [];
  if (view.now !== null) {
    for (const item of inventory) {
      if (item.kind !== 'key' || item.managedBy !== 'customer' || item.state !== 'enabled' || item.declared === true) continue;
      const since = materialDate(item);
      const period = cryptoperiod(item, view);
      if (since === null || period === null) continue;
      bars.push({ name: String(item.name), age: Math.max(0, Math.floor((view.now - since) / DAY_MS)), limit: period.days, grace: period.grace });
    }
  }
  const shown = bars.sort((a, b) => b.age - a.age || (a.name < b.name ? -1 : 1)).slice(0, AGE_BARS);
  const over = shown.filter((bar) => bar.age > bar.limit + bar.grace).length;
  const title = 'Key material age against the allowed cryptoperiod';
  const desc = shown.length === 0
    ? 'No active customer-managed key with a known material date and cryptoperiod.'
    : `${shown.length} of ${bars.length} active customer-managed keys, oldest first. ${over} ${over === 1 ? 'is' : 'are'} older than its cryptoperiod plus grace. Oldest: ${shown[0]!.name}, ${shown[0]!.age} days against ${shown[0]!.limit}.`;
  const width = 760;
  const left = 240;
  const plot = 400;
  const row = 18;
  const top = 24;
  const height = top + Math.max(1, shown.length) * row + 24;
  const max = Math.max(1, ...shown.map((bar) => Math.max(bar.age, bar.limit + bar.grace))) * 1.05;
  const x = (days: number) => left + Math.round((days / max) * plot);
  const rows = shown.map((bar, index) => {
    const y = top + index * row;
    const late = bar.age > bar.limit + bar.grace;
    return `<g><text x="${left - 6}" y="${y + 13}" text-anchor="end">${html(truncate(bar.name, 36))}</text>` +
      `<rect x="${left}" y="${y + 3}" width="${Math.max(1, x(bar.age) - left)}" height="12" fill="${late ? '#b3261e' : '#3f6fb5'}"><title>${html(bar.name)}: ${bar.age} days; cryptoperiod ${bar.limit} days plus ${bar.grace} grace</title></rect>` +
      `<line x1="${x(bar.limit)}" x2="${x(bar.limit)}" y1="${y + 1}" y2="${y + 17}" stroke="#1b1f24" stroke-width="2"/>` +
      `<text x="${left + plot + 8}" y="${y + 13}">${bar.age} / ${bar.limit} d${late ? ' over' : ''}</text></g>`;
  });
  const empty = shown.length === 0 ? `<text x="${left}" y="${top + 13}">No keys to show.</text>` : '';
  return `<svg id="chart-age" role="img" aria-labelledby="chart-age-title chart-age-desc" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" xmlns="http://www.w3.org/2000/svg">` +
    `<title id="chart-age-title">${title}</title><desc id="chart-age-desc">${html(desc)}</desc>` +
    `<text x="${left}" y="14">age in days; black mark: cryptoperiod; red: over cryptoperiod plus grace</text>${rows.join('')}${empty}</svg>`;
}

function expiryChart(view: ReportView): string {
  const inventory = Array.isArray(view.report.inventory) ? view.report.inventory : [];
  const weeks = Math.ceil(EXPIRY_DAYS / 7);
  const counts = new Array<number>(weeks).fill(0);
  let expired = 0;
  let total = 0;
  if (view.now !== null) {
    for (const item of inventory) {
      if (item.kind !== 'certificate') continue;
      const end = Date.parse(String(item.certificate?.notAfter ?? item.expiresAt));
      if (Number.isNaN(end)) continue;
      const days = (end - view.now) / DAY_MS;
      if (days < 0) expired++;
      else if (days < EXPIRY_DAYS) {
        counts[Math.floor(days / 7)]!++;
        total++;
      }
    }
  }
  const title = `Certificates expiring in the next ${EXPIRY_DAYS} days`;
  const desc = view.now === null
    ? 'The evaluation time is unknown, so expiry cannot be placed.'
    : `${total} certificates expire within ${EXPIRY_DAYS} days of ${new Date(view.now).toISOString().slice(0, 10)}: ${counts.map((count, index) => `week ${index + 1}: ${count}`).join(', ')}. ${expired} had already expired (not in the chart).`;
  const width = 760;
  const height = 220;
  const left = 40;
  const bottom = 180;
  const plotHeight = 140;
  const slot = Math.floor((width - left - 10) / weeks);
  const max = Math.max(1, ...counts);
  const bars = counts.map((count, index) => {
    const barHeight = Math.round((count / max) * plotHeight);
    const x = left + index * slot;
    const start = view.now === null ? '' : shortDate(new Date(view.now + index * 7 * DAY_MS).toISOString()).slice(5);
    return `<g><rect x="${x + 4}" y="${bottom - barHeight}" width="${slot - 8}" height="${Math.max(barHeight, count > 0 ? 1 : 0)}" fill="#a85d00"><title>week ${index + 1}${start ? ` (from ${start})` : ''}: ${count}</title></rect>` +
      `<text x="${x + slot / 2}" y="${bottom - barHeight - 4}" text-anchor="middle">${count}</text>` +
      `<text x="${x + slot / 2}" y="${bottom + 14}" text-anchor="middle">wk ${index + 1}</text><text x="${x + slot / 2}" y="${bottom + 28}" text-anchor="middle">${start}</text></g>`;
  });
  return `<svg id="chart-expiry" role="img" aria-labelledby="chart-expiry-title chart-expiry-desc" viewBox="0 0 ${width} ${height + 10}" width="${width}" height="${height + 10}" xmlns="http://www.w3.org/2000/svg">` +
    `<title id="chart-expiry-title">${title}</title><desc id="chart-expiry-desc">${html(desc)}</desc>` +
    `<line x1="${left}" x2="${width - 10}" y1="${bottom}" y2="${bottom}" stroke="#1b1f24"/>${bars.join('')}` +
    `<text x="${left}" y="14">certificates per week (week 1 starts at the evaluation time); ${expired} already expired</text></svg>`;
}

const TREND_STYLE: Record<Severity, { colour: string; dash: string }> = {
  critical: { colour: '#b3261e', dash: '' },
  high: { colour: '#a04500', dash: '8 4' },
  medium: { colour: '#7a6000', dash: '2 3' },
  low: { colour: '#0b5cad', dash: '8 3 2 3' },
  info: { colour: '#555d66', dash: '12 4' },
};

function trendChart(history: readonly TrendPoint[]): string {
  const points = history.slice(-TREND_POINTS).filter((point) => point && typeof point === 'object');
  const value = (point: TrendPoint, severity: Severity) => {
    const count = point.bySeverity?.[severity];
    return typeof count === 'number' && Number.isFinite(count) ? count : 0;
  };
  const width = 760;
  const height = 240;
  const left = 44;
  const right = width - 110;
  const top = 16;
  const bottom = 200;
  const max = Math.max(1, ...points.flatMap((point) => SEVERITIES.map((severity) => value(point, severity))));
  const x = (index: number) => (points.length === 1 ? (left + right) / 2 : left + (index / (points.length - 1)) * (right - left));
  const y = (count: number) => bottom - (count / max) * (bottom - top);
  const lines = SEVERITIES.map((severity, row) => {
    const style = TREND_STYLE[severity];
    const path = points.map((point, index) => `${x(index).toFixed(1)},${y(value(point, severity)).toFixed(1)}`).join(' ');
    const last = points.at(-1);
    return `<polyline points="${path}" fill="none" stroke="${style.colour}" stroke-width="2"${style.dash ? ` stroke-dasharray="${style.dash}"` : ''}><title>${severity}</title></polyline>` +
      `<line x1="${right + 10}" x2="${right + 34}" y1="${top + row * 18 + 4}" y2="${top + row * 18 + 4}" stroke="${style.colour}" stroke-width="2"${style.dash ? ` stroke-dasharray="${style.dash}"` : ''}/>` +
      `<text x="${right + 40}" y="${top + row * 18 + 8}">${severity}${last ? ` (${value(last, severity)})` : ''}</text>`;
  });
  const first = points[0]!;
  const last = points.at(-1)!;
  const total = (point: TrendPoint) => SEVERITIES.reduce((sum, severity) => sum + value(point, severity), 0);
  const desc = `${points.length} runs${history.length > points.length ? ` (the last ${points.length} of ${history.length})` : ''} from ${first.at} to ${last.at}: open findings went from ${total(first)} to ${total(last)}.`;
  return `<svg id="chart-trend" role="img" aria-labelledby="chart-trend-title chart-trend-desc" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" xmlns="http://www.w3.org/2000/svg">` +
    `<title id="chart-trend-title">Open findings over time</title><desc id="chart-trend-desc">${html(desc)}</desc>` +
    `<line x1="${left}" x2="${right}" y1="${bottom}" y2="${bottom}" stroke="#1b1f24"/><line x1="${left}" x2="${left}" y1="${top}" y2="${bottom}" stroke="#1b1f24"/>` +
    `<text x="${left - 6}" y="${top + 4}" text-anchor="end">${max}</text><text x="${left - 6}" y="${bottom}" text-anchor="end">0</text>` +
    `<text x="${left}" y="${bottom + 18}">${html(shortDate(first.at))}</text><text x="${right}" y="${bottom + 18}" text-anchor="end">${html(shortDate(last.at))}</text>` +
    lines.join('') + '</svg>';
}

function truncate(text: string, length: number): string {
  const characters = [...text];
  return characters.length <= length ? text : `${characters.slice(0, length - 1).join('')}…`;
}
