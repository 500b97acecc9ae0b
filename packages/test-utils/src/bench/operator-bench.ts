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
import { createWriteStream } from 'node:fs';
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
import { OPERATOR_NODE_FLAGS } from '../../../../infra/src/platform-manifests.ts';
import { buildOperatorBundle } from '../../../../operators/src/kubernetes/operator-bundle.ts';
import { dropPlatformResources } from '../drop-platform-resources.ts';
import { startKubeApiServer } from '../kube-api-server.ts';
import { startTestPostgres, type TestPostgres } from '../test-postgres.ts';
import { waitFor } from '../wait-for.ts';
import { percentile } from './percentile.ts';
import {
  createListWatcher,
  type WatchedObject,
} from '../../../../operators/src/kubernetes/list-watcher.ts';

const { values } = parseArgs({
  options: {
    tenants: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '50' },
    'timeout-s': { type: 'string', default: '600' },
    /** Writes a V8 CPU profile of the operator (`--cpu-prof`) into this directory. */
    'cpu-prof-dir': { type: 'string' },
    /** Runs the operator from its TypeScript source instead of the bundle it ships as. */
    source: { type: 'boolean', default: false },
    /** Writes the operator's log (JSON lines, at LOG_LEVEL or `info`) to this file. */
    'operator-log': { type: 'string' },
    /** The operator's CITADEL_RECONCILE_CONCURRENCY (its default when not given). */
    'reconcile-concurrency': { type: 'string' },
    /** Writes a Go CPU profile of the API server (20 s from the first create) to this file. */
    'api-server-profile': { type: 'string' },
    /** Node options of the operator process instead of the container's (OPERATOR_NODE_FLAGS). */
    'node-options': { type: 'string' },
  },
});
const count = Number(values.tenants);
const concurrency = Number(values.concurrency);
const timeoutMs = Number(values['timeout-s']) * 1000;
const instanceId = randomBytes(3).toString('hex');
const SAMPLE_INTERVAL_MS = 250;
/** How often the bench checks whether all are Ready (readiness itself comes from a watch). */
const POLL_INTERVAL_MS = 250;

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

const CLOCK_TICKS_PER_SECOND = 100;

/**
 * CPU seconds a process tree has used: the root's user + system time including its waited-for
 * children (cutime/cstime: PostgreSQL's backends that exited) plus its live children's.
 */
async function cpuSecondsOf(rootPid: number): Promise<number> {
  const stats = new Map<number, string[]>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      // Fields after the command name in parentheses (which may contain spaces).
      stats.set(Number(entry), stat.slice(stat.lastIndexOf(')') + 2).split(' '));
    } catch {
      // gone
    }
  }
  // Field n of proc(5) is index n - 3 here: ppid 4, utime 14, stime 15, cutime 16, cstime 17.
  const ticks = (fields: string[], withChildren: boolean) =>
    Number(fields[11]) +
    Number(fields[12]) +
    (withChildren ? Number(fields[13]) + Number(fields[14]) : 0);
  const root = stats.get(rootPid);
  if (!root) return 0;
  let total = ticks(root, true);
  const tree = new Set([rootPid]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, fields] of stats) {
      if (!tree.has(pid) && tree.has(Number(fields[1]))) {
        tree.add(pid);
        total += ticks(fields, false);
        grew = true;
      }
    }
  }
  return total / CLOCK_TICKS_PER_SECOND;
}

/** The PostgreSQL postmaster serving `url` on this machine (by its port), if it runs here. */
async function postmasterPid(url: string): Promise<number | undefined> {
  const port = new URL(url).port || '5432';
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).split('\0');
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      const parentIsPostgres = await readFile(
        `/proc/${stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]}/comm`,
        'utf8',
      ).then(
        (comm) => comm.trim() === 'postgres',
        () => false,
      );
      if (path.basename(cmdline[0] ?? '') !== 'postgres' || parentIsPostgres) continue;
      const portFlag = cmdline.indexOf('-p');
      const configured = portFlag >= 0 ? cmdline[portFlag + 1] : '5432';
      if (configured === port || cmdline.some((arg) => arg.includes(`port=${port}`))) {
        return Number(entry);
      }
    } catch {
      // gone or not ours
    }
  }
  return undefined;
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

/** The API server's requests so far, by `VERB resource` (from its `apiserver_request_total`). */
async function apiServerRequests(rest: KubernetesRestClient): Promise<Map<string, number>> {
  const text = await rest.request<string>('GET', '/metrics', { responseType: 'text' });
  const counts = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith('apiserver_request_total{')) continue;
    const label = (name: string) => new RegExp(`${name}="([^"]*)"`).exec(line)?.[1] ?? '';
    const subresource = label('subresource');
    const key = `${label('verb')} ${label('resource')}${subresource ? `/${subresource}` : ''}`;
    counts.set(key, (counts.get(key) ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  return counts;
}

/** GET /debug/pprof/profile from the API server (as its admin) into `file`. */
async function writeApiServerProfile(
  server: { url: string; token: string; caCertificate: string },
  file: string,
): Promise<void> {
  const { request } = await import('node:https');
  const { createWriteStream: open } = await import('node:fs');
  await new Promise<void>((resolve, reject) => {
    const outgoing = request(
      `${server.url}/debug/pprof/profile?seconds=20`,
      { ca: server.caCertificate, headers: { authorization: `Bearer ${server.token}` } },
      (response) => {
        const out = open(file);
        response.pipe(out);
        out.on('finish', resolve);
        response.on('error', reject);
      },
    );
    outgoing.on('error', reject);
    outgoing.end();
  });
}

interface BenchTenant extends WatchedObject {
  metadata: { name: string; generation: number; resourceVersion?: string };
  status?: { phase?: string; observedGeneration?: number };
}

const isReady = (tenant: BenchTenant) =>
  tenant.status?.phase === 'Ready' &&
  tenant.status.observedGeneration === tenant.metadata.generation;

/**
 * Records when each Tenant is first seen Ready for its generation, from a list+watch (the
 * way a client should follow many objects: polling lists of 1,000 Tenants would itself be a
 * large share of the API server's work).
 */
function watchReadiness(
  clients: ReturnType<typeof createKubernetesClients>,
  readyAt: Map<string, number>,
) {
  const path = '/apis/citadel.azora.dev/v1alpha1/tenants';
  const see = (tenant: BenchTenant) => {
    if (isReady(tenant) && !readyAt.has(tenant.metadata.name)) {
      readyAt.set(tenant.metadata.name, performance.now());
    }
  };
  const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
  return createListWatcher<BenchTenant>({
    name: 'bench-tenants',
    watch: clients.watch,
    path,
    async list() {
      const list = await clients.rest.request<{
        items: BenchTenant[];
        metadata: { resourceVersion: string };
      }>('GET', path);
      return { items: list.items, resourceVersion: list.metadata.resourceVersion };
    },
    onList: (items) => items.forEach(see),
    onEvent: (event) => see(event.object),
    logger: quiet,
  });
}

async function main(): Promise<void> {
  const startedAt = Date.now();
  // What the operator's container runs (npm run build:operator), unless --source.
  const operatorEntry = values.source ? OPERATOR_MAIN : await buildOperatorBundle();
  let embedded: TestPostgres | undefined;
  const databaseUrl = process.env.DATABASE_URL ?? (embedded = await startTestPostgres()).url;
  // Each tenant gets several Services: the test server's default /24 runs out after ~60 tenants.
  const server = await startKubeApiServer({
    apiServerFlags: [
      '--service-cluster-ip-range=10.0.0.0/16',
      ...(values['api-server-profile'] ? ['--profiling=true'] : []),
    ],
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
    const profileFlags = values['cpu-prof-dir']
      ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(values['cpu-prof-dir'])}`]
      : [];
    child = spawn(process.execPath, [...profileFlags, operatorEntry], {
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
        // The heap limits the operator's container runs with, unless told otherwise.
        NODE_OPTIONS: values['node-options'] ?? OPERATOR_NODE_FLAGS.join(' '),
        CITADEL_TENANT_DATABASE_SSLMODE: 'disable',
        LOG_LEVEL: values['operator-log'] ? (process.env.LOG_LEVEL ?? 'info') : 'warn',
        ...(values['reconcile-concurrency']
          ? { CITADEL_RECONCILE_CONCURRENCY: values['reconcile-concurrency'] }
          : {}),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const log = values['operator-log'] ? createWriteStream(values['operator-log']) : undefined;
    const keep = (chunk: string) => {
      log?.write(chunk);
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
    const postgresPid = await postmasterPid(databaseUrl);
    const cpuTrees = {
      operator: [operatorPid],
      apiServer: apiPids,
      etcd: etcdPids,
      postgres: postgresPid === undefined ? [] : [postgresPid],
    };
    const cpuNow = async () => {
      const seconds: Record<string, number> = {};
      for (const [name, pids] of Object.entries(cpuTrees)) {
        seconds[name] = 0;
        for (const pid of pids) seconds[name] += await cpuSecondsOf(pid);
      }
      return seconds;
    };
    const cpuBefore = await cpuNow();
    const requestsBefore = await apiServerRequests(clients.rest);

    const slugs = Array.from(
      { length: count },
      (_, index) => `bench${String(index).padStart(4, '0')}`,
    );
    const createdAt = new Map<string, number>();
    const readyAt = new Map<string, number>();
    const profiling = values['api-server-profile']
      ? writeApiServerProfile(server, values['api-server-profile'])
      : undefined;
    const readiness = watchReadiness(clients, readyAt);
    await readiness.start();
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
    let lastReport = t0;
    while (readyAt.size < count && performance.now() - t0 < timeoutMs) {
      await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
      const now = performance.now();
      if (now - lastReport >= 10_000) {
        lastReport = now;
        console.info(
          `${Math.round((now - t0) / 1000)} s: ${createdAt.size} created, ${readyAt.size} Ready`,
        );
      }
    }
    await creating;
    await profiling;
    readiness.stop();
    const allReadyMs = Math.max(...readyAt.values(), t0) - t0;
    clearInterval(sampler);
    const after = await metrics(port);
    const cpuAfter = await cpuNow();
    const requestsAfter = await apiServerRequests(clients.rest);
    const requestDeltas = [...requestsAfter]
      .map(([key, total]): [string, number] => [key, total - (requestsBefore.get(key) ?? 0)])
      .filter(([, total]) => total > 0)
      .sort(([, a], [, b]) => b - a);
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
      operatorAtEnd: {
        heapUsedMiB: mib((after.citadel_operator_nodejs_heap_size_used_bytes ?? 0) / 1024),
        heapTotalMiB: mib((after.citadel_operator_nodejs_heap_size_total_bytes ?? 0) / 1024),
        externalMiB: mib((after.citadel_operator_nodejs_external_memory_bytes ?? 0) / 1024),
        cachedObjects: after.citadel_operator_cached_objects ?? 0,
      },
      reconciles: delta('citadel_operator_reconciles_total'),
      reconcileErrors: delta('citadel_operator_reconcile_errors_total'),
      watchErrors: delta('citadel_operator_watch_errors_total'),
      // CPU seconds each server used during the run (PostgreSQL: the postmaster's tree, when local).
      cpuSeconds: Object.fromEntries(
        Object.keys(cpuAfter).map((name) => [
          name,
          Math.round(((cpuAfter[name] ?? 0) - (cpuBefore[name] ?? 0)) * 10) / 10,
        ]),
      ),
      apiRequests: {
        total: requestDeltas.reduce((sum, [, total]) => sum + total, 0),
        // The busiest, the bench's own creates and lists included.
        top: Object.fromEntries(requestDeltas.slice(0, 12)),
      },
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
      // SIGTERM first: a clean exit is what writes the CPU profile.
      const exited = new Promise((resolve) => child?.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child?.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
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
