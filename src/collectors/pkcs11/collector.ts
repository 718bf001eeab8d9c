import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { InventoryItem } from '../../inventory/types.ts';
import { baseItem } from '../../inventory/types.ts';
import { certificateItem, parseCertificate } from '../x509/certificate.ts';
import type { CollectContext, Collector, SourceConfig } from '../types.ts';
import { registerSecret } from '../../util/redact.ts';
import { CKA, CKO, CKR, ckDate, hexId, pkcs11Algorithm, purposeOf } from './map.ts';

export interface Pkcs11Source extends SourceConfig {
  module: string;
  token?: string;
  slot?: number;
  serial?: string;
  pinEnv?: string;
  pinFile?: string;
}

// The slice of pkcs11js the collector uses (handles are opaque Buffers).
interface Attribute {
  type: number;
  value?: Buffer | number | boolean | string;
}
interface Pkcs11 {
  load(path: string): void;
  C_Initialize(): void;
  C_Finalize(): void;
  C_GetSlotList(tokenPresent?: boolean): Buffer[];
  C_GetTokenInfo(slot: Buffer): { label: string; serialNumber: string; model: string; manufacturerID: string; flags: number };
  C_OpenSession(slot: Buffer, flags: number): Buffer;
  C_CloseSession(session: Buffer): void;
  C_Login(session: Buffer, userType: number, pin: string): void;
  C_Logout(session: Buffer): void;
  C_FindObjectsInit(session: Buffer, template: Attribute[]): void;
  C_FindObjects(session: Buffer, max: number): Buffer[];
  C_FindObjectsFinal(session: Buffer): void;
  C_GetAttributeValue(session: Buffer, object: Buffer, template: Attribute[]): Attribute[];
  close?(): void;
}
interface Pkcs11Module {
  PKCS11: new () => Pkcs11;
  CKF_SERIAL_SESSION: number;
  CKU_USER: number;
}

const require = createRequire(import.meta.url);
const CKF_TOKEN_INITIALIZED = 0x400;

export const PKCS11_OPERATIONS = ['C_GetSlotList', 'C_GetTokenInfo', 'C_OpenSession (read-only)', 'C_Login (CKU_USER)', 'C_FindObjects', 'C_GetAttributeValue'] as const;

export class Pkcs11CallError extends Error {
  readonly ckr: number | null;
  constructor(message: string, ckr: number | null) {
    super(message);
    this.ckr = ckr;
  }
}

export const pkcs11Collector: Collector = {
  type: 'pkcs11',
  provides: ['pkcs11'],
  operations: PKCS11_OPERATIONS,
  async *collect(source, ctx) {
    const config = source as Pkcs11Source;
    const pin = await readPin(config, ctx);
    if (pin === null) return;
    let library: Pkcs11Module;
    try {
      library = require('pkcs11js') as Pkcs11Module;
    } catch (error) {
      ctx.error({ code: 'pkcs11-binding-missing', message: `pkcs11js cannot be loaded (${(error as Error).message.split('\n')[0]}): run "npm run provision"`, resource: config.module });
      return;
    }
    const modulePath = path.resolve(ctx.baseDir, config.module);
    const pkcs11 = new library.PKCS11();
    try {
      pkcs11.load(modulePath);
    } catch (error) {
      ctx.error({ code: 'pkcs11-module-unloadable', message: `${modulePath}: cannot load the PKCS#11 module (${messageOf(error)})`, resource: modulePath });
      return;
    }
    try {
      try {
        pkcs11.C_Initialize();
      } catch (error) {
        if (ckrOf(error) !== CKR.CRYPTOKI_ALREADY_INITIALIZED) throw error;
      }
      const slots = selectSlots(pkcs11, config, ctx);
      for (const slot of slots) {
        yield* collectToken(pkcs11, library, slot, pin, config, ctx);
      }
    } catch (error) {
      ctx.error({ code: 'pkcs11-error', message: `${modulePath}: ${messageOf(error)}`, resource: modulePath });
    } finally {
      try {
        pkcs11.C_Finalize();
      } catch {
        // already finalized or never initialized
      }
      pkcs11.close?.();
    }
  },
};

/** The PIN comes from the environment or a file, never from the config, and never reaches a message. */
async function readPin(source: Pkcs11Source, ctx: CollectContext): Promise<string | null> {
  if (source.pinEnv) {
    const pin = process.env[source.pinEnv];
    registerSecret(pin);
    if (pin) return pin;
    ctx.error({ code: 'pkcs11-pin-missing', message: `environment variable ${source.pinEnv} (pinEnv) is not set`, resource: source.pinEnv });
    return null;
  }
  if (source.pinFile) {
    try {
      const pin = (await readFile(path.resolve(ctx.baseDir, source.pinFile), 'utf8')).trim();
      registerSecret(pin);
      return pin;
    } catch (error) {
      ctx.error({ code: 'pkcs11-pin-missing', message: `${source.pinFile} (pinFile) cannot be read (${(error as NodeJS.ErrnoException).code})`, resource: source.pinFile });
      return null;
    }
  }
  ctx.error({ code: 'pkcs11-pin-missing', message: 'no PIN: set pinEnv or pinFile', resource: source.module });
  return null;
}

interface Slot {
  handle: Buffer;
  id: string;
  label: string;
  serial: string;
}

function selectSlots(pkcs11: Pkcs11, source: Pkcs11Source, ctx: CollectContext): Slot[] {
  ctx.apiCalls['C_GetSlotList'] = (ctx.apiCalls['C_GetSlotList'] ?? 0) + 1;
  const slots = pkcs11
    .C_GetSlotList(true)
    .map((handle) => {
      ctx.apiCalls['C_GetTokenInfo'] = (ctx.apiCalls['C_GetTokenInfo'] ?? 0) + 1;
      const info = pkcs11.C_GetTokenInfo(handle);
      return { handle, id: slotNumber(handle), label: info.label.trim(), serial: info.serialNumber.trim(), initialized: (info.flags & CKF_TOKEN_INITIALIZED) !== 0 };
    })
    // A token that was never initialised holds no objects (SoftHSM always shows one free slot).
    .filter((slot) => slot.initialized);
  const chosen = slots.filter(
    (slot) =>
      (source.token === undefined || slot.label === source.token) &&
      (source.serial === undefined || slot.serial === source.serial) &&
      (source.slot === undefined || slot.id === String(source.slot)),
  );
  if (chosen.length === 0) {
    const wanted = source.token ? `token "${source.token}"` : source.serial ? `serial ${source.serial}` : source.slot !== undefined ? `slot ${source.slot}` : 'any token';
    ctx.error({ code: 'pkcs11-token-not-found', message: `${wanted} not present (tokens: ${slots.map((slot) => slot.label).join(', ') || 'none'})`, resource: wanted });
  }
  return chosen;
}

function slotNumber(handle: Buffer): string {
  return handle.length >= 8 ? handle.readBigUInt64LE(0).toString() : handle.length >= 4 ? String(handle.readUInt32LE(0)) : handle.toString('hex');
}

interface RawObject {
  handle: Buffer;
  cls: number | null;
  id: Buffer | null;
  label: string;
}

async function* collectToken(pkcs11: Pkcs11, library: Pkcs11Module, slot: Slot, pin: string, source: Pkcs11Source, ctx: CollectContext): AsyncGenerator<InventoryItem> {
  const tokenName = `token "${slot.label}" (serial ${slot.serial}, slot ${slot.id})`;
  let session: Buffer;
  try {
    ctx.apiCalls['C_OpenSession'] = (ctx.apiCalls['C_OpenSession'] ?? 0) + 1;
    // A read-only session: CKF_SERIAL_SESSION without CKF_RW_SESSION.
    session = pkcs11.C_OpenSession(slot.handle, library.CKF_SERIAL_SESSION);
  } catch (error) {
    ctx.error({ code: codeFor(error), message: `${tokenName}: cannot open a session (${messageOf(error)})`, resource: slot.label });
    return;
  }
  try {
    try {
      ctx.apiCalls['C_Login'] = (ctx.apiCalls['C_Login'] ?? 0) + 1;
      pkcs11.C_Login(session, library.CKU_USER, pin);
    } catch (error) {
      const ckr = ckrOf(error);
      const reason = ckr === CKR.PIN_INCORRECT ? 'the PIN is incorrect' : ckr === CKR.PIN_LOCKED ? 'the PIN is locked' : messageOf(error);
      ctx.error({ code: ckr === CKR.PIN_INCORRECT || ckr === CKR.PIN_LOCKED ? 'pkcs11-login-failed' : codeFor(error), message: `${tokenName}: login failed: ${reason}`, resource: slot.label });
      return;
    }
    let objects: RawObject[];
    try {
      objects = findObjects(pkcs11, session, ctx);
    } catch (error) {
      ctx.error({ code: codeFor(error), message: `${tokenName}: listing objects failed (${messageOf(error)})`, resource: slot.label });
      return;
    }
    const privateIds = new Set(objects.filter((object) => object.cls === CKO.PRIVATE_KEY).map((object) => hexId(object.id)));
    const publicById = new Map(objects.filter((object) => object.cls === CKO.PUBLIC_KEY && object.id?.length).map((object) => [hexId(object.id), object.handle]));
    const certificateIds = new Map<string, string>();
    const items: InventoryItem[] = [];
    for (const object of objects) {
      try {
        const item = objectItem(pkcs11, session, object, slot, source, ctx, privateIds, publicById);
        if (item) items.push(item);
      } catch (error) {
        ctx.error({ code: codeFor(error), message: `${tokenName}: object "${object.label}" (id ${hexId(object.id) || 'none'}): ${messageOf(error)}`, resource: `${slot.label}/${object.label}` });
        if (isGone(error)) break; // the token went away: what was read stays, the rest is reported
      }
    }
    // Link private keys and certificates that share a CKA_ID.
    for (const item of items) if (item.kind === 'certificate' && item.evidence['id']) certificateIds.set(item.evidence['id'] as string, item.uid);
    for (const item of items) {
      const linked = item.kind === 'key' && item.evidence['id'] ? certificateIds.get(item.evidence['id'] as string) : undefined;
      yield linked ? { ...item, evidence: { ...item.evidence, certificateUid: linked } } : item;
    }
  } finally {
    try {
      pkcs11.C_Logout(session);
    } catch {
      // not logged in, or the token is gone
    }
    try {
      pkcs11.C_CloseSession(session);
    } catch {
      // the token is gone
    }
  }
}

function findObjects(pkcs11: Pkcs11, session: Buffer, ctx: CollectContext): RawObject[] {
  const handles: Buffer[] = [];
  ctx.apiCalls['C_FindObjects'] = (ctx.apiCalls['C_FindObjects'] ?? 0) + 1;
  pkcs11.C_FindObjectsInit(session, []);
  try {
    for (;;) {
      const batch = pkcs11.C_FindObjects(session, 256);
      if (!batch || batch.length === 0) break;
      handles.push(...batch);
    }
  } finally {
    pkcs11.C_FindObjectsFinal(session);
  }
  return handles.map((handle) => ({
    handle,
    cls: ulong(attribute(pkcs11, session, handle, CKA.CLASS, ctx)),
    id: attribute(pkcs11, session, handle, CKA.ID, ctx),
    label: attribute(pkcs11, session, handle, CKA.LABEL, ctx)?.toString('utf8') ?? '',
  }));
}

// Attributes are read one at a time: one sensitive or unsupported attribute would fail a batch.
const NOT_AVAILABLE = new Set<number>([CKR.ATTRIBUTE_SENSITIVE, CKR.ATTRIBUTE_TYPE_INVALID]);

function attribute(pkcs11: Pkcs11, session: Buffer, handle: Buffer, type: number, ctx: CollectContext, quirks?: string[]): Buffer | null {
  ctx.apiCalls['C_GetAttributeValue'] = (ctx.apiCalls['C_GetAttributeValue'] ?? 0) + 1;
  try {
    const [result] = pkcs11.C_GetAttributeValue(session, handle, [{ type }]);
    const value = result?.value;
    if (value === undefined || value === null) return null;
    return Buffer.isBuffer(value) ? value : Buffer.from(String(value));
  } catch (error) {
    const ckr = ckrOf(error);
    if (ckr !== null && NOT_AVAILABLE.has(ckr)) return null;
    // pkcs11js rejects a zero-length CK_DATE (no date set) with a TypeError: the date is unknown.
    if (error instanceof TypeError && (type === CKA.START_DATE || type === CKA.END_DATE)) return null;
    // SoftHSM answers CKR_GENERAL_ERROR for empty dates on private objects: unknown, not a failure.
    if (ckr === CKR.GENERAL_ERROR && (type === CKA.START_DATE || type === CKA.END_DATE)) {
      quirks?.push(`${type === CKA.START_DATE ? 'CKA_START_DATE' : 'CKA_END_DATE'}: CKR_GENERAL_ERROR`);
      return null;
    }
    throw error;
  }
}

function ulong(value: Buffer | null): number | null {
  if (!value || value.length === 0) return null;
  return value.length >= 8 ? Number(value.readBigUInt64LE(0)) : value.readUIntLE(0, Math.min(value.length, 6));
}

function bool(value: Buffer | null): boolean | null {
  return value && value.length > 0 ? value[0] !== 0 : null;
}

const CLASS_NAMES: Record<number, string> = { [CKO.CERTIFICATE]: 'CKO_CERTIFICATE', [CKO.PUBLIC_KEY]: 'CKO_PUBLIC_KEY', [CKO.PRIVATE_KEY]: 'CKO_PRIVATE_KEY', [CKO.SECRET_KEY]: 'CKO_SECRET_KEY' };
const CLASS_TAGS: Record<number, string> = { [CKO.CERTIFICATE]: 'cert', [CKO.PUBLIC_KEY]: 'public', [CKO.PRIVATE_KEY]: 'private', [CKO.SECRET_KEY]: 'secret-key' };

function objectItem(
  pkcs11: Pkcs11,
  session: Buffer,
  object: RawObject,
  slot: Slot,
  source: Pkcs11Source,
  ctx: CollectContext,
  privateIds: Set<string>,
  publicById: Map<string, Buffer>,
): InventoryItem | null {
  if (object.cls === null || !(object.cls in CLASS_NAMES)) return null;
  const id = hexId(object.id);
  // A public key whose private half is on the token is described by the private key's item.
  if (object.cls === CKO.PUBLIC_KEY && privateIds.has(id)) return null;
  const uid = `pkcs11:token=${encodeURIComponent(slot.label)};serial=${encodeURIComponent(slot.serial)};object=${encodeURIComponent(object.label)};id=${id};type=${CLASS_TAGS[object.cls]}`;
  const location = `token ${slot.label} (slot ${slot.id})`;
  const read = (type: number, quirks?: string[]) => attribute(pkcs11, session, object.handle, type, ctx, quirks);
  const evidence: Record<string, unknown> = { class: CLASS_NAMES[object.cls], id, label: object.label, token: slot.label, tokenSerial: slot.serial, slot: slot.id };

  if (object.cls === CKO.CERTIFICATE) {
    const der = read(CKA.VALUE);
    if (!der) throw new Pkcs11CallError('certificate without CKA_VALUE', null);
    return certificateItem(parseCertificate(der), { uid, provider: 'pkcs11', sourceId: source.id, location, evidence });
  }

  const quirks: string[] = [];
  const facts = {
    keyType: ulong(read(CKA.KEY_TYPE)),
    valueLen: ulong(read(CKA.VALUE_LEN)),
    modulus: object.cls === CKO.SECRET_KEY ? null : read(CKA.MODULUS),
    modulusBits: object.cls === CKO.PUBLIC_KEY ? ulong(read(CKA.MODULUS_BITS)) : null,
    // (a private key's CKA_MODULUS gives its size; CKA_MODULUS_BITS exists on public keys only)
    ecParams: object.cls === CKO.SECRET_KEY ? null : read(CKA.EC_PARAMS),
  };
  const flags = {
    encrypt: bool(read(CKA.ENCRYPT)),
    decrypt: bool(read(CKA.DECRYPT)),
    wrap: bool(read(CKA.WRAP)),
    unwrap: bool(read(CKA.UNWRAP)),
    sign: bool(read(CKA.SIGN)),
    verify: bool(read(CKA.VERIFY)),
    derive: bool(read(CKA.DERIVE)),
  };
  const secret = object.cls !== CKO.PUBLIC_KEY;
  const extractable = secret ? bool(read(CKA.EXTRACTABLE)) : null;
  const sensitive = secret ? bool(read(CKA.SENSITIVE)) : null;
  const local = bool(read(CKA.LOCAL));
  let startDate = ckDate(read(CKA.START_DATE, quirks));
  let endDate = ckDate(read(CKA.END_DATE, quirks));
  // A private key's dates may be unreadable (SoftHSM); its public half carries the same dates.
  const publicHalf = object.cls === CKO.PRIVATE_KEY ? publicById.get(id) : undefined;
  if (publicHalf && quirks.length > 0) {
    startDate ??= ckDate(attribute(pkcs11, session, publicHalf, CKA.START_DATE, ctx));
    endDate ??= ckDate(attribute(pkcs11, session, publicHalf, CKA.END_DATE, ctx));
    evidence['datesFrom'] = 'public key with the same CKA_ID';
  }
  const key = pkcs11Algorithm(facts);
  return baseItem({
    uid,
    kind: 'key',
    provider: 'pkcs11',
    sourceId: source.id,
    name: object.label || id,
    location,
    managedBy: 'customer',
    state: 'enabled',
    algorithm: key.algorithm,
    keyType: key.keyType,
    keySize: key.keySize,
    curve: key.curve,
    purpose: purposeOf(flags),
    protection: 'hsm',
    origin: local === null ? null : local ? 'generated' : 'imported',
    createdAt: startDate,
    expiresAt: endDate,
    rotation: null,
    attributes: { extractable, sensitive, exportable: null, plaintextBackup: null },
    evidence: {
      ...evidence,
      keyType: facts.keyType,
      rawAlgorithm: facts.keyType === null ? null : `CKK 0x${facts.keyType.toString(16)}`,
      neverExtractable: secret ? bool(read(CKA.NEVER_EXTRACTABLE)) : null,
      alwaysSensitive: secret ? bool(read(CKA.ALWAYS_SENSITIVE)) : null,
      local,
      usage: Object.entries(flags).filter(([, on]) => on).map(([flag]) => flag),
      ...(quirks.length ? { unreadable: quirks } : {}),
    },
  });
}

function ckrOf(error: unknown): number | null {
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'number' ? code : null;
}

function isGone(error: unknown): boolean {
  const ckr = ckrOf(error);
  return ckr === CKR.DEVICE_REMOVED || ckr === CKR.TOKEN_NOT_PRESENT || ckr === CKR.SESSION_HANDLE_INVALID;
}

function codeFor(error: unknown): string {
  return isGone(error) ? 'pkcs11-token-removed' : 'pkcs11-error';
}

/** pkcs11js messages name the function and the CKR_ constant; nothing secret is in them. */
function messageOf(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0]!.slice(0, 200);
}
