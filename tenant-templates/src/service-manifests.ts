import type { DataPlaneServiceName } from '@citadel/contracts';
import {
  DATA_KEYS_KEY,
  DATA_PLANE_SERVICE_ACCOUNT,
  DATABASE_CREDENTIALS_SECRET,
  DATABASE_URL_KEY,
  MILVUS_TOKEN_KEY,
} from './access-manifests.ts';
import type {
  IContainer,
  IDeployment,
  IHorizontalPodAutoscaler,
  IPodDisruptionBudget,
  IPodSpec,
  IService,
} from './kubernetes-types.ts';
import type { ServiceSizing } from './service-sizing.ts';
import {
  namespacedMeta,
  SERVICE_CONTAINER_PORT,
  SERVICE_GRPC_PORT,
  SERVICE_PORT,
  type TemplateContext,
} from './template-context.ts';
import {
  type AppIdentity,
  DATA_PLANE_COMPONENT,
  selectorLabels,
  tenantLabels,
  TENANT_LABEL,
} from './tenant-labels.ts';

/**
 * The taint key and node labels of a tenant's own GPU node group, as infra creates it
 * (`infra/src/node-groups.ts`): taint `citadel.azora.dev/tenant=<slug>:NoSchedule`,
 * labels `citadel.azora.dev/tenant=<slug>` and `citadel.azora.dev/pool=tenant-gpu`.
 */
export const GPU_NODE_GROUP_KEY = TENANT_LABEL;
export const NODE_POOL_LABEL = 'citadel.azora.dev/pool';
export const TENANT_GPU_POOL = 'tenant-gpu';
export const GPU_RESOURCE = 'nvidia.com/gpu';

/**
 * The pod-template annotation with the tenant's active data key version. A rotation changes
 * it, so the pods roll and read the new keys from the access Secret: no pod keeps keys too
 * old to decrypt what its peers encrypt with the new version.
 */
export const DATA_KEY_VERSION_ANNOTATION = 'citadel.azora.dev/data-key-version';

/** A non-root user and group no base image assigns to anything. */
const RUN_AS_ID = 10_001;

function serviceApp(service: DataPlaneServiceName): AppIdentity {
  return { name: service, component: DATA_PLANE_COMPONENT };
}

function fromAccessSecret(name: string, key: string) {
  return { name, valueFrom: { secretKeyRef: { name: DATABASE_CREDENTIALS_SECRET, key } } };
}

/**
 * Where a milvus tenant's hosts search (the library's `CITADEL_VECTOR_ENGINE`,
 * `CITADEL_MILVUS_*`): the token by reference to the access Secret, never as a value.
 */
function milvusEnvironment({ parameters }: TemplateContext): NonNullable<IContainer['env']> {
  const milvus = parameters.milvus;
  if (!milvus) return [];
  return [
    { name: 'CITADEL_VECTOR_ENGINE', value: 'milvus' },
    { name: 'CITADEL_MILVUS_ADDRESS', value: milvus.address },
    { name: 'CITADEL_MILVUS_DATABASE', value: milvus.database },
    ...(milvus.token === undefined
      ? []
      : [fromAccessSecret('CITADEL_MILVUS_TOKEN', MILVUS_TOKEN_KEY)]),
  ];
}

function environment(context: TemplateContext, service: DataPlaneServiceName): IContainer['env'] {
  const { tenant, parameters } = context;
  return [
    { name: 'CITADEL_TENANT_SLUG', value: tenant.spec.slug },
    { name: 'CITADEL_TENANT_ID', value: tenant.uid },
    { name: 'CITADEL_TENANT_PLAN', value: tenant.spec.plan },
    { name: 'CITADEL_SERVICES', value: service },
    { name: 'HOST', value: '0.0.0.0' },
    { name: 'PORT', value: String(SERVICE_CONTAINER_PORT) },
    { name: 'GRPC_PORT', value: String(SERVICE_GRPC_PORT) },
    fromAccessSecret('CITADEL_TENANT_DATABASE_URL', DATABASE_URL_KEY),
    fromAccessSecret('CITADEL_TENANT_DATA_KEYS', DATA_KEYS_KEY),
    ...milvusEnvironment(context),
    ...(parameters.tokenIssuer
      ? [
          { name: 'CITADEL_TOKEN_ISSUER', value: parameters.tokenIssuer.issuer },
          { name: 'CITADEL_TOKEN_JWKS_URL', value: parameters.tokenIssuer.jwksUrl },
        ]
      : []),
  ];
}

function resources(sizing: ServiceSizing): IContainer['resources'] {
  const gpu: Record<string, string> =
    sizing.gpus > 0 ? { [GPU_RESOURCE]: String(sizing.gpus) } : {};
  return {
    requests: { ...sizing.requests, ...gpu },
    limits: { ...sizing.limits, ...gpu },
  };
}

function probe(path: string, periodSeconds: number, failureThreshold: number) {
  return { httpGet: { path, port: 'http' }, periodSeconds, failureThreshold, timeoutSeconds: 3 };
}

function container(context: TemplateContext, sizing: ServiceSizing): IContainer {
  const { image } = context.parameters;
  const servicePath = `/${sizing.service}/healthz`;
  return {
    name: sizing.service,
    image: `${image.repository}:${image.tag}`,
    imagePullPolicy: 'IfNotPresent',
    ports: [
      { name: 'http', containerPort: SERVICE_CONTAINER_PORT, protocol: 'TCP' },
      { name: 'grpc', containerPort: SERVICE_GRPC_PORT, protocol: 'TCP' },
    ],
    env: environment(context, sizing.service),
    resources: resources(sizing),
    // The host's /healthz checks the database: not ready without it, but not restarted
    // for it either; liveness asks only whether the service itself answers.
    startupProbe: probe(servicePath, 2, 30),
    readinessProbe: probe('/healthz', 10, 3),
    livenessProbe: probe(servicePath, 20, 3),
    securityContext: RESTRICTED_CONTAINER_SECURITY_CONTEXT,
    volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
  };
}

/** Tolerations and node selector that put a GPU service on the tenant's own GPU nodes. */
function gpuPlacement(context: TemplateContext): Pick<IPodSpec, 'tolerations' | 'nodeSelector'> {
  const slug = context.tenant.spec.slug;
  return {
    nodeSelector: { [GPU_NODE_GROUP_KEY]: slug, [NODE_POOL_LABEL]: TENANT_GPU_POOL },
    tolerations: [
      { key: GPU_NODE_GROUP_KEY, operator: 'Equal', value: slug, effect: 'NoSchedule' },
    ],
  };
}

function podSpec(context: TemplateContext, sizing: ServiceSizing): IPodSpec {
  const pullSecrets = context.parameters.imagePullSecrets ?? [];
  return {
    serviceAccountName: DATA_PLANE_SERVICE_ACCOUNT,
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    terminationGracePeriodSeconds: 10,
    securityContext: {
      runAsNonRoot: true,
      runAsUser: RUN_AS_ID,
      runAsGroup: RUN_AS_ID,
      fsGroup: RUN_AS_ID,
      seccompProfile: { type: 'RuntimeDefault' },
    },
    ...(pullSecrets.length > 0 ? { imagePullSecrets: pullSecrets.map((name) => ({ name })) } : {}),
    containers: [container(context, sizing)],
    volumes: [{ name: 'tmp', emptyDir: { sizeLimit: '64Mi' } }],
    topologySpreadConstraints: [
      {
        maxSkew: 1,
        topologyKey: 'topology.kubernetes.io/zone',
        whenUnsatisfiable: 'ScheduleAnyway',
        labelSelector: { matchLabels: selectorLabels(context.tenant, serviceApp(sizing.service)) },
      },
    ],
    ...(sizing.gpus > 0 ? gpuPlacement(context) : {}),
  };
}

/**
 * The service's Deployment. Replicas are left to the HorizontalPodAutoscaler (a field
 * both set would flap under server-side apply), except while suspended: 0.
 */

/**
 * The container settings the restricted Pod Security Standard asks of every Citadel
 * container: no privilege escalation, a read-only root, non-root, no capabilities, the
 * runtime's seccomp profile. The platform's own workloads (infra) use the same.
 */
export const RESTRICTED_CONTAINER_SECURITY_CONTEXT = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
} as const satisfies NonNullable<IContainer['securityContext']>;

export function serviceDeployment(context: TemplateContext, sizing: ServiceSizing): IDeployment {
  const app = serviceApp(sizing.service);
  // GPU pods roll without surge: the quota holds exactly the GPUs the pool has.
  const rollingUpdate =
    sizing.gpus > 0 ? { maxSurge: 0, maxUnavailable: 1 } : { maxSurge: 1, maxUnavailable: 0 };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: namespacedMeta(context, sizing.service, app),
    spec: {
      ...(context.tenant.spec.suspended ? { replicas: 0 } : {}),
      revisionHistoryLimit: 3,
      selector: { matchLabels: selectorLabels(context.tenant, app) },
      strategy: { type: 'RollingUpdate', rollingUpdate },
      template: {
        metadata: {
          labels: tenantLabels(context.tenant, app),
          annotations: {
            [DATA_KEY_VERSION_ANNOTATION]: String(context.parameters.dataKeys.activeVersion),
          },
        },
        spec: podSpec(context, sizing),
      },
    },
  };
}

export function serviceService(context: TemplateContext, sizing: ServiceSizing): IService {
  const app = serviceApp(sizing.service);
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: namespacedMeta(context, sizing.service, app),
    spec: {
      type: 'ClusterIP',
      selector: selectorLabels(context.tenant, app),
      ports: [
        {
          name: 'http',
          port: SERVICE_PORT,
          targetPort: 'http',
          protocol: 'TCP',
          appProtocol: 'http',
        },
        {
          // Services call one another here; the gateway never does (see the network policies).
          name: 'grpc',
          port: SERVICE_GRPC_PORT,
          targetPort: 'grpc',
          protocol: 'TCP',
          appProtocol: 'kubernetes.io/h2c',
        },
      ],
    },
  };
}

export function serviceAutoscaler(
  context: TemplateContext,
  sizing: ServiceSizing,
): IHorizontalPodAutoscaler {
  const utilization = (name: string, averageUtilization: number) => ({
    type: 'Resource',
    resource: { name, target: { type: 'Utilization', averageUtilization } },
  });
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: namespacedMeta(context, sizing.service, serviceApp(sizing.service)),
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: sizing.service },
      minReplicas: sizing.minReplicas,
      maxReplicas: sizing.maxReplicas,
      metrics: [utilization('cpu', 70), utilization('memory', 80)],
      behavior: {
        scaleDown: {
          stabilizationWindowSeconds: 300,
          policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }],
        },
      },
    },
  };
}

/** One pod at a time may be evicted; a crash-looping pod may always be. */
export function serviceDisruptionBudget(
  context: TemplateContext,
  sizing: ServiceSizing,
): IPodDisruptionBudget {
  const app = serviceApp(sizing.service);
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: namespacedMeta(context, sizing.service, app),
    spec: {
      maxUnavailable: 1,
      selector: { matchLabels: selectorLabels(context.tenant, app) },
      unhealthyPodEvictionPolicy: 'AlwaysAllow',
    },
  };
}
