import type { DataPlaneServiceName, PlanDefinition } from '@citadel/contracts';
import {
  bytesToMebibytes,
  formatCpuMillis,
  formatMebibytes,
  parseBinaryBytes,
  parseCpuMillis,
} from './resource-quantity.ts';
import type { TemplateTenant } from './tenant-template-input.ts';

/** No service scales past this many replicas, however large the plan's pod quota. */
export const MAX_REPLICAS_PER_SERVICE = 6;

/** GPUs on one node of a tenant's GPU node group (`g5.xlarge` has one). */
export const GPUS_PER_NODE = 1;

/**
 * The services that run models and so use a GPU when the tenant has a pool: the
 * orchestrator (its AI router serves models) and the library (embeddings).
 */
export const GPU_SERVICES: readonly DataPlaneServiceName[] = ['orchestrator', 'library'];

/** The smallest container the LimitRange admits. */
const MIN_CONTAINER = { cpuMillis: 10, mebibytes: 16 };
const CPU_STEP_MILLIS = 10;

export interface ContainerResources {
  cpu: string;
  memory: string;
}

export interface ServiceSizing {
  service: DataPlaneServiceName;
  minReplicas: number;
  maxReplicas: number;
  requests: ContainerResources;
  limits: ContainerResources;
  /** GPUs each pod requests: 1 on the tenant's GPU node group, 0 elsewhere. */
  gpus: number;
}

/** How a tenant's plan quota is shared out among its services. */
export interface TenantSizing {
  services: ServiceSizing[];
  /** LimitRange values for containers that do not say. */
  container: { defaultRequest: ContainerResources; default: ContainerResources };
  /** No single container may take more than half of the namespace's quota. */
  containerMax: ContainerResources;
  containerMin: ContainerResources;
  /** GPUs the quota allows: the plan's entitlement, or undefined where it has none. */
  gpuQuota: number | undefined;
}

/** The GPUs the tenant's pool may use now: 0 unless the plan entitles it and the spec enables it. */
export function activeGpuCount(tenant: TemplateTenant, plan: PlanDefinition): number {
  const entitled = plan.gpuEntitled ? plan.limits.gpuPool : undefined;
  const pool = tenant.spec.resources.gpuPool;
  if (!entitled || !pool.enabled) return 0;
  return Math.min(pool.max, entitled.max) * GPUS_PER_NODE;
}

/** Replicas of each GPU service: the GPUs dealt out in service order, one per pod. */
function gpuReplicas(
  services: readonly DataPlaneServiceName[],
  gpuCount: number,
): Map<DataPlaneServiceName, number> {
  const gpuServices = services.filter((service) => GPU_SERVICES.includes(service));
  const takers = gpuServices.slice(0, gpuCount);
  const replicas = new Map<DataPlaneServiceName, number>();
  takers.forEach((service, index) => {
    const extra = index < gpuCount % takers.length ? 1 : 0;
    replicas.set(service, Math.floor(gpuCount / takers.length) + extra);
  });
  return replicas;
}

function replicaRange(pods: number, serviceCount: number): { min: number; max: number } {
  const max = Math.min(
    MAX_REPLICAS_PER_SERVICE,
    Math.max(1, Math.floor(pods / (2 * Math.max(1, serviceCount)))),
  );
  // Two replicas where the plan can afford them, so that a drained node interrupts nothing.
  return { min: max >= 4 ? 2 : 1, max };
}

function share(plan: PlanDefinition, slots: number): ContainerResources {
  const cpuMillis = parseCpuMillis(plan.limits.quota.cpu) / slots;
  const mebibytes = bytesToMebibytes(parseBinaryBytes(plan.limits.quota.memory)) / slots;
  return {
    cpu: formatCpuMillis(
      Math.max(MIN_CONTAINER.cpuMillis, Math.floor(cpuMillis / CPU_STEP_MILLIS) * CPU_STEP_MILLIS),
    ),
    memory: formatMebibytes(Math.max(MIN_CONTAINER.mebibytes, Math.floor(mebibytes))),
  };
}

/**
 * Shares the plan's quota out: every service at its maximum replicas, plus one surge pod
 * each for rolling updates (GPU services roll without surge), fits the quota with its
 * limits; requests are half the limits.
 */
export function tenantSizing(tenant: TemplateTenant, plan: PlanDefinition): TenantSizing {
  const services = [...new Set(tenant.spec.services)];
  const range = replicaRange(plan.limits.quota.pods, services.length);
  const gpu = gpuReplicas(services, activeGpuCount(tenant, plan));
  const ranges = services.map((service) => {
    const gpuMax = gpu.get(service);
    return gpuMax === undefined
      ? { service, min: range.min, max: range.max, surge: 1, gpus: 0 }
      : { service, min: 1, max: gpuMax, surge: 0, gpus: 1 };
  });
  const slots = Math.max(
    2,
    ranges.reduce((sum, entry) => sum + entry.max + entry.surge, 0),
  );
  const limits = share(plan, slots);
  const requests = share(plan, slots * 2);
  return {
    services: ranges.map((entry) => ({
      service: entry.service,
      minReplicas: entry.min,
      maxReplicas: entry.max,
      requests,
      limits,
      gpus: entry.gpus,
    })),
    container: { defaultRequest: requests, default: limits },
    containerMax: share(plan, 2),
    containerMin: {
      cpu: formatCpuMillis(MIN_CONTAINER.cpuMillis),
      memory: formatMebibytes(MIN_CONTAINER.mebibytes),
    },
    gpuQuota:
      plan.gpuEntitled && plan.limits.gpuPool ? plan.limits.gpuPool.max * GPUS_PER_NODE : undefined,
  };
}
