import type pg from 'pg';
import type { TenantDrivers } from '../../core/tenant-drivers.ts';
import type { TenantSecretStore } from '../../core/tenant-secret-store.ts';
import type { DriverLogger } from './driver-logger.ts';
import { createHostSupervisor, type SupervisionPolicy } from './host-supervisor.ts';
import {
  createLocalDataExportDriver,
  type TenantExportSources,
} from './local-data-export-driver.ts';
import { createLocalDatabaseDriver } from './local-database-driver.ts';
import { createLocalGpuPoolDriver } from './local-gpu-pool-driver.ts';
import type { LocalKeyRing } from './local-key-ring.ts';
import { createLocalKeysDriver } from './local-keys-driver.ts';
import { createLocalNamespaceDriver } from './local-namespace-driver.ts';
import {
  createLocalServicesDriver,
  type DatabaseServerAddress,
  type LocalServicesControl,
} from './local-services-driver.ts';
import { assertInstanceId } from './local-tenant-names.ts';
import { createLocalVectorStoreDriver } from './local-vector-store-driver.ts';
import { createTenantDatabaseDumper } from './tenant-database-dump.ts';
import { createTenantDatabaseCredentials } from './tenant-database-credentials.ts';
import { createTenantDataKeys, type TenantDataKeys } from './tenant-data-keys.ts';

export interface LocalTenantDriversDeps {
  /** Superuser, or CREATEROLE + CREATEDB, on the platform's PostgreSQL. */
  adminPool: pg.Pool;
  /** Where tenant hosts reach that server (they get their own credentials, never the admin's). */
  adminConnection: DatabaseServerAddress;
  /** Six lower-case alphanumerics; prefixes every database and role name of this platform. */
  instanceId: string;
  /** `CITADEL_DATA_DIR`: tenant directories go under `tenants/`. */
  dataDir: string;
  keyRing: LocalKeyRing;
  secrets: TenantSecretStore;
  /** Absolute path of the data-plane host entry (`data-plane/runtime/src/host-main.ts`). */
  hostEntry: string;
  logger: DriverLogger;
  /** Extra environment for every host, e.g. `NODE_OPTIONS`. */
  hostEnvironment?: Readonly<Record<string, string>>;
  /** Restart back-off and timeouts; the defaults suit production. */
  supervision?: Partial<SupervisionPolicy>;
  /** The control plane's part of the export taken before deletion (tenant record, audit log). */
  exportSources: TenantExportSources;
  /** Where to look for a pg_dump of the server's version; by default the usual places. */
  pgDumpDirectories?: readonly string[];
}

export interface LocalTenantDrivers {
  drivers: TenantDrivers;
  /** The running hosts, for the gateway (`resolveEndpoint`) and for shutdown (`stopAll`). */
  services: LocalServicesControl;
  /** Tenant secrets encryption, for other control-plane code that stores tenant secrets. */
  dataKeys: TenantDataKeys;
}

/**
 * The embedded platform's drivers: a database and role per tenant on the platform's
 * PostgreSQL, the vector store in that database, data keys wrapped by the local key ring,
 * a private directory and a supervised data-plane host process per tenant, no GPUs, and
 * exports of deleted tenants under `<dataDir>/exports`.
 */
export function createLocalTenantDrivers(deps: LocalTenantDriversDeps): LocalTenantDrivers {
  assertInstanceId(deps.instanceId);
  const { adminPool, instanceId, dataDir, keyRing, secrets, logger } = deps;
  const dataKeys = createTenantDataKeys({ keyRing, secrets });
  const credentials = createTenantDatabaseCredentials({ secrets, dataKeys });
  const supervisor = createHostSupervisor({
    hostEntry: deps.hostEntry,
    logger,
    ...(deps.supervision ? { policy: deps.supervision } : {}),
  });
  return {
    drivers: {
      namespace: createLocalNamespaceDriver({ dataDir }),
      keys: createLocalKeysDriver({ keyRing, secrets }),
      database: createLocalDatabaseDriver({ adminPool, instanceId, secrets, credentials, logger }),
      vectorStore: createLocalVectorStoreDriver({ adminPool, instanceId, logger }),
      services: createLocalServicesDriver({
        dataDir,
        adminConnection: deps.adminConnection,
        credentials,
        dataKeys,
        secrets,
        supervisor,
        ...(deps.hostEnvironment ? { hostEnvironment: deps.hostEnvironment } : {}),
      }),
      gpuPool: createLocalGpuPoolDriver(),
      dataExport: createLocalDataExportDriver({
        dataDir,
        sources: deps.exportSources,
        dumpDatabase: createTenantDatabaseDumper({
          adminPool,
          instanceId,
          ...(deps.pgDumpDirectories ? { pgDumpDirectories: deps.pgDumpDirectories } : {}),
        }),
        logger,
      }),
    },
    services: {
      resolveEndpoint: (slug) => supervisor.resolveEndpoint(slug),
      stopAll: () => supervisor.stopAll(),
      onChange: (listener) => supervisor.onChange(listener),
    },
    dataKeys,
  };
}
