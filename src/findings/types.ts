import type { Region } from '../model/region.ts';
import type { Severity } from '../model/severity.ts';
import type { ItemKind, Provider } from '../inventory/types.ts';

/** What a rule returns from Rego: the decision, not the presentation. */
export interface RawFinding {
  rule: string;
  uid: string;
  severity: Severity;
  evidence: Record<string, unknown>;
  message?: string;
}

export interface FindingResource {
  uid: string;
  kind: ItemKind | 'source' | 'waiver';
  provider: Provider | string;
  name: string;
  location: string;
  sourceId: string;
}

export interface Finding {
  fingerprint: string;
  ruleId: string;
  severity: Severity;
  title: string;
  message: string;
  resource: FindingResource;
  evidence: Record<string, unknown>;
  /** command: the concrete fix for this resource, where the rule gives one for its provider. */
  remediation: { text: string; automatic: boolean; command?: string };
  /** Repo-relative file and region that declares the resource or its source (SARIF physical location). */
  declaredAt: { file: string; region: Region };
  baselineState?: 'new' | 'unchanged' | 'updated' | 'absent';
  waiver?: { rule: string; resource: string; reason: string; owner: string; expires: string };
}
