import type { Region, Severity } from '../config/types.ts';
import type { SourceError } from '../collectors/types.ts';
import type { ItemKind, Provider } from '../inventory/types.ts';

export type SourceState = 'ok' | 'partial' | 'failed';

export interface SourceStatus {
  id: string;
  type: string;
  status: SourceState;
  items: number;
  errors: SourceError[];
  /** Where the source is declared (config file, repo-relative, and lines) for SARIF locations. */
  declaredAt?: { file: string; region: Region } | null;
  /** Backend API calls made while collecting, by operation (cloud sources). */
  apiCalls?: Record<string, number>;
}

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
  remediation: { text: string; automatic: boolean };
  /** Repo-relative file and region that declares the resource or its source (SARIF physical location). */
  declaredAt: { file: string; region: Region };
  baselineState?: 'new' | 'unchanged' | 'updated' | 'absent';
  waiver?: { rule: string; resource: string; reason: string; owner: string; expires: string };
}
