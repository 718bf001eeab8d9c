import type { Region } from './region.ts';

/** One configured source, as validated from keydrift.yaml. Provider fields stay loose here. */
export interface SourceConfig {
  id: string;
  type: string;
  concurrency?: number;
  [field: string]: unknown;
}

/** Errors are data: a collector reports them here and keeps going where it can. */
export interface SourceError {
  code: string;
  message: string;
  /** The resource (file, endpoint, region, key) the error is about, when there is one. */
  resource?: string;
}

export type SourceState = 'ok' | 'partial' | 'failed';

/** How complete one source's collection was: what the inventory and every report record. */
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
  /** When what the source yielded was observed, when that was not this scan (a snapshot's collection time). */
  observedAt?: string;
}
