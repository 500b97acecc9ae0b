import { access, chmod, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startPlatformProcess, waitFor, type PlatformProcess } from '@citadel/test-utils';

// `npm start` as a newcomer runs it: no DATABASE_URL, no token, nothing installed.
const unset = { DATABASE_URL: undefined, REDIS_URL: undefined, CITADEL_ADMIN_TOKEN: undefined };
let dataDir: string;
let running: PlatformProcess | undefined;

afterAll(async () => {
  await running?.stop();
  // The embedded server may still be flushing its last WAL segment as it exits.
  if (dataDir) await rm(dataDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
});

async function tenantPhase(base: string, token: string, slug: string): Promise<string | undefined> {
  const response = await fetch(`${base}/api/v1/tenants/${slug}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  if (response.status !== 200) return undefined;
  return ((await response.json()) as { status: { phase: string } }).status.phase;
}

describe('the embedded default', () => {
  it('runs its own PostgreSQL, prints a token once, keeps data across a clean restart', async () => {
    // The directory must be enterable by the `postgres` OS user when tests run as root.
    dataDir = await mkdtemp(path.join(tmpdir(), 'citadel-embedded-'));
    await chmod(dataDir, 0o711);

    running = await startPlatformProcess({ dataDir, env: unset });
    const first = running;
    const banner = first.output.join('\n');
    const token = /export CITADEL_ADMIN_TOKEN=(ctd_admin_\S+)/.exec(banner)?.[1];
    expect(token).toBeDefined();
    const tokenFile = path.join(dataDir, 'initial-admin-token');
    expect((await stat(tokenFile)).mode & 0o777).toBe(0o600);
    expect((await stat(path.join(dataDir, 'keys', 'master.key'))).mode & 0o777).toBe(0o600);
    expect((await readFile(tokenFile, 'utf8')).trim()).toBe(token);

    const created = await fetch(`${first.url}/api/v1/tenants`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ slug: 'embedded-co', displayName: 'Embedded Co', plan: 'business' }),
    });
    expect(created.status).toBe(202);
    await waitFor(
      async () =>
        (await tenantPhase(first.url, token ?? '', 'embedded-co')) === 'Ready' ? true : undefined,
      {
        timeoutMs: 30_000,
        description: 'tenant Ready on the embedded database',
      },
    );

    const exitCode = await first.stop('SIGTERM');
    // On a failure, show how the platform's shutdown ended.
    expect(exitCode, first.output.slice(-20).join('\n')).toBe(0);
    // A clean shutdown stops the embedded server too.
    await expect(
      access(path.join(dataDir, 'postgres', 'pgdata', 'postmaster.pid')),
    ).rejects.toThrow();

    running = await startPlatformProcess({ dataDir, env: unset });
    const second = running;
    expect(second.output.join('\n')).not.toMatch(/CITADEL_ADMIN_TOKEN=/);
    await waitFor(
      async () =>
        (await tenantPhase(second.url, token ?? '', 'embedded-co')) === 'Ready' ? true : undefined,
      {
        timeoutMs: 30_000,
        description: 'tenant Ready again after the restart',
      },
    );
    // Status is from the last run until the restarted reconciler has looked again; the
    // host itself is the proof that the tenant was brought back.
    const health = await waitFor(
      async () => {
        const response = await fetch(`${second.url}/t/embedded-co/healthz`);
        return response.status === 200 ? response : undefined;
      },
      { timeoutMs: 30_000, description: 'the tenant host to be back' },
    );
    expect(await health.json()).toMatchObject({ database: { connected: true } });
  });
});
