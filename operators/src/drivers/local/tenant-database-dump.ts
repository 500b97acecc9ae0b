import { execFile } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import type { TenantRef } from '../../core/tenant-drivers.ts';
import { connectAdminToDatabase } from './admin-database-client.ts';
import { localTenantNames } from './local-tenant-names.ts';
import { defaultPgDumpDirectories, findPgDump, type PgDumpProgram } from './pg-dump-locator.ts';

const execFileAsync = promisify(execFile);
const { escapeIdentifier } = pg;

/**
 * How a tenant's database was exported:
 * - `pg_dump`: `database.sql`, a plain-SQL dump (schema and data) by a pg_dump of the
 *   server's own major version, restorable with `psql`;
 * - `copy-csv`: no such pg_dump here, so every table went through `COPY … TO STDOUT` as CSV
 *   into `database/`, listed with columns and types in `database/tables.json`;
 * - `none`: the tenant has no database (never created, or already removed).
 */
export type DatabaseDumpMethod = 'pg_dump' | 'copy-csv' | 'none';

/** What the export's manifest says about the database part. */
export interface DatabaseDumpSummary {
  method: DatabaseDumpMethod;
  /** `server_version` of the platform's PostgreSQL. */
  serverVersion?: string;
  /** What the pg_dump used printed for `--version`. */
  pgDump?: string;
  /** Tables exported (copy-csv). */
  tables?: number;
  note: string;
}

export interface TenantDatabaseDumperDeps {
  /** Superuser, or the tenant role's privileges, on the platform's PostgreSQL. */
  adminPool: pg.Pool;
  instanceId: string;
  /** Where to look for pg_dump; by default the embedded package's and Debian's bin directories. */
  pgDumpDirectories?: readonly string[];
}

/** Writes a logical dump of a tenant's database into an export directory. */
export type TenantDatabaseDumper = (
  tenant: TenantRef,
  directory: string,
) => Promise<DatabaseDumpSummary>;

interface TableRow {
  oid: number;
  schema: string;
  table: string;
}

/** Ordinary tables of every schema the tenant may have created (system schemas excluded). */
const TABLES_SQL = `
  SELECT c.oid::int AS oid, n.nspname AS schema, c.relname AS table
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE c.relkind = 'r'
     AND n.nspname NOT IN ('pg_catalog', 'information_schema')
     AND n.nspname NOT LIKE 'pg\\_%'
   ORDER BY n.nspname, c.relname`;

const COLUMNS_SQL = `
  SELECT attname AS name, format_type(atttypid, atttypmod) AS type
    FROM pg_attribute
   WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped
   ORDER BY attnum`;

/**
 * libpq's environment for the admin's connection to `databaseName`: pg_dump gets the
 * password this way, never on its command line (which other users could read).
 */
export function libpqEnvironment(
  options: pg.PoolConfig,
  databaseName: string,
): Record<string, string> {
  const environment: Record<string, string> = {
    PGDATABASE: databaseName,
    PGCONNECT_TIMEOUT: '10',
  };
  const set = (name: string, value: unknown) => {
    if ((typeof value === 'string' && value !== '') || typeof value === 'number') {
      environment[name] = String(value);
    }
  };
  if (options.connectionString) {
    const url = new URL(options.connectionString);
    set('PGHOST', url.searchParams.get('host') ?? url.hostname.replace(/^\[(.*)\]$/, '$1'));
    set('PGPORT', url.port);
    set('PGUSER', decodeURIComponent(url.username));
    set('PGPASSWORD', decodeURIComponent(url.password));
    set('PGSSLMODE', url.searchParams.get('sslmode'));
  } else {
    set('PGHOST', options.host);
    set('PGPORT', options.port);
    set('PGUSER', options.user);
    set('PGPASSWORD', options.password);
  }
  return environment;
}

async function runPgDump(
  program: PgDumpProgram,
  environment: Record<string, string>,
  file: string,
): Promise<void> {
  try {
    await execFileAsync(
      program.path,
      ['--format=plain', '--no-owner', '--no-privileges', '--no-password', `--file=${file}`],
      { env: environment, maxBuffer: 16 * 1024 * 1024 },
    );
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`pg_dump failed: ${stderr.trim() || (error as Error).message}`, {
      cause: error,
    });
  }
}

async function copyTable(client: pg.Client, table: TableRow, file: string): Promise<number> {
  const name = `${escapeIdentifier(table.schema)}.${escapeIdentifier(table.table)}`;
  const stream = client.query(copyTo(`COPY ${name} TO STDOUT WITH (FORMAT csv, HEADER true)`));
  await pipeline(stream, createWriteStream(file, { mode: 0o600, flags: 'wx' }));
  return stream.rowCount;
}

/** Every table as CSV, in one read-only snapshot so the tables agree with each other. */
async function copyAllTables(client: pg.Client, directory: string): Promise<number> {
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  // Fail rather than silently export only the rows a row-level policy lets us see.
  await client.query('SET LOCAL row_security = off');
  const tables = (await client.query<TableRow>(TABLES_SQL)).rows;
  await mkdir(join(directory, 'database'), { mode: 0o700 });
  const listing = [];
  for (const [index, table] of tables.entries()) {
    const file = `database/table-${String(index + 1).padStart(4, '0')}.csv`;
    const columns = (await client.query(COLUMNS_SQL, [table.oid])).rows;
    const rows = await copyTable(client, table, join(directory, file));
    listing.push({ schema: table.schema, table: table.table, file, rows, columns });
  }
  await client.query('COMMIT');
  await writeFile(
    join(directory, 'database', 'tables.json'),
    `${JSON.stringify({ format: 'csv', header: true, tables: listing }, undefined, 2)}\n`,
    { mode: 0o600, flag: 'wx' },
  );
  return tables.length;
}

/**
 * Creates the dumper for the local platform: pg_dump of the server's major version where
 * one is installed, otherwise a COPY-based CSV export of every table. The choice is made
 * per export (the server may have been upgraded) and recorded in the summary.
 */
export function createTenantDatabaseDumper(deps: TenantDatabaseDumperDeps): TenantDatabaseDumper {
  const { adminPool, instanceId } = deps;
  let directories: Promise<readonly string[]> | undefined;
  const searchDirectories = () => {
    directories ??= deps.pgDumpDirectories
      ? Promise.resolve(deps.pgDumpDirectories)
      : defaultPgDumpDirectories();
    return directories;
  };

  return async (tenant, directory) => {
    const { databaseName } = localTenantNames(instanceId, tenant.slug);
    const { rows } = await adminPool.query<{ exists: boolean; version: string; num: number }>(
      `SELECT EXISTS (SELECT FROM pg_database WHERE datname = $1) AS exists,
              current_setting('server_version') AS version,
              current_setting('server_version_num')::int AS num`,
      [databaseName],
    );
    const server = rows[0];
    if (!server?.exists) {
      return { method: 'none', note: 'the tenant has no database: nothing to dump' };
    }
    const program = await findPgDump(await searchDirectories(), Math.floor(server.num / 10_000));
    if (program) {
      const environment = libpqEnvironment(adminPool.options, databaseName);
      await runPgDump(program, environment, join(directory, 'database.sql'));
      return {
        method: 'pg_dump',
        serverVersion: server.version,
        pgDump: program.version,
        note: 'database.sql: plain SQL without owners or grants; restore with psql',
      };
    }
    const client = await connectAdminToDatabase(adminPool, databaseName);
    try {
      const tables = await copyAllTables(client, directory);
      return {
        method: 'copy-csv',
        serverVersion: server.version,
        tables,
        note: `no pg_dump ${Math.floor(server.num / 10_000)} on this host: every table as CSV in database/, listed with its columns in database/tables.json`,
      };
    } finally {
      await client.end();
    }
  };
}
