import { type IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { type IEnvVar } from 'kubernetes-models/v1/EnvVar';
import { type INamespace } from 'kubernetes-models/v1/Namespace';
import { type ISecret } from 'kubernetes-models/v1/Secret';
import { type IPodSpec } from 'kubernetes-models/v1/PodSpec';
import { type IService } from 'kubernetes-models/v1/Service';
import { type IServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { type IVolume } from 'kubernetes-models/v1/Volume';
import { type IVolumeMount } from 'kubernetes-models/v1/VolumeMount';
import { type IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import { type IIngress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import { type IPodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { type IClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { type IClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { type IPolicyRule } from 'kubernetes-models/rbac.authorization.k8s.io/v1/PolicyRule';
import { type IRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { type IRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { NODE_POOL_LABEL } from './node-groups.ts';
import { RESTRICTED_CONTAINER_SECURITY_CONTEXT } from '@citadel/tenant-templates';

/**
 * The platform's Kubernetes objects as pure functions of plain values: what the workloads
 * component applies, and what the tests validate against the Kubernetes schemas.
 */

export const SYSTEM_NAMESPACE = 'citadel-system';
export const TENANT_API_GROUP = 'citadel.azora.dev';
/** The annotation IRSA reads on a service account. */
export const IRSA_ROLE_ANNOTATION = 'eks.amazonaws.com/role-arn';
/** Non-root user and group of the platform images. */
const RUN_AS = 10001;

export type PlatformComponent = 'control-plane' | 'operator';

/** The ConfigMap and Secret every platform pod reads its environment from. */
export const PLATFORM_ENVIRONMENT_NAME = 'citadel-platform';

/** The ports the platform's processes listen on. */
export const PLATFORM_PORTS: Record<PlatformComponent, number> = {
  'control-plane': 8080,
  operator: 8081,
};

/** The variable each process reads its port from. */
const PORT_VARIABLES: Record<PlatformComponent, string> = {
  'control-plane': 'PORT',
  operator: 'CITADEL_OPERATOR_PORT',
};

/** `CITADEL_DATA_DIR` of the platform pods, an emptyDir. */
export const PLATFORM_DATA_DIR = '/var/lib/citadel';

/**
 * The platform master key is a Secret with one key, mounted read-only (0400) into the operator
 * as the directory `<CITADEL_DATA_DIR>/keys`: the file its key ring reads
 * (`masterKeyPath(dataDir)` of operators/src/drivers/local/local-key-ring.ts) is the Secret's
 * key, so every replica uses the platform's key and none makes one of its own. The operator's
 * RBAC peer test lays the key out by these constants.
 */
export const MASTER_KEY_SECRET_NAME = 'citadel-master-key';
export const MASTER_KEY_FILE = 'master.key';
export const MASTER_KEY_MOUNT_PATH = `${PLATFORM_DATA_DIR}/keys`;

/**
 * The operator runs its bundle (operator-main.ts and its dependencies in one file, built by
 * `npm run build:operator`), relative to the image's working directory, the repository root,
 * with a bounded heap: its live data at 1,000 tenants is ~90 MiB, and without a bound V8 grows
 * the heap to twice that before collecting (peak RSS 330 MiB against 223 MiB bounded, in
 * `npm run bench:operator`, which runs the operator with these flags).
 */
export const OPERATOR_NODE_FLAGS = ['--max-old-space-size=192', '--max-semi-space-size=8'];
export const OPERATOR_COMMAND = ['node', ...OPERATOR_NODE_FLAGS, 'operators/dist/operator.js'];

export function componentName(component: PlatformComponent): string {
  return `citadel-${component}`;
}

export function componentLabels(component: PlatformComponent): Record<string, string> {
  return {
    'app.kubernetes.io/name': componentName(component),
    'app.kubernetes.io/component': component,
    'app.kubernetes.io/part-of': 'citadel',
  };
}

function selectorLabels(component: PlatformComponent): Record<string, string> {
  return { 'app.kubernetes.io/name': componentName(component) };
}

/** A namespace whose pods must meet a Pod Security Standard level. */
export function namespaceManifest(
  name: string,
  podSecurity: 'restricted' | 'baseline',
): INamespace {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name,
      labels: {
        'app.kubernetes.io/part-of': 'citadel',
        'pod-security.kubernetes.io/enforce': podSecurity,
        'pod-security.kubernetes.io/audit': 'restricted',
        'pod-security.kubernetes.io/warn': 'restricted',
      },
    },
  };
}

/** A service account whose pods assume `roleArn` through IRSA. */
export function serviceAccountManifest(
  component: PlatformComponent,
  roleArn: string,
): IServiceAccount {
  return {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: {
      name: componentName(component),
      namespace: SYSTEM_NAMESPACE,
      labels: componentLabels(component),
      annotations: { [IRSA_ROLE_ANNOTATION]: roleArn },
    },
  };
}

/** Non-secret settings of the platform pods. */
export function platformConfigMapManifest(data: Record<string, string>): IConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: PLATFORM_ENVIRONMENT_NAME,
      namespace: SYSTEM_NAMESPACE,
      labels: { 'app.kubernetes.io/part-of': 'citadel' },
    },
    data,
  };
}

/** A Secret mounted read-only (mode 0400) as a directory holding its one key. */
export interface SecretVolume {
  name: string;
  secretName: string;
  key: string;
  mountPath: string;
}

/** What a component's container runs and reads besides what every platform container has. */
export interface ComponentContainer {
  /** The container's command; absent: the image's entry point. */
  command?: string[];
  /** Variables of its own, which win over the shared ConfigMap's. */
  env: IEnvVar[];
  /** Every key of the platform Secret as a variable; otherwise only what `env` takes from it. */
  readsWholePlatformSecret: boolean;
  secretVolumes: SecretVolume[];
}

export interface WorkloadSpec {
  component: PlatformComponent;
  image: string;
  replicas: number;
  /** Serves `/healthz` (liveness) and `/readyz` (readiness). */
  port: number;
  resources: { cpu: string; memory: string };
  container: ComponentContainer;
}

/** The control plane reads the shared ConfigMap and Secret, nothing else. */
export const CONTROL_PLANE_CONTAINER: ComponentContainer = {
  env: [],
  readsWholePlatformSecret: true,
  secretVolumes: [],
};

/** A platform endpoint tenants' pods may reach, as the operator's `CITADEL_PLATFORM_ENDPOINTS` lists it. */
export interface PlatformEndpoint {
  /** A DNS-1123 label, e.g. `database`. */
  name: string;
  port: number;
  destination: { cidr: string } | { namespace: string; podLabels?: Record<string, string> };
}

/** What the operator is configured with that differs from one platform to another. */
export interface OperatorSettings {
  /** `CITADEL_INSTANCE_ID`: six lower-case letters or digits, in every tenant database's name. */
  instanceId: string;
  /** `CITADEL_DATA_PLANE_IMAGE`: `repository:tag`, the image of every tenant's services. */
  dataPlaneImage: string;
  /** Where tenants' pods reach PostgreSQL. */
  tenantDatabase: { host: string; port: number };
  /** Egress tenants' pods get besides DNS and each other. */
  platformEndpoints: PlatformEndpoint[];
  /** The control plane's token issuer and the JWKS tenants' hosts verify requests with. */
  tokenIssuer: { issuer: string; jwksUrl: string };
}

/**
 * The operator's own variables (operators/src/kubernetes/operator-config.ts reads them); the
 * shared ConfigMap adds `CITADEL_PUBLIC_URL`, `CITADEL_MILVUS_ADDRESS` and `LOG_LEVEL`. Of the
 * platform Secret it reads `DATABASE_URL` only: not the admin token, not Redis.
 */
export function operatorEnvironment(settings: OperatorSettings): IEnvVar[] {
  return [
    {
      name: 'CITADEL_OPERATOR_NAMESPACE',
      valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } },
    },
    {
      name: 'DATABASE_URL',
      valueFrom: { secretKeyRef: { name: PLATFORM_ENVIRONMENT_NAME, key: 'DATABASE_URL' } },
    },
    { name: 'CITADEL_INSTANCE_ID', value: settings.instanceId },
    { name: 'CITADEL_DATA_PLANE_IMAGE', value: settings.dataPlaneImage },
    { name: 'CITADEL_GATEWAY_NAMESPACE', value: SYSTEM_NAMESPACE },
    { name: 'CITADEL_TENANT_DATABASE_HOST', value: settings.tenantDatabase.host },
    { name: 'CITADEL_TENANT_DATABASE_PORT', value: String(settings.tenantDatabase.port) },
    { name: 'CITADEL_PLATFORM_ENDPOINTS', value: JSON.stringify(settings.platformEndpoints) },
    { name: 'CITADEL_TOKEN_ISSUER', value: settings.tokenIssuer.issuer },
    { name: 'CITADEL_TOKEN_JWKS_URL', value: settings.tokenIssuer.jwksUrl },
  ];
}

/** The operator's container: its bundle, its variables and the platform master key. */
export function operatorContainer(settings: OperatorSettings): ComponentContainer {
  return {
    command: OPERATOR_COMMAND,
    env: operatorEnvironment(settings),
    readsWholePlatformSecret: false,
    secretVolumes: [
      {
        name: 'master-key',
        secretName: MASTER_KEY_SECRET_NAME,
        key: MASTER_KEY_FILE,
        mountPath: MASTER_KEY_MOUNT_PATH,
      },
    ],
  };
}

/** The control plane inside the cluster: its Service's address. */
export function controlPlaneServiceUrl(): string {
  const port = PLATFORM_PORTS['control-plane'];
  return `http://${componentName('control-plane')}.${SYSTEM_NAMESPACE}.svc.cluster.local:${port}`;
}

/** Tenants' hosts fetch the control plane's token keys (its JWKS) from its pods. */
export function controlPlaneEndpoint(): PlatformEndpoint {
  return {
    name: 'token-keys',
    port: PLATFORM_PORTS['control-plane'],
    destination: { namespace: SYSTEM_NAMESPACE, podLabels: selectorLabels('control-plane') },
  };
}

function secretVolume(volume: SecretVolume): IVolume {
  return {
    name: volume.name,
    secret: {
      secretName: volume.secretName,
      // With the pod's fsGroup, kubelet makes this 0440: the pod's group may read it too.
      defaultMode: 0o400,
      items: [{ key: volume.key, path: volume.key }],
    },
  };
}

function secretVolumeMount(volume: SecretVolume): IVolumeMount {
  return { name: volume.name, mountPath: volume.mountPath, readOnly: true };
}

/** The shared ConfigMap, and the Secret where the component reads all of it. */
function environmentSources(container: ComponentContainer) {
  return [
    { configMapRef: { name: PLATFORM_ENVIRONMENT_NAME } },
    ...(container.readsWholePlatformSecret
      ? [{ secretRef: { name: PLATFORM_ENVIRONMENT_NAME } }]
      : []),
  ];
}

/** The restricted Pod Security Standard, met by every platform pod. */
function podSpec(spec: WorkloadSpec): IPodSpec {
  const { container } = spec;
  return {
    serviceAccountName: componentName(spec.component),
    securityContext: {
      runAsNonRoot: true,
      runAsUser: RUN_AS,
      runAsGroup: RUN_AS,
      fsGroup: RUN_AS,
      seccompProfile: { type: 'RuntimeDefault' },
    },
    nodeSelector: { [NODE_POOL_LABEL]: 'system' },
    topologySpreadConstraints: [
      {
        maxSkew: 1,
        topologyKey: 'topology.kubernetes.io/zone',
        whenUnsatisfiable: 'ScheduleAnyway',
        labelSelector: { matchLabels: selectorLabels(spec.component) },
      },
    ],
    containers: [
      {
        name: spec.component,
        image: spec.image,
        imagePullPolicy: 'IfNotPresent',
        ...(container.command ? { command: container.command } : {}),
        ports: [{ name: 'http', containerPort: spec.port, protocol: 'TCP' }],
        envFrom: environmentSources(container),
        env: [
          { name: PORT_VARIABLES[spec.component], value: String(spec.port) },
          { name: 'CITADEL_DATA_DIR', value: PLATFORM_DATA_DIR },
          ...container.env,
        ],
        resources: {
          requests: { cpu: spec.resources.cpu, memory: spec.resources.memory },
          limits: { memory: spec.resources.memory },
        },
        livenessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 10 },
        readinessProbe: { httpGet: { path: '/readyz', port: 'http' }, periodSeconds: 5 },
        securityContext: RESTRICTED_CONTAINER_SECURITY_CONTEXT,
        volumeMounts: [
          { name: 'tmp', mountPath: '/tmp' },
          { name: 'data', mountPath: PLATFORM_DATA_DIR },
          ...container.secretVolumes.map(secretVolumeMount),
        ],
      },
    ],
    volumes: [
      { name: 'tmp', emptyDir: {} },
      { name: 'data', emptyDir: {} },
      ...container.secretVolumes.map(secretVolume),
    ],
  };
}

export function deploymentManifest(spec: WorkloadSpec): IDeployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: componentName(spec.component),
      namespace: SYSTEM_NAMESPACE,
      labels: componentLabels(spec.component),
    },
    spec: {
      replicas: spec.replicas,
      selector: { matchLabels: selectorLabels(spec.component) },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: { labels: componentLabels(spec.component) },
        spec: podSpec(spec),
      },
    },
  };
}

/** A ClusterIP service in front of a component's `http` port. */
export function serviceManifest(component: PlatformComponent, port: number): IService {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: componentName(component),
      namespace: SYSTEM_NAMESPACE,
      labels: componentLabels(component),
    },
    spec: {
      type: 'ClusterIP',
      selector: selectorLabels(component),
      ports: [{ name: 'http', port, targetPort: 'http', protocol: 'TCP' }],
    },
  };
}

/** Keeps at least one pod of a component through voluntary disruptions (node drains, upgrades). */
export function podDisruptionBudgetManifest(component: PlatformComponent): IPodDisruptionBudget {
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: {
      name: componentName(component),
      namespace: SYSTEM_NAMESPACE,
      labels: componentLabels(component),
    },
    spec: { minAvailable: 1, selector: { matchLabels: selectorLabels(component) } },
  };
}

/** The public entry: `https://<host>/` to the control plane (API, console, tenant gateway). */
export function ingressManifest(input: {
  host: string;
  ingressClassName: string;
  tlsSecretName: string;
}): IIngress {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: {
      name: componentName('control-plane'),
      namespace: SYSTEM_NAMESPACE,
      labels: componentLabels('control-plane'),
    },
    spec: {
      ingressClassName: input.ingressClassName,
      tls: [{ hosts: [input.host], secretName: input.tlsSecretName }],
      rules: [
        {
          host: input.host,
          http: {
            paths: [
              {
                path: '/',
                pathType: 'Prefix',
                backend: {
                  service: { name: componentName('control-plane'), port: { name: 'http' } },
                },
              },
            ],
          },
        },
      ],
    },
  };
}

const READ = ['get', 'list', 'watch'];
const MANAGE = [...READ, 'create', 'update', 'patch', 'delete'];

/**
 * What the control plane may do in the cluster: record tenants' desired state and read their
 * status. Nothing else: the operator does the rest.
 */
export const CONTROL_PLANE_RULES: IPolicyRule[] = [
  { apiGroups: [TENANT_API_GROUP], resources: ['tenants'], verbs: MANAGE },
  { apiGroups: [TENANT_API_GROUP], resources: ['tenants/status'], verbs: ['get'] },
];

/**
 * What the operator may do: reconcile tenants (read them, patch their finalizer and status) and
 * manage exactly the kinds of object the tenant templates create, plus the Secrets holding
 * tenants' wrapped keys in its own namespace. `tenants/finalizers` is what an owner reference
 * that blocks its owner's deletion needs (every child points at its Tenant so). No wildcard, no
 * nodes, no CRDs, no cluster roles, no pods/exec, no ConfigMaps or Events (it writes neither).
 * operators/test/peers/operator-rbac.peer.test.ts runs the operator with exactly these rules.
 */
export const OPERATOR_RULES: IPolicyRule[] = [
  { apiGroups: [TENANT_API_GROUP], resources: ['tenants'], verbs: [...READ, 'patch'] },
  { apiGroups: [TENANT_API_GROUP], resources: ['tenants/status'], verbs: ['patch'] },
  { apiGroups: [TENANT_API_GROUP], resources: ['tenants/finalizers'], verbs: ['update'] },
  {
    apiGroups: [''],
    resources: [
      'namespaces',
      'resourcequotas',
      'limitranges',
      'serviceaccounts',
      'secrets',
      'services',
    ],
    verbs: MANAGE,
  },
  { apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], verbs: MANAGE },
  { apiGroups: ['rbac.authorization.k8s.io'], resources: ['roles', 'rolebindings'], verbs: MANAGE },
  { apiGroups: ['apps'], resources: ['deployments'], verbs: MANAGE },
  { apiGroups: ['autoscaling'], resources: ['horizontalpodautoscalers'], verbs: MANAGE },
  { apiGroups: ['policy'], resources: ['poddisruptionbudgets'], verbs: MANAGE },
];

/** Leader election among operator replicas, in the system namespace only. */
export const OPERATOR_LEADER_ELECTION_RULES: IPolicyRule[] = [
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] },
];

export function clusterRoleManifest(
  component: PlatformComponent,
  rules: IPolicyRule[],
): IClusterRole {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: componentName(component), labels: componentLabels(component) },
    rules,
  };
}

function subject(component: PlatformComponent): {
  kind: string;
  name: string;
  namespace: string;
} {
  return { kind: 'ServiceAccount', name: componentName(component), namespace: SYSTEM_NAMESPACE };
}

export function clusterRoleBindingManifest(component: PlatformComponent): IClusterRoleBinding {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: componentName(component), labels: componentLabels(component) },
    roleRef: {
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'ClusterRole',
      name: componentName(component),
    },
    subjects: [subject(component)],
  };
}

export function leaderElectionRoleManifest(): IRole {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: {
      name: `${componentName('operator')}-leader-election`,
      namespace: SYSTEM_NAMESPACE,
      labels: componentLabels('operator'),
    },
    rules: OPERATOR_LEADER_ELECTION_RULES,
  };
}

export function leaderElectionRoleBindingManifest(): IRoleBinding {
  const name = `${componentName('operator')}-leader-election`;
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name, namespace: SYSTEM_NAMESPACE, labels: componentLabels('operator') },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
    subjects: [subject('operator')],
  };
}

/**
 * The platform master key, 32 random bytes (base64 in `data`), that the operator's key ring
 * wraps every tenant's data keys with. Immutable: a different key could unwrap none of them.
 */
export function masterKeySecretManifest(masterKey: string): ISecret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: MASTER_KEY_SECRET_NAME,
      namespace: SYSTEM_NAMESPACE,
      labels: componentLabels('operator'),
    },
    type: 'Opaque',
    immutable: true,
    data: { [MASTER_KEY_FILE]: masterKey },
  };
}

/** Secret settings of the platform pods (`DATABASE_URL`, `REDIS_URL`, `CITADEL_ADMIN_TOKEN`). */
export function platformSecretManifest(stringData: Record<string, string>): ISecret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: PLATFORM_ENVIRONMENT_NAME,
      namespace: SYSTEM_NAMESPACE,
      labels: { 'app.kubernetes.io/part-of': 'citadel' },
    },
    type: 'Opaque',
    stringData,
  };
}
