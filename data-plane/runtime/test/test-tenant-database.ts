import { randomBytes } from 'node:crypto';
import { startTestPostgres, type TestPostgres } from '@citadel/test-utils';
import pg from 'pg';

/** A throwaway tenant role and database (owned by it, closed to PUBLIC) on a test server. */
export interface TestTenantDatabase {
  /** The tenant's own connection string. */
  url: string;
  roleName: string;
  databaseName: string;
  /** Drops the database and role, and stops the server if it was started for this. */
  drop(): Promise<void>;
}

/**
 * Creates a tenant role and database on `DATABASE_URL`'s server, or on an embedded
 * PostgreSQL started for the test file when none is set.
 */
export async function createTestTenantDatabase(): Promise<TestTenantDatabase> {
  const postgres = await startTestPostgres();
  const name = `citadel_rt_${randomBytes(4).toString('hex')}`;
  const password = randomBytes(18).toString('base64url');
  const identifier = pg.escapeIdentifier(name);
  await asAdmin(postgres, async (admin) => {
    await admin.query(`CREATE ROLE ${identifier} LOGIN PASSWORD ${pg.escapeLiteral(password)}`);
    await admin.query(`CREATE DATABASE ${identifier} OWNER ${identifier}`);
    await admin.query(`REVOKE ALL ON DATABASE ${identifier} FROM PUBLIC`);
  });
  const url = new URL(postgres.url);
  url.username = name;
  url.password = password;
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    roleName: name,
    databaseName: name,
    async drop() {
      await asAdmin(postgres, async (admin) => {
        await admin.query(`DROP DATABASE IF EXISTS ${identifier} WITH (FORCE)`);
        await admin.query(`DROP ROLE IF EXISTS ${identifier}`);
      });
      await postgres.stop();
    },
  };
}

async function asAdmin(
  postgres: TestPostgres,
  work: (admin: pg.Client) => Promise<void>,
): Promise<void> {
  const admin = new pg.Client({ connectionString: postgres.url });
  await admin.connect();
  try {
    await work(admin);
  } finally {
    await admin.end();
  }
}
