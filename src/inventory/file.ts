import { readFile } from 'node:fs/promises';
import type { SourceStatus } from '../findings/types.ts';
import { describeError, fieldPath, validator } from '../util/schemas.ts';
import { displayPath } from '../util/paths.ts';
import type { InventoryItem } from './types.ts';

export const TOOL = { name: 'keydrift', version: '0.1.0' } as const;

/** What `keydrift inventory` writes: the evidence, with how complete each source was. */
export interface InventoryFile {
  schemaVersion: '1';
  kind: 'inventory';
  tool: { name: string; version: string };
  collectedAt: string;
  configDigest?: string;
  sources: SourceStatus[];
  items: InventoryItem[];
}

export class InventoryFileError extends Error {}

export interface LoadedEvidence {
  items: InventoryItem[];
  sources: SourceStatus[];
  /** Present when the file is a JSON report: its clock, policy and findings, for re-derivation. */
  report: Record<string, unknown> | null;
}

/** Reads an inventory file, a JSON report (its `inventory`), or a bare array of items; validates every item. */
export async function loadEvidence(file: string): Promise<LoadedEvidence> {
  const shown = displayPath(file);
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new InventoryFileError(
      code ? `${shown}: cannot read file (${code})` : `${shown}: not valid JSON (${(error as Error).message})`,
    );
  }
  let items: unknown;
  let sources: SourceStatus[] = [];
  let report: Record<string, unknown> | null = null;
  if (Array.isArray(parsed)) {
    items = parsed;
  } else if (parsed && typeof parsed === 'object' && 'items' in parsed) {
    items = (parsed as { items: unknown }).items;
    sources = ((parsed as { sources?: SourceStatus[] }).sources ?? []) as SourceStatus[];
  } else if (parsed && typeof parsed === 'object' && 'inventory' in parsed && 'findings' in parsed) {
    report = parsed as Record<string, unknown>;
    items = report['inventory'];
    sources = (report['sources'] ?? []) as SourceStatus[];
  } else {
    throw new InventoryFileError(`${shown}: neither a keydrift inventory, a JSON report nor an array of items`);
  }
  if (!Array.isArray(items)) throw new InventoryFileError(`${shown}: "items" must be an array`);
  const validate = validator('inventory-item');
  for (const [index, item] of items.entries()) {
    if (!validate(item)) {
      const error = validate.errors![0]!;
      const uid = (item as { uid?: unknown })?.uid;
      throw new InventoryFileError(
        `${shown}: item ${index}${typeof uid === 'string' ? ` (${uid})` : ''}: ${fieldPath(error.instancePath)}: ${describeError(error)}`,
      );
    }
  }
  return { items: items as InventoryItem[], sources, report };
}
