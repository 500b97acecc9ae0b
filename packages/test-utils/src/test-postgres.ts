import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDatabase, quoteIdentifier, startEmbeddedPostgres } from '@citadel/postgres';
import pg from 'pg';

/** A PostgreSQL server for one test file. */
export interface TestPostgres {
  /** Superuser connection string to the server's `postgres` database. */
  readonly url: string;
  /** True when the server is an embedded one started for this test (no `DATABASE_URL`). */
  readonly embedded: boolean;
  /**
   * Creates a fresh, uniquely named database and returns a superuser connection string to it.
   * @param name - a readable prefix (letters, digits, `_`); a random suffix is always added
   */
  createDatabase(name?: string): Promise<string>;
  /** Drops the databases this helper created (on a shared server) or stops the embedded server and deletes its files. */
  stop(): Promise<void>;
}

/** Options of {@link startTestPostgres}. */
export interface TestPostgresOptions {
  /** A superuser URL to an existing server; defaults to `process.env.DATABASE_URL`. Empty means "start an embedded one". */
  databaseUrl?: string;
}

/**
 * Gives a test file a real PostgreSQL: the server of `DATABASE_URL` when set (CI starts one),
 * otherwise an embedded PostgreSQL 18 in a temporary directory (~0.7 s to initialise and start).
 *
 * @example
 * const postgres = await startTestPostgres();
 * afterAll(() => postgres.stop());
 * const url = await postgres.createDatabase('tenants');
 */
export async function startTestPostgres(options: TestPostgresOptions = {}): Promise<TestPostgres> {
  const databaseUrl = options.databaseUrl ?? process.env.DATABASE_URL ?? '';
  if (databaseUrl !== '') return sharedServer(databaseUrl);
  const dataDir = await mkdtemp(join(tmpdir(), 'citadel-test-postgres-'));
  try {
    // As root the server runs as the postgres OS user, which must be able to enter the directory.
    await chmod(dataDir, 0o711);
    const server = await startEmbeddedPostgres({
      dataDir,
      settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' },
    });
    return {
      url: server.connectionString,
      embedded: true,
      createDatabase: (name) => ensureDatabase(server.connectionString, uniqueDatabaseName(name)),
      async stop() {
        await server.stop();
        await rm(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
}

function sharedServer(url: string): TestPostgres {
  const created: string[] = [];
  return {
    url,
    embedded: false,
    async createDatabase(name) {
      const databaseName = uniqueDatabaseName(name);
      const databaseUrl = await ensureDatabase(url, databaseName);
      created.push(databaseName);
      return databaseUrl;
    },
    async stop() {
      if (created.length === 0) return;
      const client = new pg.Client({ connectionString: url });
      client.on('error', () => undefined);
      await client.connect();
      try {
        for (const databaseName of created.splice(0)) {
          await client.query(
            `DROP DATABASE IF EXISTS ${quoteIdentifier(databaseName)} WITH (FORCE)`,
          );
        }
      } finally {
        await client.end();
      }
    },
  };
}

/** `test_<prefix>_<random>`, within PostgreSQL's 63-byte identifier limit. */
function uniqueDatabaseName(prefix = 'db'): string {
  const readable = prefix
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, '_')
    .slice(0, 40);
  return `test_${readable}_${randomBytes(6).toString('hex')}`;
}
