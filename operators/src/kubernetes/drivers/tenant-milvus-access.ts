import type { TenantMilvusDatabase } from '@citadel/tenant-templates';
import type { TenantRef } from '../../core/tenant-drivers.ts';
import { milvusDatabaseName } from './milvus-vector-store-driver.ts';

/** The platform's Milvus, as the operator is configured with it (`CITADEL_MILVUS_*`). */
export interface PlatformMilvus {
  /** Where the operator, and the tenants' services, dial it: `host:port`. */
  address: string;
  /** Sent by every client; undefined where Milvus asks for none. */
  token: string | undefined;
  /** Its port, and where it lives as a NetworkPolicy peer. */
  egress: TenantMilvusDatabase['egress'];
}

/**
 * What a tenant's data plane is given of Milvus: its Milvus database for a tenant whose
 * vector engine is milvus, on a platform with Milvus; undefined for any other tenant.
 */
export type TenantMilvusAccess = (tenant: TenantRef) => TenantMilvusDatabase | undefined;

/**
 * The tenants' Milvus access on platform instance `instanceId`: the platform's address,
 * egress and token, and the database the Milvus driver creates for the tenant, by the
 * driver's own naming ({@link milvusDatabaseName}).
 */
export function createTenantMilvusAccess(
  instanceId: string,
  milvus: PlatformMilvus | undefined,
): TenantMilvusAccess {
  return (tenant) => {
    if (!milvus || tenant.spec.resources.vectorStore.engine !== 'milvus') return undefined;
    return {
      address: milvus.address,
      egress: milvus.egress,
      database: milvusDatabaseName(instanceId, tenant.slug),
      ...(milvus.token === undefined ? {} : { token: milvus.token }),
    };
  };
}
