import type { TenantResource, TenantStatus } from '@citadel/contracts';

/**
 * Where Tenant resources live: the control plane's database for the local platform,
 * the Kubernetes API for the operator. The reconciler reads and writes only through it.
 */
export interface TenantStore {
  /** Every tenant's slug, for periodic resync. */
  listSlugs(): Promise<string[]>;
  get(slug: string): Promise<TenantResource | undefined>;
  /** Writes status if the tenant with `uid` still exists. */
  writeStatus(slug: string, uid: string, status: TenantStatus): Promise<void>;
  /**
   * Removes a finalizer; once a tenant marked for deletion has none left, the store
   * deletes it for good.
   */
  removeFinalizer(slug: string, uid: string, finalizer: string): Promise<void>;
}
