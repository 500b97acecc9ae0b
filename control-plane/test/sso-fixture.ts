import { waitFor } from '@citadel/test-utils';
import { authorizeAtIdp, CookieJar } from '@citadel/test-utils/oidc-test-provider';
import { expect } from 'vitest';
import { ADMIN_TOKEN, type TenantView } from './platform-fixture.ts';

/** The running platform as the SSO tests reach it. */
export interface SsoTestPlatform {
  url: string;
  /** An operator API call (admin token, JSON body). */
  api(pathname: string, init?: RequestInit): Promise<Response>;
}

/** An operator API client for the platform at `url`. */
export function operatorApi(url: string): SsoTestPlatform {
  return {
    url,
    api(pathname, init = {}) {
      const headers = new Headers(init.headers);
      headers.set('authorization', `Bearer ${ADMIN_TOKEN}`);
      if (typeof init.body === 'string' && !headers.has('content-type'))
        headers.set('content-type', 'application/json');
      return fetch(`${url}${pathname}`, { ...init, headers });
    },
  };
}

/** A connection as the API shows it. */
export interface ConnectionView {
  id: string;
  name: string;
  issuer: string;
  clientId: string;
  scopes: string[];
  claims: { email: string; name: string; groups: string };
  groupRoles: Record<string, string>;
  defaultRole?: string;
  allowedEmailDomains: string[];
  enabled: boolean;
  loginUrl: string;
  updatedAt: string;
}

export interface SessionView {
  id: string;
  userName: string;
  roles: string[];
}

/**
 * Creates a tenant and waits for its data key: client secrets are encrypted with it.
 * Returns the tenant's uid.
 */
export async function createTenantWithKeys(platform: SsoTestPlatform, slug: string) {
  const response = await platform.api('/api/v1/tenants', {
    method: 'POST',
    body: JSON.stringify({ slug, displayName: slug, plan: 'starter' }),
  });
  expect(response.status).toBe(202);
  const tenant = await waitFor(
    async () => {
      const view = (await (await platform.api(`/api/v1/tenants/${slug}`)).json()) as TenantView;
      const keysReady = view.status.conditions.some(
        (condition) => condition.type === 'KeysReady' && condition.status === 'True',
      );
      return keysReady ? view : undefined;
    },
    { timeoutMs: 60_000, description: `${slug} KeysReady` },
  );
  return tenant.metadata.uid;
}

export async function createConnection(
  platform: SsoTestPlatform,
  slug: string,
  body: object,
): Promise<Response> {
  return platform.api(`/api/v1/tenants/${slug}/sso-connections`, {
    method: 'POST',
    body: JSON.stringify(body),
  });
}

/** Asserts an RFC 7807 problem with `status` whose type ends in `code`. */
export async function expectProblem(
  response: Response,
  status: number,
  code: string,
): Promise<void> {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toContain('application/problem+json');
  const body = (await response.json()) as { type: string };
  expect(body.type).toMatch(new RegExp(`${code}$`));
}

export interface AuditItem {
  sequence: number;
  action: string;
  target: { type: string; id: string };
  details: Record<string, unknown>;
}

/** The tenant's audit entries, oldest first. */
export async function auditEntries(platform: SsoTestPlatform, slug: string): Promise<AuditItem[]> {
  const response = await platform.api(`/api/v1/tenants/${slug}/audit?limit=500`);
  const body = (await response.json()) as { items: AuditItem[] };
  return body.items.sort((left, right) => left.sequence - right.sequence);
}

/** Starts a login at the platform; returns the IdP authorization URL it redirected to. */
export async function startLogin(
  platform: SsoTestPlatform,
  jar: CookieJar,
  loginPath: string,
): Promise<string> {
  const response = await jar.fetch(`${platform.url}${loginPath}`);
  expect(response.status).toBe(302);
  return response.headers.get('location') ?? '';
}

/** Runs the whole browser login up to the platform's callback URL (not yet visited). */
export async function loginUpToCallback(
  platform: SsoTestPlatform,
  jar: CookieJar,
  loginPath: string,
  accountId: string,
): Promise<string> {
  return authorizeAtIdp(jar, await startLogin(platform, jar, loginPath), accountId);
}

/** A whole browser login; `cookie` is the session cookie header it ended with, if any. */
export async function fullLogin(
  platform: SsoTestPlatform,
  loginPath: string,
  accountId: string,
): Promise<{ jar: CookieJar; callback: Response; cookie: string }> {
  const jar = new CookieJar();
  const callbackUrl = await loginUpToCallback(platform, jar, loginPath, accountId);
  const callback = await jar.fetch(callbackUrl);
  const cookie = `citadel_session=${jar.get(platform.url, 'citadel_session') ?? ''}`;
  return { jar, callback, cookie };
}

/** `GET /sso/t/{slug}/session` with the session cookie header `cookie`. */
export async function sessionOf(
  platform: SsoTestPlatform,
  slug: string,
  cookie: string,
): Promise<Response> {
  return fetch(`${platform.url}/sso/t/${slug}/session`, { headers: { cookie } });
}
