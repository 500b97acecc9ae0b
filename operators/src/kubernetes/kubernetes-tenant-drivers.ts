import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type pg from 'pg';
import type { ObservedGpuPool, ObservedKeys, ObservedVectorStore } from '../core/observed-state.ts';
import type { GpuPoolAction, KeysAction, VectorStoreAction } from '../core/reconcile-action.ts';
import type { ComponentDriver, TenantDrivers } from '../core/tenant-drivers.ts';
import type { DriverLogger } from '../drivers/local/driver-logger.ts';
import {
  createLocalDataExportDriver,
  type TenantExportSources,
} from '../drivers/local/local-data-export-driver.ts';
import { createLocalDatabaseDriver } from '../drivers/local/local-database-driver.ts';
import type { LocalKeyRing } from '../drivers/local/local-key-ring.ts';
import { createLocalKeysDriver } from '../drivers/local/local-keys-driver.ts';
import { assertInstanceId } from '../drivers/local/local-tenant-names.ts';
import { createLocalVectorStoreDriver } from '../drivers/local/local-vector-store-driver.ts';
import { createTenantDatabaseDumper } from '../drivers/local/tenant-database-dump.ts';
import { createTenantDatabaseCredentials } from '../drivers/local/tenant-database-credentials.ts';
import { createTenantDataKeys } from '../drivers/local/tenant-data-keys.ts';
import {
  createKubernetesDatabaseDriver,
  type DatabaseAddress,
} from './drivers/kubernetes-database-driver.ts';
import { createKubernetesNamespaceDriver } from './drivers/kubernetes-namespace-driver.ts';
import { createKubernetesServicesDriver } from './drivers/kubernetes-services-driver.ts';
import { createKubernetesTenantSecretStore } from './drivers/kubernetes-tenant-secret-store.ts';
import { createTenantMilvusAccess, type PlatformMilvus } from './drivers/tenant-milvus-access.ts';
import { createUnavailableGpuPoolDriver } from './drivers/unavailable-gpu-pool-driver.ts';
import { createVectorStoreEngineDriver } from './drivers/vector-store-engine-driver.ts';
import type { KubernetesClients } from './kubernetes-clients.ts';
import { createServerSideApplier } from './server-side-applier.ts';
import type { TenantObjectCache } from './tenant-object-cache.ts';
import type { KubernetesTemplateParameters } from './tenant-object-renderer.ts';

/** Drivers that wrap the data-key driver with a cloud key, and own the GPU pool (Pulumi). */
export interface CloudResourceDrivers {
  keys(
    dataKeys: ComponentDriver<ObservedKeys, KeysAction>,
  ): ComponentDriver<ObservedKeys, KeysAction>;
  gpuPool: ComponentDriver<ObservedGpuPool, GpuPoolAction>;
}

export interface KubernetesTenantDriversDeps {
  clients: KubernetesClients;
  /** Superuser, or CREATEROLE + CREATEDB, on the platform's PostgreSQL. */
  adminPool: pg.Pool;
  /** Six lower-case alphanumerics; prefixes every database and role name of this platform. */
  instanceId: string;
  /** The platform master key that wraps every tenant's data keys. */
  keyRing: LocalKeyRing;
  /** The operator's namespace, where each tenant's wrapped keys are kept (one Secret each). */
  operatorNamespace: string;
  parameters: KubernetesTemplateParameters;
  /** Where the tenant's pods reach PostgreSQL. */
  databaseAddress: DatabaseAddress;
  /** Exports of deleted tenants go to `<dataDir>/exports` (a persistent volume). */
  dataDir: string;
  /** The Tenant resource and plan for an export's `tenant.json`. */
  describeTenant: TenantExportSources['describeTenant'];
  logger: DriverLogger;
  /**
   * The platform's Milvus: a database per tenant whose spec asks for Milvus (`driver`), and
   * where those tenants' services reach it (`platform`).
   */
  milvus?: {
    driver: ComponentDriver<ObservedVectorStore, VectorStoreAction>;
    platform: PlatformMilvus;
  };
  /** KMS key and GPU node group per tenant (Pulumi tenant stacks). */
  cloud?: CloudResourceDrivers;
  /** The operator's cache of the tenants' objects (see {@link TenantObjectCache}). */
  cache?: TenantObjectCache;
}

/**
 * The operator's audit part of an export: the audit log is the control plane's (kept in its
 * database and exported by it), so the operator says where it is instead of copying it.
 */
async function noteAuditLogLocation(directory: string) {
  await writeFile(
    join(directory, 'audit-log.txt'),
    "The tenant's audit log is kept and exported by the Citadel control plane " +
      '(GET /api/v1/tenants/{slug}/audit/export); this export was taken by the Kubernetes operator.\n',
    { mode: 0o600, flag: 'wx' },
  );
  return { entries: 0, lastSequence: 0, signingKeyIds: [] };
}

/**
 * The drivers of the Kubernetes operator: the isolation boundary, the database login Secret
 * and the services as Kubernetes objects (server-side apply); the database, role, vector
 * store, data keys and export through the same drivers as the local platform, with their
 * secrets kept in Kubernetes Secrets; Milvus and the cloud resources when configured. A
 * milvus tenant's services are given its Milvus database: address, database and token, and
 * the egress to it.
 */
export function createKubernetesTenantDrivers(deps: KubernetesTenantDriversDeps): TenantDrivers {
  assertInstanceId(deps.instanceId);
  const { adminPool, instanceId, keyRing, logger, parameters } = deps;
  const applier = createServerSideApplier({
    rest: deps.clients.rest,
    logger,
    ...(deps.cache ? { cache: deps.cache } : {}),
  });
  const secrets = createKubernetesTenantSecretStore({
    rest: deps.clients.rest,
    namespace: deps.operatorNamespace,
  });
  const dataKeys = createTenantDataKeys({ keyRing, secrets });
  const credentials = createTenantDatabaseCredentials({ secrets, dataKeys });
  const keys = createLocalKeysDriver({ keyRing, secrets });
  const milvus = createTenantMilvusAccess(instanceId, deps.milvus?.platform);
  return {
    namespace: createKubernetesNamespaceDriver({ applier, parameters, milvus }),
    keys: deps.cloud ? deps.cloud.keys(keys) : keys,
    database: createKubernetesDatabaseDriver({
      database: createLocalDatabaseDriver({ adminPool, instanceId, secrets, credentials, logger }),
      credentials,
      dataKeys,
      applier,
      parameters,
      address: deps.databaseAddress,
      milvus,
    }),
    vectorStore: createVectorStoreEngineDriver({
      pgvector: createLocalVectorStoreDriver({ adminPool, instanceId, logger }),
      milvus: deps.milvus?.driver,
    }),
    services: createKubernetesServicesDriver({ applier, parameters, secrets, milvus }),
    gpuPool: deps.cloud?.gpuPool ?? createUnavailableGpuPoolDriver(),
    dataExport: createLocalDataExportDriver({
      dataDir: deps.dataDir,
      sources: {
        describeTenant: deps.describeTenant,
        exportAuditLog: (_tenant, directory) => noteAuditLogLocation(directory),
      },
      dumpDatabase: createTenantDatabaseDumper({ adminPool, instanceId }),
      logger,
    }),
  };
}
