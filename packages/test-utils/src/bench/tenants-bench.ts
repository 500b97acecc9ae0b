/**
 * `npm run bench:tenants [-- --tenants 50 --plan starter]`: starts the platform as
 * `npm start` does (embedded PostgreSQL unless DATABASE_URL is set), creates N tenants
 * at once, and reports the time each took from its create request to Ready (p50/p95/max)
 * and the platform's peak memory.
 */
import { rm } from 'node:fs/promises';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { startPlatformProcess } from '../platform-process.ts';
import { processPeakRss, processTreeRss } from './process-tree-memory.ts';

const { values } = parseArgs({
  options: {
    tenants: { type: 'string', default: '50' },
    plan: { type: 'string', default: 'starter' },
    json: { type: 'boolean', default: false },
  },
});
const count = Number(values.tenants);
const token = 'bench-admin-token-0123456789abcdef';

function percentile(sorted: number[], fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1);
  return sorted[Math.max(0, index)] ?? Number.NaN;
}

const mib = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;

/** The platform's API as the benchmark calls it. */
interface BenchClient {
  url: string;
  headers: Record<string, string>;
}

interface TenantPage {
  items: Array<{ slug: string; status: { phase: string } }>;
  nextCursor?: string;
}

/** Sends every create request at once; returns when each was sent. */
async function createTenants(client: BenchClient, slugs: string[]): Promise<Map<string, number>> {
  const sentAt = new Map<string, number>();
  await Promise.all(
    slugs.map(async (slug) => {
      sentAt.set(slug, performance.now());
      const response = await fetch(`${client.url}/api/v1/tenants`, {
        method: 'POST',
        headers: client.headers,
        body: JSON.stringify({ slug, displayName: slug, plan: values.plan }),
      });
      if (response.status !== 202)
        throw new Error(`create ${slug}: ${response.status} ${await response.text()}`);
    }),
  );
  return sentAt;
}

/** Every page of the tenant list, fetched as it is consumed. */
async function* tenantPages(client: BenchClient): AsyncGenerator<TenantPage> {
  let cursor: string | undefined;
  do {
    const query = `?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const response = await fetch(`${client.url}/api/v1/tenants${query}`, {
      headers: client.headers,
    });
    const page = (await response.json()) as TenantPage;
    yield page;
    cursor = page.nextCursor;
  } while (cursor !== undefined);
}

/**
 * Polls the tenant list until every tenant is Ready or five minutes pass; returns each
 * Ready tenant's time from its create request to the poll that saw it Ready.
 */
async function waitForReady(
  client: BenchClient,
  sentAt: Map<string, number>,
  started: number,
): Promise<Map<string, number>> {
  const readyAfter = new Map<string, number>();
  const deadline = Date.now() + 300_000;
  while (readyAfter.size < count && Date.now() < deadline) {
    for await (const page of tenantPages(client)) {
      const now = performance.now();
      const newlyReady = page.items.filter(
        (tenant) => tenant.status.phase === 'Ready' && !readyAfter.has(tenant.slug),
      );
      for (const tenant of newlyReady) {
        readyAfter.set(tenant.slug, now - (sentAt.get(tenant.slug) ?? started));
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return readyAfter;
}

async function main(): Promise<void> {
  const platform = await startPlatformProcess({
    env: { CITADEL_ADMIN_TOKEN: token, DATABASE_URL: process.env.DATABASE_URL },
    startTimeoutMs: 180_000,
  });
  const pid = platform.child.pid ?? 0;
  const client: BenchClient = {
    url: platform.url,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
  };
  let peakTreeBytes = 0;
  let peakProcesses = 0;
  const sampler = setInterval(() => {
    void processTreeRss(pid).then((sample) => {
      peakTreeBytes = Math.max(peakTreeBytes, sample.totalBytes);
      peakProcesses = Math.max(peakProcesses, sample.processes);
    });
  }, 100);

  try {
    const slugs = Array.from(
      { length: count },
      (_unused, index) => `bench-${String(index).padStart(4, '0')}`,
    );
    const started = performance.now();
    const sentAt = await createTenants(client, slugs);
    const readyAfter = await waitForReady(client, sentAt, started);
    const allReadyMs = performance.now() - started;
    const times = [...readyAfter.values()].sort((a, b) => a - b);
    const controlPlanePeak = await processPeakRss(pid);
    const result = {
      tenants: count,
      ready: readyAfter.size,
      p50Ms: Math.round(percentile(times, 0.5)),
      p95Ms: Math.round(percentile(times, 0.95)),
      maxMs: Math.round(times.at(-1) ?? Number.NaN),
      allReadyMs: Math.round(allReadyMs),
      controlPlanePeakRssMiB: mib(controlPlanePeak),
      platformPeakRssMiB: mib(peakTreeBytes),
      peakProcesses,
      machine: `${os.cpus().length} cores, ${mib(os.totalmem())} MiB, ${process.version}, ${process.env.DATABASE_URL ? 'DATABASE_URL server' : 'embedded PostgreSQL'}`,
    };
    if (values.json) {
      process.stdout.write(`${JSON.stringify(result)}\n`);
    } else {
      process.stdout.write(
        `tenants: ${result.ready}/${result.tenants} Ready in ${result.allReadyMs} ms\n` +
          `time to Ready: p50 ${result.p50Ms} ms, p95 ${result.p95Ms} ms, max ${result.maxMs} ms\n` +
          `peak memory: control plane ${result.controlPlanePeakRssMiB} MiB; whole platform (control plane, PostgreSQL, ${result.peakProcesses} processes incl. tenant hosts) ${result.platformPeakRssMiB} MiB\n` +
          `machine: ${result.machine}\n`,
      );
    }
    if (readyAfter.size < count) process.exitCode = 1;
  } finally {
    clearInterval(sampler);
    await platform.stop('SIGTERM');
    await rm(platform.dataDir, { recursive: true, force: true });
  }
}

await main();
