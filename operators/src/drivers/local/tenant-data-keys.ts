import type { TenantDataKeySet } from '@citadel/tenant-templates';
import type { TenantSecretStore } from '../../core/tenant-secret-store.ts';
import type { LocalKeyRing } from './local-key-ring.ts';

/** A ciphertext and the tenant data key version that can decrypt it. */
export interface TenantCiphertext {
  ciphertext: Buffer;
  keyVersion: number;
}

/**
 * Encrypts and decrypts a tenant's secrets with the tenant's own data keys, unwrapped by
 * the platform master key on each call (the plaintext data keys are never stored).
 */
export interface TenantDataKeys {
  /**
   * Encrypts with the tenant's active key version.
   *
   * @throws {@link TenantDataKeysError} `no-active-key` when the tenant has no key yet
   */
  encryptWithActiveKey(
    tenantUid: string,
    plaintext: Buffer,
    associatedData?: Buffer,
  ): Promise<TenantCiphertext>;
  /**
   * Decrypts with key version `version` of the tenant, active or not: rotation keeps old
   * versions readable.
   *
   * @throws {@link TenantDataKeysError} `unknown-key-version`; `KeyRingError` when the
   * ciphertext was altered
   */
  decryptWithTenantKey(
    tenantUid: string,
    ciphertext: Buffer,
    version: number,
    associatedData?: Buffer,
  ): Promise<Buffer>;
  /**
   * Every key version of the tenant, unwrapped, and the active one: for the tenant's own
   * data-plane hosts only (their environment, or the access Secret in the tenant's
   * namespace). Prefer {@link withUnwrappedKeySet}, which zeroes the keys after use.
   *
   * @throws {@link TenantDataKeysError} `no-active-key` when the tenant has no key yet
   */
  unwrapKeySet(tenantUid: string): Promise<TenantDataKeySet>;
}

export type TenantDataKeysErrorCode = 'no-active-key' | 'unknown-key-version';

export class TenantDataKeysError extends Error {
  readonly code: TenantDataKeysErrorCode;

  constructor(code: TenantDataKeysErrorCode, message: string) {
    super(message);
    this.name = 'TenantDataKeysError';
    this.code = code;
  }
}

export interface TenantDataKeysDeps {
  keyRing: LocalKeyRing;
  secrets: TenantSecretStore;
}

/**
 * Runs `use` with the tenant's unwrapped data keys, then zeroes them whatever happens: what
 * `use` makes of them (an environment value, a Secret) is all that outlives the call.
 */
export async function withUnwrappedKeySet<T>(
  dataKeys: TenantDataKeys,
  tenantUid: string,
  use: (keySet: TenantDataKeySet) => T,
): Promise<T> {
  const keySet = await dataKeys.unwrapKeySet(tenantUid);
  try {
    return use(keySet);
  } finally {
    for (const { key } of keySet.keys) key.fill(0);
  }
}

function noActiveKey(tenantUid: string): TenantDataKeysError {
  return new TenantDataKeysError('no-active-key', `tenant ${tenantUid} has no active data key`);
}

/** The data-key service shared by the database and services drivers. */
export function createTenantDataKeys(deps: TenantDataKeysDeps): TenantDataKeys {
  const { keyRing, secrets } = deps;
  return {
    async encryptWithActiveKey(tenantUid, plaintext, associatedData) {
      const keys = await secrets.listDataKeys(tenantUid);
      const active = keys.find((key) => key.active);
      if (!active) throw noActiveKey(tenantUid);
      const dataKey = keyRing.unwrap(active.wrappedKey);
      try {
        const ciphertext = keyRing.encrypt(plaintext, dataKey, associatedData);
        return { ciphertext, keyVersion: active.version };
      } finally {
        dataKey.fill(0);
      }
    },
    async decryptWithTenantKey(tenantUid, ciphertext, version, associatedData) {
      const keys = await secrets.listDataKeys(tenantUid);
      const stored = keys.find((key) => key.version === version);
      if (!stored) {
        throw new TenantDataKeysError(
          'unknown-key-version',
          `tenant ${tenantUid} has no data key version ${version}`,
        );
      }
      const dataKey = keyRing.unwrap(stored.wrappedKey);
      try {
        return keyRing.decrypt(ciphertext, dataKey, associatedData);
      } finally {
        dataKey.fill(0);
      }
    },
    async unwrapKeySet(tenantUid) {
      const stored = await secrets.listDataKeys(tenantUid);
      const active = stored.find((key) => key.active);
      if (!active) throw noActiveKey(tenantUid);
      const keys: Array<{ version: number; key: Buffer }> = [];
      try {
        for (const { version, wrappedKey } of stored) {
          keys.push({ version, key: keyRing.unwrap(wrappedKey) });
        }
      } catch (error) {
        for (const { key } of keys) key.fill(0);
        throw error;
      }
      return { activeVersion: active.version, keys };
    },
  };
}
