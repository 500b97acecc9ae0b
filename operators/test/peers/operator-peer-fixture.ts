import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { parse } from 'yaml';
import { defaultTenantSpec, findPlan, type TenantSpec } from '@citadel/contracts';
import {
  freeLoopbackPort,
  startKubeApiServer,
  startTestPostgres,
  waitFor,
  type KubeApiServer,
  type KubeApiServerOptions,
  type TestPostgres,
} from '@citadel/test-utils';
import {
  createKubernetesClients,
  kubeConfigFromString,
  type KubernetesClients,
} from '../../src/kubernetes/kubernetes-clients.ts';
import {
  resourcePath,
  type KubernetesRestClient,
} from '../../src/kubernetes/kubernetes-rest-client.ts';
import type { KubernetesTemplateParameters } from '../../src/kubernetes/tenant-object-renderer.ts';

/** Any object, as plain JSON. */
export interface TestObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [key: string]: unknown };
  [key: string]: unknown;
}

const repositoryRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const CRD_FILE = path.join(repositoryRoot, 'operators/crd/tenants.citadel.azora.dev.yaml');
export const OPERATOR_MAIN = path.join(repositoryRoot, 'operators/src/kubernetes/operator-main.ts');
export const OPERATOR_NAMESPACE = 'citadel-system';
export const INSTANCE_ID = 'peer01';
export const DATA_PLANE_IMAGE = 'registry.example.com/citadel/data-plane:1.4.2';
export const TEMPLATE_PARAMETERS: KubernetesTemplateParameters = {
  image: { repository: 'registry.example.com/citadel/data-plane', tag: '1.4.2' },
  gateway: { namespace: OPERATOR_NAMESPACE },
  platformEndpoints: [{ name: 'database', port: 5432, destination: { cidr: '127.0.0.1/32' } }],
};

/** A real API server with the Tenant CRD, a real PostgreSQL, and a directory for the master key. */
export interface OperatorPeerWorld {
  server: KubeApiServer;
  postgres: TestPostgres;
  clients: KubernetesClients;
  adminPool: pg.Pool;
  /** The operator's data directory: master key and exports. */
  dataDir: string;
  stop(): Promise<void>;
}

export async function startOperatorPeerWorld(
  serverOptions: KubeApiServerOptions = {},
): Promise<OperatorPeerWorld> {
  const [server, postgres, dataDir] = await Promise.all([
    startKubeApiServer(serverOptions),
    startTestPostgres(),
    mkdtemp(path.join(tmpdir(), 'citadel-operator-')),
  ]);
  const clients = createKubernetesClients(kubeConfigFromString(server.kubeconfig));
  const adminPool = new pg.Pool({ connectionString: postgres.url, max: 8 });
  // Idle connections see the server stop at the end; that is no test failure.
  adminPool.on('error', () => undefined);
  await applyTenantCrd(clients.rest);
  await serverSideApply(clients.rest, {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: OPERATOR_NAMESPACE },
  });
  return {
    server,
    postgres,
    clients,
    adminPool,
    dataDir,
    async stop() {
      await adminPool.end();
      await Promise.all([server.stop(), postgres.stop()]);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** operator-main.ts running as a child process, as `npm run operator` runs it. */
export interface OperatorProcess {
  identity: string;
  /** Where it serves /metrics, /healthz and /readyz. */
  port: number;
  child: ChildProcess;
  /** Everything it wrote on stdout and stderr (its JSON log lines), in order. */
  output: string[];
  exited: Promise<number | null>;
}

/**
 * Starts the operator against `world`'s API server (as the admin unless `env` gives another
 * KUBECONFIG) and PostgreSQL, with `world.dataDir`, and waits until it serves /healthz.
 * `env` adds or replaces variables.
 */
export async function startOperatorProcess(
  world: OperatorPeerWorld,
  options: { identity: string; env?: Record<string, string> },
): Promise<OperatorProcess> {
  const port = await freeLoopbackPort();
  const child = spawn(process.execPath, [OPERATOR_MAIN], {
    env: {
      PATH: process.env.PATH ?? '',
      KUBECONFIG: world.server.kubeconfigPath,
      DATABASE_URL: world.postgres.url,
      CITADEL_INSTANCE_ID: INSTANCE_ID,
      CITADEL_DATA_DIR: world.dataDir,
      CITADEL_DATA_PLANE_IMAGE: DATA_PLANE_IMAGE,
      CITADEL_OPERATOR_NAMESPACE: OPERATOR_NAMESPACE,
      CITADEL_OPERATOR_IDENTITY: options.identity,
      CITADEL_OPERATOR_HOST: '127.0.0.1',
      CITADEL_OPERATOR_PORT: String(port),
      CITADEL_TENANT_DATABASE_SSLMODE: 'disable',
      LOG_LEVEL: 'info',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => output.push(chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => output.push(chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  try {
    await waitFor(
      async () => ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok ? true : undefined),
      { timeoutMs: 30_000, description: `operator ${options.identity} to serve /healthz` },
    );
  } catch (error) {
    child.kill('SIGKILL');
    await exited;
    throw new Error(`${(error as Error).message}; its output:\n${output.join('').slice(-4_000)}`, {
      cause: error,
    });
  }
  return { identity: options.identity, port, child, output, exited };
}

/** The sum of a metric's series on the operator's /metrics; undefined when it has none. */
export async function operatorMetric(
  operator: OperatorProcess,
  name: string,
): Promise<number | undefined> {
  const response = await fetch(`http://127.0.0.1:${operator.port}/metrics`);
  const text = await response.text();
  const values = text
    .split('\n')
    .filter((line) => line.startsWith(`${name} `) || line.startsWith(`${name}{`))
    .map((line) => Number(line.slice(line.lastIndexOf(' ') + 1)));
  return values.length === 0 ? undefined : values.reduce((sum, value) => sum + value, 0);
}

const pathOf = (object: TestObject) =>
  resourcePath(object, object.metadata.namespace, object.metadata.name);

/** Applies `object` as a test (field manager `peer-test`), not as the operator. */
export function serverSideApply(
  rest: KubernetesRestClient,
  object: TestObject,
  fieldManager = 'peer-test',
): Promise<TestObject> {
  return rest.request('PATCH', pathOf(object), {
    query: { fieldManager, force: true },
    body: object,
    contentType: 'application/apply-patch+yaml',
  });
}

/** A JSON merge patch by `fieldManager`, as `kubectl edit` or `kubectl patch` would send. */
export function mergePatch(
  rest: KubernetesRestClient,
  object: TestObject,
  fieldManager: string,
): Promise<TestObject> {
  return rest.request('PATCH', pathOf(object), {
    query: { fieldManager },
    body: object,
    contentType: 'application/merge-patch+json',
  });
}

export async function readObject<T extends TestObject = TestObject>(
  rest: KubernetesRestClient,
  type: { apiVersion: string; kind: string },
  name: string,
  namespace?: string,
): Promise<T | undefined> {
  try {
    return await rest.request<T>('GET', resourcePath(type, namespace, name));
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return undefined;
    throw error;
  }
}

export async function deleteObject(rest: KubernetesRestClient, object: TestObject): Promise<void> {
  await rest.request('DELETE', pathOf(object));
}

/** Applies the committed CRD and waits until the API server serves Tenants. */
export async function applyTenantCrd(rest: KubernetesRestClient): Promise<void> {
  const crd = parse(await readFile(CRD_FILE, 'utf8')) as TestObject;
  await serverSideApply(rest, crd);
  await waitFor(
    async () => {
      const read = (await readObject(rest, crd, crd.metadata.name)) as {
        status?: { conditions?: Array<{ type: string; status: string }> };
      };
      const established = read.status?.conditions?.some(
        (condition) => condition.type === 'Established' && condition.status === 'True',
      );
      return established ? true : undefined;
    },
    { timeoutMs: 30_000, description: 'the Tenant CRD to be established' },
  );
}

export function tenantSpec(slug: string, planId = 'starter'): TenantSpec {
  const plan = findPlan(planId);
  if (!plan) throw new Error(`no plan ${planId}`);
  return defaultTenantSpec({ slug, displayName: slug, plan, region: 'local' });
}

/** A Tenant custom resource, as a user applies it. */
export function tenantObject(slug: string, spec: TenantSpec = tenantSpec(slug)): TestObject {
  return {
    apiVersion: 'citadel.azora.dev/v1alpha1',
    kind: 'Tenant',
    metadata: { name: slug },
    spec,
  };
}

export interface TenantView {
  metadata: {
    name: string;
    uid: string;
    generation: number;
    finalizers?: string[];
    deletionTimestamp?: string;
  };
  spec: TenantSpec;
  status?: {
    phase?: string;
    observedGeneration?: number;
    conditions?: Array<{
      type: string;
      status: string;
      reason: string;
      message: string;
      lastTransitionTime: string;
    }>;
    endpoints?: Record<string, string>;
  };
}

export async function readTenant(
  clients: KubernetesClients,
  slug: string,
): Promise<TenantView | undefined> {
  const tenant = await readObject(clients.rest, tenantObject(slug), slug);
  return tenant as unknown as TenantView | undefined;
}

/** Waits until the tenant is Ready for its current generation. */
export function waitForReady(clients: KubernetesClients, slug: string, timeoutMs = 90_000) {
  return waitFor(
    async () => {
      const tenant = await readTenant(clients, slug);
      const ready =
        tenant?.status?.phase === 'Ready' &&
        tenant.status.observedGeneration === tenant.metadata.generation;
      return ready ? tenant : undefined;
    },
    { timeoutMs, intervalMs: 100, description: `tenant ${slug} to be Ready` },
  );
}

/** Names of the tenant's objects of a kind in its namespace, sorted. */
export async function objectNames(
  clients: KubernetesClients,
  type: { apiVersion: string; kind: string },
  namespace: string,
): Promise<string[]> {
  const list = await clients.rest.request<{ items: TestObject[] }>(
    'GET',
    resourcePath(type, namespace),
  );
  return list.items.map((item) => item.metadata.name).sort();
}

/**
 * Database roles of platform instance `instanceId` on the test PostgreSQL. Test files that
 * may run at once on one server (`DATABASE_URL`) use instance ids of their own.
 */
export async function tenantRoles(
  adminPool: pg.Pool,
  instanceId: string = INSTANCE_ID,
): Promise<string[]> {
  const { rows } = await adminPool.query<{ rolname: string }>(
    `SELECT rolname FROM pg_roles WHERE rolname LIKE $1 ORDER BY rolname`,
    [`citadel_${instanceId}_%`],
  );
  return rows.map((row) => row.rolname);
}
