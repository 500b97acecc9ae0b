import type { PlanDefinition, TenantResource, TenantSpec } from '@citadel/contracts';

export interface TenantPage {
  items: TenantResource[];
  /** Opaque; absent on the last page. */
  nextCursor: string | undefined;
}

/** A position in the tenant list: tenants are ordered by creation time, then id. */
export interface TenantCursor {
  createdAt: Date;
  id: string;
}

/** Persistence of Tenant resources for the control plane's use cases. */
export interface TenantRepository {
  findPlan(planId: string): Promise<PlanDefinition | undefined>;
  /** Inserts a tenant; throws TenantError('tenant-exists') when the slug is taken. */
  create(
    spec: TenantSpec,
    finalizers: string[],
    options?: { organizationId?: string | undefined },
  ): Promise<TenantResource>;
  get(slug: string): Promise<TenantResource | undefined>;
  list(
    limit: number,
    after: TenantCursor | undefined,
  ): Promise<{ items: TenantResource[]; last: TenantCursor | undefined; more: boolean }>;
  /** Replaces the spec and bumps `generation` when it changed. */
  updateSpec(
    slug: string,
    change: (spec: TenantSpec) => TenantSpec,
  ): Promise<TenantResource | undefined>;
  /** Marks a tenant for deletion (idempotent); the reconciler removes it once its finalizers are gone. */
  markForDeletion(slug: string): Promise<TenantResource | undefined>;
}
