import { html, idFor } from './escape.ts';
import { FRAMEWORK_NAMES } from './compliance.ts';
import { markdownToHtml } from './markdown.ts';
import { compareText, plural, type ReportView } from './view.ts';

/**
 * Each rule once, with its help: findings link here, and the script copies the help into a
 * finding's details when it is opened, so the page grows with the findings, not findings × help.
 * Rules with findings come first; the rest follow so every compliance row's rules can be read.
 */
export function rulesSection(view: ReportView): string {
  const counts = new Map<string, number>();
  for (const finding of view.open) counts.set(finding.finding.ruleId, (counts.get(finding.finding.ruleId) ?? 0) + 1);
  const rules = [...view.rules.values()].sort((a, b) => Number(counts.has(b.id)) - Number(counts.has(a.id)) || compareText(a.id, b.id));
  const articles = rules.map((rule) => {
    const controls = (Array.isArray(rule.controls) ? rule.controls : [])
      .map((control) => `<li>${html(FRAMEWORK_NAMES[control.framework] ?? control.framework)} ${html(control.id)}: ${html(control.title)}${control.verified ? '' : ' <span class="note">(unverified)</span>'}</li>`)
      .join('');
    return `<article class="rule" id="${idFor('rule-', rule.id)}" data-rule="${html(rule.id)}">
<h3>${html(rule.id)}: ${html(rule.title)}</h3>
<p><span class="sev sev-${html(rule.severity)}">${html(rule.severity)}</span> ${html(rule.domain)}; applies to ${html(rule.appliesTo.join(', '))}; ${plural(counts.get(rule.id) ?? 0, 'open finding')}.${rule.status === 'implemented' ? '' : ` Status: ${html(rule.status)}.`}</p>
<p>${html(rule.description)}</p>
<p><strong>Remediation:</strong> <span class="rule-remediation">${html(rule.remediation.text)}</span></p>
${controls ? `<ul>${controls}</ul>` : ''}
<div class="rule-help">${markdownToHtml(rule.help, 2)}</div>
</article>`;
  });
  return `<section id="rules" aria-labelledby="rules-title">
<h2 id="rules-title">Rules</h2>
<p>What each rule checks, why it matters and how to fix it, once per rule.</p>
${articles.join('\n')}
</section>`;
}
