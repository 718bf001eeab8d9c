import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { InventoryItem } from '../../inventory/types.ts';
import { certificateItem, parseCertificate } from '../../certificates/certificate.ts';
import type { SourceConfig } from '../../model/source.ts';
import type { CollectContext, Collector } from '../types.ts';
import { pkcs11Declaration } from './declaration.ts';
import { registerSecret } from '../../util/redact.ts';
import type { PKCS11 } from 'pkcs11js';
import { hexId, keyAttributes, keyItem, linkCertificates, objectIdentity, ulong, type ListedObject, type Pkcs11js, type TokenIdentity } from './map.ts';

export interface Pkcs11Source extends SourceConfig {
  module: string;
  token?: string;
  slot?: number;
  serial?: string;
  pinEnv?: string;
  pinFile?: string;
}

const require = createRequire(import.meta.url);

export class Pkcs11CallError extends Error {
  readonly ckr: number | null;
  constructor(message: string, ckr: number | null) {
    super(message);
    this.ckr = ckr;
  }
}

export const pkcs11Collector: Collector = {
  type: pkcs11Declaration.type,
  provides: pkcs11Declaration.providers,
  operations: pkcs11Declaration.operations,
  async *collect(source, ctx) {
    const config = source as Pkcs11Source;
    const pin = await readPin(config, ctx);
    if (pin === null) return;
    let library: Pkcs11js;
    try {
      library = require('pkcs11js') as Pkcs11js;
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
        if (ckrOf(error) !== library.CKR_CRYPTOKI_ALREADY_INITIALIZED) throw error;
      }
      const slots = selectSlots(pkcs11, library, config, ctx);
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
      pkcs11.close();
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

interface Slot extends TokenIdentity {
  handle: Buffer;
}

function selectSlots(pkcs11: PKCS11, ck: Pkcs11js, source: Pkcs11Source, ctx: CollectContext): Slot[] {
  ctx.apiCalls['C_GetSlotList'] = (ctx.apiCalls['C_GetSlotList'] ?? 0) + 1;
  const slots = pkcs11
    .C_GetSlotList(true)
    .map((handle) => {
      ctx.apiCalls['C_GetTokenInfo'] = (ctx.apiCalls['C_GetTokenInfo'] ?? 0) + 1;
      const info = pkcs11.C_GetTokenInfo(handle);
      return { handle, id: slotNumber(handle), label: info.label.trim(), serial: info.serialNumber.trim(), initialized: (info.flags & ck.CKF_TOKEN_INITIALIZED) !== 0 };
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

/** Reads one attribute of an object in the open session (see `attribute`). */
type Read = (handle: Buffer, type: number, unreadable?: string[]) => Buffer | null;

async function* collectToken(pkcs11: PKCS11, library: Pkcs11js, slot: Slot, pin: string, source: Pkcs11Source, ctx: CollectContext): AsyncGenerator<InventoryItem> {
  const tokenName = `token "${slot.label}" (serial ${slot.serial}, slot ${slot.id})`;
  let session: Buffer;
  try {
    ctx.apiCalls['C_OpenSession'] = (ctx.apiCalls['C_OpenSession'] ?? 0) + 1;
    // A read-only session: CKF_SERIAL_SESSION without CKF_RW_SESSION.
    session = pkcs11.C_OpenSession(slot.handle, library.CKF_SERIAL_SESSION);
  } catch (error) {
    ctx.error({ code: codeFor(error, library), message: `${tokenName}: cannot open a session (${messageOf(error)})`, resource: slot.label });
    return;
  }
  try {
    try {
      ctx.apiCalls['C_Login'] = (ctx.apiCalls['C_Login'] ?? 0) + 1;
      pkcs11.C_Login(session, library.CKU_USER, pin);
    } catch (error) {
      const ckr = ckrOf(error);
      const reason = ckr === library.CKR_PIN_INCORRECT ? 'the PIN is incorrect' : ckr === library.CKR_PIN_LOCKED ? 'the PIN is locked' : messageOf(error);
      ctx.error({ code: ckr === library.CKR_PIN_INCORRECT || ckr === library.CKR_PIN_LOCKED ? 'pkcs11-login-failed' : codeFor(error, library), message: `${tokenName}: login failed: ${reason}`, resource: slot.label });
      return;
    }
    const read: Read = (handle, type, unreadable) => attribute(pkcs11, library, session, handle, type, ctx, unreadable);
    let objects: ListedObject[];
    try {
      objects = findObjects(pkcs11, library, session, read, ctx);
    } catch (error) {
      ctx.error({ code: codeFor(error, library), message: `${tokenName}: listing objects failed (${messageOf(error)})`, resource: slot.label });
      return;
    }
    const privateIds = new Set(objects.filter((object) => object.cls === library.CKO_PRIVATE_KEY).map((object) => hexId(object.id)));
    const publicById = new Map(objects.filter((object) => object.cls === library.CKO_PUBLIC_KEY && object.id?.length).map((object) => [hexId(object.id), object.handle]));
    const items: InventoryItem[] = [];
    for (const object of objects) {
      try {
        const item = objectItem(library, read, object, slot, source, privateIds, publicById);
        if (item) items.push(item);
      } catch (error) {
        ctx.error({ code: codeFor(error, library), message: `${tokenName}: object "${object.label}" (id ${hexId(object.id) || 'none'}): ${messageOf(error)}`, resource: `${slot.label}/${object.label}` });
        if (isGone(error, library)) break; // the token went away: what was read stays, the rest is reported
      }
    }
    yield* linkCertificates(items);
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

function findObjects(pkcs11: PKCS11, ck: Pkcs11js, session: Buffer, read: Read, ctx: CollectContext): ListedObject[] {
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
    cls: ulong(read(handle, ck.CKA_CLASS)),
    id: read(handle, ck.CKA_ID),
    label: read(handle, ck.CKA_LABEL)?.toString('utf8') ?? '',
  }));
}

/**
 * One attribute, or null when the object does not have it readably. Attributes are read one at a
 * time: one sensitive or unsupported attribute would fail a whole template.
 */
function attribute(pkcs11: PKCS11, ck: Pkcs11js, session: Buffer, handle: Buffer, type: number, ctx: CollectContext, unreadable?: string[]): Buffer | null {
  ctx.apiCalls['C_GetAttributeValue'] = (ctx.apiCalls['C_GetAttributeValue'] ?? 0) + 1;
  try {
    const [result] = pkcs11.C_GetAttributeValue(session, handle, [{ type }]);
    const value: unknown = result?.value;
    if (value === undefined || value === null) return null;
    return Buffer.isBuffer(value) ? value : Buffer.from(String(value));
  } catch (error) {
    const ckr = ckrOf(error);
    if (ckr === ck.CKR_ATTRIBUTE_SENSITIVE || ckr === ck.CKR_ATTRIBUTE_TYPE_INVALID) return null;
    const date = type === ck.CKA_START_DATE || type === ck.CKA_END_DATE;
    // pkcs11js rejects a zero-length CK_DATE (no date set) with a TypeError: the date is unknown.
    if (error instanceof TypeError && date) return null;
    // SoftHSM answers CKR_GENERAL_ERROR for empty dates on private objects: unknown, not a failure.
    if (ckr === ck.CKR_GENERAL_ERROR && date) {
      unreadable?.push(`${type === ck.CKA_START_DATE ? 'CKA_START_DATE' : 'CKA_END_DATE'}: CKR_GENERAL_ERROR`);
      return null;
    }
    throw error;
  }
}

function objectItem(
  ck: Pkcs11js,
  read: Read,
  object: ListedObject,
  slot: Slot,
  source: Pkcs11Source,
  privateIds: Set<string>,
  publicById: Map<string, Buffer>,
): InventoryItem | null {
  const identity = objectIdentity(object, slot, privateIds, ck);
  if (!identity || object.cls === null) return null;
  const { uid, location, evidence } = identity;

  if (object.cls === ck.CKO_CERTIFICATE) {
    const der = read(object.handle, ck.CKA_VALUE);
    if (!der) throw new Pkcs11CallError('certificate without CKA_VALUE', null);
    return certificateItem(parseCertificate(der), { uid, provider: 'pkcs11', sourceId: source.id, location, evidence });
  }

  const unreadable: string[] = [];
  const values = new Map(keyAttributes(object.cls, ck).map((type) => [type, read(object.handle, type, unreadable)] as const));
  // A private key's dates may be unreadable (SoftHSM); its public half carries the same dates.
  const publicHalf = object.cls === ck.CKO_PRIVATE_KEY && unreadable.length > 0 ? publicById.get(hexId(object.id)) : undefined;
  const publicDates = publicHalf ? { start: read(publicHalf, ck.CKA_START_DATE), end: read(publicHalf, ck.CKA_END_DATE) } : null;
  return keyItem({ identity, cls: object.cls, name: object.label || hexId(object.id), sourceId: source.id, values, unreadable, publicDates }, ck);
}

function ckrOf(error: unknown): number | null {
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'number' ? code : null;
}

function isGone(error: unknown, ck: Pkcs11js): boolean {
  const ckr = ckrOf(error);
  return ckr === ck.CKR_DEVICE_REMOVED || ckr === ck.CKR_TOKEN_NOT_PRESENT || ckr === ck.CKR_SESSION_HANDLE_INVALID;
}

function codeFor(error: unknown, ck: Pkcs11js): string {
  return isGone(error, ck) ? 'pkcs11-token-removed' : 'pkcs11-error';
}

/** pkcs11js messages name the function and the CKR_ constant; nothing secret is in them. */
function messageOf(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0]!.slice(0, 200);
}
