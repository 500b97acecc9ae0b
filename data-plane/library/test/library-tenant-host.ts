import { randomBytes } from 'node:crypto';
import pg from 'pg';
import {
  createDataPlaneHost,
  createJsonLineLogger,
  createTokenAuthenticator,
  type DataPlaneHost,
} from '@citadel/data-plane-runtime';
import { startTestPostgres } from '@citadel/test-utils';
import {
  createTestTenantDatabase,
  type TestTenantDatabase,
} from '../../runtime/test/test-tenant-database.ts';
import type { TestTokenIssuer } from '../../runtime/test/test-token-issuer.ts';
import { serviceAudience } from '@citadel/data-plane-runtime';
import { createLibraryServiceFactory, type LibraryServiceOptions } from '../src/library-service.ts';

/** One tenant's data-plane host with the library mounted, on its own database and role. */
export interface LibraryTenantHost {
  id: string;
  database: TestTenantDatabase;
  host: DataPlaneHost;
  base: string;
  logLines: string[];
  /** The tenant's data keys as the operator hands them to the host. */
  dataKeys: string;
  /** Whether the tenant database has pgvector (installed when the server offers it). */
  pgvector: boolean;
  close(): Promise<void>;
}

/** A response as the tests read it. */
export interface LibraryResponse {
  status: number;
  headers: Headers;
  body: Record<string, unknown> & { type?: string; id?: string };
  raw: Buffer;
}

/** `{"active":1,"keys":{"1":"…"}}`: one fresh data key. */
export function freshDataKeys(): string {
  return JSON.stringify({ active: 1, keys: { '1': randomBytes(32).toString('base64') } });
}

/**
 * Starts a tenant host with the library, on a fresh tenant database with pgvector when the
 * server has it (as the operator provisions it), and the tenant's data keys in its
 * environment.
 */
export async function startLibraryTenantHost(input: {
  slug: string;
  id: string;
  issuer: TestTokenIssuer;
  plan?: string;
  options?: LibraryServiceOptions;
}): Promise<LibraryTenantHost> {
  const database = await createTestTenantDatabase();
  const pgvector = await installPgvector(database);
  const logLines: string[] = [];
  const dataKeys = freshDataKeys();
  const host = createDataPlaneHost({
    tenantSlug: input.slug,
    tenantId: input.id,
    databaseUrl: database.url,
    services: ['library'],
    logger: createJsonLineLogger({ write: (line: string) => logLines.push(line) }, {}),
    authenticator: createTokenAuthenticator({
      tenantId: input.id,
      issuer: input.issuer.issuer,
      jwksUrl: input.issuer.jwksUrl,
    }),
    serviceFactories: {
      library: createLibraryServiceFactory({ workerIntervalMs: 0, ...input.options }),
    },
    environment: {
      CITADEL_TENANT_PLAN: input.plan ?? 'starter',
      CITADEL_TENANT_DATA_KEYS: dataKeys,
    },
  });
  const base = `http://127.0.0.1:${await host.listen(0)}/library`;
  return {
    id: input.id,
    database,
    host,
    base,
    logLines,
    dataKeys,
    pgvector,
    async close() {
      await host.close();
      await database.drop();
    },
  };
}

/**
 * CREATE EXTENSION vector as the server's administrator, when `DATABASE_URL`'s server has it
 * (the embedded server has none: the library searches exactly there).
 */
async function installPgvector(database: TestTenantDatabase): Promise<boolean> {
  if (!process.env.DATABASE_URL) return false;
  const server = await startTestPostgres();
  const url = new URL(server.url);
  url.pathname = `/${database.databaseName}`;
  const admin = new pg.Client({ connectionString: url.toString() });
  await admin.connect();
  try {
    const available = await admin.query(
      "SELECT 1 FROM pg_available_extensions WHERE name = 'vector'",
    );
    if (available.rowCount === 0) return false;
    await admin.query('CREATE EXTENSION IF NOT EXISTS vector');
    return true;
  } finally {
    await admin.end();
    await server.stop();
  }
}

/** A user's token for the library with the given roles. */
export function userToken(
  issuer: TestTokenIssuer,
  tenantId: string,
  userId: string,
  roles: string[],
): Promise<string> {
  return issuer.sign({ sub: userId, aud: serviceAudience('library'), tenant: tenantId, roles });
}

/** Calls the library with a token; JSON bodies are sent and read as JSON. */
export async function callLibrary(
  tenant: LibraryTenantHost,
  token: string,
  path: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<LibraryResponse> {
  const response = await fetch(`${tenant.base}${path}`, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers: {
      authorization: `Bearer ${token}`,
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...init.headers,
    },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const raw = Buffer.from(await response.arrayBuffer());
  const type = response.headers.get('content-type') ?? '';
  const body = (
    type.includes('json') && raw.length > 0 ? JSON.parse(raw.toString('utf8')) : {}
  ) as LibraryResponse['body'];
  return { status: response.status, headers: response.headers, body, raw };
}

/** Reads straight from the tenant's database, as the tenant's role. */
export async function queryTenant<T extends pg.QueryResultRow>(
  tenant: LibraryTenantHost,
  sql: string,
  values: unknown[] = [],
): Promise<T[]> {
  const client = new pg.Client({ connectionString: tenant.database.url });
  await client.connect();
  try {
    return (await client.query<T>(sql, values)).rows;
  } finally {
    await client.end();
  }
}
