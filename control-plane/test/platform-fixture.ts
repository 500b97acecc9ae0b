import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  dropPlatformResources,
  startTestPostgres,
  waitFor,
  type TestPostgres,
} from '@citadel/test-utils';
import type { TenantPhase } from '@citadel/contracts';
import { readPlatformConfig } from '../src/config/platform-config.ts';
import { createLogger } from '../src/logger.ts';
import { startPlatform, type RunningPlatform } from '../src/platform.ts';

export const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';

/** The platform started in-process on a fresh database of a real PostgreSQL. */
export interface PlatformFixture {
  platform: RunningPlatform;
  databaseUrl: string;
  dataDir: string;
  postgres: TestPostgres;
  api(pathname: string, init?: RequestInit & { token?: string | undefined }): Promise<Response>;
  waitForPhase(slug: string, phase: TenantPhase, timeoutMs?: number): Promise<TenantView>;
  close(): Promise<void>;
}

export interface TenantView {
  slug: string;
  metadata: { uid: string; generation: number };
  status: {
    phase: TenantPhase;
    observedGeneration: number;
    conditions: Array<{ type: string; status: string; reason: string }>;
    endpoints: Record<string, string>;
  };
}

/**
 * The platform started in-process on `databaseUrl` with a fresh data directory, as the
 * tests configure it; `env` adds or overrides variables (e.g. tight rate limits).
 */
export async function startInProcessPlatform(
  databaseUrl: string,
  env: Record<string, string | undefined> = {},
): Promise<{ platform: RunningPlatform; dataDir: string }> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'citadel-cp-'));
  const config = readPlatformConfig(
    {
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_URL: databaseUrl,
      CITADEL_DATA_DIR: dataDir,
      CITADEL_ADMIN_TOKEN: ADMIN_TOKEN,
      REDIS_URL: process.env.REDIS_URL,
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      ...env,
    },
    process.cwd(),
  );
  const platform = await startPlatform(config, createLogger(config.logLevel));
  return { platform, dataDir };
}

export async function startPlatformFixture(): Promise<PlatformFixture> {
  const postgres = await startTestPostgres();
  const databaseUrl = await postgres.createDatabase();
  const { platform, dataDir } = await startInProcessPlatform(databaseUrl);

  async function api(pathname: string, init: RequestInit & { token?: string | undefined } = {}) {
    const { token = ADMIN_TOKEN, ...rest } = init;
    const headers = new Headers(rest.headers);
    if (token !== '') headers.set('authorization', `Bearer ${token}`);
    if (typeof rest.body === 'string' && !headers.has('content-type'))
      headers.set('content-type', 'application/json');
    return fetch(`${platform.url}${pathname}`, { ...rest, headers });
  }

  return {
    platform,
    databaseUrl,
    dataDir,
    postgres,
    api,
    async waitForPhase(slug, phase, timeoutMs = 30_000) {
      return waitFor(
        async () => {
          const response = await api(`/api/v1/tenants/${slug}`);
          const tenant = (await response.json()) as TenantView;
          const settled =
            tenant.status.phase === phase &&
            tenant.status.observedGeneration >= tenant.metadata.generation;
          return settled ? tenant : undefined;
        },
        { timeoutMs, description: `tenant ${slug} to reach ${phase}` },
      );
    },
    async close() {
      await platform.close();
      await dropPlatformResources(postgres.url, platform.instanceId);
      await postgres.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
