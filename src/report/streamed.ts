import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Finding } from '../findings/types.ts';
import { SEVERITIES, type Severity } from '../model/severity.ts';
import type { Format } from '../model/format.ts';
import { writeFileAtomicStream } from '../util/atomic-write.ts';
import { holdsLiveSecrets, redactLive } from '../util/redact.ts';
import { toMarkdown } from './markdown.ts';
import { rulesTable } from './rules-table.ts';
import { MAX_SARIF_RESULTS, toSarif } from './sarif.ts';
import type { Report } from './types.ts';
import { FILE_NAMES } from './write.ts';

// A report too large to build as objects: its head (everything but findings and inventory) as an
// object, its findings as JSON strings in order, its inventory in a file. The JSON report is
// written piece by piece; SARIF and Markdown parse back only the findings they show.

export type ReportHead = Omit<Report, 'findings' | 'inventory' | 'drift'>;

/** Findings column by column: what ordering, counting and SARIF selection need, and each one's report JSON. */
export interface FindingRecords {
  ruleIds: string[];
  uids: string[];
  severities: string[];
  waived: boolean[];
  json: string[];
}

/** Where the findings' JSON is kept (on disk, by rule: src/evaluate/lane-files.ts). */
export interface FindingJson {
  /** The JSON of the findings at `indexes`, in the order given. */
  read(indexes: readonly number[]): string[];
  /** Every finding's JSON in `order` (rule by rule, as the engine orders them). */
  inOrder(order: Uint32Array): Iterable<Buffer>;
  /** Removes what holds them. */
  close(): void;
}

/** An evaluation whose findings are not held as objects and whose items are in a file (src/evaluate/run.ts makes it). */
export interface EvaluatedEvidence {
  findings: Omit<FindingRecords, 'json'>;
  /** Indexes into `findings`, in the engine's order: rule, then uid, then as evaluated. */
  order: Uint32Array;
  json: FindingJson;
  items: number;
  inventoryDigest: string;
  /** The items' JSON in file order, a piece per batch (comma-separated within it). */
  inventory(): Iterable<Buffer>;
}

export interface StreamedReport {
  head: ReportHead;
  evaluated: EvaluatedEvidence;
}

/** Formats written from the streamed form; any other needs the whole report as objects. */
export const STREAMED_FORMATS: readonly Format[] = ['json', 'sarif', 'md'];

/** The findings at `indexes` (default: all, in order) as objects. */
export function findingsOf(streamed: StreamedReport, indexes: Iterable<number> = streamed.evaluated.order): Finding[] {
  return streamed.evaluated.json.read([...indexes]).map((json) => JSON.parse(json) as Finding);
}

/** The whole report as objects, for the renderers that need all of it (HTML, CSV, OCSF, metrics, a baseline). */
export async function materialize(streamed: StreamedReport): Promise<Report> {
  const pieces = [...streamed.evaluated.inventory()].map((piece) => redactLive(piece.toString('utf8')));
  return { ...streamed.head, findings: findingsOf(streamed), inventory: JSON.parse(`[${pieces.join(',')}]`) as Report['inventory'] };
}

const RANK: Record<string, number> = Object.fromEntries(SEVERITIES.map((severity, index) => [severity, SEVERITIES.length - index]));

/** Indexes of the findings, most severe first, then by rule and resource (outcome.bySeverity's order). */
function bySeverity(streamed: StreamedReport, indexes: readonly number[]): number[] {
  const { severities, ruleIds, uids } = streamed.evaluated.findings;
  return [...indexes].sort(
    (a, b) =>
      RANK[severities[b]!]! - RANK[severities[a]!]! ||
      (ruleIds[a]! < ruleIds[b]! ? -1 : ruleIds[a]! > ruleIds[b]! ? 1 : 0) ||
      (uids[a]! < uids[b]! ? -1 : uids[a]! > uids[b]! ? 1 : 0),
  );
}

/** Standing (not waived) findings: how many, and the `top` most severe as objects, for the terminal summary. */
export function standingView(streamed: StreamedReport, top: number): { standing: number; top: Finding[] } {
  const standing: number[] = [];
  const { waived } = streamed.evaluated.findings;
  for (let i = 0; i < waived.length; i++) if (!waived[i]) standing.push(i);
  return { standing: standing.length, top: findingsOf(streamed, bySeverity(streamed, standing).slice(0, top)) };
}

/**
 * The formats are written side by side: one's disk writes and flush proceed while another is
 * built. Each file appears whole or not at all; the first failure is thrown once all have settled.
 */
export async function writeStreamedReports(streamed: StreamedReport, formats: readonly Format[], outDir: string): Promise<string[]> {
  await mkdir(outDir, { recursive: true });
  const writing = formats.map(async (format) => {
    const file = path.join(outDir, FILE_NAMES[format]);
    if (format === 'json') await writeJson(streamed, file);
    else if (format === 'sarif') await writeFileAtomicStream(file, async (write) => write(redactLive(JSON.stringify(toSarif(reportWithout(streamed), sarifSelection(streamed))) + '\n')));
    else if (format === 'md') await writeFileAtomicStream(file, async (write) => write(redactLive(toMarkdown({ ...streamed.head, findings: findingsOf(streamed), inventory: [] }))));
    else throw new Error(`${format} is written from the whole report`);
    return file;
  });
  const settled = await Promise.allSettled(writing);
  const failed = settled.find((result) => result.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((result) => (result as PromiseFulfilledResult<string>).value);
}

function reportWithout(streamed: StreamedReport): Report {
  return { ...streamed.head, findings: [], inventory: [] };
}

function sarifSelection(streamed: StreamedReport) {
  const all = Array.from(streamed.evaluated.order);
  const ranked = all.length > MAX_SARIF_RESULTS ? bySeverity(streamed, all) : all;
  const kept = ranked.slice(0, MAX_SARIF_RESULTS);
  const leftOutBySeverity: Record<string, number> = {};
  for (const index of ranked.slice(MAX_SARIF_RESULTS)) {
    const severity = streamed.evaluated.findings.severities[index] as Severity;
    leftOutBySeverity[severity] = (leftOutBySeverity[severity] ?? 0) + 1;
  }
  return { kept: findingsOf(streamed, kept), alerts: all.length, leftOutBySeverity };
}

/** The JSON report as jsonReport lays it out (compact), findings and inventory streamed in. */
async function writeJson(streamed: StreamedReport, file: string): Promise<void> {
  const { findings } = streamed.evaluated;
  const head = JSON.stringify({ ...streamed.head, rules: rulesTable(new Set(findings.ruleIds), streamed.head.scan.customRules) });
  await writeFileAtomicStream(file, async (write) => {
    await write(redactLive(head.slice(0, -1)) + ',"findings":[');
    const secrets = holdsLiveSecrets();
    // Pieces are handed over a few MiB at a time: one call per finding costs more than its bytes.
    let pieces: Buffer[] = [];
    let size = 0;
    const list = async (elements: Iterable<Buffer>) => {
      let first = true;
      for (const element of elements) {
        if (!first) pieces.push(COMMA);
        first = false;
        pieces.push(secrets ? Buffer.from(redactLive(element.toString('utf8'))) : element);
        size += element.length;
        if (size >= HANDOVER_BYTES) {
          await write(pieces);
          pieces = [];
          size = 0;
        }
      }
      await write(pieces);
      pieces = [];
      size = 0;
    };
    await list(streamed.evaluated.json.inOrder(streamed.evaluated.order));
    await write('],"inventory":[');
    await list(streamed.evaluated.inventory());
    await write(']}\n');
  });
}

const COMMA = Buffer.from(',');
const HANDOVER_BYTES = 4 * 1024 * 1024;
