import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * Encrypts a tenant's data at rest with the tenant's own data keys (AES-256-GCM), as the
 * operator hands them to the tenant's data-plane host in `CITADEL_TENANT_DATA_KEYS`.
 *
 * Envelope bytes: `'T' | 0x01 | key version (uint32 BE) | iv (12) | tag (16) | ciphertext`.
 * The 6-byte header is authenticated together with the caller's associated data, so an
 * envelope names the key version that opens it: after a rotation the host holds every
 * version, encrypts with the active one and still decrypts what older versions sealed.
 */
export interface TenantDataCipher {
  /** The key version {@link TenantDataCipher.encrypt} seals with. */
  readonly activeKeyVersion: number;
  /**
   * Seals `plaintext` with the active key. `associatedData` binds the envelope to its
   * context (e.g. `document:<id>:v<n>`): decrypting it under another context fails.
   */
  encrypt(plaintext: Buffer, associatedData: string): Buffer;
  /**
   * Opens an envelope sealed by {@link TenantDataCipher.encrypt} with any key version the
   * host holds.
   *
   * @throws {@link TenantDataCipherError} `unsupported-format`, `unknown-key-version` or
   * `authentication-failed` (altered bytes, or other associated data)
   */
  decrypt(envelope: Buffer, associatedData: string): Buffer;
}

export type TenantDataCipherErrorCode =
  'malformed-keys' | 'unsupported-format' | 'unknown-key-version' | 'authentication-failed';

/** Every failure of the cipher; messages never carry key material. */
export class TenantDataCipherError extends Error {
  readonly code: TenantDataCipherErrorCode;

  constructor(code: TenantDataCipherErrorCode, message: string) {
    super(message);
    this.name = 'TenantDataCipherError';
    this.code = code;
  }
}

/** The environment variable the operator sets on the tenant's data-plane host. */
export const TENANT_DATA_KEYS_VARIABLE = 'CITADEL_TENANT_DATA_KEYS';

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const ENVELOPE_TAG = 0x54; // 'T'
const FORMAT_VERSION = 0x01;
const HEADER_BYTES = 6;
const MAX_KEY_VERSION = 0xffff_ffff;
const KEY_VERSION_PATTERN = /^[1-9]\d{0,9}$/;
const BASE64_KEY_PATTERN = /^[A-Za-z0-9+/]{43}=$/;

/**
 * Reads the tenant's data keys from `CITADEL_TENANT_DATA_KEYS`:
 * `{"active":2,"keys":{"1":"<base64 of 32 bytes>","2":"…"}}` — every key version the
 * tenant has, the active one named. Returns `undefined` when the variable is unset or
 * empty (a host without keys stores nothing encrypted).
 *
 * @throws {@link TenantDataCipherError} `malformed-keys`, whose message names what is
 * wrong and never echoes the value
 */
export function readTenantDataCipher(
  environment: Readonly<Record<string, string | undefined>>,
): TenantDataCipher | undefined {
  const value = environment[TENANT_DATA_KEYS_VARIABLE]?.trim() ?? '';
  if (value === '') return undefined;
  const { active, keys } = parseTenantDataKeys(value);
  return createTenantDataCipher(active, keys);
}

function createTenantDataCipher(
  activeKeyVersion: number,
  keys: ReadonlyMap<number, Buffer>,
): TenantDataCipher {
  const activeKey = keys.get(activeKeyVersion);
  if (!activeKey) throw malformed(`holds no key for the active version ${activeKeyVersion}`);
  return {
    activeKeyVersion,
    encrypt: (plaintext, associatedData) =>
      sealEnvelope({ version: activeKeyVersion, key: activeKey }, plaintext, associatedData),
    decrypt: (envelope, associatedData) => openEnvelope(keys, envelope, associatedData),
  };
}

interface VersionedKey {
  version: number;
  key: Buffer;
}

function sealEnvelope(dataKey: VersionedKey, plaintext: Buffer, associatedData: string): Buffer {
  const header = Buffer.alloc(HEADER_BYTES);
  header[0] = ENVELOPE_TAG;
  header[1] = FORMAT_VERSION;
  header.writeUInt32BE(dataKey.version, 2);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', dataKey.key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.concat([header, Buffer.from(associatedData, 'utf8')]));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([header, iv, cipher.getAuthTag(), body]);
}

function openEnvelope(
  keys: ReadonlyMap<number, Buffer>,
  envelope: Buffer,
  associatedData: string,
): Buffer {
  if (
    envelope.length < HEADER_BYTES + IV_BYTES + TAG_BYTES ||
    envelope[0] !== ENVELOPE_TAG ||
    envelope[1] !== FORMAT_VERSION
  ) {
    throw new TenantDataCipherError('unsupported-format', 'not a Citadel v1 tenant data envelope');
  }
  const header = envelope.subarray(0, HEADER_BYTES);
  const version = header.readUInt32BE(2);
  const key = keys.get(version);
  if (!key) {
    throw new TenantDataCipherError(
      'unknown-key-version',
      `the envelope was sealed with data key version ${version}, which this host does not hold`,
    );
  }
  const tagStart = HEADER_BYTES + IV_BYTES;
  const decipher = createDecipheriv('aes-256-gcm', key, envelope.subarray(HEADER_BYTES, tagStart), {
    authTagLength: TAG_BYTES,
  });
  decipher.setAAD(Buffer.concat([header, Buffer.from(associatedData, 'utf8')]));
  decipher.setAuthTag(envelope.subarray(tagStart, tagStart + TAG_BYTES));
  try {
    return Buffer.concat([
      decipher.update(envelope.subarray(tagStart + TAG_BYTES)),
      decipher.final(),
    ]);
  } catch {
    throw new TenantDataCipherError(
      'authentication-failed',
      'the envelope failed authentication: it was altered, or its context is another one',
    );
  }
}

interface TenantDataKeySet {
  active: number;
  keys: Map<number, Buffer>;
}

/** Strict: exactly `active` and `keys`, decimal versions, canonical base64 of 32 bytes. */
function parseTenantDataKeys(value: string): TenantDataKeySet {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    // JSON.parse's message quotes the input: say nothing of it.
    throw malformed('is not JSON');
  }
  if (!isPlainObject(parsed)) throw malformed('must be a JSON object');
  const extra = Object.keys(parsed).filter((name) => name !== 'active' && name !== 'keys');
  if (extra.length > 0) throw malformed(`has unknown fields: ${extra.sort().join(', ')}`);
  const { active, keys } = parsed;
  if (!isKeyVersion(active)) {
    throw malformed('"active" must be an integer key version from 1 to 4294967295');
  }
  if (!isPlainObject(keys)) throw malformed('"keys" must be an object of version to key');
  const decoded = new Map<number, Buffer>();
  for (const [version, encoded] of Object.entries(keys)) {
    decoded.set(parseKeyVersion(version), decodeKey(version, encoded));
  }
  return { active, keys: decoded };
}

function parseKeyVersion(name: string): number {
  const version = Number(name);
  if (!KEY_VERSION_PATTERN.test(name) || !isKeyVersion(version)) {
    // The version is a field name, not key material; still, cut it short.
    throw malformed(`key version ${JSON.stringify(name.slice(0, 12))} is not an integer from 1`);
  }
  return version;
}

function decodeKey(version: string, encoded: unknown): Buffer {
  const key =
    typeof encoded === 'string' && BASE64_KEY_PATTERN.test(encoded)
      ? Buffer.from(encoded, 'base64')
      : undefined;
  // Canonical only: a string that decodes but does not re-encode to itself is a typo.
  if (key === undefined || key.toString('base64') !== encoded) {
    throw malformed(`key version ${version} must be the base64 of ${KEY_BYTES} bytes`);
  }
  return key;
}

function isKeyVersion(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 1 && (value as number) <= MAX_KEY_VERSION;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function malformed(problem: string): TenantDataCipherError {
  return new TenantDataCipherError('malformed-keys', `${TENANT_DATA_KEYS_VARIABLE} ${problem}`);
}
