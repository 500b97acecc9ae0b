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

async function main(): Promise<void> {
  const platform = await startPlatformProcess({
    env: { CITADEL_ADMIN_TOKEN: token, DATABASE_URL: process.env.DATABASE_URL },
    startTimeoutMs: 180_000,
  });
  const pid = platform.child.pid ?? 0;
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  let peakTreeBytes = 0;
  let peakProcesses = 0;
  const sampler = setInterval(() => {
    void processTreeRss(pid).then((sample) => {
      peakTreeBytes = Math.max(peakTreeBytes, sample.totalBytes);
      peakProcesses = Math.max(peakProcesses, sample.processes);
    });
  }, 100);

  try {
    const slugs = Array.from({ length: count }, (_unused, index) => `bench-${String(index).padStart(4, '0')}`);
    const sentAt = new Map<string, number>();
    const readyAfter = new Map<string, number>();
    const started = performance.now();
    await Promise.all(
      slugs.map(async (slug) => {
        sentAt.set(slug, performance.now());
        const response = await fetch(`${platform.url}/api/v1/tenants`, {
          method: 'POST',
          headers,
          body: JSON.stringify({ slug, displayName: slug, plan: values.plan }),
        });
        if (response.status !== 202) throw new Error(`create ${slug}: ${response.status} ${await response.text()}`);
      }),
    );
    const deadline = Date.now() + 300_000;
    while (readyAfter.size < count && Date.now() < deadline) {
      let cursor: string | undefined;
      do {
        const query = `?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
        const page = (await (await fetch(`${platform.url}/api/v1/tenants${query}`, { headers })).json()) as {
          items: Array<{ slug: string; status: { phase: string } }>;
          nextCursor?: string;
        };
        const now = performance.now();
        for (const tenant of page.items) {
          if (tenant.status.phase === 'Ready' && !readyAfter.has(tenant.slug)) {
            readyAfter.set(tenant.slug, now - (sentAt.get(tenant.slug) ?? started));
          }
        }
        cursor = page.nextCursor;
      } while (cursor !== undefined);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
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
