import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { defaultTenantSpec, findPlan } from '@citadel/contracts';
import { startTestPostgres, type TestPostgres } from '@citadel/test-utils';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TenantRef } from '../src/core/tenant-drivers.ts';
import { localTenantNames } from '../src/drivers/local/local-tenant-names.ts';
import { defaultPgDumpDirectories, findPgDump } from '../src/drivers/local/pg-dump-locator.ts';
import {
  createTenantDatabaseDumper,
  libpqEnvironment,
} from '../src/drivers/local/tenant-database-dump.ts';

/**
 * The database part of a deletion export, on a real PostgreSQL: the server of DATABASE_URL
 * (PostgreSQL 15, whose pg_dump Debian installs) or the embedded PostgreSQL 18 (no pg_dump
 * of that version here, so the COPY-based CSV export runs). Both ways are exercised in
 * every run by forcing the CSV export with an empty pg_dump search path.
 */
const execFileAsync = promisify(execFile);
const instanceId = randomBytes(6).toString('hex').slice(0, 6);
/** A value that CSV and COPY must quote: a comma, quotes, a newline and COPY's end marker. */
const AWKWARD = 'first, "quoted"\n\\.\nlast';

let postgres: TestPostgres;
let adminPool: pg.Pool;
const directories: string[] = [];

function tenantRef(slug: string): TenantRef {
  const plan = findPlan('starter');
  if (!plan) throw new Error('starter plan missing');
  return {
    uid: randomUUID(),
    slug,
    spec: defaultTenantSpec({ slug, displayName: slug, plan, region: 'local' }),
  };
}

async function temporaryDirectory(): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'citadel-dump-'));
  directories.push(directory);
  return directory;
}

/** A tenant database with rows in two schemas, as the data-plane services would leave it. */
async function createTenantDatabase(tenant: TenantRef): Promise<string> {
  const { databaseName } = localTenantNames(instanceId, tenant.slug);
  await adminPool.query(`CREATE DATABASE ${pg.escapeIdentifier(databaseName)}`);
  const url = new URL(postgres.url);
  url.pathname = `/${databaseName}`;
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    await client.query(`CREATE TABLE notes (id int PRIMARY KEY, body text NOT NULL)`);
    await client.query(`INSERT INTO notes VALUES (1, 'hello from the tenant'), (2, $1)`, [AWKWARD]);
    await client.query(`CREATE SCHEMA ledger`);
    await client.query(`CREATE TABLE ledger."Entries" (amount numeric(12, 2))`);
    await client.query(`INSERT INTO ledger."Entries" VALUES (42.50)`);
  } finally {
    await client.end();
  }
  return url.toString();
}

beforeAll(async () => {
  postgres = await startTestPostgres();
  adminPool = new pg.Pool({ connectionString: postgres.url, max: 4 });
  adminPool.on('error', () => undefined);
}, 120_000);

afterEach(async () => {
  await Promise.all(
    directories.splice(0).map((path) => rm(path, { recursive: true, force: true })),
  );
});

afterAll(async () => {
  const databases = await adminPool.query<{ datname: string }>(
    'SELECT datname FROM pg_database WHERE datname LIKE $1',
    [`citadel\\_${instanceId}\\_%`],
  );
  for (const row of databases.rows) {
    await adminPool.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(row.datname)}`);
  }
  await adminPool.end();
  await postgres.stop();
});

describe('tenant database dump', () => {
  it('exports every table as CSV through COPY when no matching pg_dump exists', async () => {
    const tenant = tenantRef('dump-csv');
    await createTenantDatabase(tenant);
    const directory = await temporaryDirectory();
    const dump = createTenantDatabaseDumper({ adminPool, instanceId, pgDumpDirectories: [] });

    const summary = await dump(tenant, directory);

    expect(summary).toMatchObject({ method: 'copy-csv', tables: 2 });
    const listing = JSON.parse(
      await readFile(join(directory, 'database', 'tables.json'), 'utf8'),
    ) as {
      tables: Array<{
        schema: string;
        table: string;
        file: string;
        rows: number;
        columns: unknown;
      }>;
    };
    expect(listing.tables).toEqual([
      {
        schema: 'ledger',
        table: 'Entries',
        file: 'database/table-0001.csv',
        rows: 1,
        columns: [{ name: 'amount', type: 'numeric(12,2)' }],
      },
      {
        schema: 'public',
        table: 'notes',
        file: 'database/table-0002.csv',
        rows: 2,
        columns: [
          { name: 'id', type: 'integer' },
          { name: 'body', type: 'text' },
        ],
      },
    ]);
    const notes = await readFile(join(directory, 'database', 'table-0002.csv'), 'utf8');
    expect(notes).toBe('id,body\n1,hello from the tenant\n2,"first, ""quoted""\n\\.\nlast"\n');
  });

  it('uses a pg_dump of the server version where one is installed, and it restores', async () => {
    const tenant = tenantRef('dump-sql');
    await createTenantDatabase(tenant);
    const directory = await temporaryDirectory();
    const { rows } = await adminPool.query<{ num: number }>(
      `SELECT current_setting('server_version_num')::int AS num`,
    );
    const program = await findPgDump(
      await defaultPgDumpDirectories(),
      Math.floor((rows[0]?.num ?? 0) / 10_000),
    );

    const summary = await createTenantDatabaseDumper({ adminPool, instanceId })(tenant, directory);

    if (!program) {
      // The embedded PostgreSQL 18 has no pg_dump 18 beside it on this machine.
      expect(summary.method).toBe('copy-csv');
      return;
    }
    expect(summary).toMatchObject({ method: 'pg_dump', pgDump: program.version });
    const sql = await readFile(join(directory, 'database.sql'), 'utf8');
    expect(sql).toContain('hello from the tenant');
    expect(sql).not.toMatch(/OWNER TO|GRANT /);

    // Round trip: psql of the same version restores it into an empty database.
    const restored = `citadel_${instanceId}_restored`;
    await adminPool.query(`CREATE DATABASE ${restored}`);
    const environment = libpqEnvironment(adminPool.options, restored);
    await execFileAsync(
      join(dirname(program.path), 'psql'),
      [
        '--no-psqlrc',
        '--quiet',
        '-v',
        'ON_ERROR_STOP=1',
        '--file',
        join(directory, 'database.sql'),
      ],
      { env: environment },
    );
    const url = new URL(postgres.url);
    url.pathname = `/${restored}`;
    const client = new pg.Client({ connectionString: url.toString() });
    await client.connect();
    try {
      const notes = await client.query<{ body: string }>('SELECT body FROM notes ORDER BY id');
      expect(notes.rows.map((row) => row.body)).toEqual(['hello from the tenant', AWKWARD]);
    } finally {
      await client.end();
    }
  });

  it('reports that there is nothing to dump when the tenant has no database', async () => {
    const summary = await createTenantDatabaseDumper({ adminPool, instanceId })(
      tenantRef('dump-none'),
      await temporaryDirectory(),
    );
    expect(summary.method).toBe('none');
  });

  it('hands pg_dump the password through the environment, never its arguments', () => {
    const environment = libpqEnvironment(
      { connectionString: 'postgres://admin:s%40cret@[::1]:6543/platform?sslmode=require' },
      'citadel_abc123_acme',
    );
    expect(environment).toEqual({
      PGDATABASE: 'citadel_abc123_acme',
      PGCONNECT_TIMEOUT: '10',
      PGHOST: '::1',
      PGPORT: '6543',
      PGUSER: 'admin',
      PGPASSWORD: 's@cret',
      PGSSLMODE: 'require',
    });
  });
});
