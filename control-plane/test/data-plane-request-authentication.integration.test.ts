import { readFile } from 'node:fs/promises';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tenantDirectory } from '@citadel/operators';
import { waitFor } from '@citadel/test-utils';
import { ADMIN_TOKEN, startPlatformFixture, type PlatformFixture } from './platform-fixture.ts';
import {
  authorizeAtIdp,
  CookieJar,
  startOidcTestProvider,
  type OidcTestProvider,
} from './oidc-test-provider.ts';

/**
 * The tenant's real data-plane host, started by the platform's supervisor, verifies every
 * request itself with the platform's JWKS: through the gateway it sees who the caller is
 * (an API key, the operator, a user), and straight to its port nothing but a token the
 * platform signed gets in.
 */

let fixture: PlatformFixture;
let idp: OidcTestProvider;
const CLIENT_SECRET = 'host-auth-client-secret-0123456789';
const tenantIds: Record<string, string> = {};
let apiKey: { id: string; key: string };
let userToken: string;
let userId: string;
/** The acme host's own address, as its log says. */
let hostUrl: string;

interface Whoami {
  tenant: { slug: string; id: string };
  service: string;
  principal: Record<string, unknown>;
  tokenId: string;
}

async function createTenant(slug: string): Promise<void> {
  const response = await fixture.api('/api/v1/tenants', {
    method: 'POST',
    body: JSON.stringify({ slug, displayName: slug, plan: 'starter' }),
  });
  expect(response.status).toBe(202);
  tenantIds[slug] = (await fixture.waitForPhase(slug, 'Ready', 90_000)).metadata.uid;
}

/** Logs `account` into `slug` through the test IdP and buys a library token. */
async function userTokenFor(slug: string, account: string): Promise<string> {
  const connection = await fixture.api(`/api/v1/tenants/${slug}/sso-connections`, {
    method: 'POST',
    body: JSON.stringify({
      name: `${slug}-idp`,
      issuer: idp.issuer,
      clientId: 'citadel-host-auth',
      clientSecret: CLIENT_SECRET,
      scopes: ['openid', 'email', 'profile', 'groups'],
      defaultRole: 'member',
    }),
  });
  expect(connection.status).toBe(201);
  const { loginUrl } = (await connection.json()) as { loginUrl: string };
  const jar = new CookieJar();
  const started = await jar.fetch(`${fixture.platform.url}${loginUrl}`);
  const callback = await authorizeAtIdp(jar, started.headers.get('location') ?? '', account);
  expect((await jar.fetch(callback)).status).toBe(302);
  const response = await jar.fetch(`${fixture.platform.url}/sso/t/${slug}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ audience: 'library' }),
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { access_token: string }).access_token;
}

/** The port the tenant's host logged when it started listening. */
async function hostUrlOf(slug: string): Promise<string> {
  const log = `${tenantDirectory(fixture.dataDir, slug)}/host.log`;
  return waitFor(
    async () => {
      const lines = (await readFile(log, 'utf8')).trim().split('\n');
      const listening = lines
        .map((line) => JSON.parse(line) as { msg?: string; port?: number })
        .findLast((entry) => entry.msg === 'data-plane host listening');
      return listening?.port === undefined ? undefined : `http://127.0.0.1:${listening.port}`;
    },
    { timeoutMs: 10_000, description: `the ${slug} host's port` },
  );
}

async function whoami(token: string, headers: Record<string, string> = {}): Promise<Response> {
  return fixture.api('/t/dpa-acme/library/whoami', { token, headers });
}

/** A request straight to the host's port, around the gateway. */
function direct(pathname: string, headers: Record<string, string>): Promise<Response> {
  return fetch(`${hostUrl}${pathname}`, { headers });
}

beforeAll(async () => {
  fixture = await startPlatformFixture();
  idp = await startOidcTestProvider(
    {
      clientId: 'citadel-host-auth',
      clientSecret: CLIENT_SECRET,
      redirectUri: `${fixture.platform.url}/sso/callback`,
    },
    { ada: { email: 'ada@acme.example', name: 'Ada', groups: [] } },
  );
  await Promise.all([createTenant('dpa-acme'), createTenant('dpa-other')]);
  const issued = await fixture.api('/api/v1/tenants/dpa-acme/api-keys', {
    method: 'POST',
    body: JSON.stringify({ name: 'ci', scopes: ['library:read'] }),
  });
  expect(issued.status).toBe(201);
  apiKey = (await issued.json()) as { id: string; key: string };
  userToken = await userTokenFor('dpa-acme', 'ada');
  userId = decodeJwt(userToken).sub ?? '';
  hostUrl = await hostUrlOf('dpa-acme');
}, 180_000);

afterAll(async () => {
  await idp.close();
  await fixture.close();
});

describe('data-plane host request authentication', () => {
  it('sees the API key behind the gateway, from a gateway assertion, never the key itself', async () => {
    const response = await whoami(apiKey.key);
    expect(response.status).toBe(200);
    expect((await response.json()) as Whoami).toMatchObject({
      tenant: { slug: 'dpa-acme', id: tenantIds['dpa-acme'] },
      service: 'library',
      principal: { type: 'api-key', id: apiKey.id, scopes: ['library:read'] },
    });
  });

  it('sees the user of an access token, and the operator, each as the token says', async () => {
    const user = await whoami(userToken);
    expect(user.status).toBe(200);
    expect((await user.json()) as Whoami).toMatchObject({
      principal: { type: 'user', id: userId, roles: ['member'] },
    });
    const operator = await whoami(ADMIN_TOKEN);
    expect(((await operator.json()) as Whoami).principal).toEqual({ type: 'operator', scopes: [] });
  });

  it("ignores a client's x-citadel-principal through the gateway", async () => {
    const forged = JSON.stringify({ type: 'operator' });
    const response = await whoami(apiKey.key, { 'x-citadel-principal': forged });
    expect(((await response.json()) as Whoami).principal).toMatchObject({ type: 'api-key' });
  });

  it('refuses a forged x-citadel-principal, API keys and the operator token sent straight to its port', async () => {
    const forged = JSON.stringify({ type: 'user', id: userId, roles: ['owner'] });
    const attempts: Array<Record<string, string>> = [
      { 'x-citadel-principal': forged },
      { 'x-citadel-principal': forged, 'x-citadel-tenant-id': tenantIds['dpa-acme'] ?? '' },
      { authorization: `Bearer ${apiKey.key}` },
      { authorization: `Bearer ${ADMIN_TOKEN}` },
    ];
    for (const headers of attempts) {
      const response = await direct('/library/whoami', headers);
      expect(response.status).toBe(401);
      expect(response.headers.get('content-type')).toBe('application/problem+json');
      expect(await response.json()).toMatchObject({ status: 401, title: 'Unauthorized' });
    }
    // Health checks stay open, for probes.
    expect((await direct('/healthz', {})).status).toBe(200);
  });

  it("refuses another tenant's token at the host, even one signed by the platform", async () => {
    const otherKey = await fixture.api('/api/v1/tenants/dpa-other/api-keys', {
      method: 'POST',
      body: JSON.stringify({ name: 'other' }),
    });
    const { key } = (await otherKey.json()) as { key: string };
    // Through the gateway the key is refused at once: it is not acme's.
    expect((await whoami(key)).status).toBe(401);
    // A user token of acme, sent to the other tenant's host directly.
    const otherHost = await hostUrlOf('dpa-other');
    const response = await fetch(`${otherHost}/library/whoami`, {
      headers: { authorization: `Bearer ${userToken}` },
    });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ reason: 'wrong-tenant' });
  });
});
