import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropPlatformResources, startTestPostgres, type TestPostgres } from '@citadel/test-utils';
import type { RunningPlatform } from '../src/platform.ts';
import { ADMIN_TOKEN, startInProcessPlatform } from './platform-fixture.ts';

/** Tight limits, so a test trips them in a handful of requests. */
const LIMITS = {
  CITADEL_RATE_LIMIT_SCIM_PER_MINUTE: '5',
  CITADEL_RATE_LIMIT_SCIM_PER_IP_PER_MINUTE: '20',
  CITADEL_RATE_LIMIT_FAILED_AUTH_PER_IP_PER_MINUTE: '3',
};

let postgres: TestPostgres;
const running: Array<{ platform: RunningPlatform; dataDir: string }> = [];

/** A platform on `databaseUrl` with the tight limits; two on one database are replicas. */
async function startLimitedPlatform(databaseUrl: string): Promise<RunningPlatform> {
  const started = await startInProcessPlatform(databaseUrl, LIMITS);
  running.push(started);
  return started.platform;
}

/** A request from `ip` (the platform trusts X-Forwarded-For from loopback). */
function from(ip: string, token?: string, init: RequestInit = {}): RequestInit {
  const headers = new Headers(init.headers);
  headers.set('x-forwarded-for', ip);
  if (token !== undefined) headers.set('authorization', `Bearer ${token}`);
  if (typeof init.body === 'string') headers.set('content-type', 'application/json');
  return { ...init, headers };
}

async function statuses(url: string, init: RequestInit, times: number): Promise<number[]> {
  const seen: number[] = [];
  for (let index = 0; index < times; index += 1) seen.push((await fetch(url, init)).status);
  return seen;
}

beforeAll(async () => {
  postgres = await startTestPostgres();
});

afterAll(async () => {
  for (const { platform, dataDir } of running.reverse()) {
    await platform.close();
    await rm(dataDir, { recursive: true, force: true });
  }
  for (const instanceId of new Set(running.map(({ platform }) => platform.instanceId))) {
    await dropPlatformResources(postgres.url, instanceId);
  }
  await postgres.stop();
});

describe('abuse limits on a running platform', () => {
  let platform: RunningPlatform;
  const scimTokens: Record<string, string> = {};

  beforeAll(async () => {
    platform = await startLimitedPlatform(await postgres.createDatabase());
    for (const slug of ['limits-a', 'limits-b']) {
      const admin = (init: RequestInit = {}) => from('10.9.0.1', ADMIN_TOKEN, init);
      const created = await fetch(
        `${platform.url}/api/v1/tenants`,
        admin({
          method: 'POST',
          body: JSON.stringify({ slug, displayName: slug, plan: 'starter' }),
        }),
      );
      expect(created.status).toBe(202);
      const issued = await fetch(
        `${platform.url}/api/v1/tenants/${slug}/scim-tokens`,
        admin({ method: 'POST', body: JSON.stringify({ name: 'idp' }) }),
      );
      expect(issued.status).toBe(201);
      scimTokens[slug] = ((await issued.json()) as { token: string }).token;
    }
  });

  it('limits SCIM per token: tenant A hammering does not limit tenant B', async () => {
    const users = `${platform.url}/scim/v2/Users`;
    const tokenA = scimTokens['limits-a'];
    expect(await statuses(users, from('10.0.0.1', tokenA), 6)).toEqual([
      200, 200, 200, 200, 200, 429,
    ]);
    // From another address too: the limit is the token's (the tenant's), not the IP's.
    const limited = await fetch(users, from('10.0.0.2', tokenA));
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(limited.headers.get('content-type')).toMatch(/^application\/scim\+json/);
    expect(await limited.json()).toMatchObject({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
      status: '429',
    });

    expect((await fetch(users, from('10.0.0.1', scimTokens['limits-b']))).status).toBe(200);
  });

  it('limits SCIM per IP before authentication', async () => {
    // No token at all: the per-token limit never applies, only the address's.
    const seen = await statuses(`${platform.url}/scim/v2/Users`, from('10.0.1.1'), 21);
    expect(seen.slice(0, 20).every((status) => status === 401)).toBe(true);
    expect(seen[20]).toBe(429);
  });

  it('answers 429 to an IP after repeated gateway 401s, and not to other IPs', async () => {
    const gateway = `${platform.url}/t/limits-a/library/v1/search`;
    expect(await statuses(gateway, from('10.0.2.1', 'wrong-key'), 4)).toEqual([401, 401, 401, 429]);
    const limited = await fetch(gateway, from('10.0.2.1', ADMIN_TOKEN));
    expect(limited.status).toBe(429);
    expect(limited.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await limited.json()).toMatchObject({ status: 429 });

    const other = await fetch(gateway, from('10.0.2.2', ADMIN_TOKEN));
    expect([401, 429]).not.toContain(other.status);
    // Health paths need no credentials and are never counted.
    const health = await fetch(`${platform.url}/t/limits-a/healthz`, from('10.0.2.1'));
    expect(health.status).not.toBe(429);
  });
});

const redisUrl = process.env.REDIS_URL;

// Two replicas share counters only through Redis; without REDIS_URL each counts in its own
// memory, which is the documented single-process behaviour, so there is nothing to test.
describe.skipIf(redisUrl === undefined || redisUrl === '')(
  'abuse limits across replicas on one Redis',
  () => {
    it('shares the SCIM per-IP counter between two platform instances', async () => {
      // A database of its own with no tenants: two controllers never reconcile the same one.
      const databaseUrl = await postgres.createDatabase();
      const first = await startLimitedPlatform(databaseUrl);
      const second = await startLimitedPlatform(databaseUrl);
      expect(second.instanceId).toBe(first.instanceId);

      const request = from('10.0.3.1');
      const firstHalf = await statuses(`${first.url}/scim/v2/Users`, request, 10);
      const secondHalf = await statuses(`${second.url}/scim/v2/Users`, request, 10);
      expect([...firstHalf, ...secondHalf].every((status) => status === 401)).toBe(true);
      expect((await fetch(`${first.url}/scim/v2/Users`, request)).status).toBe(429);
      expect((await fetch(`${second.url}/scim/v2/Users`, request)).status).toBe(429);
    });
  },
);
