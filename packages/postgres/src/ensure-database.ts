import pg from 'pg';
import { quoteIdentifier, withDatabase } from './database-url.ts';

/**
 * Creates database `databaseName` on the server of `serverUrl` unless it exists (safe when
 * several processes race), and returns a connection string to it with the same credentials.
 *
 * @param serverUrl - a connection string whose role may create databases
 */
export async function ensureDatabase(serverUrl: string, databaseName: string): Promise<string> {
  const client = new pg.Client({ connectionString: serverUrl });
  client.on('error', () => undefined);
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [
      databaseName,
    ]);
    if (found.rowCount === 0) {
      await client
        .query(`CREATE DATABASE ${quoteIdentifier(databaseName)}`)
        .catch((error: unknown) => {
          // 42P04 duplicate_database, 23505: a concurrent CREATE DATABASE won the race.
          const code = (error as { code?: string }).code;
          if (code !== '42P04' && code !== '23505') throw error;
        });
    }
  } finally {
    await client.end();
  }
  return withDatabase(serverUrl, databaseName);
}
