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
import {
  processPeakRss,
  sampleProcessTree,
  type ProcessGroup,
  type ProcessTreeSample,
} from './process-tree-stats.ts';
import { percentile } from './percentile.ts';

const { values } = parseArgs({
  options: {
    tenants: { type: 'string', default: '50' },
    plan: { type: 'string', default: 'starter' },
    json: { type: 'boolean', default: false },
  },
});
const count = Number(values.tenants);
/** How often the tenant list is read; each read costs the platform CPU, so not too often. */
const POLL_INTERVAL_MS = 100;
const token = 'bench-admin-token-0123456789abcdef';

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
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
  return readyAfter;
}

interface PeakMemory {
  pssBytes: number;
  processes: number;
}

/** Samples the platform's process tree every 250 ms and keeps the peak. */
function trackPeakMemory(pid: number): { peak: PeakMemory; stop(): void } {
  const peak: PeakMemory = { pssBytes: 0, processes: 0 };
  const timer = setInterval(() => {
    void sampleProcessTree(pid).then((sample) => {
      peak.pssBytes = Math.max(peak.pssBytes, sample.pssBytes);
      peak.processes = Math.max(peak.processes, sample.processes);
    });
  }, 250);
  return { peak, stop: () => clearInterval(timer) };
}

function cpuDelta(before: ProcessTreeSample, after: ProcessTreeSample): Record<string, number> {
  return Object.fromEntries(
    Object.entries(after.cpuSecondsByGroup).map(([group, seconds]) => [
      group,
      Math.round((seconds - before.cpuSecondsByGroup[group as ProcessGroup]) * 100) / 100,
    ]),
  );
}

function report(result: Record<string, unknown> & { cpuSeconds: Record<string, number> }): string {
  const cpu = Object.entries(result.cpuSeconds)
    .map(([group, seconds]) => `${group} ${String(seconds)} s`)
    .join(', ');
  return (
    `tenants: ${String(result.ready)}/${String(result.tenants)} Ready in ${String(result.allReadyMs)} ms\n` +
    `time to Ready: p50 ${String(result.p50Ms)} ms, p95 ${String(result.p95Ms)} ms, max ${String(result.maxMs)} ms\n` +
    `peak memory: control plane ${String(result.controlPlanePeakRssMiB)} MiB RSS; whole platform ${String(result.platformPeakPssMiB)} MiB PSS over ${String(result.peakProcesses)} processes (control plane, PostgreSQL, tenant hosts)\n` +
    `CPU used while provisioning: ${cpu}\n` +
    `machine: ${String(result.machine)}\n`
  );
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
  const memory = trackPeakMemory(pid);
  try {
    const slugs = Array.from(
      { length: count },
      (_unused, index) => `bench-${String(index).padStart(4, '0')}`,
    );
    const cpuBefore = await sampleProcessTree(pid);
    const started = performance.now();
    const sentAt = await createTenants(client, slugs);
    const readyAfter = await waitForReady(client, sentAt, started);
    const allReadyMs = performance.now() - started;
    const cpuAfter = await sampleProcessTree(pid);
    const times = [...readyAfter.values()].sort((a, b) => a - b);
    const result = {
      tenants: count,
      ready: readyAfter.size,
      p50Ms: Math.round(percentile(times, 0.5)),
      p95Ms: Math.round(percentile(times, 0.95)),
      maxMs: Math.round(times.at(-1) ?? Number.NaN),
      allReadyMs: Math.round(allReadyMs),
      controlPlanePeakRssMiB: mib(await processPeakRss(pid)),
      platformPeakPssMiB: mib(memory.peak.pssBytes),
      peakProcesses: memory.peak.processes,
      cpuSeconds: cpuDelta(cpuBefore, cpuAfter),
      machine: `${String(os.cpus().length)} cores, ${String(mib(os.totalmem()))} MiB, ${process.version}, ${process.env.DATABASE_URL ? 'DATABASE_URL server' : 'embedded PostgreSQL'}`,
    };
    process.stdout.write(values.json ? `${JSON.stringify(result)}\n` : report(result));
    if (readyAfter.size < count) process.exitCode = 1;
  } finally {
    memory.stop();
    await platform.stop('SIGTERM');
    await rm(platform.dataDir, { recursive: true, force: true });
  }
}

await main();
