import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows, waitFor } from '@citadel/test-utils';
import { startPlatformFixture, type PlatformFixture, type TenantView } from './platform-fixture.ts';

let fixture: PlatformFixture;

beforeAll(async () => {
  fixture = await startPlatformFixture();
});

afterAll(async () => {
  await fixture.close();
});

async function createTenant(slug: string, plan = 'starter'): Promise<Response> {
  return fixture.api('/api/v1/tenants', {
    method: 'POST',
    body: JSON.stringify({ slug, displayName: `Tenant ${slug}`, plan }),
  });
}

async function expectProblem(response: Response, status: number): Promise<Record<string, unknown>> {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const body = (await response.json()) as Record<string, unknown>;
  expect(body.status).toBe(status);
  expect(body.type).toMatch(/^https:\/\//);
  expect(typeof body.title).toBe('string');
  return body;
}

async function adminQuery<T extends pg.QueryResultRow>(
  sql: string,
  values: unknown[] = [],
): Promise<T[]> {
  return queryRows<T>(fixture.databaseUrl, sql, values);
}

async function tenantCount(): Promise<number> {
  const rows = await adminQuery<{ count: string }>('SELECT count(*) FROM tenants');
  return Number(rows[0]?.count);
}

describe('health', () => {
  it('answers /healthz and /readyz without credentials', async () => {
    expect((await fixture.api('/healthz', { token: '' })).status).toBe(200);
    const ready = await fixture.api('/readyz', { token: '' });
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready' });
  });

  it('sets security headers and echoes request ids', async () => {
    const response = await fixture.api('/healthz', { headers: { 'x-request-id': 'req-123' } });
    expect(response.headers.get('x-request-id')).toBe('req-123');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('x-powered-by')).toBeNull();
  });
});

describe('authentication', () => {
  it('refuses the API without the operator token', async () => {
    const response = await fixture.api('/api/v1/tenants', { token: '' });
    await expectProblem(response, 401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
    await expectProblem(
      await fixture.api('/api/v1/tenants', { token: 'wrong-token-wrong-token' }),
      401,
    );
  });
});

describe('OpenAPI', () => {
  it('serves an OpenAPI 3.1 document generated from the request schemas', async () => {
    const response = await fixture.api('/api/v1/openapi.json', { token: '' });
    const document = (await response.json()) as {
      openapi: string;
      paths: Record<string, unknown>;
      components: {
        schemas: Record<string, { required?: string[]; additionalProperties?: unknown }>;
      };
    };
    expect(document.openapi).toBe('3.1.0');
    expect(Object.keys(document.paths)).toContain('/api/v1/tenants/{slug}/suspend');
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/tenants/{slug}/scim-tokens',
        '/api/v1/tenants/{slug}/sso-connections',
        '/api/v1/tenants/{slug}/policies',
        '/api/v1/tenants/{slug}/audit',
      ]),
    );
    expect(document.components.schemas.CreateTenantRequest).toMatchObject({
      required: ['slug', 'displayName', 'plan'],
      additionalProperties: false,
    });
  });
});

describe('tenant lifecycle', () => {
  it('creates a tenant (202) that converges to Ready with one condition per component', async () => {
    const response = await createTenant('acme', 'enterprise');
    expect(response.status).toBe(202);
    expect(response.headers.get('location')).toBe('/api/v1/tenants/acme');
    const created = (await response.json()) as TenantView & { plan: string };
    expect(created.slug).toBe('acme');
    expect(created.plan).toBe('enterprise');
    expect(['Pending', 'Provisioning', 'Ready']).toContain(created.status.phase);

    const ready = await fixture.waitForPhase('acme', 'Ready');
    const byType = Object.fromEntries(
      ready.status.conditions.map((condition) => [condition.type, condition]),
    );
    for (const type of [
      'NamespaceReady',
      'KeysReady',
      'DatabaseReady',
      'VectorStoreReady',
      'ServicesReady',
    ]) {
      expect(byType[type]?.status, type).toBe('True');
    }
    expect(byType.GpuPoolReady).toMatchObject({ status: 'False', reason: 'NoGpuOnHost' });
    // pgvector where the server has it (CI builds it for PostgreSQL 15), exact search otherwise.
    const available = await adminQuery(
      "SELECT 1 FROM pg_available_extensions WHERE name = 'vector'",
    );
    expect(byType.VectorStoreReady?.reason).toBe(available.length > 0 ? 'Pgvector' : 'ExactSearch');
    expect(ready.status.endpoints.gateway).toMatch(/\/t\/acme$/);
    expect(ready.status.observedGeneration).toBe(ready.metadata.generation);
  });

  it('keeps tenants in separate databases that no other tenant role may connect to', async () => {
    await createTenant('globex');
    await fixture.waitForPhase('globex', 'Ready');
    const { instanceId } = fixture.platform;
    const acmeDb = `citadel_${instanceId}_acme`;
    const globexRole = `citadel_${instanceId}_globex`;
    const rows = await adminQuery<{
      allowed: boolean;
      own: boolean;
      publicAllowed: boolean;
      controlPlane: boolean;
    }>(
      `SELECT has_database_privilege($1, $2, 'CONNECT') AS allowed,
              has_database_privilege($1, $1, 'CONNECT') AS own,
              has_database_privilege('public', $2, 'CONNECT') AS "publicAllowed",
              has_database_privilege($1, current_database(), 'CONNECT') AS "controlPlane"`,
      [globexRole, acmeDb],
    );
    expect(rows[0]).toEqual({
      allowed: false,
      own: true,
      publicAllowed: false,
      controlPlane: false,
    });
    const stored = await adminQuery<{ password_ciphertext: Buffer }>(
      'SELECT password_ciphertext FROM tenant_databases d JOIN tenants t ON t.id = d.tenant_id WHERE t.slug = $1',
      ['globex'],
    );
    expect(stored[0]?.password_ciphertext.length).toBeGreaterThan(28);
  });

  it('pages through tenants with an opaque cursor, each tenant exactly once', async () => {
    for (const slug of ['page-one', 'page-two', 'page-three'])
      expect((await createTenant(slug)).status).toBe(202);
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const query =
        cursor === undefined ? '?limit=2' : `?limit=2&cursor=${encodeURIComponent(cursor)}`;
      const page = (await (await fixture.api(`/api/v1/tenants${query}`)).json()) as {
        items: TenantView[];
        nextCursor?: string;
      };
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((tenant) => tenant.slug));
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    expect(seen.length).toBe(new Set(seen).size);
    expect(seen).toEqual(
      expect.arrayContaining(['acme', 'globex', 'page-one', 'page-two', 'page-three']),
    );
    expect(seen.length).toBe(await tenantCount());
  });

  it('suspends (423 at the gateway, login disabled) and resumes', async () => {
    expect((await fixture.api('/api/v1/tenants/globex/suspend', { method: 'POST' })).status).toBe(
      202,
    );
    const suspended = await fixture.waitForPhase('globex', 'Suspended');
    expect(
      suspended.status.conditions.find((condition) => condition.type === 'ServicesReady')?.reason,
    ).toBe('Suspended');
    await expectProblem(await fixture.api('/t/globex/healthz'), 423);
    const role = await adminQuery<{ rolcanlogin: boolean }>(
      'SELECT rolcanlogin FROM pg_roles WHERE rolname = $1',
      [`citadel_${fixture.platform.instanceId}_globex`],
    );
    expect(role[0]?.rolcanlogin).toBe(false);

    expect((await fixture.api('/api/v1/tenants/globex/resume', { method: 'POST' })).status).toBe(
      202,
    );
    await fixture.waitForPhase('globex', 'Ready');
    const health = await fixture.api('/t/globex/healthz');
    expect(health.status).toBe(200);
  });
});

describe('gateway', () => {
  let acmeKey: string;
  let globexKey: string;

  beforeAll(async () => {
    await fixture.waitForPhase('acme', 'Ready');
    await fixture.waitForPhase('globex', 'Ready');
    const issue = async (slug: string) => {
      const response = await fixture.api(`/api/v1/tenants/${slug}/api-keys`, {
        method: 'POST',
        body: JSON.stringify({ name: 'tests' }),
      });
      expect(response.status).toBe(201);
      const body = (await response.json()) as { id: string; key: string };
      expect(body.key).toMatch(/^ctd_live_/);
      return body.key;
    };
    acmeKey = await issue('acme');
    globexKey = await issue('globex');
  });

  it('reaches the tenant host whose /healthz reports the tenant and its database connection', async () => {
    const response = await fixture.api('/t/acme/healthz', { token: '' });
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      tenant: { slug: string };
      database: { connected: boolean };
    };
    expect(body.tenant.slug).toBe('acme');
    expect(body.database.connected).toBe(true);
  });

  it('needs a key of that very tenant beyond health checks', async () => {
    await expectProblem(await fixture.api('/t/acme/library/v1/search?q=x', { token: '' }), 401);
    await expectProblem(
      await fixture.api('/t/acme/library/v1/search?q=x', { token: globexKey }),
      401,
    );
    const own = await fixture.api('/t/acme/library/v1/search?q=x', { token: acmeKey });
    // Admitted: the tenant's library answers (an empty library finds nothing).
    expect(own.status).toBe(200);
    expect(await own.json()).toEqual({ hits: [], nextCursor: null });
  });

  it('answers 404 for an unknown tenant', async () => {
    await expectProblem(await fixture.api('/t/nobody-here/healthz'), 404);
  });

  it('revokes keys', async () => {
    const list = (await (await fixture.api('/api/v1/tenants/acme/api-keys')).json()) as {
      items: Array<{ id: string }>;
    };
    const id = list.items[0]?.id ?? '';
    expect(
      (await fixture.api(`/api/v1/tenants/acme/api-keys/${id}`, { method: 'DELETE' })).status,
    ).toBe(204);
    await expectProblem(await fixture.api('/t/acme/library/v1/x', { token: acmeKey }), 401);
  });

  it('answers 503 with Retry-After while the host is down, and the host comes back', async () => {
    const pidFile = path.join(fixture.dataDir, 'tenants', 'acme', 'host.pid');
    const pid = Number((await readFile(pidFile, 'utf8')).trim());
    process.kill(pid, 'SIGKILL');
    const down = await waitFor(
      async () => {
        const response = await fixture.api('/t/acme/healthz');
        return response.status === 503 ? response : undefined;
      },
      { timeoutMs: 5_000, intervalMs: 5, description: 'a 503 while the host is down' },
    );
    expect(down.headers.get('retry-after')).toBe('5');
    await waitFor(
      async () => ((await fixture.api('/t/acme/healthz')).status === 200 ? true : undefined),
      {
        timeoutMs: 15_000,
        description: 'the host to come back',
      },
    );
    const newPid = Number((await readFile(pidFile, 'utf8')).trim());
    expect(newPid).not.toBe(pid);
  });
});

describe('bad input changes nothing', () => {
  it.each([
    ['too short', 'ab'],
    ['too long', 'a'.repeat(41)],
    ['upper case', 'Acme'],
    ['underscore', 'acme_corp'],
    ['leading dash', '-acme'],
    ['trailing dash', 'acme-'],
    ['reserved admin', 'admin'],
    ['reserved api', 'api'],
    ['reserved www', 'www'],
    ['reserved system', 'system'],
  ])('refuses a slug that is %s (400)', async (_case, slug) => {
    const before = await tenantCount();
    const body = await expectProblem(await createTenant(slug), 400);
    expect(String(body.detail)).toContain(slug);
    expect(await tenantCount()).toBe(before);
  });

  it('refuses an unknown plan (400)', async () => {
    const before = await tenantCount();
    await expectProblem(await createTenant('newco', 'platinum'), 400);
    expect(await tenantCount()).toBe(before);
  });

  it('refuses a duplicate slug (409)', async () => {
    await expectProblem(await createTenant('acme'), 409);
  });

  it('refuses malformed JSON (400), unknown fields and missing fields (400)', async () => {
    const before = await tenantCount();
    await expectProblem(
      await fixture.api('/api/v1/tenants', { method: 'POST', body: '{"slug": "newco",' }),
      400,
    );
    const unknown = await expectProblem(
      await fixture.api('/api/v1/tenants', {
        method: 'POST',
        body: JSON.stringify({ slug: 'newco', displayName: 'N', plan: 'starter', admin: true }),
      }),
      400,
    );
    expect(JSON.stringify(unknown.errors)).toContain('admin');
    const missing = await expectProblem(
      await fixture.api('/api/v1/tenants', {
        method: 'POST',
        body: JSON.stringify({ slug: 'newco' }),
      }),
      400,
    );
    expect((missing.errors as Array<{ path: string }>).map((error) => error.path)).toEqual(
      expect.arrayContaining(['displayName', 'plan']),
    );
    expect(await tenantCount()).toBe(before);
  });

  it('refuses an oversized body (413) and a non-JSON body (415)', async () => {
    const before = await tenantCount();
    const huge = JSON.stringify({
      slug: 'newco',
      displayName: 'x'.repeat(200_000),
      plan: 'starter',
    });
    await expectProblem(await fixture.api('/api/v1/tenants', { method: 'POST', body: huge }), 413);
    await expectProblem(
      await fixture.api('/api/v1/tenants', {
        method: 'POST',
        body: 'slug=newco',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      }),
      415,
    );
    expect(await tenantCount()).toBe(before);
  });

  it('refuses a bad cursor or limit (400) and answers 404 for an unknown tenant', async () => {
    await expectProblem(await fixture.api('/api/v1/tenants?cursor=not-a-cursor'), 400);
    await expectProblem(await fixture.api('/api/v1/tenants?limit=0'), 400);
    await expectProblem(await fixture.api('/api/v1/tenants?limit=1000'), 400);
    await expectProblem(await fixture.api('/api/v1/tenants/nobody-here'), 404);
    await expectProblem(
      await fixture.api('/api/v1/tenants/nobody-here/suspend', { method: 'POST' }),
      404,
    );
    await expectProblem(
      await fixture.api('/api/v1/tenants/nobody-here', { method: 'DELETE' }),
      404,
    );
  });
});

describe('deletion', () => {
  it('removes every resource the tenant owned, leaving no orphan', async () => {
    await fixture.waitForPhase('globex', 'Ready');
    const pidFile = path.join(fixture.dataDir, 'tenants', 'globex', 'host.pid');
    const hostPid = Number((await readFile(pidFile, 'utf8')).trim());
    const uid = ((await (await fixture.api('/api/v1/tenants/globex')).json()) as TenantView)
      .metadata.uid;

    const response = await fixture.api('/api/v1/tenants/globex', { method: 'DELETE' });
    expect(response.status).toBe(202);
    expect(((await response.json()) as TenantView).status.phase).toBe('Deleting');
    await expectProblem(
      await fixture.api('/api/v1/tenants/globex/resume', { method: 'POST' }),
      409,
    );
    await waitFor(
      async () => ((await fixture.api('/api/v1/tenants/globex')).status === 404 ? true : undefined),
      {
        timeoutMs: 30_000,
        description: 'globex to be gone',
      },
    );

    const name = `citadel_${fixture.platform.instanceId}_globex`;
    expect(await adminQuery('SELECT 1 FROM pg_database WHERE datname = $1', [name])).toEqual([]);
    expect(await adminQuery('SELECT 1 FROM pg_roles WHERE rolname = $1', [name])).toEqual([]);
    expect(await adminQuery('SELECT 1 FROM tenant_data_keys WHERE tenant_id = $1', [uid])).toEqual(
      [],
    );
    expect(await adminQuery('SELECT 1 FROM tenant_databases WHERE tenant_id = $1', [uid])).toEqual(
      [],
    );
    expect(await adminQuery('SELECT 1 FROM api_keys WHERE tenant_id = $1', [uid])).toEqual([]);
    await expect(readFile(pidFile)).rejects.toThrow();
    expect(() => process.kill(hostPid, 0)).toThrow();
    // Other tenants are untouched.
    expect((await fixture.api('/t/acme/healthz')).status).toBe(200);
  });
});
