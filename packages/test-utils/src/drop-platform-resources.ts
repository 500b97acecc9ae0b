import pg from 'pg';

/**
 * Drops every database and role a platform instance created on a shared server
 * (`citadel_<instanceId>_…`), so test runs against one DATABASE_URL leave nothing behind.
 */
export async function dropPlatformResources(serverUrl: string, instanceId: string): Promise<void> {
  if (!/^[a-z0-9]{6}$/.test(instanceId)) throw new Error(`not an instance id: ${instanceId}`);
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    const pattern = `citadel\\_${instanceId}\\_%`;
    const databases = await client.query<{ name: string }>(
      'SELECT datname AS name FROM pg_database WHERE datname LIKE $1',
      [pattern],
    );
    for (const { name } of databases.rows) {
      await client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(name)} WITH (FORCE)`);
    }
    const roles = await client.query<{ name: string }>(
      'SELECT rolname AS name FROM pg_roles WHERE rolname LIKE $1',
      [pattern],
    );
    for (const { name } of roles.rows) {
      await client.query(`DROP ROLE IF EXISTS ${client.escapeIdentifier(name)}`);
    }
  } finally {
    await client.end();
  }
}
