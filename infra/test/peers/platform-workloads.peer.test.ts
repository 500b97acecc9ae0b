import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ApiException,
  ApiextensionsV1Api,
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  KubernetesObjectApi,
  NetworkingV1Api,
  PolicyV1Api,
  RbacAuthorizationV1Api,
  type V1ObjectMeta,
} from '@kubernetes/client-node';
import * as pulumi from '@pulumi/pulumi';
import { automation } from '@pulumi/pulumi';
import {
  KUBE_API_SERVER_PEERS,
  peerSuite,
  pulumiPeer,
  startKubeApiServer,
  type KubeApiServer,
  type PulumiPeer,
} from '@citadel/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubernetesProvider } from '../../src/kubernetes-object.ts';
import {
  componentLabels,
  componentName,
  CONTROL_PLANE_RULES,
  controlPlaneEndpoint,
  IRSA_ROLE_ANNOTATION,
  MASTER_KEY_FILE,
  MASTER_KEY_MOUNT_PATH,
  MASTER_KEY_SECRET_NAME,
  OPERATOR_COMMAND,
  OPERATOR_LEADER_ELECTION_RULES,
  OPERATOR_RULES,
  operatorEnvironment,
  type OperatorSettings,
  PLATFORM_ENVIRONMENT_NAME,
  PLATFORM_PORTS,
  type PlatformComponent,
  SYSTEM_NAMESPACE,
  TENANT_API_GROUP,
} from '../../src/platform-manifests.ts';
import { PlatformWorkloads } from '../../src/platform-workloads.ts';
import { readTenantCrd } from '../../src/tenant-crd.ts';

/**
 * The platform's Kubernetes parts (`PlatformWorkloads`, with the committed Tenant CRD) deployed
 * by `pulumi up` and removed by `pulumi destroy` against a real kube-apiserver: Automation API,
 * inline program, file backend, the Kubernetes provider built from its Go module (ADR 14).
 */

const TENANT_CRD_PATH = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../operators/crd/tenants.citadel.azora.dev.yaml',
);
const CRD_NAME = `tenants.${TENANT_API_GROUP}`;
const COMPONENTS: readonly PlatformComponent[] = ['control-plane', 'operator'];
const IMAGES: Record<PlatformComponent, string> = {
  'control-plane': 'registry.example.com/azora/citadel-control-plane:1.4.2',
  operator: 'registry.example.com/azora/citadel-operator:1.4.2',
};
const REPLICAS: Record<PlatformComponent, number> = { 'control-plane': 2, operator: 2 };
const ROLE_ARNS: Record<PlatformComponent, string> = {
  'control-plane': 'arn:aws:iam::123456789012:role/citadel-control-plane',
  operator: 'arn:aws:iam::123456789012:role/citadel-operator',
};
const INGRESS = {
  host: 'citadel.example.com',
  ingressClassName: 'nginx',
  tlsSecretName: 'citadel-tls',
};
const ENVIRONMENT = {
  CITADEL_PUBLIC_URL: 'https://citadel.example.com',
  LOG_LEVEL: 'info',
  AWS_REGION: 'eu-west-1',
  CITADEL_PLATFORM_KEY_ARN: 'arn:aws:kms:eu-west-1:123456789012:key/peer-test',
};
const OPERATOR_SETTINGS: OperatorSettings = {
  instanceId: 'peer01',
  dataPlaneImage: 'registry.example.com/azora/citadel-data-plane:1.4.2',
  tenantDatabase: { host: 'db.example.internal', port: 5432 },
  platformEndpoints: [
    { name: 'database', port: 5432, destination: { cidr: '10.40.0.0/16' } },
    controlPlaneEndpoint(),
  ],
  tokenIssuer: {
    issuer: 'https://citadel.example.com',
    jwksUrl: 'http://citadel-control-plane.citadel-system.svc.cluster.local:8080/jwks',
  },
};
const MASTER_KEY = Buffer.alloc(32, 0x5a).toString('base64');
const SECRET_ENVIRONMENT = {
  DATABASE_URL: 'postgres://citadel:p%40ss@db.example.internal:5432/citadel',
  REDIS_URL: 'rediss://:redis-auth-token-0123456789@cache.example.internal:6379',
  CITADEL_ADMIN_TOKEN: 'ctd_admin_0123456789abcdef',
};
/**
 * Kinds whose readiness the provider awaits on things this cluster has no machinery for: a
 * Deployment's available replicas (no scheduler, no kubelet) and an Ingress's load balancer (no
 * ingress controller). The test program marks them `pulumi.com/skipAwait`; nothing else changes.
 */
const AWAITS_NODES_OR_CONTROLLERS = new Set([
  'kubernetes:apps/v1:Deployment',
  'kubernetes:networking.k8s.io/v1:Ingress',
]);
/**
 * kube-controller-manager's namespace controller and garbage collector (the defaults: destroy
 * waits for the namespace to be finalized, and Deployments are deleted in the foreground), plus the
 * endpoints controller: the provider's Service await settles on the Service's Endpoints object,
 * which only that controller writes (with no Pods, an empty one), as in any real cluster.
 */
const CONTROLLERS = [
  'namespace-controller',
  'garbage-collector-controller',
  'endpoints-controller',
];
const PROJECT = 'citadel-peer-platform-workloads';

const suite = peerSuite('PlatformWorkloads: pulumi up and destroy against a real API server', [
  ...KUBE_API_SERVER_PEERS,
  'pulumi',
  'pulumi-language-nodejs',
  'pulumi-resource-kubernetes',
]);

interface Clients {
  core: CoreV1Api;
  apps: AppsV1Api;
  rbac: RbacAuthorizationV1Api;
  policy: PolicyV1Api;
  networking: NetworkingV1Api;
  extensions: ApiextensionsV1Api;
  custom: CustomObjectsApi;
  objects: KubernetesObjectApi;
}

describe.skipIf(suite.skip)(suite.title, () => {
  let server: KubeApiServer;
  let peer: PulumiPeer;
  let stack: automation.Stack;
  let clients: Clients;
  const timings: string[] = [];
  const cleanups: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    [server, peer] = await Promise.all([
      startKubeApiServer({ controllers: CONTROLLERS }),
      pulumiPeer(),
    ]);
    cleanups.push(server.stop, peer.cleanup);
    clients = makeClients(server.kubeconfig);
    const program = platformWorkloadsProgram(server.kubeconfig);
    stack = await automation.LocalWorkspace.createOrSelectStack(
      { stackName: 'peer', projectName: PROJECT, program },
      {
        pulumiCommand: await automation.PulumiCommand.get({ root: peer.root }),
        pulumiHome: peer.pulumiHome,
        envVars: peer.env,
        projectSettings: { name: PROJECT, runtime: 'nodejs', backend: { url: peer.backendUrl } },
      },
    );
  });

  afterAll(async () => {
    if (timings.length > 0)
      console.log(`PlatformWorkloads on ${server.version}: ${timings.join(', ')}`);
    for (const cleanup of cleanups.toReversed()) await cleanup();
  });

  /** Runs `operation`, records how long it took, and prints it. */
  const timed = async <T>(label: string, operation: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    const result = await operation();
    const entry = `${label} ${((performance.now() - started) / 1000).toFixed(1)} s`;
    timings.push(entry);
    console.log(`PlatformWorkloads: ${entry}`);
    return result;
  };

  it('up creates the CRD, the namespace and every platform object', async () => {
    const up = await timed('up (create)', () => stack.up());
    expect(up.summary.result).toBe('succeeded');
    // The stack, the provider, the component and its 20 objects.
    expect(up.summary.resourceChanges).toEqual({ create: 23 });
    expect(up.outputs.namespace?.value).toBe(SYSTEM_NAMESPACE);

    await expectCrdEstablished(clients);
    await expectNamespace(clients);
    for (const component of COMPONENTS) await expectComponent(clients, component);
    await expectLeaderElectionRbac(clients);
    await expectIngress(clients);
    await expectEnvironment(clients);
    await expectMasterKey(clients);
  }, 180_000);

  it('the Deployments pass the restricted Pod Security admission of the namespace', async () => {
    for (const component of COMPONENTS) {
      const deployment = await clients.apps.readNamespacedDeployment({
        name: componentName(component),
        namespace: SYSTEM_NAMESPACE,
      });
      const template = deployment.spec?.template;
      expect(template?.spec).toBeDefined();
      // A server-side dry run goes through admission, PodSecurity included, and stores nothing.
      const pod = await dryRunPod(clients, template?.spec ?? {}, template?.metadata?.labels);
      expect(pod).toMatchObject({ kind: 'Pod', metadata: { namespace: SYSTEM_NAMESPACE } });
    }
    // A Pod without the security contexts is refused: the level is really enforced.
    const insecure = { containers: [{ name: 'insecure', image: IMAGES.operator }] };
    await expectRefused(dryRunPod(clients, insecure), 403, 'violates PodSecurity');
  });

  it('the CRD serves Tenants and its schema and CEL rules hold on the real API server', async () => {
    const tenants = tenantApi(clients);
    const created = await tenants.create(tenantObject('acme-peer'));
    const read = await tenants.get('acme-peer');
    expect(read.spec).toEqual({
      ...tenantObject('acme-peer').spec,
      // Defaults from the structural schema.
      suspended: false,
      isolation: { networkPolicy: 'default-deny', dedicatedDatabase: true },
    });
    expect(read.metadata.uid).toBe(created.metadata.uid);

    const refused = [
      { tenant: tenantObject('admin'), message: 'slug is reserved by the platform' },
      {
        tenant: { ...tenantObject('acme-other'), metadata: { name: 'acme-mismatch' } },
        message: 'metadata.name must equal spec.slug',
      },
      {
        tenant: withGpuPool(tenantObject('acme-gpu'), { min: 3, max: 1 }),
        message: 'min must not exceed max',
      },
      {
        tenant: {
          ...tenantObject('acme-bad'),
          spec: { ...tenantObject('acme-bad').spec, slug: 'Acme_Bad' },
        },
        message: 'spec.slug: Invalid value',
      },
    ];
    for (const { tenant, message } of refused) {
      await expectRefused(tenants.create(tenant), 422, message);
    }
    const renamed = { ...read, spec: { ...read.spec, slug: 'acme-renamed' } };
    await expectRefused(tenants.replace('acme-peer', renamed), 422, 'slug is immutable');

    await tenants.delete('acme-peer');
    await expectGone(tenants.get('acme-peer'));
  });

  it('a second up and a preview change nothing', async () => {
    const again = await timed('up (no change)', () => stack.up());
    expect(again.summary.result).toBe('succeeded');
    expect(again.summary.resourceChanges).toEqual({ same: 23 });
    const preview = await timed('preview', () => stack.preview());
    expect(preview.changeSummary).toEqual({ same: 23 });
  }, 180_000);

  it('destroy removes every object, the namespace and the CRD', async () => {
    const destroy = await timed('destroy', () => stack.destroy());
    expect(destroy.summary.result).toBe('succeeded');
    expect(destroy.summary.resourceChanges).toEqual({ delete: 23 });
    // The provider waited for the namespace controller to empty and finalize the namespace.
    await expectGone(clients.core.readNamespace({ name: SYSTEM_NAMESPACE }));
    await expectGone(clients.extensions.readCustomResourceDefinition({ name: CRD_NAME }));
    for (const component of COMPONENTS) {
      const name = componentName(component);
      await expectGone(clients.rbac.readClusterRole({ name }));
      await expectGone(clients.rbac.readClusterRoleBinding({ name }));
    }
  }, 180_000);
});

/** The inline program: a provider on the peer's kubeconfig and the real component. */
function platformWorkloadsProgram(kubeconfig: string): automation.PulumiFn {
  return () => {
    pulumi.runtime.registerStackTransformation(({ type, props, opts }) =>
      AWAITS_NODES_OR_CONTROLLERS.has(type) ? { props: withSkipAwait(props), opts } : undefined,
    );
    const provider = new KubernetesProvider('peer-cluster', kubeconfig, {});
    const workloads = new PlatformWorkloads('citadel-workloads', {
      provider,
      tenantCrd: readTenantCrd(TENANT_CRD_PATH),
      images: IMAGES,
      replicas: REPLICAS,
      roleArns: {
        'control-plane': pulumi.output(ROLE_ARNS['control-plane']),
        operator: pulumi.output(ROLE_ARNS.operator),
      },
      ingress: INGRESS,
      environment: pulumi.output(ENVIRONMENT),
      secretEnvironment: pulumi.secret(SECRET_ENVIRONMENT),
      operator: OPERATOR_SETTINGS,
      masterKey: pulumi.secret(MASTER_KEY),
    });
    return Promise.resolve({ namespace: workloads.namespace });
  };
}

function withSkipAwait(props: pulumi.Inputs): pulumi.Inputs {
  return {
    ...props,
    metadata: pulumi.output(props.metadata as pulumi.Input<V1ObjectMeta>).apply((metadata) => ({
      ...metadata,
      annotations: { ...metadata.annotations, 'pulumi.com/skipAwait': 'true' },
    })),
  };
}

function makeClients(kubeconfig: string): Clients {
  const config = new KubeConfig();
  config.loadFromString(kubeconfig);
  return {
    core: config.makeApiClient(CoreV1Api),
    apps: config.makeApiClient(AppsV1Api),
    rbac: config.makeApiClient(RbacAuthorizationV1Api),
    policy: config.makeApiClient(PolicyV1Api),
    networking: config.makeApiClient(NetworkingV1Api),
    extensions: config.makeApiClient(ApiextensionsV1Api),
    custom: config.makeApiClient(CustomObjectsApi),
    objects: KubernetesObjectApi.makeApiClient(config),
  };
}

async function expectCrdEstablished({ extensions }: Clients): Promise<void> {
  const crd = await extensions.readCustomResourceDefinition({ name: CRD_NAME });
  const conditions = Object.fromEntries(
    (crd.status?.conditions ?? []).map((condition) => [condition.type, condition.status]),
  );
  expect(conditions).toMatchObject({ Established: 'True', NamesAccepted: 'True' });
  expect(crd).toMatchObject({
    metadata: { labels: { 'app.kubernetes.io/part-of': 'citadel' } },
    status: { acceptedNames: { kind: 'Tenant', plural: 'tenants' } },
  });
}

async function expectNamespace({ core }: Clients): Promise<void> {
  const namespace = await core.readNamespace({ name: SYSTEM_NAMESPACE });
  expect(namespace).toMatchObject({
    metadata: {
      labels: {
        'app.kubernetes.io/part-of': 'citadel',
        'pod-security.kubernetes.io/enforce': 'restricted',
        'pod-security.kubernetes.io/audit': 'restricted',
        'pod-security.kubernetes.io/warn': 'restricted',
      },
    },
    status: { phase: 'Active' },
  });
}

/** A component's Deployment, Service, ServiceAccount, ClusterRole(Binding) and PDB. */
async function expectComponent(clients: Clients, component: PlatformComponent): Promise<void> {
  const name = componentName(component);
  const namespaced = { name, namespace: SYSTEM_NAMESPACE };
  const metadata = { name, namespace: SYSTEM_NAMESPACE, labels: componentLabels(component) };
  const selector = { 'app.kubernetes.io/name': name };
  expect(await clients.apps.readNamespacedDeployment(namespaced)).toMatchObject(
    expectedDeployment(component),
  );
  expect(await clients.core.readNamespacedService(namespaced)).toMatchObject({
    metadata,
    spec: {
      type: 'ClusterIP',
      selector,
      ports: [{ name: 'http', port: PLATFORM_PORTS[component], targetPort: 'http' }],
    },
  });
  expect(await clients.core.readNamespacedServiceAccount(namespaced)).toMatchObject({
    metadata: { ...metadata, annotations: { [IRSA_ROLE_ANNOTATION]: ROLE_ARNS[component] } },
  });
  expect(await clients.policy.readNamespacedPodDisruptionBudget(namespaced)).toMatchObject({
    metadata,
    spec: { minAvailable: 1, selector: { matchLabels: selector } },
  });
  await expectClusterRbac(clients, component);
}

/** What sets the operator's container apart: its bundle, its settings and the master key. */
const OPERATOR_CONTAINER = {
  command: OPERATOR_COMMAND,
  envFrom: [{ configMapRef: { name: PLATFORM_ENVIRONMENT_NAME } }],
  env: [
    { name: 'CITADEL_OPERATOR_PORT', value: String(PLATFORM_PORTS.operator) },
    { name: 'CITADEL_DATA_DIR', value: '/var/lib/citadel' },
    ...operatorEnvironment(OPERATOR_SETTINGS),
  ],
  volumeMounts: [
    { name: 'tmp', mountPath: '/tmp' },
    { name: 'data', mountPath: '/var/lib/citadel' },
    { name: 'master-key', mountPath: MASTER_KEY_MOUNT_PATH, readOnly: true },
  ],
};
const CONTROL_PLANE_CONTAINER = {
  envFrom: [
    { configMapRef: { name: PLATFORM_ENVIRONMENT_NAME } },
    { secretRef: { name: PLATFORM_ENVIRONMENT_NAME } },
  ],
  env: [
    { name: 'PORT', value: String(PLATFORM_PORTS['control-plane']) },
    { name: 'CITADEL_DATA_DIR', value: '/var/lib/citadel' },
  ],
};

/** The Deployment as applied: labels, replicas and the restricted security contexts. */
function expectedDeployment(component: PlatformComponent) {
  const name = componentName(component);
  const labels = componentLabels(component);
  const container = {
    image: IMAGES[component],
    ports: [{ name: 'http', containerPort: PLATFORM_PORTS[component] }],
    ...(component === 'operator' ? OPERATOR_CONTAINER : CONTROL_PLANE_CONTAINER),
    securityContext: {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    },
  };
  return {
    metadata: { name, namespace: SYSTEM_NAMESPACE, labels },
    spec: {
      replicas: REPLICAS[component],
      selector: { matchLabels: { 'app.kubernetes.io/name': name } },
      template: {
        metadata: { labels },
        spec: {
          serviceAccountName: name,
          securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
          containers: [container],
        },
      },
    },
  };
}

async function expectClusterRbac({ rbac }: Clients, component: PlatformComponent): Promise<void> {
  const name = componentName(component);
  const metadata = { name, labels: componentLabels(component) };
  const role = await rbac.readClusterRole({ name });
  expect(role.metadata).toMatchObject(metadata);
  expect(role.rules).toEqual(component === 'operator' ? OPERATOR_RULES : CONTROL_PLANE_RULES);
  expect(await rbac.readClusterRoleBinding({ name })).toMatchObject({
    metadata,
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
    subjects: [{ kind: 'ServiceAccount', name, namespace: SYSTEM_NAMESPACE }],
  });
}

async function expectLeaderElectionRbac({ rbac }: Clients): Promise<void> {
  const name = `${componentName('operator')}-leader-election`;
  const namespaced = { name, namespace: SYSTEM_NAMESPACE };
  const metadata = { ...namespaced, labels: componentLabels('operator') };
  const role = await rbac.readNamespacedRole(namespaced);
  expect(role.metadata).toMatchObject(metadata);
  expect(role.rules).toEqual(OPERATOR_LEADER_ELECTION_RULES);
  expect(await rbac.readNamespacedRoleBinding(namespaced)).toMatchObject({
    metadata,
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
    subjects: [
      { kind: 'ServiceAccount', name: componentName('operator'), namespace: SYSTEM_NAMESPACE },
    ],
  });
}

async function expectIngress({ networking }: Clients): Promise<void> {
  const name = componentName('control-plane');
  const ingress = await networking.readNamespacedIngress({ name, namespace: SYSTEM_NAMESPACE });
  expect(ingress).toMatchObject({
    metadata: { labels: componentLabels('control-plane') },
    spec: {
      ingressClassName: INGRESS.ingressClassName,
      tls: [{ hosts: [INGRESS.host], secretName: INGRESS.tlsSecretName }],
      rules: [
        {
          host: INGRESS.host,
          http: {
            paths: [
              {
                path: '/',
                pathType: 'Prefix',
                backend: { service: { name, port: { name: 'http' } } },
              },
            ],
          },
        },
      ],
    },
  });
}

async function expectEnvironment({ core }: Clients): Promise<void> {
  const namespaced = { name: PLATFORM_ENVIRONMENT_NAME, namespace: SYSTEM_NAMESPACE };
  const metadata = { ...namespaced, labels: { 'app.kubernetes.io/part-of': 'citadel' } };
  const configMap = await core.readNamespacedConfigMap(namespaced);
  expect(configMap).toMatchObject({ metadata, data: ENVIRONMENT });
  const secret = await core.readNamespacedSecret(namespaced);
  expect(secret).toMatchObject({ metadata, type: 'Opaque' });
  const decoded = Object.fromEntries(
    Object.entries(secret.data ?? {}).map(([key, value]) => [
      key,
      Buffer.from(value, 'base64').toString('utf8'),
    ]),
  );
  expect(decoded).toEqual(SECRET_ENVIRONMENT);
}

/** The master key Secret, and the operator's volume that mounts it 0400. */
async function expectMasterKey({ apps, core }: Clients): Promise<void> {
  const secret = await core.readNamespacedSecret({
    name: MASTER_KEY_SECRET_NAME,
    namespace: SYSTEM_NAMESPACE,
  });
  expect(secret).toMatchObject({
    metadata: { labels: componentLabels('operator') },
    type: 'Opaque',
    immutable: true,
    data: { [MASTER_KEY_FILE]: MASTER_KEY },
  });
  const deployment = await apps.readNamespacedDeployment({
    name: componentName('operator'),
    namespace: SYSTEM_NAMESPACE,
  });
  expect(deployment.spec?.template.spec?.volumes).toContainEqual({
    name: 'master-key',
    secret: {
      secretName: MASTER_KEY_SECRET_NAME,
      defaultMode: 0o400,
      items: [{ key: MASTER_KEY_FILE, path: MASTER_KEY_FILE }],
    },
  });
}

/** Creates a Pod with `spec` in the system namespace as a server-side dry run. */
function dryRunPod(clients: Clients, spec: object, labels?: Record<string, string>) {
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'dry-run', namespace: SYSTEM_NAMESPACE, labels },
    spec,
  };
  return clients.objects.create(pod, undefined, 'All');
}

/** Expects `operation` to be refused by the API server with `code` and `message` in its body. */
async function expectRefused(
  operation: Promise<unknown>,
  code: number,
  message: string,
): Promise<void> {
  const error: unknown = await operation.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(ApiException);
  const refusal = error as ApiException<unknown>;
  expect(refusal.code).toBe(code);
  expect(String(refusal.body)).toContain(message);
}

interface Tenant {
  apiVersion: string;
  kind: string;
  metadata: { name: string; uid?: string; resourceVersion?: string };
  spec: Record<string, unknown>;
}

function tenantObject(slug: string): Tenant {
  return {
    apiVersion: `${TENANT_API_GROUP}/v1alpha1`,
    kind: 'Tenant',
    metadata: { name: slug },
    spec: {
      slug,
      displayName: 'Acme (peer test)',
      plan: 'starter',
      region: 'eu-west-1',
      resources: {
        database: { storageGi: 10, maxConnections: 20 },
        vectorStore: { engine: 'pgvector', dimensions: 1536 },
        gpuPool: { enabled: false, instanceType: '', min: 0, max: 0 },
        keys: { rotationDays: 90 },
      },
      services: ['orchestrator', 'library'],
    },
  };
}

function withGpuPool(tenant: Tenant, range: { min: number; max: number }): Tenant {
  const resources = tenant.spec.resources as Record<string, unknown>;
  const gpuPool = { enabled: true, instanceType: 'g5.xlarge', ...range };
  return { ...tenant, spec: { ...tenant.spec, resources: { ...resources, gpuPool } } };
}

/** Tenant custom objects through client-node's CustomObjectsApi. */
function tenantApi({ custom }: Clients) {
  const resource = { group: TENANT_API_GROUP, version: 'v1alpha1', plural: 'tenants' };
  return {
    create: (body: Tenant) =>
      custom.createClusterCustomObject({ ...resource, body }) as Promise<Tenant>,
    get: (name: string) => custom.getClusterCustomObject({ ...resource, name }) as Promise<Tenant>,
    replace: (name: string, body: Tenant) =>
      custom.replaceClusterCustomObject({ ...resource, name, body }) as Promise<Tenant>,
    delete: (name: string) => custom.deleteClusterCustomObject({ ...resource, name }),
  };
}

/** Expects a read to fail with 404 Not Found. */
function expectGone(read: Promise<unknown>): Promise<void> {
  return expectRefused(read, 404, 'not found');
}
