import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import path from 'node:path';
import { decodeJwt, decodeProtectedHeader, SignJWT, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropPlatformResources, queryRows, waitFor } from '@citadel/test-utils';
import type { RunningPlatform } from '../src/platform.ts';
import { tokenSigningKeyDir } from '../src/tokens/adapters/token-signing-key-store.ts';
import {
  startInProcessPlatform,
  startPlatformFixture,
  type PlatformFixture,
} from './platform-fixture.ts';
import {
  authorizeAtIdp,
  CookieJar,
  startOidcTestProvider,
  type OidcTestProvider,
} from './oidc-test-provider.ts';

/**
 * Data-plane access tokens end to end: a real OpenID Connect login gives a session, the
 * session buys a JWT, the gateway checks the JWT against the platform's own keys and the
 * user's current state, and the tenant's host verifies it again with the JWKS.
 */

let fixture: PlatformFixture;
let idp: OidcTestProvider;
let tenantIds: Record<string, string>;
const cookies: Record<string, string> = {};
const scimTokens: Record<string, string> = {};
const CLIENT_SECRET = 'tokens-client-secret-0123456789';
const SCIM_PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

interface TokenResponse {
  access_token: string;
  token_type: string;
  expires_in: number;
}

function platformUrl(pathname: string): string {
  return `${fixture.platform.url}${pathname}`;
}

async function createTenant(slug: string): Promise<string> {
  const response = await fixture.api('/api/v1/tenants', {
    method: 'POST',
    body: JSON.stringify({ slug, displayName: slug, plan: 'starter' }),
  });
  expect(response.status).toBe(202);
  const tenant = await fixture.waitForPhase(slug, 'Ready', 90_000);
  return tenant.metadata.uid;
}

const loginUrls: Record<string, string> = {};
let clients = 0;

/**
 * A new client address for each login or token request (the platform trusts
 * X-Forwarded-For from loopback): this file makes more of them than one address may per
 * minute; the limit itself is tested on a platform of its own below.
 */
function nextClientIp(): string {
  clients += 1;
  return `10.9.${String(clients >> 8)}.${String(clients & 255)}`;
}

/** Connects the tenant to the test IdP (once) and gives it a SCIM token. */
async function connectIdp(slug: string): Promise<void> {
  const connection = await fixture.api(`/api/v1/tenants/${slug}/sso-connections`, {
    method: 'POST',
    body: JSON.stringify({
      name: `${slug}-idp`,
      issuer: idp.issuer,
      clientId: 'citadel-tokens',
      clientSecret: CLIENT_SECRET,
      scopes: ['openid', 'email', 'profile', 'groups'],
      groupRoles: { admins: 'admin' },
      defaultRole: 'viewer',
    }),
  });
  expect(connection.status).toBe(201);
  loginUrls[slug] = ((await connection.json()) as { loginUrl: string }).loginUrl;
  const scim = await fixture.api(`/api/v1/tenants/${slug}/scim-tokens`, { method: 'POST' });
  expect(scim.status).toBe(201);
  scimTokens[slug] = ((await scim.json()) as { token: string }).token;
}

/** Logs `account` in through the tenant's IdP; returns the session cookie. */
async function loginAs(slug: string, account: string): Promise<string> {
  const jar = new CookieJar();
  const headers = { 'x-forwarded-for': nextClientIp() };
  const started = await jar.fetch(platformUrl(loginUrls[slug] ?? ''), { headers });
  const callbackUrl = await authorizeAtIdp(jar, started.headers.get('location') ?? '', account);
  expect((await jar.fetch(callbackUrl, { headers })).status).toBe(302);
  return `citadel_session=${jar.get(fixture.platform.url, 'citadel_session') ?? ''}`;
}

function requestToken(slug: string, init: { cookie?: string; body?: unknown; headers?: object }) {
  return fetch(platformUrl(`/sso/t/${slug}/token`), {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-forwarded-for': nextClientIp(),
      ...(init.cookie === undefined ? {} : { cookie: init.cookie }),
      ...init.headers,
    },
    body: JSON.stringify(init.body ?? { audience: 'library' }),
  });
}

async function tokenFor(slug: string, audience: string): Promise<string> {
  const response = await requestToken(slug, { cookie: cookies[slug], body: { audience } });
  expect(response.status).toBe(200);
  return ((await response.json()) as TokenResponse).access_token;
}

/**
 * A gateway call with `token` to a path no service has: once admitted, the host answers 404
 * (a service it has not deployed) or the service does (a route it does not have).
 */
function gateway(slug: string, service: string, token: string): Promise<Response> {
  return fixture.api(`/t/${slug}/${service}/v1/no-such-route`, { token });
}

/** Who the tenant's host says the caller is, through the gateway. */
function whoami(slug: string, service: string, token: string): Promise<Response> {
  return fixture.api(`/t/${slug}/${service}/whoami`, { token });
}

async function currentUserId(slug: string, cookie: string): Promise<string> {
  const session = await fetch(platformUrl(`/sso/t/${slug}/session`), { headers: { cookie } });
  expect(session.status).toBe(200);
  return ((await session.json()) as { id: string }).id;
}

function scim(slug: string, pathname: string, init: RequestInit = {}): Promise<Response> {
  return fetch(platformUrl(`/scim/v2${pathname}`), {
    ...init,
    headers: {
      authorization: `Bearer ${scimTokens[slug] ?? ''}`,
      'content-type': 'application/scim+json',
    },
  });
}

function setActive(slug: string, userId: string, active: boolean): Promise<Response> {
  return scim(slug, `/Users/${userId}`, {
    method: 'PATCH',
    body: JSON.stringify({
      schemas: [SCIM_PATCH_OP],
      Operations: [{ op: 'replace', path: 'active', value: active }],
    }),
  });
}

interface AuditItem {
  action: string;
  outcome: string;
  actor: { type: string; id?: string };
  target: { type: string; id: string };
  details: Record<string, unknown>;
}

async function auditEntries(slug: string, action: string): Promise<AuditItem[]> {
  const response = await fixture.api(`/api/v1/tenants/${slug}/audit?action=${action}&limit=100`);
  expect(response.status).toBe(200);
  return ((await response.json()) as { items: AuditItem[] }).items;
}

/** Waits until the tenant's audit log holds an entry of `action` matching `predicate`. */
function auditEntry(
  slug: string,
  action: string,
  predicate: (entry: AuditItem) => boolean,
): Promise<AuditItem> {
  return waitFor(async () => (await auditEntries(slug, action)).find(predicate), {
    timeoutMs: 10_000,
    description: `an audit entry ${action}`,
  });
}

async function expectAdmitted(response: Response): Promise<void> {
  expect(response.status).toBe(404);
  expect(((await response.json()) as { type: string }).type).toMatch(
    /\/(service-not-deployed|not-found)$/,
  );
}

async function jwks(): Promise<{ response: Response; keys: JWK[] }> {
  const response = await fetch(platformUrl('/.well-known/jwks.json'));
  return { response, keys: ((await response.json()) as { keys: JWK[] }).keys };
}

/** Signs `claims` with the platform's own key `kid`, read from its file (for forged expiry). */
async function signWithPlatformKey(kid: string, claims: Record<string, unknown>, exp: number) {
  const dir = tokenSigningKeyDir(fixture.dataDir);
  const file = (await readdir(dir)).find((name) => name.endsWith(`-${kid}.pem`)) ?? '';
  const key = createPrivateKey(await readFile(path.join(dir, file), 'utf8'));
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'EdDSA', kid, typ: 'at+jwt' })
    .setIssuedAt(exp - 300)
    .setExpirationTime(exp)
    .sign(key);
}

beforeAll(async () => {
  fixture = await startPlatformFixture();
  idp = await startOidcTestProvider(
    {
      clientId: 'citadel-tokens',
      clientSecret: CLIENT_SECRET,
      redirectUri: platformUrl('/sso/callback'),
    },
    {
      alice: { email: 'alice@alpha.example', name: 'Alice', groups: ['admins'] },
      bob: { email: 'bob@beta.example', name: 'Bob', groups: [] },
      carol: { email: 'carol@alpha.example', name: 'Carol', groups: [] },
      dave: { email: 'dave@alpha.example', name: 'Dave', groups: [] },
      erin: { email: 'erin@alpha.example', name: 'Erin', groups: [] },
    },
  );
  const [alpha, beta] = await Promise.all([createTenant('tok-alpha'), createTenant('tok-beta')]);
  tenantIds = { 'tok-alpha': alpha, 'tok-beta': beta };
  await connectIdp('tok-alpha');
  await connectIdp('tok-beta');
  cookies['tok-alpha'] = await loginAs('tok-alpha', 'alice');
  cookies['tok-beta'] = await loginAs('tok-beta', 'bob');
}, 180_000);

afterAll(async () => {
  await idp.close();
  await fixture.close();
});

describe('data-plane access tokens', () => {
  it('publishes the signing key in the JWKS, and keeps the private key file 0600', async () => {
    const { response, keys } = await jwks();
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toContain('max-age=300');
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig' });
    expect(keys[0]).not.toHaveProperty('d');
    const dir = tokenSigningKeyDir(fixture.dataDir);
    const [file] = await readdir(dir);
    expect(file).toContain(keys[0]?.kid ?? 'none');
    expect((await stat(path.join(dir, file ?? ''))).mode & 0o777).toBe(0o600);
  });

  it('issues a token only for a live session, asked for by script', async () => {
    expect((await requestToken('tok-alpha', {})).status).toBe(401);
    expect((await requestToken('tok-alpha', { cookie: 'citadel_session=forged' })).status).toBe(
      401,
    );
    // Bob's session belongs to tok-beta.
    expect((await requestToken('tok-alpha', { cookie: cookies['tok-beta'] })).status).toBe(401);
    const form = await fetch(platformUrl('/sso/t/tok-alpha/token'), {
      method: 'POST',
      headers: { cookie: cookies['tok-alpha'] ?? '' },
    });
    expect(form.status).toBe(403);
    const crossSite = await requestToken('tok-alpha', {
      cookie: cookies['tok-alpha'],
      headers: { origin: 'https://evil.example' },
    });
    expect(crossSite.status).toBe(403);
    const badAudience = await requestToken('tok-alpha', {
      cookie: cookies['tok-alpha'],
      body: { audience: 'billing' },
    });
    expect(badAudience.status).toBe(400);
  });

  it('puts the user, tenant and service in the claims', async () => {
    const response = await requestToken('tok-alpha', {
      cookie: cookies['tok-alpha'],
      body: { audience: 'sapiens' },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const body = (await response.json()) as TokenResponse;
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 300 });
    const claims = decodeJwt(body.access_token);
    const session = await fetch(platformUrl('/sso/t/tok-alpha/session'), {
      headers: { cookie: cookies['tok-alpha'] ?? '' },
    });
    const user = (await session.json()) as { id: string };
    expect(claims).toMatchObject({
      iss: fixture.platform.url.replace('127.0.0.1', 'localhost'),
      sub: user.id,
      aud: 'citadel:sapiens',
      tenant: tenantIds['tok-alpha'],
      tenant_slug: 'tok-alpha',
      roles: ['admin'],
    });
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(300);
    expect(claims.jti).toMatch(/^[\da-f-]{36}$/);
    expect(decodeProtectedHeader(body.access_token)).toMatchObject({ alg: 'EdDSA', typ: 'at+jwt' });
  });

  it('lets a valid token through the gateway for its tenant and service only', async () => {
    const token = await tokenFor('tok-alpha', 'library');
    await expectAdmitted(await gateway('tok-alpha', 'library', token));
    expect((await gateway('tok-beta', 'library', token)).status).toBe(401);
    expect((await gateway('tok-alpha', 'orchestrator', token)).status).toBe(401);
  });

  it('refuses expired, tampered and unknown-key tokens', async () => {
    const token = await tokenFor('tok-alpha', 'library');
    const { kid } = decodeProtectedHeader(token);
    const claims = decodeJwt(token);
    const now = Math.floor(Date.now() / 1000);
    const expired = await signWithPlatformKey(kid ?? '', claims, now - 120);
    expect((await gateway('tok-alpha', 'library', expired)).status).toBe(401);
    // Sanity: the same forgery, still in date, passes: only expiry failed it.
    const fresh = await signWithPlatformKey(kid ?? '', claims, now + 120);
    await expectAdmitted(await gateway('tok-alpha', 'library', fresh));

    const [header, payload, signature = ''] = token.split('.');
    const flipped = `${signature.startsWith('A') ? 'B' : 'A'}${signature.slice(1)}`;
    expect((await gateway('tok-alpha', 'library', `${header}.${payload}.${flipped}`)).status).toBe(
      401,
    );
    const elevated = Buffer.from(JSON.stringify({ ...claims, roles: ['owner'] })).toString(
      'base64url',
    );
    expect(
      (await gateway('tok-alpha', 'library', `${header}.${elevated}.${signature}`)).status,
    ).toBe(401);

    const stranger = generateKeyPairSync('ed25519').privateKey;
    const unknownKid = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'EdDSA', kid: 'unknown-key', typ: 'at+jwt' })
      .sign(stranger);
    expect((await gateway('tok-alpha', 'library', unknownKid)).status).toBe(401);
    const foreignUnderOurKid = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'EdDSA', kid: kid ?? '', typ: 'at+jwt' })
      .sign(stranger);
    expect((await gateway('tok-alpha', 'library', foreignUnderOurKid)).status).toBe(401);
  });

  it('keeps old tokens valid after a rotation and signs new ones with the new key', async () => {
    const before = await tokenFor('tok-alpha', 'library');
    const oldKid = decodeProtectedHeader(before).kid;
    const rotated = await fixture.api('/api/v1/token-signing-keys/rotate', { method: 'POST' });
    expect(rotated.status).toBe(201);
    const { kid: newKid } = (await rotated.json()) as { kid: string };
    expect(newKid).not.toBe(oldKid);

    const { keys } = await jwks();
    expect(keys.map((key) => key.kid)).toEqual([newKid, oldKid]);
    await expectAdmitted(await gateway('tok-alpha', 'library', before));
    const after = await tokenFor('tok-alpha', 'library');
    expect(decodeProtectedHeader(after).kid).toBe(newKid);
    await expectAdmitted(await gateway('tok-alpha', 'library', after));
    // The API key and operator paths still work beside tokens.
    await expectAdmitted(await fixture.api('/t/tok-alpha/library/v1/no-such-route'));
  });
});

describe('audit of token issuance', () => {
  it('records each issuance (actor the user, target the audience) and each refusal', async () => {
    const token = await tokenFor('tok-alpha', 'payments');
    const userId = await currentUserId('tok-alpha', cookies['tok-alpha'] ?? '');
    const issued = await auditEntry(
      'tok-alpha',
      'token.issued',
      (entry) => entry.details.tokenId === decodeJwt(token).jti,
    );
    expect(issued).toMatchObject({
      outcome: 'success',
      actor: { type: 'user', id: userId },
      target: { type: 'token-audience', id: 'citadel:payments' },
      details: { kid: decodeProtectedHeader(token).kid, expiresIn: 300 },
    });

    expect((await requestToken('tok-alpha', { cookie: 'citadel_session=stolen' })).status).toBe(
      401,
    );
    const refused = await auditEntry('tok-alpha', 'token.issuance-denied', () => true);
    expect(refused).toMatchObject({
      outcome: 'denied',
      target: { type: 'token-audience', id: 'citadel:library' },
      details: { reason: 'session-required' },
    });
    // Nothing of tok-alpha's lands in tok-beta's log.
    expect(await auditEntries('tok-beta', 'token.issuance-denied')).toEqual([]);
  });
});

describe('revocation when SCIM deactivates or deletes a user', () => {
  it('refuses the token and the session at once on deactivation, and reactivation revives neither', async () => {
    const cookie = await loginAs('tok-alpha', 'erin');
    const userId = await currentUserId('tok-alpha', cookie);
    const token = (await (await requestToken('tok-alpha', { cookie })).json()) as TokenResponse;
    const admitted = await whoami('tok-alpha', 'library', token.access_token);
    expect(admitted.status).toBe(200);
    expect(await admitted.json()).toMatchObject({ principal: { type: 'user', id: userId } });

    expect((await setActive('tok-alpha', userId, false)).status).toBe(200);
    // The very next request: no cache, no grace period.
    expect((await whoami('tok-alpha', 'library', token.access_token)).status).toBe(401);
    expect((await requestToken('tok-alpha', { cookie })).status).toBe(401);
    const [row] = await queryRows<{ revoked: Date | null; open: string }>(
      fixture.databaseUrl,
      `SELECT u.credentials_revoked_at AS revoked,
              (SELECT count(*) FROM tenant_sessions s WHERE s.user_id = u.id AND s.revoked_at IS NULL) AS open
         FROM tenant_users u WHERE u.id = $1`,
      [userId],
    );
    expect(row?.revoked).toBeInstanceOf(Date);
    expect(row?.open).toBe('0');
    const denied = await auditEntry(
      'tok-alpha',
      'gateway.authentication-denied',
      (entry) => entry.actor.id === userId && entry.details.cause === 'user-inactive',
    );
    expect(denied.details).toMatchObject({ reason: 'revoked-credentials' });

    expect((await setActive('tok-alpha', userId, true)).status).toBe(200);
    expect((await whoami('tok-alpha', 'library', token.access_token)).status).toBe(401);
    await auditEntry(
      'tok-alpha',
      'gateway.authentication-denied',
      (entry) => entry.actor.id === userId && entry.details.cause === 'revoked',
    );
    expect((await requestToken('tok-alpha', { cookie })).status).toBe(401);
    // `iat` counts whole seconds: a new login from a later second gets a working token.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const fresh = await loginAs('tok-alpha', 'erin');
    const renewed = (await (
      await requestToken('tok-alpha', { cookie: fresh })
    ).json()) as TokenResponse;
    expect((await whoami('tok-alpha', 'library', renewed.access_token)).status).toBe(200);
  });

  it('refuses the token and the session at once when the user is deleted', async () => {
    const cookie = await loginAs('tok-alpha', 'carol');
    const userId = await currentUserId('tok-alpha', cookie);
    const token = (await (await requestToken('tok-alpha', { cookie })).json()) as TokenResponse;
    const accessToken = token.access_token;
    expect((await whoami('tok-alpha', 'library', accessToken)).status).toBe(200);

    expect((await scim('tok-alpha', `/Users/${userId}`, { method: 'DELETE' })).status).toBe(204);
    expect((await whoami('tok-alpha', 'library', accessToken)).status).toBe(401);
    expect((await requestToken('tok-alpha', { cookie })).status).toBe(401);
    await auditEntry(
      'tok-alpha',
      'gateway.authentication-denied',
      (entry) => entry.actor.id === userId && entry.details.cause === 'user-unknown',
    );
  });

  it('issues no token from a session whose user is inactive, however it became so', async () => {
    const cookie = await loginAs('tok-alpha', 'dave');
    const userId = await currentUserId('tok-alpha', cookie);
    // Deactivated behind SCIM's back: the session row stays, the user's state decides.
    await queryRows(fixture.databaseUrl, 'UPDATE tenant_users SET active = false WHERE id = $1', [
      userId,
    ]);
    expect((await requestToken('tok-alpha', { cookie })).status).toBe(401);
  });

  it("cannot deactivate another tenant's user through its own SCIM token", async () => {
    const aliceId = await currentUserId('tok-alpha', cookies['tok-alpha'] ?? '');
    const crossTenant = await setActive('tok-beta', aliceId, false);
    expect(crossTenant.status).toBe(404);
    await expectAdmitted(
      await gateway('tok-alpha', 'library', await tokenFor('tok-alpha', 'library')),
    );
  });
});

describe('rate limits on the token endpoint', () => {
  let limited: { platform: RunningPlatform; dataDir: string };
  let databaseUrl: string;

  beforeAll(async () => {
    databaseUrl = await fixture.postgres.createDatabase();
    limited = await startInProcessPlatform(databaseUrl, {
      CITADEL_RATE_LIMIT_LOGIN_PER_IP_PER_MINUTE: '3',
      CITADEL_RATE_LIMIT_LOGIN_PER_TENANT_PER_MINUTE: '5',
    });
  }, 60_000);

  afterAll(async () => {
    await limited.platform.close();
    await dropPlatformResources(databaseUrl, limited.platform.instanceId);
    await rm(limited.dataDir, { recursive: true, force: true });
  });

  function tokenRequest(slug: string, ip: string): Promise<Response> {
    return fetch(`${limited.platform.url}/sso/t/${slug}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': ip },
      body: JSON.stringify({ audience: 'library' }),
    });
  }

  async function statuses(slug: string, ip: string, times: number): Promise<number[]> {
    const seen: number[] = [];
    for (let index = 0; index < times; index += 1) {
      seen.push((await tokenRequest(slug, ip)).status);
    }
    return seen;
  }

  it('answers 429 with Retry-After per client IP, and leaves other IPs alone', async () => {
    expect(await statuses('limits-ip', '10.1.0.1', 3)).not.toContain(429);
    const over = await tokenRequest('limits-ip', '10.1.0.1');
    expect(over.status).toBe(429);
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(over.headers.get('content-type')).toContain('application/problem+json');
    expect(await over.json()).toMatchObject({ status: 429, title: 'Too many requests' });
    expect((await tokenRequest('limits-ip', '10.1.0.2')).status).not.toBe(429);
  });

  it('answers 429 per tenant to requests from many addresses, and not for another tenant', async () => {
    const seen: number[] = [];
    for (let index = 0; index < 6; index += 1) {
      seen.push((await tokenRequest('limits-tenant', `10.2.0.${String(index)}`)).status);
    }
    expect(seen.slice(0, 5)).not.toContain(429);
    expect(seen[5]).toBe(429);
    expect((await tokenRequest('limits-other', '10.2.1.1')).status).not.toBe(429);
  });
});
