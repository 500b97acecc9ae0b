import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  dropPlatformResources,
  queryRows,
  startPlatformProcess,
  startTestPostgres,
  waitFor,
  type PlatformProcess,
  type TestPostgres,
} from '@citadel/test-utils';

const ADMIN_TOKEN = 'crash-test-admin-token-0123456789';
const TENANTS = Array.from({ length: 10 }, (_unused, index) => `crash-${index}`);

let postgres: TestPostgres;
let databaseUrl: string;
let platform: PlatformProcess | undefined;

beforeAll(async () => {
  postgres = await startTestPostgres();
  databaseUrl = await postgres.createDatabase();
});

afterAll(async () => {
  await platform?.stop();
  const instance = await query<{ value: string }>(
    "SELECT value FROM platform_settings WHERE key = 'instance_id'",
  );
  if (instance[0]) await dropPlatformResources(postgres.url, instance[0].value);
  await postgres.stop();
});

async function api(base: string, pathname: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${base}${pathname}`, {
    ...init,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
  });
}

function query<T extends pg.QueryResultRow>(sql: string, values: unknown[] = []): Promise<T[]> {
  return queryRows<T>(databaseUrl, sql, values);
}

describe('crash safety', () => {
  it('converges after SIGKILL of the control plane mid-provisioning: every tenant Ready, one database and role each', async () => {
    const env = {
      DATABASE_URL: databaseUrl,
      CITADEL_ADMIN_TOKEN: ADMIN_TOKEN,
      CITADEL_RECONCILE_CONCURRENCY: '4',
    };
    platform = await startPlatformProcess({ env });
    const first = platform;
    const responses = await Promise.all(
      TENANTS.map((slug) =>
        api(first.url, '/api/v1/tenants', {
          method: 'POST',
          body: JSON.stringify({ slug, displayName: slug, plan: 'starter' }),
        }),
      ),
    );
    expect(responses.map((response) => response.status)).toEqual(TENANTS.map(() => 202));
    // Kill as soon as provisioning is under way, before it can finish.
    await waitFor(
      async () => {
        const rows = await query<{ count: string }>(
          "SELECT count(*) FROM tenants WHERE phase = 'Provisioning'",
        );
        return Number(rows[0]?.count) > 0 ? true : undefined;
      },
      { intervalMs: 5, description: 'provisioning to start' },
    );
    await first.stop('SIGKILL');
    const readyBeforeKill = await query<{ count: string }>(
      "SELECT count(*) FROM tenants WHERE phase = 'Ready'",
    );
    expect(Number(readyBeforeKill[0]?.count)).toBeLessThan(TENANTS.length);

    platform = await startPlatformProcess({ env, dataDir: first.dataDir });
    const second = platform;
    await waitFor(
      async () => {
        const phases = await Promise.all(
          TENANTS.map(async (slug) => {
            const tenant = (await (await api(second.url, `/api/v1/tenants/${slug}`)).json()) as {
              status: { phase: string };
            };
            return tenant.status.phase;
          }),
        );
        return phases.every((phase) => phase === 'Ready') ? true : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 250, description: 'all tenants Ready after the restart' },
    );

    const instance = await query<{ value: string }>(
      "SELECT value FROM platform_settings WHERE key = 'instance_id'",
    );
    const prefix = `citadel_${instance[0]?.value}_crash_`;
    const databases = await query<{ datname: string }>(
      'SELECT datname FROM pg_database WHERE datname LIKE $1 ORDER BY 1',
      [`${prefix}%`],
    );
    const roles = await query<{ rolname: string }>(
      'SELECT rolname FROM pg_roles WHERE rolname LIKE $1 ORDER BY 1',
      [`${prefix}%`],
    );
    const expected = TENANTS.map((slug) => `${prefix}${slug.slice('crash-'.length)}`).sort();
    expect(databases.map((row) => row.datname)).toEqual(expected);
    expect(roles.map((row) => row.rolname)).toEqual(expected);
    const keys = await query<{ count: string }>(
      'SELECT count(*) FROM tenant_data_keys WHERE active',
    );
    expect(Number(keys[0]?.count)).toBe(TENANTS.length);

    // Every host answers through the gateway of the restarted platform.
    for (const slug of TENANTS) {
      await waitFor(
        async () =>
          (await api(second.url, `/t/${slug}/healthz`)).status === 200 ? true : undefined,
        {
          timeoutMs: 30_000,
          description: `${slug}'s host to answer`,
        },
      );
    }
  });
});
