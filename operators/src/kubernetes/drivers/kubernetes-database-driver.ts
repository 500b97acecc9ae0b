import {
  DATABASE_CREDENTIALS_SECRET,
  tenantNamespaceName,
  type DatabaseCredentials,
} from '@citadel/tenant-templates';
import type { ObservedDatabase } from '../../core/observed-state.ts';
import type { DatabaseAction } from '../../core/reconcile-action.ts';
import type { ComponentDriver, TenantRef } from '../../core/tenant-drivers.ts';
import type { TenantDatabaseCredentials } from '../../drivers/local/tenant-database-credentials.ts';
import { withUnwrappedKeySet, type TenantDataKeys } from '../../drivers/local/tenant-data-keys.ts';
import { findDrift, objectKey } from '../manifest-drift.ts';
import type { ServerSideApplier } from '../server-side-applier.ts';
import {
  renderCredentialsSecret,
  SECRET_TYPE,
  type KubernetesTemplateParameters,
} from '../tenant-object-renderer.ts';
import type { TenantMilvusAccess } from './tenant-milvus-access.ts';

/** Where the tenant's pods reach the platform's PostgreSQL (not where the operator does). */
export type DatabaseAddress = Pick<DatabaseCredentials, 'host' | 'port' | 'sslMode'>;

export interface KubernetesDatabaseDriverDeps {
  /** The database and role driver shared with the local platform (SQL on the platform's PostgreSQL). */
  database: ComponentDriver<ObservedDatabase, DatabaseAction>;
  /** Reads the login the shared driver stored (decrypted with the tenant's data key). */
  credentials: TenantDatabaseCredentials;
  /** Unwraps the tenant's data keys, which the Secret carries to the tenant's hosts too. */
  dataKeys: TenantDataKeys;
  applier: ServerSideApplier;
  parameters: KubernetesTemplateParameters;
  address: DatabaseAddress;
  /** A milvus tenant's Milvus database, whose token the Secret carries too. */
  milvus: TenantMilvusAccess;
}

/**
 * The tenant's database and role — the local platform's driver, shared — plus the Secret
 * `database-credentials` that carries the login, the tenant's data keys and a milvus
 * tenant's Milvus token into the tenant's namespace. The login counts as stored only while
 * that Secret holds exactly it, every current key and the platform's current token, so a
 * deleted or edited Secret, a key rotation or a new token makes the planner ask for
 * `ensure-role`, which finds the role and password in place and applies the Secret again.
 */
export function createKubernetesDatabaseDriver(
  deps: KubernetesDatabaseDriverDeps,
): ComponentDriver<ObservedDatabase, DatabaseAction> {
  const { database, credentials, dataKeys, applier, parameters, address, milvus } = deps;

  const desiredSecret = async (tenant: TenantRef) => {
    const login = await credentials.read(tenant.uid);
    if (!login) return undefined;
    const databaseCredentials = {
      ...address,
      database: login.databaseName,
      username: login.roleName,
      password: login.password,
    };
    return withUnwrappedKeySet(dataKeys, tenant.uid, (keySet) =>
      renderCredentialsSecret(tenant, parameters, {
        credentials: databaseCredentials,
        dataKeys: keySet,
        milvus: milvus(tenant),
      }),
    );
  };

  const secretReference = (tenant: TenantRef, name: string) => ({
    ...SECRET_TYPE,
    metadata: { name, namespace: tenantNamespaceName(tenant.slug) },
  });

  const secretInPlace = async (tenant: TenantRef): Promise<boolean> => {
    const desired = await desiredSecret(tenant);
    if (!desired) return false;
    const live = await applier.read(secretReference(tenant, DATABASE_CREDENTIALS_SECRET));
    const liveObjects = new Map(live ? [[objectKey(desired), live]] : []);
    return findDrift([desired], liveObjects).length === 0;
  };

  const applySecret = async (tenant: TenantRef) => {
    const desired = await desiredSecret(tenant);
    if (!desired)
      throw new Error(`tenant ${tenant.slug}: no database login stored after ensure-role`);
    await applier.apply(desired);
  };

  return {
    async observe(tenant) {
      const observed = await database.observe(tenant);
      if (!observed.credentialsStored) return observed;
      return { ...observed, credentialsStored: await secretInPlace(tenant) };
    },
    async apply(tenant, action) {
      await database.apply(tenant, action);
      if (action.type === 'ensure-role') await applySecret(tenant);
      // The login is gone: so goes the Secret that carried it (before the namespace does).
      if (action.type === 'remove') {
        await applier.remove(secretReference(tenant, DATABASE_CREDENTIALS_SECRET));
      }
    },
  };
}
