import { rm } from 'node:fs/promises';
import { dropPlatformResources, startTestPostgres, type TestPostgres } from '@citadel/test-utils';
import {
  startOidcTestProvider,
  type OidcTestProvider,
} from '@citadel/test-utils/oidc-test-provider';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningPlatform } from '../src/platform.ts';
import { startInProcessPlatform } from './platform-fixture.ts';
import {
  createConnection,
  createTenantWithKeys,
  expectProblem,
  operatorApi,
  type ConnectionView,
  type SsoTestPlatform,
} from './sso-fixture.ts';

/** Tight login limits, so a test trips them in a handful of requests. */
const PER_IP = 4;
const PER_TENANT = 6;

let postgres: TestPostgres;
let running: { platform: RunningPlatform; dataDir: string };
let platform: SsoTestPlatform;
let idp: OidcTestProvider;
const loginUrls: Record<string, string> = {};
/** The state of a login to tenant B, started before its limit was used up. */
let stateOfB: string;

/** A browser request from `ip` (the platform trusts X-Forwarded-For from loopback). */
async function from(ip: string, pathname: string): Promise<Response> {
  return fetch(`${platform.url}${pathname}`, {
    redirect: 'manual',
    headers: { 'x-forwarded-for': ip },
  });
}

async function statuses(ip: string, pathname: string, times: number): Promise<number[]> {
  const seen: number[] = [];
  for (let index = 0; index < times; index += 1) seen.push((await from(ip, pathname)).status);
  return seen;
}

const callbackWith = (state: string) => `/sso/callback?code=any&state=${state}`;

async function expectTooMany(response: Response): Promise<void> {
  await expectProblem(response, 429, 'too-many-requests');
  expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
}

beforeAll(async () => {
  postgres = await startTestPostgres();
  running = await startInProcessPlatform(await postgres.createDatabase(), {
    CITADEL_RATE_LIMIT_LOGIN_PER_IP_PER_MINUTE: String(PER_IP),
    CITADEL_RATE_LIMIT_LOGIN_PER_TENANT_PER_MINUTE: String(PER_TENANT),
  });
  platform = operatorApi(running.platform.url);
  idp = await startOidcTestProvider(
    {
      clientId: 'citadel-limits',
      clientSecret: 'limits-client-secret-0123456789',
      redirectUri: `${platform.url}/sso/callback`,
    },
    {},
  );
  for (const slug of ['limit-sso-a', 'limit-sso-b']) {
    await createTenantWithKeys(platform, slug);
    const created = await createConnection(platform, slug, {
      name: 'idp',
      issuer: idp.issuer,
      clientId: 'citadel-limits',
      clientSecret: 'limits-client-secret-0123456789',
    });
    expect(created.status).toBe(201);
    loginUrls[slug] = ((await created.json()) as ConnectionView).loginUrl;
  }
  // Tenant B: one login point used.
  const started = await from('10.8.0.1', loginUrls['limit-sso-b'] ?? '');
  expect(started.status).toBe(302);
  stateOfB = new URL(started.headers.get('location') ?? '').searchParams.get('state') ?? '';
});

afterAll(async () => {
  await idp.close();
  await running.platform.close();
  await rm(running.dataDir, { recursive: true, force: true });
  await dropPlatformResources(postgres.url, running.platform.instanceId);
  await postgres.stop();
});

describe('SSO login rate limits', () => {
  it('limits logins per client IP', async () => {
    // Tenant A: 4 points used.
    const seen = await statuses('10.8.1.1', loginUrls['limit-sso-a'] ?? '', PER_IP);
    expect(seen).toEqual([302, 302, 302, 302]);
    await expectTooMany(await from('10.8.1.1', loginUrls['limit-sso-a'] ?? ''));
  });

  it('limits callbacks per client IP, on the same counter as logins', async () => {
    const seen = await statuses('10.8.2.1', callbackWith('unknown-state'), PER_IP);
    expect(seen).toEqual([400, 400, 400, 400]);
    await expectTooMany(await from('10.8.2.1', callbackWith('unknown-state')));
    await expectTooMany(await from('10.8.2.1', loginUrls['limit-sso-a'] ?? ''));
  });

  it('limits logins per tenant from every IP together, and not other tenants', async () => {
    // Tenant A: 4 + 2 = 6 points, its limit.
    expect(await statuses('10.8.3.1', loginUrls['limit-sso-a'] ?? '', 2)).toEqual([302, 302]);
    await expectTooMany(await from('10.8.3.2', loginUrls['limit-sso-a'] ?? ''));
    // Tenant B: 2 points.
    expect((await from('10.8.3.2', loginUrls['limit-sso-b'] ?? '')).status).toBe(302);
  });

  it('counts a callback against the tenant its state belongs to', async () => {
    // Passes the limits (tenant B: 3 points), then fails on its own: no browser binding.
    const unbound = await from('10.8.4.1', callbackWith(stateOfB));
    await expectProblem(unbound, 400, 'sso/login-browser-mismatch');
    // Tenant B: 6 points, its limit, reached by logins from another address.
    expect(await statuses('10.8.4.2', loginUrls['limit-sso-b'] ?? '', 3)).toEqual([302, 302, 302]);
    // A fresh address: its callback is refused for the tenant's sake, not its own.
    await expectTooMany(await from('10.8.4.3', callbackWith(stateOfB)));
    const unknown = await from('10.8.4.3', callbackWith('unknown-state'));
    await expectProblem(unknown, 400, 'sso/login-state-invalid');
  });
});
