import {
  authorizeAtIdp,
  CookieJar,
  startOidcTestProvider,
  type OidcTestProvider,
} from '@citadel/test-utils/oidc-test-provider';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPlatformFixture, type PlatformFixture } from './platform-fixture.ts';
import {
  auditEntries,
  createConnection as createConnectionAt,
  createTenantWithKeys,
  expectProblem as expectAnyProblem,
  fullLogin as fullLoginAt,
  loginUpToCallback as loginUpToCallbackAt,
  operatorApi,
  sessionOf as sessionOfAt,
  startLogin as startLoginAt,
  type ConnectionView,
  type SessionView,
  type SsoTestPlatform,
} from './sso-fixture.ts';

let fixture: PlatformFixture;
let platform: SsoTestPlatform;
let idpAlpha: OidcTestProvider;
let idpBeta: OidcTestProvider;
let alphaConnection: ConnectionView;
let betaConnection: ConnectionView;

const ALPHA_SECRET = 'alpha-client-secret-0123456789';
const BETA_SECRET = 'beta-client-secret-0123456789';

const createConnection = (slug: string, body: object) => createConnectionAt(platform, slug, body);

function platformUrl(pathname: string): string {
  return `${fixture.platform.url}${pathname}`;
}

const startLogin = (jar: CookieJar, loginPath: string) => startLoginAt(platform, jar, loginPath);
const loginUpToCallback = (jar: CookieJar, loginPath: string, accountId: string) =>
  loginUpToCallbackAt(platform, jar, loginPath, accountId);
const fullLogin = (loginPath: string, accountId: string) =>
  fullLoginAt(platform, loginPath, accountId);

const sessionOf = (slug: string, cookie: string) => sessionOfAt(platform, slug, cookie);

const auditActions = (slug: string) => auditEntries(platform, slug);
const expectProblem = (response: Response, status: number, code: string) =>
  expectAnyProblem(response, status, `sso/${code}`);

beforeAll(async () => {
  fixture = await startPlatformFixture();
  platform = operatorApi(fixture.platform.url);
  const redirectUri = platformUrl('/sso/callback');
  [idpAlpha, idpBeta] = await Promise.all([
    startOidcTestProvider(
      { clientId: 'citadel-alpha', clientSecret: ALPHA_SECRET, redirectUri },
      {
        alice: { email: 'alice@alpha.example', name: 'Alice', groups: ['platform-admins', 'eng'] },
        carol: { email: 'carol@alpha.example', name: 'Carol', groups: [] },
        mallory: { email: 'mallory@evil.example', name: 'Mallory', groups: ['platform-admins'] },
      },
    ),
    startOidcTestProvider(
      { clientId: 'citadel-beta', clientSecret: BETA_SECRET, redirectUri },
      { bob: { email: 'bob@beta.example', name: 'Bob', groups: ['auditors'] } },
    ),
  ]);
  await Promise.all([
    createTenantWithKeys(platform, 'sso-alpha'),
    createTenantWithKeys(platform, 'sso-beta'),
  ]);
});

afterAll(async () => {
  await Promise.all([idpAlpha.close(), idpBeta.close()]);
  await fixture.close();
});

describe('SSO connections', () => {
  it('refuses an issuer whose discovery document names another issuer', async () => {
    // Same server, other spelling: the metadata says http://127.0.0.1:…, not localhost.
    const wrong = idpAlpha.issuer.replace('127.0.0.1', 'localhost');
    const response = await createConnection('sso-alpha', {
      name: 'wrong-issuer',
      issuer: wrong,
      clientId: 'citadel-alpha',
      clientSecret: ALPHA_SECRET,
    });
    await expectProblem(response, 400, 'issuer-discovery-failed');
    const missing = await createConnection('sso-alpha', {
      name: 'no-idp-there',
      issuer: `${idpAlpha.issuer}/nothing-here`,
      clientId: 'citadel-alpha',
      clientSecret: ALPHA_SECRET,
    });
    await expectProblem(missing, 400, 'issuer-discovery-failed');
  });

  it('validates the body', async () => {
    const response = await createConnection('sso-alpha', {
      name: 'Bad Name',
      issuer: 'ftp://x',
      clientId: '',
      groupRoles: { admins: 'superuser' },
    });
    expect(response.status).toBe(400);
  });

  it('creates one connection per tenant and never shows the secret', async () => {
    const alpha = await createConnection('sso-alpha', {
      name: 'alpha-idp',
      issuer: idpAlpha.issuer,
      clientId: 'citadel-alpha',
      clientSecret: ALPHA_SECRET,
      scopes: ['openid', 'email', 'profile', 'groups'],
      groupRoles: { 'platform-admins': 'admin', eng: 'member' },
      defaultRole: 'viewer',
      allowedEmailDomains: ['Alpha.example'],
    });
    expect(alpha.status).toBe(201);
    alphaConnection = (await alpha.json()) as ConnectionView;
    expect(alphaConnection.allowedEmailDomains).toEqual(['alpha.example']);
    const beta = await createConnection('sso-beta', {
      name: 'beta-idp',
      issuer: idpBeta.issuer,
      clientId: 'citadel-beta',
      clientSecret: BETA_SECRET,
      scopes: ['openid', 'email', 'groups'],
      groupRoles: { auditors: 'viewer' },
    });
    expect(beta.status).toBe(201);
    betaConnection = (await beta.json()) as ConnectionView;

    const listed = await fixture.api('/api/v1/tenants/sso-alpha/sso-connections');
    const text = await listed.text();
    expect(text).not.toContain(ALPHA_SECRET);
    expect(text).not.toMatch(/secret|ciphertext/i);
    const { items } = JSON.parse(text) as { items: ConnectionView[] };
    expect(items.map((item) => item.id)).toEqual([alphaConnection.id]);
    // Another tenant's connection is not reachable through this tenant.
    const crossDelete = await fixture.api(
      `/api/v1/tenants/sso-alpha/sso-connections/${betaConnection.id}`,
      { method: 'DELETE' },
    );
    await expectProblem(crossDelete, 404, 'connection-not-found');
  });
});

describe('SSO login', () => {
  let aliceCookie: string;
  let bobCookie: string;
  let aliceCallbackUrl: string;
  let aliceBinding: string;

  it('logs alice into tenant alpha, creating her just in time with mapped roles', async () => {
    const jar = new CookieJar();
    const authorizationUrl = await startLogin(
      jar,
      `${alphaConnection.loginUrl}&returnTo=/console/home?x=1`,
    );
    const authorization = new URL(authorizationUrl);
    expect(authorization.origin).toBe(idpAlpha.issuer);
    expect(authorization.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorization.searchParams.get('redirect_uri')).toBe(platformUrl('/sso/callback'));
    for (const name of ['state', 'nonce', 'code_challenge']) {
      expect(authorization.searchParams.get(name)).toMatch(/^[\w-]{43}$/);
    }
    aliceBinding = jar.get(fixture.platform.url, 'citadel_sso_login') ?? '';
    aliceCallbackUrl = await authorizeAtIdp(jar, authorizationUrl, 'alice');
    expect(aliceCallbackUrl.startsWith(platformUrl('/sso/callback?'))).toBe(true);
    const callback = await jar.fetch(aliceCallbackUrl);
    expect(callback.status).toBe(302);
    expect(callback.headers.get('location')).toBe('/console/home?x=1');
    const setCookie = callback.headers
      .getSetCookie()
      .find((line) => line.startsWith('citadel_session='));
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=Lax/i);
    expect(setCookie).not.toMatch(/Secure/i); // plain http on loopback
    aliceCookie = `citadel_session=${jar.get(fixture.platform.url, 'citadel_session') ?? ''}`;

    const session = await sessionOf('sso-alpha', aliceCookie);
    expect(session.status).toBe(200);
    const user = (await session.json()) as SessionView;
    expect(user.userName).toBe('alice@alpha.example');
    expect(user.roles).toEqual(['admin', 'member']);

    const actions = await auditActions('sso-alpha');
    expect(actions.map((entry) => entry.action)).toContain('sso.login.succeeded');
  });

  it('gives a user with no mapped group the default role, and updates roles at each login', async () => {
    const { jar, callback } = await fullLogin(alphaConnection.loginUrl, 'carol');
    expect(callback.status).toBe(302);
    expect(callback.headers.get('location')).toBe('/');
    const cookie = `citadel_session=${jar.get(fixture.platform.url, 'citadel_session') ?? ''}`;
    const user = (await (await sessionOf('sso-alpha', cookie)).json()) as SessionView;
    expect(user).toMatchObject({ userName: 'carol@alpha.example', roles: ['viewer'] });
    // A second login finds the same user rather than creating another.
    const again = await fullLogin(alphaConnection.loginUrl, 'carol');
    const cookieAgain = `citadel_session=${again.jar.get(fixture.platform.url, 'citadel_session') ?? ''}`;
    const userAgain = (await (await sessionOf('sso-alpha', cookieAgain)).json()) as SessionView;
    expect(userAgain.id).toBe(user.id);
  });

  it('logs bob into tenant beta through beta’s own IdP', async () => {
    const { jar, callback } = await fullLogin(betaConnection.loginUrl, 'bob');
    expect(callback.status).toBe(302);
    bobCookie = `citadel_session=${jar.get(fixture.platform.url, 'citadel_session') ?? ''}`;
    const user = (await (await sessionOf('sso-beta', bobCookie)).json()) as SessionView;
    expect(user).toMatchObject({ userName: 'bob@beta.example', roles: ['viewer'] });
  });

  it('keeps sessions inside their tenant', async () => {
    await expectProblem(await sessionOf('sso-beta', aliceCookie), 401, 'session-required');
    await expectProblem(await sessionOf('sso-alpha', bobCookie), 401, 'session-required');
    await expectProblem(
      await sessionOf('sso-alpha', 'citadel_session=forged'),
      401,
      'session-required',
    );
    await expectProblem(await sessionOf('sso-alpha', ''), 401, 'session-required');
    // A connection of tenant beta cannot start a login at tenant alpha.
    const crossLogin = await fetch(
      platformUrl(`/sso/t/sso-alpha/login?connection=${betaConnection.id}`),
      { redirect: 'manual' },
    );
    await expectProblem(crossLogin, 404, 'connection-not-found');
  });

  it('refuses a replayed state', async () => {
    const replay = await fetch(aliceCallbackUrl, {
      redirect: 'manual',
      headers: { cookie: `citadel_sso_login=${aliceBinding}` },
    });
    await expectProblem(replay, 400, 'login-state-replayed');
    const failures = (await auditActions('sso-alpha')).filter(
      (entry) => entry.action === 'sso.login.failed',
    );
    expect(failures.at(-1)?.details).toMatchObject({ reason: 'login-state-replayed' });
  });

  it('refuses a state from another browser, and an unknown state', async () => {
    const jar = new CookieJar();
    const callbackUrl = await loginUpToCallback(jar, alphaConnection.loginUrl, 'alice');
    const otherBrowser = await fetch(callbackUrl, { redirect: 'manual' });
    await expectProblem(otherBrowser, 400, 'login-browser-mismatch');
    const unknown = await fetch(platformUrl('/sso/callback?code=x&state=not-a-state'), {
      redirect: 'manual',
    });
    await expectProblem(unknown, 400, 'login-state-invalid');
  });

  it('refuses a code that was already used, and an invalid code', async () => {
    const usedCode = new URL(aliceCallbackUrl).searchParams.get('code') ?? '';
    for (const code of [usedCode, 'not-a-real-code']) {
      const jar = new CookieJar();
      const authorizationUrl = await startLogin(jar, alphaConnection.loginUrl);
      const state = new URL(authorizationUrl).searchParams.get('state') ?? '';
      const forged = new URL(platformUrl('/sso/callback'));
      forged.search = new URLSearchParams({ code, state, iss: idpAlpha.issuer }).toString();
      const response = await jar.fetch(forged.href);
      await expectProblem(response, 401, 'identity-provider-error');
    }
    const failures = (await auditActions('sso-alpha')).filter(
      (entry) => entry.action === 'sso.login.failed',
    );
    expect(failures.at(-1)?.details).toMatchObject({ reason: 'identity-provider-error' });
  });

  it('refuses an email outside the allowed domains', async () => {
    const { callback } = await fullLogin(alphaConnection.loginUrl, 'mallory');
    await expectProblem(callback, 403, 'email-domain-not-allowed');
    const failures = (await auditActions('sso-alpha')).filter(
      (entry) => entry.action === 'sso.login.failed',
    );
    expect(failures.at(-1)?.details).toMatchObject({ reason: 'email-domain-not-allowed' });
  });

  it('refuses a disabled connection and an open redirect', async () => {
    const disabled = await createConnection('sso-alpha', {
      name: 'alpha-disabled',
      issuer: idpAlpha.issuer,
      clientId: 'citadel-alpha',
      clientSecret: ALPHA_SECRET,
      enabled: false,
    });
    const view = (await disabled.json()) as ConnectionView;
    const response = await fetch(platformUrl(view.loginUrl), { redirect: 'manual' });
    await expectProblem(response, 403, 'connection-disabled');
    for (const returnTo of ['//evil.example/x', 'https://evil.example', '/\\evil.example']) {
      const open = await fetch(
        platformUrl(`${alphaConnection.loginUrl}&returnTo=${encodeURIComponent(returnTo)}`),
        { redirect: 'manual' },
      );
      await expectProblem(open, 400, 'invalid-return-to');
    }
  });

  it('ends the session at logout and points at the IdP’s end-session endpoint', async () => {
    const response = await fetch(platformUrl('/sso/t/sso-alpha/logout'), {
      method: 'POST',
      headers: { cookie: aliceCookie },
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { endSessionUrl?: string };
    expect(body.endSessionUrl?.startsWith(`${idpAlpha.issuer}/`)).toBe(true);
    expect(response.headers.getSetCookie().join()).toMatch(/citadel_session=;/);
    await expectProblem(await sessionOf('sso-alpha', aliceCookie), 401, 'session-required');
    // Bob's session at beta is untouched.
    expect((await sessionOf('sso-beta', bobCookie)).status).toBe(200);
    const actions = (await auditActions('sso-alpha')).map((entry) => entry.action);
    expect(actions).toContain('sso.logout');
  });

  it('deletes a connection, ending the sessions it created', async () => {
    expect((await sessionOf('sso-beta', bobCookie)).status).toBe(200);
    const response = await fixture.api(
      `/api/v1/tenants/sso-beta/sso-connections/${betaConnection.id}`,
      { method: 'DELETE' },
    );
    expect(response.status).toBe(204);
    await expectProblem(await sessionOf('sso-beta', bobCookie), 401, 'session-required');
    const deleted = (await auditActions('sso-beta')).at(-1);
    expect(deleted).toMatchObject({
      action: 'sso.connection.deleted',
      details: { revokedSessions: 1 },
    });
    const login = await fetch(platformUrl(betaConnection.loginUrl), { redirect: 'manual' });
    await expectProblem(login, 404, 'connection-not-found');
  });
});
