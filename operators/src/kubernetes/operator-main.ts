/**
 * The Kubernetes operator's entry point (`npm run operator`): reads its configuration from
 * the environment, serves /metrics, /healthz and /readyz, and reconciles Tenants while it
 * holds the leader Lease. SIGTERM and SIGINT stop it cleanly and free the Lease.
 */
import pg from 'pg';
import { findPlan } from '@citadel/contracts';
import { createLocalKeyRing } from '../drivers/local/local-key-ring.ts';
import { createKubernetesClients, loadKubeConfig } from './kubernetes-clients.ts';
import { createKubernetesTenantDrivers } from './kubernetes-tenant-drivers.ts';
import { createKubernetesTenantOperator } from './kubernetes-tenant-operator.ts';
import { createKubernetesTenantStore } from './kubernetes-tenant-store.ts';
import { createJsonLinesLogger } from './json-lines-logger.ts';
import { createOptionalDrivers } from './optional-drivers.ts';
import { OperatorConfigError, readOperatorConfig } from './operator-config.ts';
import { startOperatorHttpServer } from './operator-http-server.ts';
import { createTenantObjectCache } from './tenant-object-cache.ts';
import { TENANT_OBJECT_TYPES } from './tenant-object-renderer.ts';

async function main(): Promise<void> {
  const config = readOperatorConfig(process.env);
  const logger = createJsonLinesLogger(config.logLevel, {
    component: 'operator',
    identity: config.identity,
  });
  const clients = createKubernetesClients(loadKubeConfig(config.kubeconfigPath));
  const adminPool = new pg.Pool({ connectionString: config.databaseUrl, max: 8 });
  adminPool.on('error', (error) => logger.warn({ err: error }, 'idle database connection failed'));
  const keyRing = await createLocalKeyRing({ dataDir: config.dataDir });
  // Reads only: the export's `tenant.json` is the Tenant as the API server has it.
  const tenants = createKubernetesTenantStore({ rest: clients.rest, watch: clients.watch, logger });
  const optional = await createOptionalDrivers(config, logger);
  const cache = createTenantObjectCache(TENANT_OBJECT_TYPES);
  const drivers = createKubernetesTenantDrivers({
    clients,
    adminPool,
    instanceId: config.instanceId,
    keyRing,
    operatorNamespace: config.namespace,
    parameters: config.templates,
    databaseAddress: config.tenantDatabase,
    dataDir: config.dataDir,
    async describeTenant(tenant) {
      const resource = await tenants.get(tenant.slug);
      if (resource?.metadata.uid !== tenant.uid) {
        throw new Error(`tenant ${tenant.slug} (${tenant.uid}) is not stored`);
      }
      return { tenant: resource, plan: findPlan(resource.spec.plan) };
    },
    logger,
    cache,
    ...optional,
  });
  const operator = createKubernetesTenantOperator({
    clients,
    drivers,
    logger,
    leaderElection: {
      namespace: config.namespace,
      leaseName: config.leaseName,
      identity: config.identity,
      timings: config.leaseTimings,
    },
    cache,
    concurrency: config.concurrency,
    resyncIntervalMs: config.resyncIntervalMs,
    publicUrl: config.publicUrl,
  });
  const http = await startOperatorHttpServer({
    registry: operator.metrics.registry,
    readiness: () => operator.readiness(),
    host: config.http.host,
    port: config.http.port,
  });
  logger.info(
    { port: http.port, namespace: config.namespace, lease: config.leaseName },
    'operator started',
  );
  operator.start();

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping: finishing reconciles in flight, releasing the lease');
    await operator.stop({ release: true });
    await http.close();
    await adminPool.end();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((error: unknown) => {
  const message =
    error instanceof OperatorConfigError ? error.message : String((error as Error).stack ?? error);
  process.stderr.write(`${message}\n`);
  process.exit(1);
});
