import type { Waiver } from '../config/types.ts';
import type { Region } from '../model/region.ts';
import type { SourceStatus } from '../model/source.ts';
import type { InventoryItem } from '../inventory/types.ts';
import { catalogue, fixCommand, renderMessage, type RuleEntry } from '../rules/catalogue.ts';
import { SEVERITIES } from '../model/severity.ts';
import { fingerprint } from './fingerprint.ts';
import type { Finding, FindingResource, RawFinding } from './types.ts';

const FIRST_LINE: Region = { startLine: 1, startColumn: 1, endLine: 1, endColumn: 2 };

export class UnknownRuleError extends Error {}

/**
 * Turns Rego decisions into report findings: catalogue title and remediation, message, the
 * resource, and the file lines that declare it (the certificate file itself, else its source's
 * entry in the config).
 */
export function assembleFindings(
  raw: readonly RawFinding[],
  items: readonly InventoryItem[],
  sources: readonly SourceStatus[],
  fallbackFile: string,
  waivers: readonly Waiver[] = [],
  rules: ReadonlyMap<string, RuleEntry> = catalogue(),
): Finding[] {
  const byUid = new Map(items.map((item) => [item.uid, item]));
  const sourceById = new Map(sources.map((source) => [source.id, source]));
  return raw.map((decision) => {
    const rule = rules.get(decision.rule);
    if (!rule) throw new UnknownRuleError(`rule ${decision.rule} fired but has no entry in rules/`);
    const item = byUid.get(decision.uid);
    const waiver = decision.uid.startsWith('waiver:') ? waivers.find((w) => waiverUid(w) === decision.uid) : undefined;
    const resource = item ? itemResource(item) : waiver ? waiverResource(waiver) : sourceResource(decision.uid, sourceById);
    const source = sourceById.get(resource.sourceId);
    return {
      fingerprint: fingerprint(decision.rule, decision.uid),
      ruleId: decision.rule,
      severity: SEVERITIES.includes(decision.severity) ? decision.severity : rule.severity,
      title: rule.title,
      message:
        decision.message ??
        renderMessage(rule.message, { name: resource.name, uid: resource.uid, location: resource.location, evidence: decision.evidence }),
      resource,
      evidence: decision.evidence,
      remediation: remediationFor(rule, resource, decision.evidence, item),
      declaredAt: waiver?.declaredAt ?? declaredAt(item, source, fallbackFile, judgedPaths(rule, decision.evidence)),
    };
  });
}

function remediationFor(rule: RuleEntry, resource: FindingResource, evidence: Record<string, unknown>, item: InventoryItem | undefined): Finding['remediation'] {
  // A declared item is not live yet: its fix is in the code, not a command against the provider.
  if (item?.declared) return { text: rule.remediation.text, automatic: rule.remediation.automatic };
  const region = typeof item?.evidence['region'] === 'string' ? item.evidence['region'] : (/^arn:aws[a-z-]*:[a-z0-9-]+:([a-z0-9-]+):/.exec(resource.uid)?.[1] ?? null);
  const command = fixCommand(rule, resource.provider, { name: resource.name, uid: resource.uid, location: resource.location, evidence, item, ...(region ? { region } : {}) });
  return { text: rule.remediation.text, automatic: rule.remediation.automatic, ...(command !== null ? { command } : {}) };
}

function itemResource(item: InventoryItem): FindingResource {
  return {
    uid: item.uid,
    kind: item.kind,
    provider: item.provider,
    name: item.name,
    location: item.location,
    sourceId: item.sourceId,
  };
}

export function waiverUid(waiver: Waiver): string {
  return `waiver:${waiver.rule}@${waiver.resource}`;
}

function waiverResource(waiver: Waiver): FindingResource {
  const uid = waiverUid(waiver);
  return { uid, kind: 'waiver', provider: 'config', name: `${waiver.rule} waiver for ${waiver.resource}`, location: waiver.declaredAt?.file ?? 'config', sourceId: 'config' };
}

function sourceResource(uid: string, sources: Map<string, SourceStatus>): FindingResource {
  const id = uid.startsWith('source:') ? uid.slice('source:'.length) : uid;
  const source = sources.get(id);
  return { uid, kind: 'source', provider: source?.type ?? 'unknown', name: id, location: id, sourceId: id };
}

/** The inventory fields the rule judges, with `{evidence.<key>}` filled from this finding (KD-HSM-001 names the attribute it found). */
function judgedPaths(rule: RuleEntry, evidence: Record<string, unknown>): string[] {
  return (rule.judges ?? []).flatMap((path) => {
    let complete = true;
    const filled = path.replace(/\{evidence\.([A-Za-z0-9_]+)\}/g, (_whole, key: string) => {
      const value = evidence[key];
      if (typeof value !== 'string' && typeof value !== 'number') complete = false;
      return String(value);
    });
    return complete ? [filled] : [];
  });
}

/**
 * An item declared in infrastructure code: the line of the first judged attribute the code sets
 * (so the annotation lands on the line a pull request changes), else the resource's own line. A
 * file outside the working folder cannot be a SARIF location: the source's config entry is used.
 */
function declaredInCode(item: InventoryItem | undefined, judged: readonly string[]): Finding['declaredAt'] | null {
  const declared = item?.declaredIn;
  if (!declared || declared.file.startsWith('/') || declared.file.startsWith('..')) return null;
  const attribute = judged.map((path) => declared.attributes[path]).find((position) => position !== undefined);
  const { line, column } = attribute ?? declared;
  return { file: declared.file, region: { startLine: line, startColumn: column, endLine: line, endColumn: column + 1 } };
}

function declaredAt(
  item: InventoryItem | undefined,
  source: SourceStatus | undefined,
  fallbackFile: string,
  judged: readonly string[] = [],
): Finding['declaredAt'] {
  const inCode = declaredInCode(item, judged);
  if (inCode) return inCode;
  const file = item?.evidence['file'];
  const region = item?.evidence['region'] as Partial<Region> | undefined;
  if (item?.provider === 'x509-file' && typeof file === 'string' && !file.startsWith('/') && region?.startLine) {
    return {
      file,
      region: {
        startLine: region.startLine,
        startColumn: 1,
        endLine: region.endLine ?? region.startLine,
        endColumn: region.endColumn ?? 2,
      },
    };
  }
  if (source?.declaredAt) return source.declaredAt;
  return { file: fallbackFile, region: FIRST_LINE };
}
