import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { chmod, link, mkdir, open, readFile, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Envelope encryption for the local platform. One 256-bit master key lives in
 * `<dataDir>/keys/master.key` (mode 0600); it only ever wraps per-tenant data keys, and the
 * data keys encrypt the tenant's secrets. Rotating a tenant's data key therefore never
 * touches the master key, and destroying a tenant's wrapped keys crypto-shreds its secrets.
 *
 * Byte formats (all AES-256-GCM, 96-bit random IV, 128-bit tag):
 * - wrapped data key: `'W' | 0x01 | master key id (4) | iv (12) | tag (16) | key (32)`;
 *   the 6-byte header is authenticated as associated data.
 * - ciphertext: `'E' | 0x01 | iv (12) | tag (16) | data`; the header and the caller's
 *   associated data (if any) are authenticated.
 */
export interface LocalKeyRing {
  /** Hex id of the master key (first 4 bytes of its SHA-256): safe to log. */
  readonly masterKeyId: string;
  /** A fresh random 256-bit data key. */
  generateDataKey(): Buffer;
  /** Encrypts a data key with the master key. */
  wrap(dataKey: Buffer): Buffer;
  /** Decrypts a wrapped data key; throws {@link KeyRingError} if it was altered. */
  unwrap(wrapped: Buffer): Buffer;
  /** Encrypts `plaintext` with a data key; see {@link encryptWithDataKey}. */
  encrypt(plaintext: Buffer, dataKey: Buffer, associatedData?: Buffer): Buffer;
  /** Decrypts what {@link LocalKeyRing.encrypt} produced; see {@link decryptWithDataKey}. */
  decrypt(ciphertext: Buffer, dataKey: Buffer, associatedData?: Buffer): Buffer;
}

export type KeyRingErrorCode =
  | 'master-key-permissions'
  | 'master-key-invalid'
  | 'wrong-master-key'
  | 'invalid-data-key'
  | 'unsupported-format'
  | 'authentication-failed';

/** Every failure of the key ring, with a code the caller can switch on. */
export class KeyRingError extends Error {
  readonly code: KeyRingErrorCode;

  constructor(code: KeyRingErrorCode, message: string) {
    super(message);
    this.name = 'KeyRingError';
    this.code = code;
  }
}

export interface LocalKeyRingOptions {
  /** The platform's data directory (`CITADEL_DATA_DIR`). */
  dataDir: string;
}

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_ID_BYTES = 4;
const FORMAT_VERSION = 0x01;
const WRAPPED_KEY_TAG = 0x57; // 'W'
const CIPHERTEXT_TAG = 0x45; // 'E'
const WRAPPED_HEADER_BYTES = 2 + KEY_ID_BYTES;
const CIPHERTEXT_HEADER_BYTES = 2;

/** Where the master key lives under the data directory. */
export function masterKeyPath(dataDir: string): string {
  return join(dataDir, 'keys', 'master.key');
}

/**
 * Loads the master key from `<dataDir>/keys/master.key`, creating it (and the directory,
 * mode 0700) on first start. Refuses a key file readable or writable by group or others,
 * as ssh refuses a private key: a leaked master key discloses every tenant's secrets. The
 * one exception is a read-only file its group may read too (0440): that is how kubelet
 * publishes a Kubernetes Secret mounted with `defaultMode: 0400` in a pod with an
 * `fsGroup` (the group is the pod's own), which is how the operator gets the platform's
 * key. A key found there is used as it is; the key ring writes only when there is none.
 *
 * @throws {@link KeyRingError} `master-key-permissions` or `master-key-invalid`
 */
export async function createLocalKeyRing(options: LocalKeyRingOptions): Promise<LocalKeyRing> {
  const masterKey = await loadOrCreateMasterKey(masterKeyPath(options.dataDir));
  const keyId = createHash('sha256').update(masterKey).digest().subarray(0, KEY_ID_BYTES);
  return {
    masterKeyId: keyId.toString('hex'),
    generateDataKey: () => randomBytes(KEY_BYTES),
    wrap: (dataKey) => wrapDataKey(masterKey, keyId, dataKey),
    unwrap: (wrapped) => unwrapDataKey(masterKey, keyId, wrapped),
    encrypt: encryptWithDataKey,
    decrypt: decryptWithDataKey,
  };
}

/**
 * Encrypts `plaintext` with a 256-bit data key (AES-256-GCM, random IV). `associatedData`
 * binds the ciphertext to its context (e.g. the tenant and purpose): decrypting it with
 * other associated data fails.
 */
export function encryptWithDataKey(
  plaintext: Buffer,
  dataKey: Buffer,
  associatedData?: Buffer,
): Buffer {
  assertKeyLength(dataKey, 'data key');
  const header = Buffer.from([CIPHERTEXT_TAG, FORMAT_VERSION]);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', dataKey, iv);
  cipher.setAAD(associatedData ? Buffer.concat([header, associatedData]) : header);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([header, iv, cipher.getAuthTag(), body]);
}

/**
 * Decrypts what {@link encryptWithDataKey} produced, with the same associated data.
 *
 * @throws {@link KeyRingError} `unsupported-format` or `authentication-failed` (altered
 * ciphertext, wrong key or wrong associated data)
 */
export function decryptWithDataKey(
  ciphertext: Buffer,
  dataKey: Buffer,
  associatedData?: Buffer,
): Buffer {
  assertKeyLength(dataKey, 'data key');
  if (
    ciphertext.length < CIPHERTEXT_HEADER_BYTES + IV_BYTES + TAG_BYTES ||
    ciphertext[0] !== CIPHERTEXT_TAG ||
    ciphertext[1] !== FORMAT_VERSION
  ) {
    throw new KeyRingError('unsupported-format', 'not a Citadel v1 ciphertext');
  }
  const header = ciphertext.subarray(0, CIPHERTEXT_HEADER_BYTES);
  const iv = ciphertext.subarray(CIPHERTEXT_HEADER_BYTES, CIPHERTEXT_HEADER_BYTES + IV_BYTES);
  const tagStart = CIPHERTEXT_HEADER_BYTES + IV_BYTES;
  const tag = ciphertext.subarray(tagStart, tagStart + TAG_BYTES);
  const aad = associatedData ? Buffer.concat([header, associatedData]) : header;
  return gcmDecrypt(dataKey, { iv, tag, aad, body: ciphertext.subarray(tagStart + TAG_BYTES) });
}

function wrapDataKey(masterKey: Buffer, keyId: Buffer, dataKey: Buffer): Buffer {
  assertKeyLength(dataKey, 'data key');
  const header = Buffer.concat([Buffer.from([WRAPPED_KEY_TAG, FORMAT_VERSION]), keyId]);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', masterKey, iv);
  cipher.setAAD(header);
  const body = Buffer.concat([cipher.update(dataKey), cipher.final()]);
  return Buffer.concat([header, iv, cipher.getAuthTag(), body]);
}

function unwrapDataKey(masterKey: Buffer, keyId: Buffer, wrapped: Buffer): Buffer {
  if (
    wrapped.length !== WRAPPED_HEADER_BYTES + IV_BYTES + TAG_BYTES + KEY_BYTES ||
    wrapped[0] !== WRAPPED_KEY_TAG ||
    wrapped[1] !== FORMAT_VERSION
  ) {
    throw new KeyRingError('unsupported-format', 'not a Citadel v1 wrapped data key');
  }
  const header = wrapped.subarray(0, WRAPPED_HEADER_BYTES);
  if (!header.subarray(2).equals(keyId)) {
    throw new KeyRingError(
      'wrong-master-key',
      `data key was wrapped by master key ${header.subarray(2).toString('hex')}, ` +
        `this key ring holds ${keyId.toString('hex')}`,
    );
  }
  const iv = wrapped.subarray(WRAPPED_HEADER_BYTES, WRAPPED_HEADER_BYTES + IV_BYTES);
  const tagStart = WRAPPED_HEADER_BYTES + IV_BYTES;
  const tag = wrapped.subarray(tagStart, tagStart + TAG_BYTES);
  return gcmDecrypt(masterKey, {
    iv,
    tag,
    aad: header,
    body: wrapped.subarray(tagStart + TAG_BYTES),
  });
}

interface GcmSealed {
  iv: Buffer;
  tag: Buffer;
  aad: Buffer;
  body: Buffer;
}

function gcmDecrypt(key: Buffer, { iv, tag, aad, body }: GcmSealed): Buffer {
  const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(aad);
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(body), decipher.final()]);
  } catch {
    throw new KeyRingError(
      'authentication-failed',
      'ciphertext failed authentication: it was altered, or the key or context is wrong',
    );
  }
}

function assertKeyLength(key: Buffer, what: string): void {
  if (key.length !== KEY_BYTES) {
    throw new KeyRingError('invalid-data-key', `${what} must be ${KEY_BYTES} bytes`);
  }
}

async function loadOrCreateMasterKey(path: string): Promise<Buffer> {
  const existing = await readMasterKey(path);
  if (existing) return existing;
  await createMasterKey(path);
  // Another process may have won the race to create it: whatever is on disk now wins.
  const created = await readMasterKey(path);
  if (!created) throw new KeyRingError('master-key-invalid', `could not create ${path}`);
  return created;
}

/** Owner-only (0600, 0400), or read-only for owner and group (0440); never others'. */
function isPrivateKeyMode(mode: number): boolean {
  const permissions = mode & 0o777;
  return (permissions & 0o077) === 0 || permissions === 0o440;
}

async function readMasterKey(path: string): Promise<Buffer | undefined> {
  let mode: number;
  try {
    mode = (await stat(path)).mode;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  if (!isPrivateKeyMode(mode)) {
    throw new KeyRingError(
      'master-key-permissions',
      `${path} has mode ${(mode & 0o777).toString(8).padStart(4, '0')}; the master key must ` +
        `be readable by its owner only (or, read-only, by its group: 0440, as a Kubernetes ` +
        `Secret volume with an fsGroup publishes it). Run: chmod 600 ${path}`,
    );
  }
  const key = await readFile(path);
  if (key.length !== KEY_BYTES) {
    throw new KeyRingError(
      'master-key-invalid',
      `${path} holds ${key.length} bytes, expected a ${KEY_BYTES}-byte key`,
    );
  }
  return key;
}

/**
 * Writes a new key to a private temporary file, flushes it, then hard-links it into
 * place: `link` never replaces an existing file, so a crash never leaves a torn key and
 * two processes starting at once agree on one key.
 */
async function createMasterKey(path: string): Promise<void> {
  const directory = join(path, '..');
  await mkdir(directory, { recursive: true, mode: 0o700 });
  await chmod(directory, 0o700);
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const handle = await open(temporary, 'wx', 0o600);
  try {
    await handle.writeFile(randomBytes(KEY_BYTES));
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await link(temporary, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    await unlink(temporary);
  }
  const directoryHandle = await open(directory, 'r');
  try {
    await directoryHandle.sync();
  } finally {
    await directoryHandle.close();
  }
}
