import type { MilvusClient } from '@zilliz/milvus2-sdk-node';
import type { ObservedVectorStore } from '../../core/observed-state.ts';
import type { VectorStoreAction } from '../../core/reconcile-action.ts';
import type { ComponentDriver, TenantRef } from '../../core/tenant-drivers.ts';
import type { DriverLogger } from '../../drivers/local/driver-logger.ts';
import { localTenantNames } from '../../drivers/local/local-tenant-names.ts';

export interface MilvusVectorStoreDriverDeps {
  /** A connected client (`new MilvusClient({ address, token })`). */
  client: MilvusClient;
  instanceId: string;
  logger: DriverLogger;
  /** Per-call deadline; Milvus calls wait forever without one. */
  timeoutMs?: number;
}

/** A Milvus reply's status: the SDK resolves failed calls too, with a non-Success code. */
interface MilvusStatus {
  error_code?: string | number;
  code?: number;
  reason?: string;
}

function check(operation: string, status: MilvusStatus | undefined): void {
  const succeeded =
    status !== undefined &&
    (status.error_code === 'Success' || status.error_code === 0) &&
    (status.code ?? 0) === 0;
  if (!succeeded) {
    const reason = status?.reason ?? 'no status in the reply';
    throw new Error(
      `Milvus ${operation} failed: ${String(status?.error_code ?? '')} ${reason}`.trim(),
    );
  }
}

/**
 * The name of tenant `slug`'s Milvus database on platform instance `instanceId`: its
 * PostgreSQL database's name (`citadel_<instance>_<slug>`), which Milvus accepts as well.
 * The driver creates it under this name, and the tenant's services are told this name.
 */
export function milvusDatabaseName(instanceId: string, slug: string): string {
  return localTenantNames(instanceId, slug).databaseName;
}

/**
 * The tenant's vectors in a Milvus database of its own, named like its PostgreSQL database
 * (see {@link milvusDatabaseName}): created on `ensure`; on `remove`, its collections are
 * dropped and then the database (Milvus drops only empty databases). The services create
 * their collections in it; the operator owns only the database.
 */
export function createMilvusVectorStoreDriver(
  deps: MilvusVectorStoreDriverDeps,
): ComponentDriver<ObservedVectorStore, VectorStoreAction> {
  const { client, instanceId, logger } = deps;
  const timeout = deps.timeoutMs ?? 15_000;
  const databaseName = (tenant: TenantRef) => milvusDatabaseName(instanceId, tenant.slug);

  const exists = async (name: string): Promise<boolean> => {
    const reply = await client.listDatabases({ timeout });
    check('ListDatabases', reply.status);
    return reply.db_names.includes(name);
  };

  const remove = async (name: string) => {
    if (!(await exists(name))) return;
    const collections = await client.showCollections({ db_name: name, timeout });
    check('ShowCollections', collections.status);
    for (const { name: collection } of collections.data) {
      check(
        'DropCollection',
        await client.dropCollection({ collection_name: collection, db_name: name, timeout }),
      );
    }
    check('DropDatabase', await client.dropDatabase({ db_name: name, timeout }));
  };

  return {
    async observe(tenant) {
      return (await exists(databaseName(tenant)))
        ? { ready: true, engine: 'milvus' }
        : { ready: false, engine: undefined };
    },
    async apply(tenant, action) {
      const name = databaseName(tenant);
      if (action.type === 'remove') {
        await remove(name);
        logger.info({ tenant: tenant.slug, database: name }, 'Milvus database dropped');
        return;
      }
      if (await exists(name)) return;
      check('CreateDatabase', await client.createDatabase({ db_name: name, timeout }));
      logger.info({ tenant: tenant.slug, database: name }, 'Milvus database created');
    },
  };
}
