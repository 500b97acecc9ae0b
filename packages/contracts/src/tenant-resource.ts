import { z } from 'zod';
import { DATA_PLANE_SERVICES, type PlanDefinition } from './plan-catalog.ts';

/** The API group and version of the Tenant resource, in Kubernetes and in the REST API alike. */
export const TENANT_API_VERSION = 'citadel.azora.dev/v1alpha1';
export const TENANT_KIND = 'Tenant';

/** The finalizer the reconciler holds until every resource the tenant owned is gone. */
export const TENANT_FINALIZER = 'citadel.azora.dev/tenant-resources';

export const TENANT_PHASES = [
  'Pending',
  'Provisioning',
  'Ready',
  'Suspended',
  'Deleting',
  'Failed',
] as const;
export type TenantPhase = (typeof TENANT_PHASES)[number];

/** One condition per component, in the order the reconciler provisions them. */
export const TENANT_CONDITION_TYPES = [
  'NamespaceReady',
  'KeysReady',
  'DatabaseReady',
  'VectorStoreReady',
  'ServicesReady',
  'GpuPoolReady',
] as const;
/**
 * Conditions of steps that exist only while a tenant is being deleted: `DataExported`
 * (the tenant's data and audit log exported before anything is removed).
 */
export const TENANT_DELETION_CONDITION_TYPES = ['DataExported'] as const;
export type TenantConditionType =
  (typeof TENANT_CONDITION_TYPES)[number] | (typeof TENANT_DELETION_CONDITION_TYPES)[number];

export const tenantConditionSchema = z.object({
  type: z.enum([...TENANT_CONDITION_TYPES, ...TENANT_DELETION_CONDITION_TYPES]),
  status: z.enum(['True', 'False', 'Unknown']),
  reason: z.string(),
  message: z.string(),
  lastTransitionTime: z.iso.datetime(),
  observedGeneration: z.number().int().nonnegative(),
});
export type TenantCondition = z.infer<typeof tenantConditionSchema>;

export const dataPlaneServiceNameSchema = z.enum(DATA_PLANE_SERVICES);

/** Desired state of a tenant's data plane. */
export const tenantSpecSchema = z.strictObject({
  slug: z.string(),
  displayName: z.string(),
  plan: z.string(),
  region: z.string(),
  /** A suspended tenant keeps its data but serves nothing. */
  suspended: z.boolean(),
  isolation: z.strictObject({
    networkPolicy: z.enum(['default-deny']),
    dedicatedDatabase: z.boolean(),
  }),
  resources: z.strictObject({
    database: z.strictObject({
      storageGi: z.number().int().positive(),
      maxConnections: z.number().int().positive(),
    }),
    vectorStore: z.strictObject({
      engine: z.enum(['pgvector', 'milvus']),
      dimensions: z.number().int().min(2).max(16_000),
    }),
    gpuPool: z.strictObject({
      enabled: z.boolean(),
      instanceType: z.string(),
      min: z.number().int().nonnegative(),
      max: z.number().int().nonnegative(),
    }),
    keys: z.strictObject({ rotationDays: z.number().int().positive() }),
  }),
  services: z.array(dataPlaneServiceNameSchema),
});
export type TenantSpec = z.infer<typeof tenantSpecSchema>;

export const tenantEndpointsSchema = z.record(z.string(), z.string());
export type TenantEndpoints = z.infer<typeof tenantEndpointsSchema>;

export interface TenantStatus {
  phase: TenantPhase;
  observedGeneration: number;
  conditions: TenantCondition[];
  /** Where the tenant is served, e.g. `gateway`, `library`. */
  endpoints: TenantEndpoints;
}

export interface TenantMetadata {
  /** The slug. */
  name: string;
  uid: string;
  generation: number;
  creationTimestamp: string;
  deletionTimestamp: string | undefined;
  finalizers: string[];
}

/** The Tenant resource, shaped as Kubernetes shapes its objects. */
export interface TenantResource {
  apiVersion: typeof TENANT_API_VERSION;
  kind: typeof TENANT_KIND;
  metadata: TenantMetadata;
  spec: TenantSpec;
  status: TenantStatus;
}

/** The spec a new tenant on `plan` starts with. */
export function defaultTenantSpec(input: {
  slug: string;
  displayName: string;
  plan: PlanDefinition;
  region: string;
}): TenantSpec {
  const { limits } = input.plan;
  return {
    slug: input.slug,
    displayName: input.displayName,
    plan: input.plan.id,
    region: input.region,
    suspended: false,
    isolation: { networkPolicy: 'default-deny', dedicatedDatabase: true },
    resources: {
      database: { ...limits.database },
      vectorStore: { engine: limits.vectorStore.engine, dimensions: limits.vectorStore.dimensions },
      gpuPool: limits.gpuPool
        ? { enabled: true, ...limits.gpuPool }
        : { enabled: false, instanceType: '', min: 0, max: 0 },
      keys: { ...limits.keys },
    },
    services: [...limits.services],
  };
}
