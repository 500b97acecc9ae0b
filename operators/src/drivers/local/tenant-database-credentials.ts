import { randomBytes } from 'node:crypto';
import type { TenantSecretStore } from '../../core/tenant-secret-store.ts';
import { TenantDataKeysError, type TenantDataKeys } from './tenant-data-keys.ts';

/** A tenant's database login, decrypted. Never log it. */
export interface TenantDatabaseLogin {
  databaseName: string;
  roleName: string;
  password: string;
}

/** Reads and writes a tenant's database password, encrypted with the tenant's data key. */
export interface TenantDatabaseCredentials {
  /**
   * The stored login, or `undefined` when none is stored. Throws `TenantDataKeysError`
   * `unknown-key-version` when the key that encrypted it is gone.
   */
  read(tenantUid: string): Promise<TenantDatabaseLogin | undefined>;
  /** Encrypts the password with the tenant's active data key and stores the login. */
  store(tenantUid: string, login: TenantDatabaseLogin): Promise<void>;
}

export interface TenantDatabaseCredentialsDeps {
  secrets: TenantSecretStore;
  dataKeys: TenantDataKeys;
}

/** A new role password: 256 random bits, URL-safe so it needs no escaping in a URL. */
export function generateDatabasePassword(): string {
  return randomBytes(32).toString('base64url');
}

/** The tenant's database credentials over the secret store and the tenant's data keys. */
export function createTenantDatabaseCredentials(
  deps: TenantDatabaseCredentialsDeps,
): TenantDatabaseCredentials {
  const { secrets, dataKeys } = deps;
  return {
    async read(tenantUid) {
      const stored = await secrets.getDatabaseCredentials(tenantUid);
      if (!stored) return undefined;
      const password = await dataKeys.decryptWithTenantKey(
        tenantUid,
        stored.passwordCiphertext,
        stored.keyVersion,
        passwordContext(tenantUid),
      );
      return {
        databaseName: stored.databaseName,
        roleName: stored.roleName,
        password: password.toString('utf8'),
      };
    },
    async store(tenantUid, login) {
      const { ciphertext, keyVersion } = await dataKeys.encryptWithActiveKey(
        tenantUid,
        Buffer.from(login.password, 'utf8'),
        passwordContext(tenantUid),
      );
      await secrets.putDatabaseCredentials(tenantUid, {
        databaseName: login.databaseName,
        roleName: login.roleName,
        passwordCiphertext: ciphertext,
        keyVersion,
      });
    },
  };
}

/** Whether `error` says the key that encrypted a secret no longer exists. */
export function isMissingKeyVersion(error: unknown): boolean {
  return error instanceof TenantDataKeysError && error.code === 'unknown-key-version';
}

/** Binds the ciphertext to its tenant and purpose: a row copied elsewhere will not decrypt. */
function passwordContext(tenantUid: string): Buffer {
  return Buffer.from(`citadel/database-password/v1/${tenantUid}`, 'utf8');
}
