import pg from 'pg';

/**
 * Opens a client on database `databaseName` with the admin pool's credentials (the caller
 * ends it). The admin pool itself stays on the platform's database.
 */
export async function connectAdminToDatabase(
  adminPool: pg.Pool,
  databaseName: string,
): Promise<pg.Client> {
  const { connectionString, ...options } = adminPool.options;
  const config: pg.ClientConfig = connectionString
    ? { ...options, connectionString: withDatabase(connectionString, databaseName) }
    : { ...options, database: databaseName };
  const client = new pg.Client(config);
  // A connection dropped while idle (the server restarting, DROP DATABASE … WITH (FORCE))
  // emits 'error'; unhandled, that would crash the control plane. Queries still reject.
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/**
 * Replaces the database of a connection string. pg lets a connection string's fields win
 * over the config's, so the database must be changed inside the string itself.
 */
function withDatabase(connectionString: string, databaseName: string): string {
  const url = new URL(connectionString);
  url.pathname = `/${encodeURIComponent(databaseName)}`;
  return url.toString();
}
