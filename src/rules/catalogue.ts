import { readdirSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { Waiver } from '../config/types.ts';
import type { Severity } from '../model/severity.ts';
import { didYouMean } from '../util/did-you-mean.ts';
import { globMatches } from '../util/glob-matches.ts';
import { describeError, fieldPath, validator } from '../util/schemas.ts';
import { packagePath } from '../util/package-root.ts';

export const RULES_DIR = packagePath('rules') + '/';

export interface ControlMapping {
  framework: string;
  id: string;
  title: string;
  verified: boolean;
  note?: string;
}

/** One rules/<id>.yaml entry (schema: rules/schema.json). */
export interface RuleEntry {
  id: string;
  title: string;
  severity: Severity;
  /** Other severities the Rego may pick by level name (lib.rule_finding_at); the default is level "default". */
  severityLevels?: Record<string, Severity>;
  status: 'implemented' | 'planned' | 'reserved';
  domain: string;
  appliesTo: string[];
  description: string;
  rationale: string;
  message: string;
  /** `clock`: a count that moves with the evaluation clock alone (days left), not a change of the finding. */
  evidence: { key: string; description: string; clock?: boolean }[];
  /** commands: the concrete fix by inventory provider, a template like message. */
  remediation: { text: string; automatic: boolean; commands?: Record<string, string> };
  controls: ControlMapping[];
  settings: string[];
  /** Inventory field paths the rule judges, most telling first: where a finding on a declared item points. */
  judges?: string[];
  tags: string[];
  help: string;
}

let cached: Map<string, RuleEntry> | null = null;

/** The whole catalogue, validated; a broken entry is a packaging bug and stops the run. */
export function catalogue(dir = RULES_DIR): Map<string, RuleEntry> {
  if (cached && dir === RULES_DIR) return cached;
  const validate = validator('rule');
  const entries = new Map<string, RuleEntry>();
  for (const file of readdirSync(dir).filter((name) => name.endsWith('.yaml')).sort()) {
    const entry: unknown = parse(readFileSync(new URL(file, `file://${dir}`), 'utf8'));
    if (!validate(entry)) {
      const error = validate.errors![0]!;
      throw new Error(`rules/${file}: ${fieldPath(error.instancePath)}: ${describeError(error)}`);
    }
    const rule = entry as RuleEntry;
    if (`${rule.id}.yaml` !== file) throw new Error(`rules/${file}: id ${rule.id} does not match the file name`);
    for (const [level, severity] of Object.entries(rule.severityLevels ?? {})) {
      if (level === 'default') throw new Error(`rules/${file}: severityLevels.default: the level "default" is the entry's severity; give this level another name`);
      if (severity === rule.severity) throw new Error(`rules/${file}: severityLevels.${level}: repeats the default severity ${severity}; drop it and let the Rego use the level "default"`);
    }
    entries.set(rule.id, rule);
  }
  if (dir === RULES_DIR) cached = entries;
  return entries;
}

/** Fills `{name}`, `{uid}`, `{location}` and `{evidence.key}`; an unknown placeholder stays visible. */
export function renderMessage(template: string, values: { name: string; uid: string; location: string; evidence: Record<string, unknown> }): string {
  const parts = templateParts(template);
  let out = parts[0] as string;
  for (let i = 1; i < parts.length; i += 2) {
    const [whole, key, evidenceKey] = parts[i] as [string, string, string | null];
    const value = evidenceKey !== null ? values.evidence[evidenceKey] : (values as unknown as Record<string, unknown>)[key];
    // null is a value the rule chose to show (no expiry, unknown): never leave template syntax behind.
    out += (value === undefined ? whole : value === null ? 'not set' : typeof value === 'object' ? JSON.stringify(value) : String(value)) + (parts[i + 1] as string);
  }
  return out;
}

/** A template split once into text and placeholders ([whole, key, evidence key]), alternating: every finding renders one. */
type TemplatePart = string | [string, string, string | null];
const splitTemplates = new Map<string, TemplatePart[]>();

function templateParts(template: string): TemplatePart[] {
  let parts = splitTemplates.get(template);
  if (parts === undefined) {
    parts = [];
    let last = 0;
    for (const match of template.matchAll(/\{([A-Za-z0-9_.]+)\}/g)) {
      const key = match[1]!;
      parts.push(template.slice(last, match.index), [match[0], key, key.startsWith('evidence.') ? key.slice('evidence.'.length) : null]);
      last = match.index + match[0].length;
    }
    parts.push(template.slice(last));
    // Templates come from rules/ and custom bundles: a few hundred at most, but never unbounded.
    if (splitTemplates.size < 10_000) splitTemplates.set(template, parts);
  }
  return parts;
}

/**
 * Waivers whose rule names no built-in rule: a typo there suppresses nothing, silently. Only ids
 * in the built-in KD- namespace are checked (a custom bundle's rules are known only when it runs).
 */
export function unknownWaiverRules(waivers: readonly Waiver[], rules: ReadonlyMap<string, RuleEntry> = catalogue()): string[] {
  const ids = [...rules.keys()];
  return waivers.flatMap((waiver, index) => {
    if (!waiver.rule.startsWith('KD-') || ids.some((id) => globMatches(waiver.rule, id))) return [];
    const at = waiver.declaredAt ? `${waiver.declaredAt.file}:${waiver.declaredAt.region.startLine}:${waiver.declaredAt.region.startColumn}: ` : '';
    return [`${at}waivers[${index}].rule: "${waiver.rule}" names no rule${didYouMean(waiver.rule, ids)}, so it would waive nothing`];
  });
}

/**
 * The rule's concrete fix for one finding's resource, or null when the rule has none for its
 * provider or a value the command needs is unknown (a command with a blank in it is worse than none).
 * A value that could break out of a shell word (quotes, spaces, $, backticks) makes it null too.
 */
export function fixCommand(
  rule: RuleEntry,
  provider: string,
  values: { name: string; uid: string; location: string; evidence: Record<string, unknown>; item?: unknown; region?: string },
): string | null {
  const template = rule.remediation.commands?.[provider];
  if (template === undefined) return null;
  let complete = true;
  const command = template.replace(/\{([A-Za-z0-9_.]+)\}/g, (_whole, key: string) => {
    // {item.<path>}: a field of the inventory item (its region, its mount), beside the finding's own values.
    const value = key.startsWith('item.')
      ? key.slice('item.'.length).split('.').reduce<unknown>((at, step) => (at !== null && typeof at === 'object' ? (at as Record<string, unknown>)[step] : undefined), values.item)
      : key.startsWith('evidence.') ? values.evidence[key.slice('evidence.'.length)] : (values as unknown as Record<string, unknown>)[key];
    if ((typeof value !== 'string' && typeof value !== 'number') || !/^[A-Za-z0-9_.:/@+=,-]+$/.test(String(value))) {
      complete = false;
      return '';
    }
    return String(value);
  });
  return complete ? command : null;
}
