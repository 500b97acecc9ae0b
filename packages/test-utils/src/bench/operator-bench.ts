/**
 * `npm run bench:operator [-- --tenants 1000 --concurrency 50]`: starts a real
 * kube-apiserver and etcd (startKubeApiServer), applies the Tenant CRD, runs the operator as
 * a child process against PostgreSQL (DATABASE_URL, or an embedded one), creates N Tenant
 * objects at once and reports the time until all are Ready, p50/p95 per tenant
 * time-to-Ready, the operator's peak RSS (VmHWM, sampled with VmRSS every 250 ms), the API
 * server's and etcd's RSS, and reconciles/errors from the operator's /metrics. Drops the
 * databases and roles the operator created and stops everything at the end.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createLocalKeyRing } from '../../../../operators/src/drivers/local/local-key-ring.ts';
import {
  createKubernetesClients,
  kubeConfigFromString,
} from '../../../../operators/src/kubernetes/kubernetes-clients.ts';
import type { KubernetesRestClient } from '../../../../operators/src/kubernetes/kubernetes-rest-client.ts';
import {
  applyTenantCrd,
  DATA_PLANE_IMAGE,
  OPERATOR_MAIN,
  OPERATOR_NAMESPACE,
  serverSideApply,
  tenantObject,
} from '../../../../operators/test/peers/operator-peer-fixture.ts';
import { dropPlatformResources } from '../drop-platform-resources.ts';
import { startKubeApiServer } from '../kube-api-server.ts';
import { startTestPostgres, type TestPostgres } from '../test-postgres.ts';
import { waitFor } from '../wait-for.ts';
import { percentile } from './percentile.ts';

const { values } = parseArgs({
  options: {
    tenants: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '50' },
    'timeout-s': { type: 'string', default: '600' },
  },
});
const count = Number(values.tenants);
const concurrency = Number(values.concurrency);
const timeoutMs = Number(values['timeout-s']) * 1000;
const instanceId = randomBytes(3).toString('hex');
const SAMPLE_INTERVAL_MS = 250;
const POLL_INTERVAL_MS = 500;

const mib = (kib: number) => Math.round((kib / 1024) * 10) / 10;
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (typeof address === 'object' && address !== null) resolve(address.port);
        else reject(new Error('no port'));
      });
    });
  });
}

/** VmRSS and VmHWM of a process in KiB, or undefined once it is gone. */
async function memoryOf(pid: number): Promise<{ rss: number; hwm: number } | undefined> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const field = (name: string) =>
      Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
    return { rss: field('VmRSS'), hwm: field('VmHWM') };
  } catch {
    return undefined;
  }
}

/** Pids of processes whose command line names `binary` and mentions `marker` (the server's directory). */
async function findPids(binary: string, marker: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).split('\0');
      if (
        path.basename(cmdline[0] ?? '') === binary &&
        cmdline.some((arg) => arg.includes(marker))
      ) {
        pids.push(Number(entry));
      }
    } catch {
      // gone
    }
  }
  return pids;
}

async function metrics(port: number): Promise<Record<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const sums: Record<string, number> = {};
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)?.[0];
    if (!name) continue;
    sums[name] = (sums[name] ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sums;
}

/** Names of the Tenants that are Ready for their current generation. */
async function readyTenants(rest: KubernetesRestClient): Promise<string[]> {
  const list = await rest.request<{
    items: Array<{
      metadata: { name: string; generation: number };
      status?: { phase?: string; observedGeneration?: number };
    }>;
  }>('GET', '/apis/citadel.azora.dev/v1alpha1/tenants');
  return list.items
    .filter(
      (item) =>
        item.status?.phase === 'Ready' &&
        item.status.observedGeneration === item.metadata.generation,
    )
    .map((item) => item.metadata.name);
}

async function main(): Promise<void> {
  const startedAt = Date.now();
  let embedded: TestPostgres | undefined;
  const databaseUrl = process.env.DATABASE_URL ?? (embedded = await startTestPostgres()).url;
  // Each tenant gets several Services: the test server's default /24 runs out after ~60 tenants.
  const server = await startKubeApiServer({
    apiServerFlags: ['--service-cluster-ip-range=10.0.0.0/16'],
  });
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'citadel-operator-bench-'));
  const clients = createKubernetesClients(kubeConfigFromString(server.kubeconfig));
  let child: ReturnType<typeof spawn> | undefined;
  const output: string[] = [];
  try {
    await applyTenantCrd(clients.rest);
    await serverSideApply(clients.rest, {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: OPERATOR_NAMESPACE },
    });
    await createLocalKeyRing({ dataDir });
    const port = await freePort();
    child = spawn(process.execPath, [OPERATOR_MAIN], {
      env: {
        PATH: process.env.PATH ?? '',
        KUBECONFIG: server.kubeconfigPath,
        DATABASE_URL: databaseUrl,
        CITADEL_INSTANCE_ID: instanceId,
        CITADEL_DATA_DIR: dataDir,
        CITADEL_DATA_PLANE_IMAGE: DATA_PLANE_IMAGE,
        CITADEL_OPERATOR_NAMESPACE: OPERATOR_NAMESPACE,
        CITADEL_OPERATOR_IDENTITY: 'bench',
        CITADEL_OPERATOR_HOST: '127.0.0.1',
        CITADEL_OPERATOR_PORT: String(port),
        CITADEL_TENANT_DATABASE_SSLMODE: 'disable',
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (chunk: string) => {
      output.push(chunk);
      if (output.length > 200) output.shift();
    };
    child.stdout?.setEncoding('utf8').on('data', keep);
    child.stderr?.setEncoding('utf8').on('data', keep);
    const operatorPid = child.pid ?? 0;
    await waitFor(
      async () => ((await metrics(port)).citadel_operator_leader === 1 ? true : undefined),
      { timeoutMs: 60_000, description: 'the operator to lead' },
    );
    const apiPids = await findPids('kube-apiserver', server.directory);
    const etcdPids = await findPids('etcd', server.directory);
    const peak = { operator: 0, operatorHwm: 0, apiServer: 0, etcd: 0 };
    const sumRss = async (pids: number[]) => {
      let total = 0;
      for (const pid of pids) total += (await memoryOf(pid))?.rss ?? 0;
      return total;
    };
    const sampler = setInterval(() => {
      void (async () => {
        const operator = await memoryOf(operatorPid);
        if (operator) {
          peak.operator = Math.max(peak.operator, operator.rss);
          peak.operatorHwm = Math.max(peak.operatorHwm, operator.hwm);
        }
        peak.apiServer = Math.max(peak.apiServer, await sumRss(apiPids));
        peak.etcd = Math.max(peak.etcd, await sumRss(etcdPids));
      })();
    }, SAMPLE_INTERVAL_MS);
    const before = await metrics(port);
    const idleOperator = await memoryOf(operatorPid);

    const slugs = Array.from(
      { length: count },
      (_, index) => `bench${String(index).padStart(4, '0')}`,
    );
    const createdAt = new Map<string, number>();
    const readyAt = new Map<string, number>();
    const t0 = performance.now();
    const queue = slugs.values();
    let createErrors = 0;
    const creating = Promise.all(
      Array.from({ length: Math.min(concurrency, count) }, async () => {
        // The workers share one iterator: each slug is taken once.
        for (const slug of queue) {
          const sentAt = performance.now();
          try {
            await serverSideApply(clients.rest, tenantObject(slug));
            createdAt.set(slug, sentAt);
          } catch (error) {
            createErrors++;
            console.error(`create ${slug}: ${(error as Error).message}`);
          }
        }
      }),
    );
    let createdAllMs = Number.NaN;
    void creating.then(() => (createdAllMs = performance.now() - t0));
    while (readyAt.size < count && performance.now() - t0 < timeoutMs) {
      await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
      const ready = await readyTenants(clients.rest);
      const now = performance.now();
      ready.filter((name) => !readyAt.has(name)).forEach((name) => readyAt.set(name, now));
      if (Math.round(now - t0) % 10_000 < POLL_INTERVAL_MS) {
        console.info(
          `${Math.round((now - t0) / 1000)} s: ${createdAt.size} created, ${readyAt.size} Ready`,
        );
      }
    }
    await creating;
    const allReadyMs = performance.now() - t0;
    clearInterval(sampler);
    const after = await metrics(port);
    const finalOperator = await memoryOf(operatorPid);
    const latencies = [...readyAt]
      .map(([slug, at]) => at - (createdAt.get(slug) ?? t0))
      .sort((a, b) => a - b);
    const delta = (name: string) => (after[name] ?? 0) - (before[name] ?? 0);
    const result = {
      tenants: count,
      concurrency,
      ready: readyAt.size,
      createErrors,
      allCreatedS: Math.round(createdAllMs / 100) / 10,
      allReadyS: readyAt.size === count ? Math.round(allReadyMs / 100) / 10 : null,
      perTenantMs: {
        p50: Math.round(percentile(latencies, 0.5)),
        p95: Math.round(percentile(latencies, 0.95)),
        max: Math.round(latencies.at(-1) ?? Number.NaN),
      },
      operatorPeakRssMiB: mib(Math.max(peak.operatorHwm, finalOperator?.hwm ?? 0, peak.operator)),
      operatorIdleRssMiB: mib(idleOperator?.rss ?? 0),
      operatorFinalRssMiB: mib(finalOperator?.rss ?? 0),
      apiServerPeakRssMiB: mib(peak.apiServer),
      etcdPeakRssMiB: mib(peak.etcd),
      reconciles: delta('citadel_operator_reconciles_total'),
      reconcileErrors: delta('citadel_operator_reconcile_errors_total'),
      watchErrors: delta('citadel_operator_watch_errors_total'),
      postgres: embedded ? 'embedded' : 'DATABASE_URL',
      machine: `${os.cpus().length} vCPUs, ${Math.round(os.totalmem() / 2 ** 30)} GiB`,
    };
    console.info(JSON.stringify(result, null, 2));
    if (readyAt.size < count) {
      console.error(
        `only ${readyAt.size}/${count} Ready; operator output tail:\n${output.join('').slice(-4000)}`,
      );
      process.exitCode = 1;
    }
  } finally {
    if (child?.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child?.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }
    await server.stop();
    const cleanupStart = Date.now();
    await dropPlatformResources(databaseUrl, instanceId);
    await embedded?.stop();
    await rm(dataDir, { recursive: true, force: true });
    console.info(
      `cleanup (databases and roles citadel_${instanceId}_*) ${Math.round((Date.now() - cleanupStart) / 100) / 10} s; total ${Math.round((Date.now() - startedAt) / 1000)} s`,
    );
  }
}

await main();
