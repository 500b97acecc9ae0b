import { randomUUID } from 'node:crypto';
import { PrismaPg } from '@prisma/adapter-pg';
import { ColumnTypeEnum } from '@prisma/driver-adapter-utils';
import type {
  SqlDriverAdapter,
  SqlMigrationAwareDriverAdapterFactory,
  SqlQuery,
  SqlQueryable,
  SqlResultSet,
} from '@prisma/driver-adapter-utils';
import pg from 'pg';
import { quoteIdentifier, withDatabase } from './database-url.ts';

/**
 * PostgreSQL catalog types that introspection returns and that `@prisma/adapter-pg` 7.10 rejects
 * (`UnsupportedNativeDataType`). The schema engine reads OID 18 `"char"` (`pg_constraint.contype`,
 * `pg_class.relkind`…) as a Rust `char`, so it must come back as `Character`; the reg* and xid
 * types as text.
 */
const charOid = 18;
const catalogTypesReadAsText = new Set([24, 28, 2205, 2206]);
const textOid = 25;

interface PgQueryableInternals {
  queryRaw(query: SqlQuery): Promise<SqlResultSet>;
  performIO(query: SqlQuery): Promise<{ fields: Array<{ dataTypeID: number }> }>;
  onError(error: unknown): never;
}

/**
 * Makes a queryable (adapter or transaction) of adapter-pg accept the catalog types above. It
 * hooks adapter-pg's internal `performIO` (covered by the migrations test): the column indexes
 * of `"char"` are remembered per query object, so concurrent queries do not mix.
 */
function acceptCatalogTypes(queryable: SqlQueryable): void {
  const internals = queryable as unknown as PgQueryableInternals;
  const charColumns = new WeakMap<SqlQuery, number[]>();
  const performIO = internals.performIO.bind(queryable);
  const queryRaw = internals.queryRaw.bind(queryable);
  internals.performIO = async (query) => {
    const result = await performIO(query);
    const indexes: number[] = [];
    result.fields.forEach((field, index) => {
      if (field.dataTypeID === charOid) {
        indexes.push(index);
        field.dataTypeID = textOid;
      } else if (catalogTypesReadAsText.has(field.dataTypeID)) {
        field.dataTypeID = textOid;
      }
    });
    if (indexes.length > 0) charColumns.set(query, indexes);
    return result;
  };
  internals.queryRaw = async (query) => {
    const result = await queryRaw(query);
    for (const index of charColumns.get(query) ?? [])
      result.columnTypes[index] = ColumnTypeEnum.Character;
    return result;
  };
}

function createPool(connectionString: string): pg.Pool {
  const pool = new pg.Pool({
    connectionString,
    max: 4,
    idleTimeoutMillis: 1_000,
    allowExitOnIdle: true,
  });
  pool.on('error', () => undefined);
  return pool;
}

/**
 * Connects an adapter whose `executeScript` sends the whole script in one simple-query round
 * trip, as Prisma's native engine does: adapter-pg splits scripts on `;`, which breaks `$$`
 * function bodies and string literals; a multi-statement simple query also runs atomically.
 */
async function connectAdapter(
  connectionString: string,
  onDispose?: () => Promise<void>,
): Promise<SqlDriverAdapter> {
  const pool = createPool(connectionString);
  const adapter = await new PrismaPg(pool, { disposeExternalPool: true }).connect();
  acceptCatalogTypes(adapter);
  const startTransaction = adapter.startTransaction.bind(adapter);
  adapter.startTransaction = async (isolationLevel) => {
    const transaction = await startTransaction(isolationLevel);
    acceptCatalogTypes(transaction);
    return transaction;
  };
  adapter.executeScript = async (script: string): Promise<void> => {
    try {
      await pool.query(script);
    } catch (error) {
      (adapter as unknown as PgQueryableInternals).onError(error);
    }
  };
  if (onDispose !== undefined) {
    const dispose = adapter.dispose.bind(adapter);
    adapter.dispose = async () => {
      await dispose();
      await onDispose();
    };
  }
  return adapter;
}

/** A migration adapter factory that can close every connection it handed out. */
export interface ClosableMigrationAdapterFactory extends SqlMigrationAwareDriverAdapterFactory {
  /**
   * Disposes every adapter still open. Needed because freeing the WASM engine does not dispose
   * its adapter: its pool would keep the engine's session-level advisory lock until idle.
   */
  closeAll(): Promise<void>;
}

/**
 * The driver adapter factory the WASM schema engine migrates through: adapter-pg on `pg`, with
 * the catalog-type and script fixes above, and a shadow database of our own (adapter-pg's
 * `connectToShadowDb()` ignores the database name of a connection string and drops the shadow
 * database while its pool still holds connections): `CREATE DATABASE` on the same server, and
 * `DROP DATABASE … WITH (FORCE)` once the engine has closed its pool.
 *
 * @param connectionString - the database to migrate; its role needs CREATEDB for shadow databases
 */
export function createMigrationAdapterFactory(
  connectionString: string,
): ClosableMigrationAdapterFactory {
  const open = new Set<SqlDriverAdapter>();
  const runAdmin = async (sql: string): Promise<void> => {
    const client = new pg.Client({ connectionString });
    client.on('error', () => undefined);
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  const track = (adapter: SqlDriverAdapter): SqlDriverAdapter => {
    open.add(adapter);
    const dispose = adapter.dispose.bind(adapter);
    let disposing: Promise<void> | undefined;
    adapter.dispose = () => {
      open.delete(adapter);
      disposing ??= dispose();
      return disposing;
    };
    return adapter;
  };
  return {
    provider: 'postgres',
    adapterName: '@prisma/adapter-pg',
    connect: async () => track(await connectAdapter(connectionString)),
    connectToShadowDb: async () => {
      const name = `prisma_shadow_${randomUUID().replaceAll('-', '')}`;
      await runAdmin(`CREATE DATABASE ${quoteIdentifier(name)}`);
      const adapter = await connectAdapter(withDatabase(connectionString, name), () =>
        runAdmin(`DROP DATABASE IF EXISTS ${quoteIdentifier(name)} WITH (FORCE)`),
      );
      return track(adapter);
    },
    async closeAll() {
      await Promise.all([...open].map((adapter) => adapter.dispose()));
    },
  };
}
