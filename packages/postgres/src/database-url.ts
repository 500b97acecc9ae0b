/**
 * Returns `url` pointing at database `databaseName` on the same server, with the same
 * credentials and query parameters.
 *
 * @param url - a `postgres://` or `postgresql://` connection string
 * @param databaseName - the database to connect to instead
 */
export function withDatabase(url: string, databaseName: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${encodeURIComponent(databaseName)}`;
  return parsed.toString();
}

/**
 * The database name a connection string points at (`postgres` when it names none, as libpq
 * defaults to the user name and our servers' superuser is `postgres`).
 */
export function databaseNameOf(url: string): string {
  const parsed = new URL(url);
  const name = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  return name === '' ? decodeURIComponent(parsed.username) || 'postgres' : name;
}

/**
 * Quotes a PostgreSQL identifier (database, role, schema name) for use in SQL text.
 */
export function quoteIdentifier(identifier: string): string {
  return `"${identifier.replaceAll('"', '""')}"`;
}
