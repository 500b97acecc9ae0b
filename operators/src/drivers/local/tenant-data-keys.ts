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

/** The data-key service shared by the database and services drivers. */
export function createTenantDataKeys(deps: TenantDataKeysDeps): TenantDataKeys {
  const { keyRing, secrets } = deps;
  return {
    async encryptWithActiveKey(tenantUid, plaintext, associatedData) {
      const keys = await secrets.listDataKeys(tenantUid);
      const active = keys.find((key) => key.active);
      if (!active) {
        throw new TenantDataKeysError(
          'no-active-key',
          `tenant ${tenantUid} has no active data key`,
        );
      }
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
  };
}
