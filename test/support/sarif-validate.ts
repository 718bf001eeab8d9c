/**
 * Test support: validate SARIF 2.1.0 logs two ways.
 *
 * 1. `validateSarifSchema(log)`: JSON-schema validation with ajv against the
 *    SARIF 2.1.0 schema shipped inside `@microsoft/sarif-multitool-linux`
 *    (that copy declares draft 2020-12, hence `Ajv2020`). ajv-formats is not a
 *    dependency, so the four `format`s the schema uses (`uri`,
 *    `uri-reference`, `date-time`, `uuid`) get small built-in validators below
 *    instead of being switched off.
 *
 * 2. `validateSarifMultitool(file)`: runs the Microsoft SARIF Multitool binary
 *    (`Sarif.Multitool validate`) directly (not through npx, whose wrapper splits
 *    arguments on `;`), with the SARIF and GitHub Advanced Security rule kinds,
 *    plus the GitHub rules GH1001..GH1007 that the tool ships disabled,
 *    and reads the SARIF log the tool writes. The tool exits 0 even when it finds
 *    errors, so the verdict comes from that log's results.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { accessSync, constants, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ErrorObject, ValidateFunction } from 'ajv';
import type { Log, Notification, ReportingDescriptor, Result, Run } from 'sarif';

const PACKAGE = '@microsoft/sarif-multitool-linux';

/** Folder of the installed `@microsoft/sarif-multitool-linux` package. */
function multitoolPackageDir(): string {
  const require = createRequire(import.meta.url);
  try {
    return path.dirname(require.resolve(`${PACKAGE}/package.json`));
  } catch {
    // Fall back to the repository's own node_modules (test/support -> repo root).
    return path.resolve(import.meta.dirname, '..', '..', 'node_modules', PACKAGE);
  }
}

/** Path of the SARIF 2.1.0 JSON schema that ships with the multitool package. */
export const SARIF_SCHEMA_PATH: string = path.join(multitoolPackageDir(), 'sarif-2.1.0.json');

/** Path of the self-contained .NET multitool executable. */
export const SARIF_MULTITOOL_PATH: string = path.join(multitoolPackageDir(), 'Sarif.Multitool');

// ---------------------------------------------------------------------------
// 1. JSON schema (ajv)
// ---------------------------------------------------------------------------

// RFC 3986 characters: unreserved / reserved / '%' (escapes checked separately).
const URI_CHARS = /^[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]*$/;
const BAD_PERCENT = /%(?![0-9A-Fa-f]{2})/;
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;

/** `uri-reference`: an absolute URI or a relative reference, RFC 3986 characters only. */
function isUriReference(value: string): boolean {
  if (!URI_CHARS.test(value) || BAD_PERCENT.test(value)) return false;
  return SCHEME.test(value) ? URL.canParse(value) : URL.canParse(value, 'file:///');
}

/** `uri`: an absolute URI (has a scheme). */
function isUri(value: string): boolean {
  return SCHEME.test(value) && isUriReference(value);
}

// RFC 3339 date-time, e.g. 2026-11-01T00:00:00Z or 2026-11-01T00:00:00.123+02:00.
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

function isDateTime(value: string): boolean {
  const m = DATE_TIME.exec(value);
  if (m === null) return false;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 60) return false;
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return day >= 1 && day <= daysInMonth;
}

const UUID = /^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$/;

let compiled: ValidateFunction | undefined;

function schemaValidator(): ValidateFunction {
  if (compiled !== undefined) return compiled;
  const schema = JSON.parse(readFileSync(SARIF_SCHEMA_PATH, 'utf8')) as Record<string, unknown>;
  // strict: false - as asked for; with the four formats registered the schema also compiles
  // in strict mode (its only strict failure is `unknown format "uri"`), but strict would break
  // on any future schema keyword ajv does not know.
  // allErrors: true - not needed to compile; it makes ajv report every violation, not the first.
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  ajv.addFormat('uri', isUri);
  ajv.addFormat('uri-reference', isUriReference);
  ajv.addFormat('date-time', isDateTime);
  ajv.addFormat('uuid', UUID);
  compiled = ajv.compile(schema);
  return compiled;
}

function describeAjvError(error: ErrorObject): string {
  const where = error.instancePath === '' ? '/' : error.instancePath;
  const params = Object.keys(error.params).length > 0 ? ` ${JSON.stringify(error.params)}` : '';
  return `${where} ${error.message ?? error.keyword}${params}`;
}

/**
 * Validate a parsed SARIF log against the SARIF 2.1.0 JSON schema.
 * @returns one line per ajv error; an empty array means the log is schema-valid.
 */
export function validateSarifSchema(log: unknown): string[] {
  const validate = schemaValidator();
  if (validate(log)) return [];
  return (validate.errors ?? []).map(describeAjvError);
}

// ---------------------------------------------------------------------------
// 2. Microsoft SARIF Multitool
// ---------------------------------------------------------------------------

/**
 * GitHub rules that Multitool 5.7.0 ships with `EnabledByDefault => false`; without a
 * config file naming them they never fire, whatever `--rule-kind` says.
 * GH1004 (array sizes over 5 runs / 1000 rules / 1000 results / 10 locations ...) is left
 * out by default: those are display defaults, not upload limits, and a large real report
 * would trip it. To check it too: `ghRules: [...DEFAULT_GH_RULES, GH1004_ARRAY_LIMITS]`.
 */
export const DEFAULT_GH_RULES: readonly string[] = [
  'GH1001.ProvideRequiredLocationProperties',
  'GH1002.InlineThreadFlowLocations',
  'GH1003.ProvideRequiredRegionProperties',
  'GH1005.LocationsMustBeRelativeUrisOrFilePaths',
  'GH1006.ProvideCheckoutPath',
  'GH1007.ProvideFullyFormattedMessageStrings',
];

export const GH1004_ARRAY_LIMITS = 'GH1004.ReviewArraysThatExceedConfigurableDefaults';

export interface MultitoolOptions {
  /** Value for `--rule-kind` (semicolon list). Default `Sarif;Ghas`. */
  ruleKinds?: string;
  /**
   * Disabled-by-default rules to switch on, as `ID.Name`; replaces the default list
   * {@link DEFAULT_GH_RULES}. `[]` runs the tool with its built-in rule set only.
   */
  ghRules?: readonly string[];
  /** Kill the tool after this many milliseconds. Default 120000. */
  timeoutMs?: number;
  /** Multitool executable. Default {@link SARIF_MULTITOOL_PATH}. */
  binary?: string;
}

export interface MultitoolVerdict {
  /** `RULEID (line:col): message` for each result and tool notification at level `error`. */
  errors: string[];
  /** The same for level `warning` (SARIF's default level when `level` is absent). */
  warnings: string[];
  /** The SARIF log the multitool wrote, as text. */
  raw: string;
}

function configXml(rules: readonly string[]): string {
  const entries = rules.map(
    (rule) =>
      `  <Properties Key="${rule}.Options">\n` +
      `    <Property Key="RuleEnabled" Value="Error" Type="Driver.RuleEnabledState" />\n` +
      `  </Properties>\n`,
  );
  return `<?xml version="1.0" encoding="utf-8"?>\n<Properties>\n${entries.join('')}</Properties>\n`;
}

function assertRunnable(binary: string): void {
  try {
    accessSync(binary, constants.X_OK);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'is not installed' : `is not executable (${code ?? 'unknown error'})`;
    throw new Error(
      `SARIF Multitool (${PACKAGE}) ${why}: expected ${binary}. ` +
        `Run \`npm ci\` (devDependency @microsoft/sarif-multitool pulls in ${PACKAGE}; its postinstall does chmod u+x).`,
      { cause },
    );
  }
}

interface Exec {
  code: number;
  stdout: string;
  stderr: string;
}

function run(binary: string, args: readonly string[], timeoutMs: number): Promise<Exec> {
  return new Promise((resolve, reject) => {
    execFile(
      binary,
      args,
      {
        timeout: timeoutMs,
        maxBuffer: 64 * 1024 * 1024,
        env: {
          ...process.env,
          // .NET aborts at start-up without libicu; invariant globalization removes that
          // system dependency and does not change the validation results.
          DOTNET_SYSTEM_GLOBALIZATION_INVARIANT: process.env['DOTNET_SYSTEM_GLOBALIZATION_INVARIANT'] ?? '1',
          DOTNET_CLI_TELEMETRY_OPTOUT: '1',
        },
      },
      (error, stdout, stderr) => {
        if (error !== null && typeof error.code !== 'number') {
          reject(new Error(`SARIF Multitool failed to run (${binary}): ${error.message}\n${stderr}`, { cause: error }));
          return;
        }
        resolve({ code: error === null ? 0 : Number(error.code), stdout, stderr });
      },
    );
  });
}

/** Fill `{0}`-style placeholders; leave a placeholder whose argument is missing as it is. */
function format(template: string, args: readonly string[]): string {
  return template.replace(/\{(\d+)\}/g, (whole, index: string) => args[Number(index)] ?? whole);
}

function ruleFor(run: Run, result: Result): ReportingDescriptor | undefined {
  const rules = run.tool.driver.rules ?? [];
  if (result.ruleIndex !== undefined && rules[result.ruleIndex]?.id === result.ruleId) return rules[result.ruleIndex];
  return rules.find((rule) => rule.id === result.ruleId);
}

function resultText(run: Run, result: Result): string {
  const message = result.message;
  if (message.text !== undefined) return message.text;
  const template = message.id === undefined ? undefined : ruleFor(run, result)?.messageStrings?.[message.id]?.text;
  if (template === undefined) return `${message.id ?? '(no message)'} ${JSON.stringify(message.arguments ?? [])}`;
  return format(template, message.arguments ?? []);
}

function position(locations: Result['locations']): string {
  const region = locations?.[0]?.physicalLocation?.region;
  if (region?.startLine === undefined) return '';
  return region.startColumn === undefined ? ` (${region.startLine})` : ` (${region.startLine}:${region.startColumn})`;
}

function notifications(run: Run): Notification[] {
  return (run.invocations ?? []).flatMap((invocation) => [
    ...(invocation.toolConfigurationNotifications ?? []),
    ...(invocation.toolExecutionNotifications ?? []),
  ]);
}

/**
 * Validate a SARIF file with `Sarif.Multitool validate --rule-kind "Sarif;Ghas"`.
 * Every result at level `error` (and every tool notification at level `error`, e.g. an
 * ERR999 crash inside the tool) is returned in `errors`, as `RULEID (line:col): message`.
 * @throws if the multitool binary is missing or not executable, or it wrote no log.
 */
export async function validateSarifMultitool(file: string, options: MultitoolOptions = {}): Promise<MultitoolVerdict> {
  const binary = options.binary ?? SARIF_MULTITOOL_PATH;
  assertRunnable(binary);
  const target = path.resolve(file);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'keydrift-sarif-'));
  try {
    const output = path.join(dir, 'validation.sarif');
    // `--quiet true`: besides silencing the console, it keeps the console logger from formatting
    // GH1001's 'MissingLocationProperty' message, whose template uses {2} with only two
    // arguments and makes the tool crash (ERR999, exit 1) when printed.
    const args = ['validate', '--rule-kind', options.ruleKinds ?? 'Sarif;Ghas', '--quiet', 'true'];
    // Multitool 5.7.0 has no `--force`; overwriting is `--log ForceOverwrite`, and `--log`
    // rejects a single value ("bad format"), so it gets a ';' list.
    args.push('--output', output, '--log', 'ForceOverwrite;PrettyPrint');
    const ghRules = options.ghRules ?? DEFAULT_GH_RULES;
    if (ghRules.length > 0) {
      const config = path.join(dir, 'rules.xml');
      await writeFile(config, configXml(ghRules));
      args.push('--config', config);
    }
    args.push(target);

    const exec = await run(binary, args, options.timeoutMs ?? 120_000);
    let raw: string;
    try {
      raw = await readFile(output, 'utf8');
    } catch {
      throw new Error(
        `SARIF Multitool wrote no log (exit code ${exec.code}) for ${target}.\n` +
          `stdout:\n${exec.stdout}\nstderr:\n${exec.stderr}`,
      );
    }

    const log = JSON.parse(raw) as Log;
    const errors: string[] = [];
    const warnings: string[] = [];
    for (const sarifRun of log.runs) {
      for (const result of sarifRun.results ?? []) {
        const line = `${result.ruleId ?? '(no rule)'}${position(result.locations)}: ${resultText(sarifRun, result)}`;
        const level = result.level ?? 'warning';
        if (level === 'error') errors.push(line);
        else if (level === 'warning') warnings.push(line);
      }
      for (const note of notifications(sarifRun)) {
        const line = `${note.descriptor?.id ?? 'NOTIFICATION'}: ${note.message.text ?? note.message.id ?? ''}`;
        if (note.level === 'error') errors.push(line);
        else if ((note.level ?? 'warning') === 'warning') warnings.push(line);
      }
    }
    if (exec.code !== 0 && errors.length === 0) {
      errors.push(`SARIF Multitool exited with code ${exec.code}: ${exec.stderr || exec.stdout}`.trim());
    }
    return { errors, warnings, raw };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
