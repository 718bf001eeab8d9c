import type { Severity } from '../model/severity.ts';
import type { RuleEntry } from './catalogue.ts';

/** What a custom bundle declares for one rule in data.keydrift.custom.rules (schema: custom-rules). */
export interface CustomRuleMeta {
  title: string;
  severity: Severity;
  description: string;
  message?: string;
  remediation?: string | { text: string; automatic?: boolean };
  help?: string;
  tags?: string[];
  controls?: { framework: string; id: string; title?: string }[];
}

/** A custom rule as a full catalogue entry, so reports treat it like a built-in one. */
export function customRuleEntry(id: string, meta: CustomRuleMeta): RuleEntry {
  const remediation =
    typeof meta.remediation === 'string'
      ? { text: meta.remediation, automatic: false }
      : { text: meta.remediation?.text ?? 'See the rule help.', automatic: meta.remediation?.automatic ?? false };
  return {
    id,
    title: meta.title,
    severity: meta.severity,
    status: 'implemented',
    domain: 'custom',
    appliesTo: ['key', 'certificate'],
    description: meta.description,
    rationale: '',
    message: meta.message ?? `${meta.title}: {name} ({location}).`,
    evidence: [],
    remediation,
    controls: (meta.controls ?? []).map((control) => ({ framework: control.framework, id: control.id, title: control.title ?? '', verified: false })),
    settings: [],
    tags: [...new Set(['security', 'custom', ...(meta.tags ?? [])])],
    help: meta.help ?? `${meta.description}\n\n${remediation.text}`,
  };
}
