import path from 'node:path';
import type { Log, ReportingDescriptor, Result } from 'sarif';
import { bySeverity } from '../findings/outcome.ts';
import type { Severity } from '../model/severity.ts';
import type { Finding } from '../findings/types.ts';
import { catalogue, type RuleEntry } from '../rules/catalogue.ts';
import { customRuleEntry } from '../rules/custom-rule.ts';
import type { Report } from './types.ts';

// GitHub code scanning maps security-severity onto its own critical/high/medium/low buckets.
export const SECURITY_SEVERITY: Record<Severity, string> = {
  critical: '9.5',
  high: '8.0',
  medium: '5.5',
  low: '3.0',
  info: '1.0',
};

const LEVEL: Record<Severity, Result.level> = {
  critical: 'error',
  high: 'error',
  medium: 'warning',
  low: 'note',
  info: 'note',
};

const INFORMATION_URI = 'https://github.com/keydrift/keydrift';

/**
 * GitHub code scanning accepts at most 25,000 results per run and rejects the whole upload above
 * it: the most severe are kept and the run says how many were left out, by severity.
 */
export const MAX_SARIF_RESULTS = 25_000;

/** SARIF 2.1.0 for GitHub code scanning (CONTRACT section 6): one run, the whole catalogue as rules. */
/** The results of a run too large to hold as objects: the kept ones, and how many were left out, by severity. */
export interface SarifSelection {
  kept: Finding[];
  alerts: number;
  leftOutBySeverity: Record<string, number>;
}

export function toSarif(report: Report, selection?: SarifSelection): Log {
  const custom = Object.entries(report.scan.customRules ?? {}).map(([id, meta]) => customRuleEntry(id, meta));
  const rules = [...catalogue().values(), ...custom];
  const ruleIndex = new Map(rules.map((rule, index) => [rule.id, index]));
  // A finding that no longer fires is not an alert: code scanning closes it when it is absent.
  const alerts = selection ? [] : report.findings.filter((finding) => finding.baselineState !== 'absent');
  const kept = selection ? selection.kept : alerts.length > MAX_SARIF_RESULTS ? [...alerts].sort(bySeverity).slice(0, MAX_SARIF_RESULTS) : alerts;
  const alertCount = selection ? selection.alerts : alerts.length;
  const leftOut = alertCount - kept.length;
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'keydrift',
            version: report.tool.version,
            semanticVersion: report.tool.version,
            informationUri: INFORMATION_URI,
            rules: rules.map(ruleDescriptor),
          },
        },
        automationDetails: { id: `keydrift/${report.scan.configName}/` },
        invocations: [
          {
            executionSuccessful: report.sources.every((source) => source.status === 'ok'),
            startTimeUtc: report.scan.startedAt,
            endTimeUtc: report.scan.finishedAt,
            exitCode: report.summary.exitCode,
            ...(leftOut > 0
              ? {
                  toolExecutionNotifications: [
                    {
                      level: 'warning' as const,
                      message: { text: `${leftOut} of ${alertCount} findings are left out of this SARIF (code scanning accepts ${MAX_SARIF_RESULTS} results per run); the least severe went first. The JSON report has them all.` },
                    },
                  ],
                }
              : {}),
          },
        ],
        properties: {
          now: report.scan.now,
          profile: report.scan.policy.profile,
          policyDigest: report.scan.policyDigest,
          inventoryDigest: report.scan.inventoryDigest,
          ...(report.drift
            ? { drift: { new: report.summary.new, fixed: report.summary.fixed, added: report.drift.added.length, removed: report.drift.removed.length, changed: report.drift.changed.length, baselineNow: report.drift.baselineNow } }
            : {}),
          ...(leftOut > 0 ? { resultsLeftOut: { total: leftOut, bySeverity: selection ? selection.leftOutBySeverity : countBy(alerts.slice().sort(bySeverity).slice(MAX_SARIF_RESULTS)) } } : {}),
        },
        results: kept.map((finding) => result(finding, ruleIndex.get(finding.ruleId))),
      },
    ],
  };
}

/** Where a rule's entry is read: its file in rules/ of the repository. */
export function ruleHelpUri(rule: RuleEntry): string {
  return `${INFORMATION_URI}/blob/main/rules/${encodeURIComponent(rule.id)}.yaml`;
}

function ruleDescriptor(rule: RuleEntry): ReportingDescriptor {
  return {
    id: rule.id,
    name: pascalCase(rule.title),
    shortDescription: { text: rule.title },
    fullDescription: { text: `${rule.description} ${rule.rationale}`.trim() },
    helpUri: ruleHelpUri(rule),
    help: { text: plainText(rule), markdown: `${rule.help.trimEnd()}\n\n${controlsSection(rule)}` },
    defaultConfiguration: { level: LEVEL[rule.severity], enabled: rule.status !== 'reserved' },
    properties: {
      // framework/control tags (pci-dss-4.0/3.7.4) let code scanning alerts be filtered by control.
      tags: [...new Set(['security', ...rule.tags, ...rule.controls.map((control) => `${control.framework}/${control.id}`)])],
      'security-severity': SECURITY_SEVERITY[rule.severity],
      precision: 'very-high',
      problem: { severity: rule.severity === 'critical' || rule.severity === 'high' ? 'error' : 'warning' },
      status: rule.status,
      controls: rule.controls.map((control) => `${control.framework} ${control.id}`),
    },
  };
}

function result(finding: Finding, ruleIndex: number | undefined): Result {
  const { file, region } = finding.declaredAt;
  return {
    ruleId: finding.ruleId,
    ...(ruleIndex === undefined ? {} : { ruleIndex }),
    level: LEVEL[finding.severity],
    ...(finding.baselineState ? { baselineState: finding.baselineState } : {}),
    // The fix ends the message: what a reviewer reads on the annotation is what to do.
    message: { text: `${finding.message} [${finding.resource.uid}] Fix: ${finding.remediation.text}${finding.remediation.command ? ` Run: ${finding.remediation.command}` : ''}` },
    locations: [
      {
        physicalLocation: {
          artifactLocation: { uri: artifactUri(file) },
          region: { ...region },
        },
        logicalLocations: [
          {
            name: finding.resource.name,
            fullyQualifiedName: finding.resource.uid,
            kind: finding.resource.kind === 'key' || finding.resource.kind === 'certificate' ? 'resource' : 'module',
          },
        ],
      },
    ],
    partialFingerprints: { primaryLocationLineHash: finding.fingerprint },
    ...(finding.waiver
      ? {
          suppressions: [
            {
              kind: 'external' as const,
              status: 'accepted' as const,
              justification: `${finding.waiver.reason} (owner: ${finding.waiver.owner}, expires ${finding.waiver.expires})`,
            },
          ],
        }
      : {}),
    properties: {
      severity: finding.severity,
      'security-severity': SECURITY_SEVERITY[finding.severity],
      resourceUid: finding.resource.uid,
      resourceKind: finding.resource.kind,
      provider: finding.resource.provider,
      sourceId: finding.resource.sourceId,
      location: finding.resource.location,
      declaredIn: file,
      evidence: finding.evidence,
      remediation: finding.remediation.text,
      ...(finding.baselineState ? { baselineState: finding.baselineState } : {}),
    },
  };
}

/**
 * Code scanning rejects a whole upload if one result points outside the checkout, so a file that
 * was outside the working folder (a config kept elsewhere) is named by its base name, relative;
 * the full path stays in the result's properties.
 */
function artifactUri(file: string): string {
  return encodeURI(path.isAbsolute(file) ? path.basename(file) : file);
}

/** The controls a rule maps to, as the help's last section (verified against the published text, or not). */
function controlsSection(rule: RuleEntry): string {
  if (rule.controls.length === 0) return '## Controls\n\nNone mapped.';
  const lines = rule.controls.map((control) => `- ${control.framework} ${control.id}: ${control.title}${control.verified ? '' : ' (mapping not verified against the published text)'}`);
  return ['## Controls', '', ...lines].join('\n');
}

function countBy(findings: readonly Finding[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const finding of findings) counts[finding.severity] = (counts[finding.severity] ?? 0) + 1;
  return counts;
}

function plainText(rule: RuleEntry): string {
  return `${rule.description}\n\n${rule.rationale}\n\nRemediation: ${rule.remediation.text}`;
}

function pascalCase(title: string): string {
  return title
    .replace(/[^A-Za-z0-9]+/g, ' ')
    .trim()
    .split(' ')
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join('');
}
