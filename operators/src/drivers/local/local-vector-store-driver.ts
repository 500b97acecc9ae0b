import pg from 'pg';
import type { ObservedVectorStore } from '../../core/observed-state.ts';
import type { VectorStoreAction } from '../../core/reconcile-action.ts';
import type { ComponentDriver, TenantRef } from '../../core/tenant-drivers.ts';
import { connectAdminToDatabase } from './admin-database-client.ts';
import type { DriverLogger } from './driver-logger.ts';
import { localTenantNames } from './local-tenant-names.ts';

export interface LocalVectorStoreDriverDeps {
  adminPool: pg.Pool;
  instanceId: string;
  logger: DriverLogger;
}

/** The schema that holds the tenant's vector tables, owned by the tenant's role. */
export const VECTOR_SCHEMA = 'vectors';

const NOT_READY: ObservedVectorStore = { ready: false, engine: undefined };

/**
 * How long a ready observation is trusted without connecting to the tenant's database
 * again. Reconcile passes observe every component each time, and a connection to a
 * freshly created database is the dearest step there is; the cache is keyed by the
 * database's oid, so a dropped and recreated database is never mistaken for ready.
 */
const READY_CACHE_MS = 30_000;

/**
 * The vector store lives in the tenant's own database: pgvector when the server has it,
 * otherwise exact search by the services (the embedded PostgreSQL ships no pgvector).
 * Either way the store is a schema `vectors` owned by the tenant's role.
 */
export function createLocalVectorStoreDriver(
  deps: LocalVectorStoreDriverDeps,
): ComponentDriver<ObservedVectorStore, VectorStoreAction> {
  const { adminPool, instanceId, logger } = deps;
  let reportedMissingPgvector = false;
  const readyCache = new Map<
    string,
    { databaseOid: string; observed: ObservedVectorStore; at: number }
  >();

  /** Runs `work` on an admin connection to the tenant's database, if that database exists. */
  const withTenantDatabase = async <T>(
    tenant: TenantRef,
    work: (client: pg.Client, roleName: string, databaseOid: string) => Promise<T>,
  ): Promise<T | undefined> => {
    const names = localTenantNames(instanceId, tenant.slug);
    const databaseOid = await oidOf(names.databaseName);
    if (databaseOid === undefined) return undefined;
    const client = await connectAdminToDatabase(adminPool, names.databaseName);
    try {
      return await work(client, names.roleName, databaseOid);
    } finally {
      await client.end();
    }
  };

  const oidOf = async (databaseName: string): Promise<string | undefined> => {
    const { rows } = await adminPool.query<{ oid: string }>(
      'SELECT oid::text AS oid FROM pg_database WHERE datname = $1',
      [databaseName],
    );
    return rows[0]?.oid;
  };

  const cachedReady = async (tenant: TenantRef): Promise<ObservedVectorStore | undefined> => {
    const cached = readyCache.get(tenant.slug);
    if (!cached || Date.now() - cached.at > READY_CACHE_MS) return undefined;
    const databaseOid = await oidOf(localTenantNames(instanceId, tenant.slug).databaseName);
    return databaseOid === cached.databaseOid ? cached.observed : undefined;
  };

  const remember = (tenant: TenantRef, databaseOid: string, observed: ObservedVectorStore) => {
    if (observed.ready) readyCache.set(tenant.slug, { databaseOid, observed, at: Date.now() });
    else readyCache.delete(tenant.slug);
    return observed;
  };

  const inspect = async (client: pg.Client, roleName: string): Promise<ObservedVectorStore> => {
    const { rows } = await client.query<{ owner: string | null; pgvector: boolean }>(
      `SELECT (SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = $1) AS owner,
              EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'vector') AS pgvector`,
      [VECTOR_SCHEMA],
    );
    const row = rows[0];
    if (row?.owner !== roleName) return NOT_READY;
    return { ready: true, engine: row.pgvector ? 'pgvector' : 'exact' };
  };

  const ensureExtension = async (tenant: TenantRef, client: pg.Client): Promise<void> => {
    const { rows } = await client.query<{ installed: boolean; available: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'vector') AS installed,
              EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'vector') AS available`,
    );
    if (rows[0]?.installed) return;
    if (!rows[0]?.available) {
      if (reportedMissingPgvector) return;
      reportedMissingPgvector = true;
      logger.info(
        { tenant: tenant.slug },
        'pgvector is not installed on this PostgreSQL server; vector stores use exact search',
      );
      return;
    }
    try {
      await client.query('CREATE EXTENSION IF NOT EXISTS vector');
    } catch (error) {
      // Lacking the privilege, or a concurrent CREATE EXTENSION racing this one: exact
      // search still works, and the next ensure tries again.
      logger.warn(
        { tenant: tenant.slug, error: (error as Error).message },
        'could not create the pgvector extension; the vector store uses exact search',
      );
    }
  };

  return {
    async observe(tenant) {
      const cached = await cachedReady(tenant);
      if (cached) return cached;
      const observed = await withTenantDatabase(tenant, async (client, roleName, databaseOid) =>
        remember(tenant, databaseOid, await inspect(client, roleName)),
      );
      if (!observed) readyCache.delete(tenant.slug);
      return observed ?? NOT_READY;
    },
    async apply(tenant, action) {
      // `remove` is for stores outside the database; this one is dropped with it.
      if (action.type === 'remove') return;
      const done = await withTenantDatabase(tenant, async (client, roleName, databaseOid) => {
        await ensureExtension(tenant, client);
        await ensureSchema(client, roleName);
        remember(tenant, databaseOid, await inspect(client, roleName));
        return true;
      });
      if (!done) {
        throw new Error(`database of tenant ${tenant.slug} does not exist; ensure it first`);
      }
    },
  };
}

async function ensureSchema(client: pg.Client, roleName: string): Promise<void> {
  const { rows } = await client.query<{ owner: string }>(
    'SELECT pg_get_userbyid(nspowner) AS owner FROM pg_namespace WHERE nspname = $1',
    [VECTOR_SCHEMA],
  );
  const schema = pg.escapeIdentifier(VECTOR_SCHEMA);
  const role = pg.escapeIdentifier(roleName);
  if (!rows[0]) {
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema} AUTHORIZATION ${role}`);
  } else if (rows[0].owner !== roleName) {
    await client.query(`ALTER SCHEMA ${schema} OWNER TO ${role}`);
  }
}
