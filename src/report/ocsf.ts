import { createHash } from 'node:crypto';
import type { Severity } from '../model/severity.ts';
import type { Finding } from '../findings/types.ts';
import { reachesThreshold } from '../findings/outcome.ts';
import type { InventoryItem } from '../inventory/types.ts';
import { catalogue, type RuleEntry } from '../rules/catalogue.ts';
import { customRuleEntry } from '../rules/custom-rule.ts';
import type { Report } from './types.ts';

/**
 * The OCSF schema version the events follow: the one Prowler's OCSF output (py-ocsf-models) uses,
 * so keydrift's findings land in the same security data lake tables as Prowler's.
 */
export const OCSF_VERSION = '1.5.0';

const DETECTION_FINDING = { class_uid: 2004, class_name: 'Detection Finding', category_uid: 2, category_name: 'Findings' } as const;

const SEVERITY_ID: Record<Severity, { id: number; name: string }> = {
  critical: { id: 5, name: 'Critical' },
  high: { id: 4, name: 'High' },
  medium: { id: 3, name: 'Medium' },
  low: { id: 2, name: 'Low' },
  info: { id: 1, name: 'Informational' },
};

const ACTIVITY = { create: { id: 1, name: 'Create' }, update: { id: 2, name: 'Update' }, close: { id: 3, name: 'Close' } } as const;
const STATUS = { new: { id: 1, name: 'New' }, suppressed: { id: 3, name: 'Suppressed' }, resolved: { id: 4, name: 'Resolved' } } as const;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json | undefined };
type JsonObject = { [key: string]: Json | undefined };

/** One OCSF 1.5.0 Detection Finding (class 2004); attributes keydrift never sets are left out. */
export interface OcsfDetectionFinding extends JsonObject {
  activity_id: number;
  activity_name: string;
  category_uid: 2;
  category_name: 'Findings';
  class_uid: 2004;
  class_name: 'Detection Finding';
  type_uid: number;
  type_name: string;
  time: number;
  severity_id: number;
  severity: string;
  status_id: number;
  status: string;
  metadata: JsonObject;
  finding_info: JsonObject;
  resources: JsonObject[];
  unmapped: JsonObject;
}

/**
 * OCSF Detection Finding events (a JSON array), one per finding as Prowler emits them for security
 * data lakes: waived findings are Suppressed, and with a baseline the findings that no longer fire
 * are Resolved (activity Close). keydrift's own fields (rule, evidence, controls, waiver) go in
 * `unmapped`. Events on cloud resources carry the `cloud` profile (provider, account, region).
 */
export function toOcsf(report: Report): string {
  return JSON.stringify(ocsfEvents(report), null, 2) + '\n';
}

export function ocsfEvents(report: Report): OcsfDetectionFinding[] {
  const time = Date.parse(report.scan.now);
  if (!Number.isFinite(time)) throw new Error('OCSF: the report has no valid scan.now timestamp');
  const baselineTime = report.drift?.baselineNow ? Date.parse(report.drift.baselineNow) : Number.NaN;
  const items = new Map(report.inventory.map((item) => [item.uid, item]));
  const rules = ruleLookup(report);
  const scanUid = uuidFrom(['scan', report.scan.configName, report.scan.startedAt, report.scan.now, report.scan.inventoryDigest]);
  return report.findings.map((finding) =>
    detectionFinding(finding, { report, time, baselineTime, scanUid, item: items.get(finding.resource.uid) ?? null, rule: rules(finding.ruleId) }),
  );
}

interface EventContext {
  report: Report;
  time: number;
  baselineTime: number;
  scanUid: string;
  item: InventoryItem | null;
  rule: RuleEntry | null;
}

function detectionFinding(finding: Finding, context: EventContext): OcsfDetectionFinding {
  const { report, time, rule } = context;
  const resolved = finding.baselineState === 'absent';
  const activity = resolved ? ACTIVITY.close : finding.baselineState === 'updated' ? ACTIVITY.update : ACTIVITY.create;
  const status = resolved ? STATUS.resolved : finding.waiver ? STATUS.suppressed : STATUS.new;
  const severity = SEVERITY_ID[finding.severity] ?? { id: 0, name: 'Unknown' };
  const cloud = cloudOf(finding);
  return {
    activity_id: activity.id,
    activity_name: activity.name,
    ...DETECTION_FINDING,
    type_uid: DETECTION_FINDING.class_uid * 100 + activity.id,
    type_name: `${DETECTION_FINDING.class_name}: ${activity.name}`,
    time,
    severity_id: severity.id,
    severity: severity.name,
    status_id: status.id,
    status: status.name,
    ...statusDetail(finding, resolved),
    message: finding.message,
    // An alert is a finding that counts against the run: standing, unwaived and at or above --fail-on.
    is_alert: !resolved && !finding.waiver && reachesThreshold(finding.severity, report.scan.failOn),
    metadata: {
      version: OCSF_VERSION,
      product: { name: 'keydrift', vendor_name: 'keydrift', version: report.tool.version },
      uid: uuidFrom(['event', context.scanUid, finding.fingerprint]),
      correlation_uid: context.scanUid,
      event_code: finding.ruleId,
      profiles: cloud ? ['cloud'] : [],
    },
    finding_info: findingInfo(finding, context),
    resources: [resourceDetails(finding, context.item, cloud)],
    ...(cloud ? { cloud: cloud.event } : {}),
    remediation: { desc: finding.remediation.text },
    unmapped: unmapped(finding, rule, context),
  };
}

function statusDetail(finding: Finding, resolved: boolean): JsonObject {
  if (resolved) return { status_detail: 'No longer found: the baseline report had this finding, this scan does not.' };
  if (!finding.waiver) return {};
  const { reason, owner, expires } = finding.waiver;
  return { status_detail: `Waived: ${reason} (owner: ${owner}, expires ${expires})` };
}

function findingInfo(finding: Finding, { time, baselineTime, rule }: EventContext): JsonObject {
  const resolved = finding.baselineState === 'absent';
  return {
    uid: finding.fingerprint,
    title: finding.title,
    desc: finding.message,
    types: [finding.ruleId],
    analytic: { uid: finding.ruleId, name: finding.title, type_id: 1, type: 'Rule', ...(rule ? { category: rule.domain } : {}) },
    // First seen is known only for a finding a baseline comparison calls new: this scan found it first.
    ...(finding.baselineState === 'new' ? { first_seen_time: time } : {}),
    // A resolved finding was last seen by the baseline scan; any other by this one.
    ...(resolved ? (Number.isFinite(baselineTime) ? { last_seen_time: baselineTime } : {}) : { last_seen_time: time }),
  };
}

interface Cloud {
  event: JsonObject;
  region: string | null;
  partition: string | null;
}

const AWS_ARN = /^arn:(aws[a-z-]*):[a-z0-9-]+:([a-z0-9-]+):(\d{12}):/;
const GCP_NAME = /^projects\/([^/]+)\/locations\/([^/]+)\//;

/** The cloud profile's facts, read from the resource's own identifier (a declared item's location is a file). */
function cloudOf(finding: Finding): Cloud | null {
  const { provider, uid } = finding.resource;
  if (provider === 'aws-kms' || provider === 'aws-acm') {
    const arn = AWS_ARN.exec(uid);
    if (!arn) return { event: { provider: 'AWS' }, region: null, partition: null };
    const [, partition, region, account] = arn as unknown as [string, string, string, string];
    return {
      event: { provider: 'AWS', region, cloud_partition: partition, account: { uid: account, type_id: 10, type: 'AWS Account' } },
      region,
      partition,
    };
  }
  if (provider === 'gcp-kms') {
    const name = GCP_NAME.exec(uid);
    if (!name) return { event: { provider: 'GCP' }, region: null, partition: null };
    const [, project, region] = name as unknown as [string, string, string];
    return { event: { provider: 'GCP', region, account: { uid: project, type_id: 11, type: 'GCP Project' } }, region, partition: null };
  }
  if (provider === 'azure-key-vault') return { event: { provider: 'Azure' }, region: null, partition: null };
  return null;
}

function resourceDetails(finding: Finding, item: InventoryItem | null, cloud: Cloud | null): JsonObject {
  const { resource } = finding;
  const created = item?.createdAt ? Date.parse(item.createdAt) : Number.NaN;
  const tags = Object.entries(item?.tags ?? {}).map(([name, value]) => ({ name, value: String(value) }));
  return {
    uid: resource.uid,
    name: resource.name,
    type: resource.kind,
    ...(cloud?.region ? { region: cloud.region } : {}),
    ...(cloud?.partition ? { cloud_partition: cloud.partition } : {}),
    ...(Number.isFinite(created) ? { created_time: created } : {}),
    ...(tags.length > 0 ? { tags } : {}),
    data: item ? itemData(item) : { provider: resource.provider, sourceId: resource.sourceId, location: resource.location },
  };
}

/** What a data lake query needs to judge a key or certificate; access lists and raw evidence stay in keydrift's own report. */
function itemData(item: InventoryItem): JsonObject {
  const { certificate, rotation } = item;
  return {
    provider: item.provider,
    sourceId: item.sourceId,
    location: item.location,
    kind: item.kind,
    state: item.state,
    managedBy: item.managedBy,
    algorithm: item.algorithm,
    keyType: item.keyType,
    keySize: item.keySize,
    curve: item.curve,
    purpose: item.purpose,
    protection: item.protection,
    origin: item.origin,
    createdAt: item.createdAt,
    expiresAt: item.expiresAt,
    tier: item.tier,
    rotation: rotation
      ? { automatic: rotation.automatic, periodDays: rotation.periodDays, lastRotatedAt: rotation.lastRotatedAt, nextRotationAt: rotation.nextRotationAt }
      : null,
    certificate: certificate
      ? {
          subject: certificate.subject,
          issuer: certificate.issuer,
          serialNumber: certificate.serialNumber,
          notBefore: certificate.notBefore,
          notAfter: certificate.notAfter,
          signatureAlgorithm: certificate.signatureAlgorithm,
          fingerprintSha256: certificate.fingerprintSha256,
          selfSigned: certificate.selfSigned,
          isCA: certificate.isCA,
        }
      : null,
    ...(item.declared ? { declared: true, address: item.address ?? null } : {}),
  };
}

function unmapped(finding: Finding, rule: RuleEntry | null, { report, scanUid }: EventContext): JsonObject {
  return {
    rule: finding.ruleId,
    evidence: finding.evidence as JsonObject,
    controls: (rule?.controls ?? []).map((control) => ({ framework: control.framework, id: control.id, title: control.title, verified: control.verified })),
    provider: finding.resource.provider,
    source_id: finding.resource.sourceId,
    location: finding.resource.location,
    declared_at: { file: finding.declaredAt.file, ...finding.declaredAt.region },
    remediation_automatic: finding.remediation.automatic,
    ...(finding.baselineState ? { baseline_state: finding.baselineState } : {}),
    ...(finding.waiver ? { waiver: { ...finding.waiver } } : {}),
    scan: {
      uid: scanUid,
      config_name: report.scan.configName,
      profile: report.scan.policy.profile,
      started_at: report.scan.startedAt,
      finished_at: report.scan.finishedAt,
      now: report.scan.now,
      fail_on: report.scan.failOn,
      policy_digest: report.scan.policyDigest,
      inventory_digest: report.scan.inventoryDigest,
    },
  };
}

function ruleLookup(report: Report): (id: string) => RuleEntry | null {
  const builtIn = catalogue();
  const custom = report.scan.customRules ?? {};
  return (id) => builtIn.get(id) ?? (Object.hasOwn(custom, id) ? customRuleEntry(id, custom[id]!) : null);
}

/** A deterministic UUID (RFC 9562 version 8) from the parts: the same report renders the same events. */
function uuidFrom(parts: readonly string[]): string {
  const hex = createHash('sha256').update(JSON.stringify(parts)).digest('hex');
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
