import pg from 'pg';
import type { StoredDataKey, TenantSecretStore } from '../src/core/tenant-secret-store.ts';

/**
 * A real {@link TenantSecretStore} over PostgreSQL for the driver tests, with the
 * semantics the control plane's Prisma store must have: one active key per tenant,
 * `addDataKey` atomic and idempotent on the version. Its tables live in `schema`.
 */
export interface PgTenantSecretStore extends TenantSecretStore {
  /** Creates the schema and tables. */
  migrate(): Promise<void>;
  /** Drops the schema. */
  drop(): Promise<void>;
  /** Rows held for `tenantUid`, to prove that removal leaves none. */
  countRows(tenantUid: string): Promise<{ dataKeys: number; credentials: number }>;
}

export function createPgTenantSecretStore(pool: pg.Pool, schema: string): PgTenantSecretStore {
  const s = pg.escapeIdentifier(schema);
  return {
    async migrate() {
      await pool.query(`
        CREATE SCHEMA IF NOT EXISTS ${s};
        CREATE TABLE IF NOT EXISTS ${s}.tenant_data_keys (
          tenant_uid text NOT NULL,
          version integer NOT NULL,
          wrapped_key bytea NOT NULL,
          active boolean NOT NULL,
          created_at timestamptz NOT NULL DEFAULT now(),
          PRIMARY KEY (tenant_uid, version)
        );
        CREATE UNIQUE INDEX IF NOT EXISTS tenant_data_keys_one_active
          ON ${s}.tenant_data_keys (tenant_uid) WHERE active;
        CREATE TABLE IF NOT EXISTS ${s}.tenant_database_credentials (
          tenant_uid text PRIMARY KEY,
          database_name text NOT NULL,
          role_name text NOT NULL,
          password_ciphertext bytea NOT NULL,
          key_version integer NOT NULL
        );`);
    },
    async drop() {
      await pool.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
    },
    async countRows(tenantUid) {
      const { rows } = await pool.query<{ data_keys: number; credentials: number }>(
        `SELECT (SELECT count(*)::int FROM ${s}.tenant_data_keys WHERE tenant_uid = $1) AS data_keys,
                (SELECT count(*)::int FROM ${s}.tenant_database_credentials WHERE tenant_uid = $1) AS credentials`,
        [tenantUid],
      );
      return { dataKeys: rows[0]?.data_keys ?? 0, credentials: rows[0]?.credentials ?? 0 };
    },
    async listDataKeys(tenantUid) {
      const { rows } = await pool.query<{
        version: number;
        wrapped_key: Buffer;
        active: boolean;
        created_at: Date;
      }>(
        `SELECT version, wrapped_key, active, created_at FROM ${s}.tenant_data_keys
          WHERE tenant_uid = $1 ORDER BY version`,
        [tenantUid],
      );
      return rows.map((row): StoredDataKey => ({
        version: row.version,
        wrappedKey: row.wrapped_key,
        active: row.active,
        createdAt: row.created_at,
      }));
    },
    async addDataKey(tenantUid, key) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [
          `secrets:${tenantUid}`,
        ]);
        const existing = await client.query(
          `SELECT 1 FROM ${s}.tenant_data_keys WHERE tenant_uid = $1 AND version = $2`,
          [tenantUid, key.version],
        );
        if (existing.rowCount === 0) {
          await client.query(
            `UPDATE ${s}.tenant_data_keys SET active = false WHERE tenant_uid = $1`,
            [tenantUid],
          );
          await client.query(
            `INSERT INTO ${s}.tenant_data_keys (tenant_uid, version, wrapped_key, active)
             VALUES ($1, $2, $3, true)`,
            [tenantUid, key.version, key.wrappedKey],
          );
        }
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw error;
      } finally {
        client.release();
      }
    },
    async deleteDataKeys(tenantUid) {
      await pool.query(`DELETE FROM ${s}.tenant_data_keys WHERE tenant_uid = $1`, [tenantUid]);
    },
    async getDatabaseCredentials(tenantUid) {
      const { rows } = await pool.query<{
        database_name: string;
        role_name: string;
        password_ciphertext: Buffer;
        key_version: number;
      }>(
        `SELECT database_name, role_name, password_ciphertext, key_version
           FROM ${s}.tenant_database_credentials WHERE tenant_uid = $1`,
        [tenantUid],
      );
      const row = rows[0];
      return row
        ? {
            databaseName: row.database_name,
            roleName: row.role_name,
            passwordCiphertext: row.password_ciphertext,
            keyVersion: row.key_version,
          }
        : undefined;
    },
    async putDatabaseCredentials(tenantUid, credentials) {
      await pool.query(
        `INSERT INTO ${s}.tenant_database_credentials
           (tenant_uid, database_name, role_name, password_ciphertext, key_version)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (tenant_uid) DO UPDATE SET database_name = EXCLUDED.database_name,
           role_name = EXCLUDED.role_name, password_ciphertext = EXCLUDED.password_ciphertext,
           key_version = EXCLUDED.key_version`,
        [
          tenantUid,
          credentials.databaseName,
          credentials.roleName,
          credentials.passwordCiphertext,
          credentials.keyVersion,
        ],
      );
    },
    async deleteDatabaseCredentials(tenantUid) {
      await pool.query(`DELETE FROM ${s}.tenant_database_credentials WHERE tenant_uid = $1`, [
        tenantUid,
      ]);
    },
  };
}
