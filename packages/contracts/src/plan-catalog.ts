/**
 * The plans every installation starts with. Plans are data: the control plane writes
 * this catalog to its `plans` table at start, and everything else reads the table.
 */
export type DataPlaneServiceName = 'orchestrator' | 'library' | 'sapiens' | 'payments';

export const DATA_PLANE_SERVICES: readonly DataPlaneServiceName[] = [
  'orchestrator',
  'library',
  'sapiens',
  'payments',
];

export interface PlanLimits {
  /** Kubernetes ResourceQuota-style limits for the tenant's namespace. */
  quota: { cpu: string; memory: string; storage: string; pods: number };
  database: { storageGi: number; maxConnections: number };
  vectorStore: { engine: 'pgvector' | 'milvus'; dimensions: number; maxVectors: number };
  gpuPool: { instanceType: string; min: number; max: number } | undefined;
  keys: { rotationDays: number };
  apiRequestsPerMinute: number;
  services: readonly DataPlaneServiceName[];
}

export interface PlanDefinition {
  id: string;
  displayName: string;
  monthlyPriceCents: number;
  currency: string;
  gpuEntitled: boolean;
  limits: PlanLimits;
}

export const PLAN_CATALOG: readonly PlanDefinition[] = [
  {
    id: 'starter',
    displayName: 'Starter',
    monthlyPriceCents: 4_900,
    currency: 'usd',
    gpuEntitled: false,
    limits: {
      quota: { cpu: '2', memory: '4Gi', storage: '20Gi', pods: 20 },
      database: { storageGi: 10, maxConnections: 20 },
      vectorStore: { engine: 'pgvector', dimensions: 384, maxVectors: 1_000_000 },
      gpuPool: undefined,
      keys: { rotationDays: 90 },
      apiRequestsPerMinute: 600,
      services: DATA_PLANE_SERVICES,
    },
  },
  {
    id: 'business',
    displayName: 'Business',
    monthlyPriceCents: 49_900,
    currency: 'usd',
    gpuEntitled: false,
    limits: {
      quota: { cpu: '8', memory: '32Gi', storage: '200Gi', pods: 100 },
      database: { storageGi: 100, maxConnections: 100 },
      vectorStore: { engine: 'pgvector', dimensions: 768, maxVectors: 20_000_000 },
      gpuPool: undefined,
      keys: { rotationDays: 60 },
      apiRequestsPerMinute: 6_000,
      services: DATA_PLANE_SERVICES,
    },
  },
  {
    id: 'enterprise',
    displayName: 'Enterprise',
    monthlyPriceCents: 499_900,
    currency: 'usd',
    gpuEntitled: true,
    limits: {
      quota: { cpu: '64', memory: '256Gi', storage: '2Ti', pods: 500 },
      database: { storageGi: 1_000, maxConnections: 400 },
      vectorStore: { engine: 'pgvector', dimensions: 1_024, maxVectors: 1_000_000_000 },
      gpuPool: { instanceType: 'g5.xlarge', min: 0, max: 4 },
      keys: { rotationDays: 30 },
      apiRequestsPerMinute: 60_000,
      services: DATA_PLANE_SERVICES,
    },
  },
];

export function findPlan(planId: string): PlanDefinition | undefined {
  return PLAN_CATALOG.find((plan) => plan.id === planId);
}
