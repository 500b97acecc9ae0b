/**
 * Persistence for a tenant's key material and credentials, kept by the control plane.
 * Every call takes the tenant's uid: there is no way to reach another tenant's secrets.
 */
export interface StoredDataKey {
  version: number;
  /** The data key wrapped (encrypted) by the platform master key. */
  wrappedKey: Buffer;
  active: boolean;
  createdAt: Date;
}

export interface StoredDatabaseCredentials {
  databaseName: string;
  roleName: string;
  /** The role's password encrypted with the tenant's data key `keyVersion`. */
  passwordCiphertext: Buffer;
  keyVersion: number;
}

export interface TenantSecretStore {
  listDataKeys(tenantUid: string): Promise<StoredDataKey[]>;
  /**
   * Adds a key version and makes it the only active one, atomically. Adding a version
   * that exists already changes nothing (a retried step).
   */
  addDataKey(tenantUid: string, key: Omit<StoredDataKey, 'active' | 'createdAt'>): Promise<void>;
  deleteDataKeys(tenantUid: string): Promise<void>;
  getDatabaseCredentials(tenantUid: string): Promise<StoredDatabaseCredentials | undefined>;
  putDatabaseCredentials(tenantUid: string, credentials: StoredDatabaseCredentials): Promise<void>;
  deleteDatabaseCredentials(tenantUid: string): Promise<void>;
}
