import { execFile } from 'node:child_process';
import { accessSync, constants, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type * as Pkcs11Module from 'pkcs11js';
import type { Handle, PKCS11, Template } from 'pkcs11js';

// SoftHSM2 (Debian's softhsm2, 2.6.1; scripts/provision.sh installs it) as a PKCS#11 token for tests,
// with a private token directory per test run, and pkcs11js (built for Node 24 by scripts/provision.sh)
// to put objects on it.
//
// SoftHSM reads SOFTHSM2_CONF at C_Initialize, once per process: `openModule(hsm)` sets it in
// process.env before C_Initialize, and only one module can be open in a process at a time (close it,
// i.e. C_Finalize, before opening another SoftHsm). A child process gets `hsm.env` instead.
//
// Quirks of SoftHSM 2.6.1 and pkcs11js 2.1.7 (test/integration/softhsm-harness.test.ts pins them):
// - CKA_START_DATE / CKA_END_DATE of a CKA_PRIVATE=true object that has a date set: C_GetAttributeValue
//   fails with CKR_GENERAL_ERROR (5), token and session objects alike, however the date was set
//   (C_GenerateKey, C_CreateObject, C_SetAttributeValue). Public objects (certificates, public keys,
//   CKA_PRIVATE=false keys) read back the 8 ASCII bytes YYYYMMDD.
// - An empty date (the default when none was given; length 0): pkcs11js throws a TypeError
//   ("Attribute 0x00000110 has wrong length. Should be 8, but is 0"), not a Pkcs11Error.
// - pkcs11js's C_GetAttributeValue throws on any return value other than CKR_OK, so a template with one
//   sensitive (CKR_ATTRIBUTE_SENSITIVE, 17) or type-invalid (CKR_ATTRIBUTE_TYPE_INVALID, 18) attribute
//   loses the values of all the others: read such attributes one at a time (see `readAttribute`). With
//   several failures in one template SoftHSM returns CKR_GENERAL_ERROR (a dated private object's date)
//   before CKR_ATTRIBUTE_SENSITIVE before CKR_ATTRIBUTE_TYPE_INVALID, whatever their order.
// - CKA_VALUE of a key that is CKA_SENSITIVE=true or CKA_EXTRACTABLE=false: CKR_ATTRIBUTE_SENSITIVE.
// - DES/DES3 keys have no CKA_VALUE_LEN (CKR_ATTRIBUTE_TYPE_INVALID); RSA private keys no CKA_MODULUS_BITS.
// - pkcs11js turns a Date into a CK_DATE only in C_CreateObject/C_SetAttributeValue/C_CopyObject, and a
//   string date is mis-read by its native code: dates are given as 8-byte ASCII Buffers (`ckDate`).

const require = createRequire(import.meta.url);
/** The pkcs11js module (CommonJS): its class PKCS11 and the CK* constants. */
export const pkcs11js = require('pkcs11js') as typeof Pkcs11Module;

const execFileAsync = promisify(execFile);

export const SOFTHSM_MODULE_PATHS = [
  '/usr/lib/softhsm/libsofthsm2.so',
  '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so',
  '/usr/local/lib/softhsm/libsofthsm2.so',
];

/** The SoftHSM2 PKCS#11 module; throws when softhsm2 is not installed. */
export function softHsmModulePath(): string {
  for (const candidate of SOFTHSM_MODULE_PATHS) {
    try {
      accessSync(candidate, constants.R_OK);
      return candidate;
    } catch {
      // next
    }
  }
  throw new Error(`SoftHSM2 not found (${SOFTHSM_MODULE_PATHS.join(', ')}): run "npm run provision" (installs Debian's softhsm2)`);
}

export interface SoftHsmToken {
  label: string;
  /** The slot ID that SoftHSM gives the token once initialised (not the free slot it started in). */
  slotId: number;
  /** CK_TOKEN_INFO.serialNumber, 16 hex digits. */
  serial: string;
}

export interface SoftHsm {
  /** The private directory: softhsm2.conf and tokens/. */
  dir: string;
  conf: string;
  tokenDir: string;
  modulePath: string;
  /** What a process needs in its environment to see this SoftHsm's tokens. */
  env: { SOFTHSM2_CONF: string };
  /** `softhsm2-util --init-token --free`: a new token in the next free slot. */
  initToken(label: string, soPin: string, userPin: string): Promise<SoftHsmToken>;
  /** Removes the directory (tokens included). */
  cleanup(): void;
}

async function softhsmUtil(args: string[], env: { SOFTHSM2_CONF: string }): Promise<string> {
  try {
    const { stdout } = await execFileAsync('softhsm2-util', args, { env: { ...process.env, ...env }, encoding: 'utf8' });
    return stdout;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error('softhsm2-util not found: run "npm run provision" (installs Debian\'s softhsm2)');
    }
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`softhsm2-util ${args[0]} failed: ${`${stderr}${stdout}`.trim()}`);
  }
}

export function createSoftHsm(): SoftHsm {
  const modulePath = softHsmModulePath();
  const dir = mkdtempSync(path.join(tmpdir(), 'keydrift-softhsm-'));
  const tokenDir = path.join(dir, 'tokens');
  mkdirSync(tokenDir);
  const conf = path.join(dir, 'softhsm2.conf');
  writeFileSync(
    conf,
    [`directories.tokendir = ${tokenDir}`, 'objectstore.backend = file', 'log.level = ERROR', 'slots.removable = false', ''].join('\n'),
  );
  const env = { SOFTHSM2_CONF: conf };
  return {
    dir,
    conf,
    tokenDir,
    modulePath,
    env,
    async initToken(label, soPin, userPin) {
      const out = await softhsmUtil(['--init-token', '--free', '--label', label, '--so-pin', soPin, '--pin', userPin], env);
      const reassigned = /reassigned to slot (\d+)/.exec(out);
      if (!reassigned?.[1]) throw new Error(`softhsm2-util --init-token: no slot in its output: ${out}`);
      const slotId = Number(reassigned[1]);
      const slots = await softhsmUtil(['--show-slots'], env);
      const block = slots.split(/^Slot /m).find((part) => part.startsWith(`${slotId}\n`));
      const serial = block && /Serial number:\s*(\S+)/.exec(block)?.[1];
      if (!serial) throw new Error(`softhsm2-util --show-slots: no serial number for slot ${slotId}`);
      return { label, slotId, serial };
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface OpenModule {
  pkcs11: PKCS11;
  /** The slot of a token, by slot ID (as SoftHsmToken.slotId) or label. */
  slot(token: { slotId: number } | { label: string }): Handle;
  /** C_Finalize and unload. */
  close(): void;
}

/** Loads SoftHSM in this process for `hsm` (sets process.env.SOFTHSM2_CONF) and calls C_Initialize. */
export function openModule(hsm: SoftHsm): OpenModule {
  process.env['SOFTHSM2_CONF'] = hsm.conf;
  const pkcs11 = new pkcs11js.PKCS11();
  pkcs11.load(hsm.modulePath);
  pkcs11.C_Initialize();
  let open = true;
  return {
    pkcs11,
    slot(token) {
      for (const slot of pkcs11.C_GetSlotList(true)) {
        if ('slotId' in token ? slotIdOf(slot) === token.slotId : pkcs11.C_GetTokenInfo(slot).label.trimEnd() === token.label) return slot;
      }
      throw new Error(`no token ${JSON.stringify(token)} in ${hsm.dir}`);
    },
    close() {
      if (!open) return;
      open = false;
      try {
        pkcs11.C_Finalize();
      } finally {
        pkcs11.close();
      }
    },
  };
}

/** A slot handle (a CK_SLOT_ID in a Buffer, host byte order) as a number. */
export function slotIdOf(slot: Handle): number {
  return Number(slot.length >= 8 ? slot.readBigUInt64LE(0) : slot.readUInt32LE(0));
}

export interface UserSession {
  pkcs11: PKCS11;
  session: Handle;
  slot: Handle;
  /** C_Logout (ignoring CKR_USER_NOT_LOGGED_IN) and C_CloseSession. */
  close(): void;
}

/** A R/W session logged in as the user (throws the Pkcs11Error of C_Login, e.g. CKR_PIN_INCORRECT). */
export function openUserSession(pkcs11: PKCS11, slot: Handle, userPin: string): UserSession {
  const session = pkcs11.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
  try {
    pkcs11.C_Login(session, pkcs11js.CKU_USER, userPin);
  } catch (error) {
    pkcs11.C_CloseSession(session);
    throw error;
  }
  return {
    pkcs11,
    session,
    slot,
    close() {
      try {
        pkcs11.C_Logout(session);
      } catch {
        // not logged in any more
      }
      pkcs11.C_CloseSession(session);
    },
  };
}

/** A date as the 8 ASCII bytes of a CK_DATE (YYYYMMDD), from a Date (its UTC day), 'YYYYMMDD' or 'YYYY-MM-DD...'. */
export function ckDate(date: Date | string): Buffer {
  const text = typeof date === 'string' ? date.slice(0, 10).replace(/-/g, '') : date.toISOString().slice(0, 10).replace(/-/g, '');
  if (!/^\d{8}$/.test(text)) throw new Error(`not a date: ${String(date)}`);
  return Buffer.from(text, 'ascii');
}

/** A CK_ID given as a Buffer or as hex. */
export function ckId(id: Buffer | string): Buffer {
  if (Buffer.isBuffer(id)) return id;
  if (!/^(?:[0-9a-fA-F]{2})+$/.test(id)) throw new Error(`CKA_ID must be a Buffer or hex: ${id}`);
  return Buffer.from(id, 'hex');
}

interface CommonKeyOptions {
  label: string;
  /** CKA_ID: a Buffer, or hex. */
  id: Buffer | string;
  startDate?: Date | string;
  endDate?: Date | string;
  /** CKA_TOKEN; default true (a session object disappears with its session). */
  token?: boolean;
}

function commonAttributes(options: CommonKeyOptions): Template {
  const template: Template = [
    { type: pkcs11js.CKA_TOKEN, value: options.token ?? true },
    { type: pkcs11js.CKA_LABEL, value: options.label },
    { type: pkcs11js.CKA_ID, value: ckId(options.id) },
  ];
  if (options.startDate !== undefined) template.push({ type: pkcs11js.CKA_START_DATE, value: ckDate(options.startDate) });
  if (options.endDate !== undefined) template.push({ type: pkcs11js.CKA_END_DATE, value: ckDate(options.endDate) });
  return template;
}

export interface SecretKeyOptions extends CommonKeyOptions {
  extractable: boolean;
  sensitive: boolean;
  /** CKA_PRIVATE; default true. With a date set, a private key's dates read back as CKR_GENERAL_ERROR. */
  private?: boolean;
}

function generateSecret(s: UserSession, mechanism: number, keyType: number, options: SecretKeyOptions, extra: Template): Handle {
  return s.pkcs11.C_GenerateKey(s.session, { mechanism }, [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
    { type: pkcs11js.CKA_KEY_TYPE, value: keyType },
    ...commonAttributes(options),
    ...extra,
    { type: pkcs11js.CKA_PRIVATE, value: options.private ?? true },
    { type: pkcs11js.CKA_EXTRACTABLE, value: options.extractable },
    { type: pkcs11js.CKA_SENSITIVE, value: options.sensitive },
    { type: pkcs11js.CKA_ENCRYPT, value: true },
    { type: pkcs11js.CKA_DECRYPT, value: true },
  ]);
}

export function generateAes(s: UserSession, options: SecretKeyOptions & { bits: 128 | 192 | 256 }): Handle {
  return generateSecret(s, pkcs11js.CKM_AES_KEY_GEN, pkcs11js.CKK_AES, options, [{ type: pkcs11js.CKA_VALUE_LEN, value: options.bits / 8 }]);
}

/** A triple-DES key (CKK_DES3, 24 bytes). */
export function generateDes3(s: UserSession, options: SecretKeyOptions): Handle {
  return generateSecret(s, pkcs11js.CKM_DES3_KEY_GEN, pkcs11js.CKK_DES3, options, []);
}

export interface KeyPair {
  publicKey: Handle;
  privateKey: Handle;
}

export interface KeyPairOptions extends CommonKeyOptions {
  /** The private key's CKA_EXTRACTABLE; default false. */
  extractable?: boolean;
  /** The private key's CKA_SENSITIVE; default true. */
  sensitive?: boolean;
}

function generatePair(s: UserSession, mechanism: number, keyType: number, options: KeyPairOptions, publicExtra: Template): KeyPair {
  const common = commonAttributes(options);
  return s.pkcs11.C_GenerateKeyPair(
    s.session,
    { mechanism },
    [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PUBLIC_KEY },
      { type: pkcs11js.CKA_KEY_TYPE, value: keyType },
      ...common,
      ...publicExtra,
      { type: pkcs11js.CKA_PRIVATE, value: false },
      { type: pkcs11js.CKA_VERIFY, value: true },
    ],
    [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
      { type: pkcs11js.CKA_KEY_TYPE, value: keyType },
      ...common,
      { type: pkcs11js.CKA_PRIVATE, value: true },
      { type: pkcs11js.CKA_SIGN, value: true },
      { type: pkcs11js.CKA_EXTRACTABLE, value: options.extractable ?? false },
      { type: pkcs11js.CKA_SENSITIVE, value: options.sensitive ?? true },
    ],
  );
}

/** An RSA key pair (public exponent 65537); the dates, label and ID go on both keys. */
export function generateRsa(s: UserSession, options: KeyPairOptions & { bits: 1024 | 2048 | 3072 | 4096 }): KeyPair {
  return generatePair(s, pkcs11js.CKM_RSA_PKCS_KEY_PAIR_GEN, pkcs11js.CKK_RSA, options, [
    { type: pkcs11js.CKA_MODULUS_BITS, value: options.bits },
    { type: pkcs11js.CKA_PUBLIC_EXPONENT, value: Buffer.from([1, 0, 1]) },
  ]);
}

export type EcCurve = 'P-256' | 'P-384' | 'P-521' | 'secp256k1';

/** CKA_EC_PARAMS of each curve: the DER of its named-curve OID. */
export const EC_PARAMS: Record<EcCurve, Buffer> = {
  'P-256': Buffer.from('06082a8648ce3d030107', 'hex'), // 1.2.840.10045.3.1.7
  'P-384': Buffer.from('06052b81040022', 'hex'), // 1.3.132.0.34
  'P-521': Buffer.from('06052b81040023', 'hex'), // 1.3.132.0.35
  secp256k1: Buffer.from('06052b8104000a', 'hex'), // 1.3.132.0.10
};

/** An EC key pair on a named curve; the dates, label and ID go on both keys. */
export function generateEc(s: UserSession, options: KeyPairOptions & { curve: EcCurve }): KeyPair {
  return generatePair(s, pkcs11js.CKM_EC_KEY_PAIR_GEN, pkcs11js.CKK_EC, options, [{ type: pkcs11js.CKA_EC_PARAMS, value: EC_PARAMS[options.curve] }]);
}

export interface CertificateOptions {
  label: string;
  id: Buffer | string;
  /** The certificate, DER. CKA_SUBJECT, CKA_ISSUER and CKA_SERIAL_NUMBER are taken from it. */
  der: Buffer;
  startDate?: Date | string;
  endDate?: Date | string;
  token?: boolean;
}

/** Creates a CKO_CERTIFICATE (CKC_X_509, public) object holding `der`. */
export function importCertificate(s: UserSession, options: CertificateOptions): Handle {
  const fields = x509Fields(options.der);
  return s.pkcs11.C_CreateObject(s.session, [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_CERTIFICATE },
    { type: pkcs11js.CKA_CERTIFICATE_TYPE, value: pkcs11js.CKC_X_509 },
    ...commonAttributes(options),
    { type: pkcs11js.CKA_PRIVATE, value: false },
    { type: pkcs11js.CKA_SUBJECT, value: fields.subject },
    { type: pkcs11js.CKA_ISSUER, value: fields.issuer },
    { type: pkcs11js.CKA_SERIAL_NUMBER, value: fields.serialNumber },
    { type: pkcs11js.CKA_VALUE, value: options.der },
  ]);
}

/** All the handles C_FindObjects gives for `template`. */
export function findObjects(s: UserSession, template: Template): Handle[] {
  s.pkcs11.C_FindObjectsInit(s.session, template);
  try {
    const found: Handle[] = [];
    for (;;) {
      const batch = s.pkcs11.C_FindObjects(s.session, 64);
      found.push(...batch);
      if (batch.length < 64) return found;
    }
  } finally {
    s.pkcs11.C_FindObjectsFinal(s.session);
  }
}

export type AttributeRead =
  | { ok: true; value: Buffer | undefined }
  /** `code` is the CKR_ name of a Pkcs11Error (e.g. CKR_ATTRIBUTE_SENSITIVE), or the name of another error (TypeError). */
  | { ok: false; code: string; number?: number; message: string };

/** Reads one attribute, turning the failure into a value (see the quirks above). */
export function readAttribute(s: UserSession, object: Handle, type: number): AttributeRead {
  try {
    const [result] = s.pkcs11.C_GetAttributeValue(s.session, object, [{ type }]);
    return { ok: true, value: result?.value };
  } catch (error) {
    if (error instanceof pkcs11js.Pkcs11Error) return { ok: false, code: error.message, number: error.code, message: error.message };
    const err = error as Error;
    return { ok: false, code: err.name, message: err.message };
  }
}

/** Reads several attributes in one C_GetAttributeValue call (throws if any one fails). */
export function readAttributes(s: UserSession, object: Handle, types: number[]): Buffer[] {
  return s.pkcs11.C_GetAttributeValue(
    s.session,
    object,
    types.map((type) => ({ type })),
  ).map((result) => result.value);
}

/** A CK_ULONG attribute value (CKA_CLASS, CKA_KEY_TYPE, CKA_VALUE_LEN, CKA_MODULUS_BITS...), host byte order. */
export function ckUlong(value: Buffer): number {
  return Number(value.length >= 8 ? value.readBigUInt64LE(0) : value.readUInt32LE(0));
}

/** A CK_BBOOL attribute value. */
export function ckBool(value: Buffer): boolean {
  return value.length > 0 && value[0] !== 0;
}

// --- minimal DER reading, for the three X.509 fields that PKCS#11 keeps beside the certificate ---

interface Tlv {
  tag: number;
  start: number;
  contentStart: number;
  end: number;
}

function readTlv(der: Buffer, offset: number): Tlv {
  const tag = der[offset];
  let lengthByte = der[offset + 1];
  if (tag === undefined || lengthByte === undefined) throw new Error('DER: truncated');
  let contentStart = offset + 2;
  let length = lengthByte;
  if (lengthByte & 0x80) {
    const count = lengthByte & 0x7f;
    if (count === 0 || count > 4) throw new Error('DER: unsupported length');
    length = 0;
    for (let i = 0; i < count; i++) {
      lengthByte = der[contentStart + i];
      if (lengthByte === undefined) throw new Error('DER: truncated');
      length = length * 256 + lengthByte;
    }
    contentStart += count;
  }
  const end = contentStart + length;
  if (end > der.length) throw new Error('DER: truncated');
  return { tag, start: offset, contentStart, end };
}

/** CKA_SUBJECT, CKA_ISSUER (DER Names) and CKA_SERIAL_NUMBER (the DER INTEGER) of an X.509 certificate. */
export function x509Fields(der: Buffer): { subject: Buffer; issuer: Buffer; serialNumber: Buffer } {
  const certificate = readTlv(der, 0);
  const tbs = readTlv(der, certificate.contentStart);
  let field = readTlv(der, tbs.contentStart);
  if (field.tag === 0xa0) field = readTlv(der, field.end); // [0] version
  const serial = field;
  const signature = readTlv(der, serial.end);
  const issuer = readTlv(der, signature.end);
  const validity = readTlv(der, issuer.end);
  const subject = readTlv(der, validity.end);
  if (serial.tag !== 0x02 || issuer.tag !== 0x30 || subject.tag !== 0x30) throw new Error('DER: not an X.509 certificate');
  return {
    subject: der.subarray(subject.start, subject.end),
    issuer: der.subarray(issuer.start, issuer.end),
    serialNumber: der.subarray(serial.start, serial.end),
  };
}
