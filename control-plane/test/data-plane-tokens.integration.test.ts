import { readdir, readFile, stat } from 'node:fs/promises';
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import path from 'node:path';
import { decodeJwt, decodeProtectedHeader, SignJWT, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tokenSigningKeyDir } from '../src/tokens/adapters/token-signing-key-store.ts';
import { startPlatformFixture, type PlatformFixture } from './platform-fixture.ts';
import {
  authorizeAtIdp,
  CookieJar,
  startOidcTestProvider,
  type OidcTestProvider,
} from './oidc-test-provider.ts';

/**
 * Data-plane access tokens end to end: a real OpenID Connect login gives a session, the
 * session buys a JWT, and the gateway checks the JWT against the platform's own keys.
 */

let fixture: PlatformFixture;
let idp: OidcTestProvider;
let tenantIds: Record<string, string>;
const cookies: Record<string, string> = {};
const CLIENT_SECRET = 'tokens-client-secret-0123456789';

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

/** Connects the tenant to the test IdP and logs `account` in; returns the session cookie. */
async function loginAs(slug: string, account: string): Promise<string> {
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
  const { loginUrl } = (await connection.json()) as { loginUrl: string };
  const jar = new CookieJar();
  const started = await jar.fetch(platformUrl(loginUrl));
  const callbackUrl = await authorizeAtIdp(jar, started.headers.get('location') ?? '', account);
  expect((await jar.fetch(callbackUrl)).status).toBe(302);
  return `citadel_session=${jar.get(fixture.platform.url, 'citadel_session') ?? ''}`;
}

function requestToken(slug: string, init: { cookie?: string; body?: unknown; headers?: object }) {
  return fetch(platformUrl(`/sso/t/${slug}/token`), {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
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

/** A gateway call with `token`; the host answers 404 for a service it has not deployed. */
function gateway(slug: string, service: string, token: string): Promise<Response> {
  return fixture.api(`/t/${slug}/${service}/v1/search?q=x`, { token });
}

async function expectAdmitted(response: Response): Promise<void> {
  expect(response.status).toBe(404);
  expect(((await response.json()) as { type: string }).type).toMatch(/service-not-deployed$/);
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
    },
  );
  const [alpha, beta] = await Promise.all([createTenant('tok-alpha'), createTenant('tok-beta')]);
  tenantIds = { 'tok-alpha': alpha, 'tok-beta': beta };
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
    await expectAdmitted(await fixture.api('/t/tok-alpha/library/v1/search?q=x'));
  });
});
