import type { ILimitRange, INamespace, IResourceQuota } from './kubernetes-types.ts';
import { clusterMeta, namespacedMeta, type TemplateContext } from './template-context.ts';
import { TENANT_APP_NAME } from './tenant-labels.ts';

const TENANT_APP = { name: TENANT_APP_NAME, component: 'isolation' };

/** Object counts no plan needs more of; load balancers and node ports are never allowed. */
const OBJECT_COUNTS: Readonly<Record<string, string>> = {
  configmaps: '20',
  persistentvolumeclaims: '10',
  secrets: '20',
  services: '10',
  'services.loadbalancers': '0',
  'services.nodeports': '0',
};

/** The tenant's namespace, held to the `restricted` Pod Security Standard. */
export function tenantNamespace(context: TemplateContext): INamespace {
  const meta = clusterMeta(context, context.namespace, TENANT_APP);
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      ...meta,
      labels: {
        ...meta.labels,
        'pod-security.kubernetes.io/enforce': 'restricted',
        'pod-security.kubernetes.io/enforce-version': 'latest',
        'pod-security.kubernetes.io/audit': 'restricted',
        'pod-security.kubernetes.io/warn': 'restricted',
      },
    },
  };
}

/** The plan's quota; `requests.nvidia.com/gpu` only where the plan includes a GPU pool. */
export function tenantResourceQuota(context: TemplateContext): IResourceQuota {
  const { quota } = context.plan.limits;
  const { gpuQuota } = context.sizing;
  return {
    apiVersion: 'v1',
    kind: 'ResourceQuota',
    metadata: namespacedMeta(context, 'tenant-quota', TENANT_APP),
    spec: {
      hard: {
        'requests.cpu': quota.cpu,
        'limits.cpu': quota.cpu,
        'requests.memory': quota.memory,
        'limits.memory': quota.memory,
        'requests.storage': quota.storage,
        pods: String(quota.pods),
        ...OBJECT_COUNTS,
        ...(gpuQuota === undefined ? {} : { 'requests.nvidia.com/gpu': String(gpuQuota) }),
      },
    },
  };
}

/** Defaults for containers that do not size themselves, and the bounds for those that do. */
export function tenantLimitRange(context: TemplateContext): ILimitRange {
  const { sizing, plan } = context;
  return {
    apiVersion: 'v1',
    kind: 'LimitRange',
    metadata: namespacedMeta(context, 'tenant-limits', TENANT_APP),
    spec: {
      limits: [
        {
          type: 'Container',
          default: { ...sizing.container.default },
          defaultRequest: { ...sizing.container.defaultRequest },
          max: { ...sizing.containerMax },
          min: { ...sizing.containerMin },
        },
        {
          type: 'PersistentVolumeClaim',
          max: { storage: plan.limits.quota.storage },
          min: { storage: '1Gi' },
        },
      ],
    },
  };
}
