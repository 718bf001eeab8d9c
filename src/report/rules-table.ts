import { catalogue, type RuleEntry } from '../rules/catalogue.ts';
import { customRuleEntry, type CustomRuleMeta } from '../rules/custom-rule.ts';
import { ruleHelpUri } from './sarif.ts';

/** What the JSON report's `rules` table says of each rule that fired: its text, written once for all its findings. */
export interface RuleSummary {
  title: string;
  severity: string;
  description: string;
  remediation: { text: string; automatic: boolean };
  /** Where the rule's full help is read (the SARIF rules carry it too). */
  helpUri: string;
  controls: string[];
}

/** The rules behind `ruleIds` (built-in and the report's custom ones), by id, in id order. */
export function rulesTable(ruleIds: Iterable<string>, customRules: Record<string, CustomRuleMeta> = {}): Record<string, RuleSummary> {
  const entries = new Map<string, RuleEntry>(catalogue());
  for (const [id, meta] of Object.entries(customRules)) entries.set(id, customRuleEntry(id, meta));
  const table: Record<string, RuleSummary> = {};
  for (const id of [...new Set(ruleIds)].sort()) {
    const rule = entries.get(id);
    if (!rule) continue;
    table[id] = {
      title: rule.title,
      severity: rule.severity,
      description: rule.description,
      remediation: { text: rule.remediation.text, automatic: rule.remediation.automatic },
      helpUri: ruleHelpUri(rule),
      controls: rule.controls.map((control) => `${control.framework} ${control.id}`),
    };
  }
  return table;
}
