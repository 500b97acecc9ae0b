import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDataPlaneHost, type DataPlaneHost } from '../src/data-plane-host.ts';
import type { DataPlaneServiceFactory } from '../src/data-plane-service.ts';
import { createJsonLineLogger } from '../src/host-logger.ts';
import { sendJson } from '../src/problem-response.ts';
import {
  createTokenAuthenticator,
  type RequestAuthenticator,
} from '../src/request-authentication.ts';
import { createTestTenantDatabase, type TestTenantDatabase } from './test-tenant-database.ts';
import { startTestTokenIssuer, userClaims, type TestTokenIssuer } from './test-token-issuer.ts';

const lines: string[] = [];
const logger = createJsonLineLogger({ write: (line: string) => lines.push(line) }, { test: true });
const tenant = { tenantSlug: 'acme', tenantId: 'b1c5f0d6-3c1e-4c36-9d55-000000000001' };

/** A small service mounted at /library: echoes what it was handed, and fails on demand. */
const echoLibrary: DataPlaneServiceFactory = (context) => ({
  name: 'library',
  async handle(request, response, subpath, requestContext) {
    if (subpath.startsWith('/boom')) throw new Error('boom');
    const { rows } = await context.pool.query<{ user: string }>('SELECT current_user AS "user"');
    sendJson(response, 200, {
      subpath,
      method: request.method,
      tenant: context.tenant,
      user: rows[0]?.user,
      principal: requestContext.principal ?? null,
      requestId: requestContext.requestId ?? null,
    });
  },
});

let database: TestTenantDatabase;
let issuer: TestTokenIssuer;
let authenticator: RequestAuthenticator;
let host: DataPlaneHost;
let base: string;
/** A user's token for the library service of this host's tenant. */
let libraryToken: string;

/** GET with the library token unless `init` says otherwise. */
async function get(path: string, init: RequestInit = {}) {
  const headers = new Headers(init.headers);
  if (!headers.has('authorization')) headers.set('authorization', `Bearer ${libraryToken}`);
  const response = await fetch(`${base}${path}`, { ...init, headers });
  const text = await response.text();
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    allow: response.headers.get('allow'),
    challenge: response.headers.get('www-authenticate'),
    body: text ? (JSON.parse(text) as Record<string, unknown>) : undefined,
  };
}

beforeAll(async () => {
  database = await createTestTenantDatabase();
  issuer = await startTestTokenIssuer();
  authenticator = createTokenAuthenticator({
    tenantId: tenant.tenantId,
    issuer: issuer.issuer,
    jwksUrl: issuer.jwksUrl,
  });
  libraryToken = await issuer.sign(userClaims(tenant.tenantId, 'library'));
  host = createDataPlaneHost({
    ...tenant,
    databaseUrl: database.url,
    services: ['library', 'orchestrator'],
    logger,
    authenticator,
    serviceFactories: { library: echoLibrary, payments: echoLibrary },
  });
  base = `http://127.0.0.1:${await host.listen(0)}`;
}, 120_000);

afterAll(async () => {
  await host.close();
  await issuer.close();
  await database.drop();
});

describe('data-plane host', () => {
  it('reports the tenant and its database connection on /healthz', async () => {
    const health = await get('/healthz');
    expect(health.status).toBe(200);
    expect(health.contentType).toBe('application/json');
    expect(health.body).toEqual({
      status: 'ok',
      tenant: { slug: 'acme', id: tenant.tenantId },
      database: {
        connected: true,
        user: database.roleName,
        database: database.databaseName,
        latencyMs: expect.any(Number) as unknown,
      },
      services: { enabled: ['library', 'orchestrator'], deployed: ['library'] },
    });
    expect((await get('/healthz', { method: 'HEAD' })).status).toBe(200);
  });

  it('mounts a registered, enabled service at /{name}/ with the tenant pool', async () => {
    const answer = await get('/library/v1/search?q=x', { headers: { 'x-request-id': 'req-1' } });
    expect(answer).toMatchObject({
      status: 200,
      body: {
        subpath: '/v1/search?q=x',
        method: 'GET',
        tenant: { slug: 'acme', id: tenant.tenantId },
        user: database.roleName,
        principal: { type: 'user', id: 'user-1', roles: ['member'] },
        requestId: 'req-1',
      },
    });
    expect((await get('/library')).body).toMatchObject({ subpath: '/' });
  });

  it('refuses requests without a verified token with 401 problem+json, whatever headers say', async () => {
    const forged = JSON.stringify({ type: 'operator' });
    const attempts: Array<Record<string, string>> = [
      { authorization: '' },
      { authorization: 'Bearer not.a.token', 'x-citadel-principal': forged },
      { authorization: 'Basic b3BlcmF0b3I6eA==', 'x-citadel-principal': forged },
    ];
    for (const headers of attempts) {
      const refused = await get('/library/v1/search?q=x', { headers });
      expect(refused).toMatchObject({
        status: 401,
        contentType: 'application/problem+json',
        body: { type: 'https://citadel.azora.dev/problems/unauthorized', status: 401 },
      });
      expect(refused.challenge).toMatch(/^Bearer/);
    }
    // A token for another service of the same tenant does not open this one.
    const orchestrator = await issuer.sign(userClaims(tenant.tenantId, 'orchestrator'));
    const wrongService = await get('/library/v1/search', {
      headers: { authorization: `Bearer ${orchestrator}` },
    });
    expect(wrongService).toMatchObject({ status: 401, body: { reason: 'wrong-audience' } });
    // Health checks stay open: probes carry no credentials.
    expect((await get('/healthz', { headers: { authorization: '' } })).status).toBe(200);
    const serviceHealth = await get('/library/healthz', { headers: { authorization: '' } });
    expect(serviceHealth).toMatchObject({ status: 200, body: { principal: null } });
  });

  it('tells a caller who it is on /{service}/whoami', async () => {
    expect(await get('/library/whoami')).toMatchObject({
      status: 200,
      body: {
        tenant: { slug: 'acme', id: tenant.tenantId },
        service: 'library',
        principal: { type: 'user', id: 'user-1', roles: ['member'] },
        tokenId: expect.any(String) as unknown,
      },
    });
    expect((await get('/library/whoami', { headers: { authorization: '' } })).status).toBe(401);
  });

  it('answers problem+json 404 for services not deployed here', async () => {
    for (const path of ['/orchestrator/healthz', '/payments/healthz']) {
      const answer = await get(path);
      expect(answer.status).toBe(404);
      expect(answer.contentType).toBe('application/problem+json');
      expect(answer.body).toMatchObject({
        type: 'https://citadel.azora.dev/problems/service-not-deployed',
        title: 'Service not deployed',
        status: 404,
      });
    }
  });

  it('answers problem+json for unknown paths, wrong methods and failing services', async () => {
    const nothing = await issuer.sign(userClaims(tenant.tenantId, 'nothing'));
    const unknown = await get('/nothing/here', { headers: { authorization: `Bearer ${nothing}` } });
    expect(unknown).toMatchObject({
      status: 404,
      contentType: 'application/problem+json',
      body: {
        type: 'https://citadel.azora.dev/problems/not-found',
        title: 'Not Found',
        status: 404,
      },
    });
    // Nothing but the health checks answers without a token for the service in the path.
    expect((await get('/')).status).toBe(401);
    const wrongMethod = await get('/healthz', { method: 'POST' });
    expect(wrongMethod).toMatchObject({
      status: 405,
      allow: 'GET, HEAD',
      contentType: 'application/problem+json',
    });
    const failing = await get('/library/boom');
    expect(failing).toMatchObject({ status: 500, body: { title: 'Internal Server Error' } });
    expect(lines.some((line) => line.includes('"msg":"request failed"'))).toBe(true);
  });

  it('reports degraded with 503 when its database cannot be reached', async () => {
    const url = new URL(database.url);
    url.password = 'wrong-password';
    const broken = createDataPlaneHost({
      ...tenant,
      databaseUrl: url.toString(),
      services: [],
      logger,
      authenticator,
    });
    const port = await broken.listen(0);
    try {
      const response = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(response.status).toBe(503);
      expect(await response.json()).toMatchObject({
        status: 'degraded',
        tenant: { slug: 'acme' },
        database: {
          connected: false,
          error: expect.stringContaining('password authentication failed') as unknown,
        },
      });
    } finally {
      await broken.close();
    }
  });
});
