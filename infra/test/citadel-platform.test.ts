import { fileURLToPath } from 'node:url';
import * as pulumi from '@pulumi/pulumi';
import { type IPolicyRule } from 'kubernetes-models/rbac.authorization.k8s.io/v1/PolicyRule';
import { beforeAll, describe, expect, it } from 'vitest';
import { type PlatformOutputs } from '../src/citadel-platform.ts';
import { MILVUS_CHART } from '../src/milvus-release.ts';
import { parseMasterKey, readPlatformConfig } from '../src/platform-config.ts';
import { platformProgram } from '../src/platform-program.ts';
import { kubernetesObjectProblems } from './support/kubernetes-models.ts';
import {
  MOCK_CLUSTER_SECURITY_GROUP,
  MOCK_ISSUER,
  mockPulumiEngine,
  type MockedEngine,
  type RecordedResource,
  valueOf,
} from './support/pulumi-mocks.ts';

const MASTER_KEY = Buffer.alloc(32, 0xa5).toString('base64');
const CONFIG: Record<string, string> = {
  'aws:region': 'eu-west-1',
  'citadel:domain': 'citadel.example.com',
  'citadel:imageRegistry': 'registry.example.com/azora',
  'citadel:controlPlaneImageTag': '1.4.2',
  'citadel:operatorImageTag': '1.4.2',
  'citadel:dataPlaneImageTag': '1.4.3',
  'citadel:instanceId': 'prod01',
  'citadel:gpuNodeInstanceType': 'g6.2xlarge',
  'citadel:gpuNodeMin': '1',
  'citadel:gpuNodeMax': '5',
  'citadel:databasePassword': 'p@ss/word',
  'citadel:redisAuthToken': 'redis-auth-token-0123456789',
  'citadel:adminToken': 'ctd_admin_0123456789abcdef',
  'citadel:masterKey': MASTER_KEY,
  'citadel:tenantCrdPath': fileURLToPath(new URL('fixtures/tenant-crd.yaml', import.meta.url)),
};
const SECRET_KEYS = [
  'citadel:databasePassword',
  'citadel:redisAuthToken',
  'citadel:adminToken',
  'citadel:masterKey',
];

let engine: MockedEngine;
let outputs: PlatformOutputs;

beforeAll(async () => {
  engine = await mockPulumiEngine();
  pulumi.runtime.setAllConfig(CONFIG, SECRET_KEYS);
  outputs = platformProgram();
  await engine.settled();
});

// The caller names the type of the input it reads; the mocks record inputs untyped.
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters
const input = <T>(resource: RecordedResource, key: string): T => resource.inputs[key] as T;
const kubernetesObjects = (): RecordedResource[] =>
  engine.resources.filter(
    (resource) =>
      resource.type.startsWith('kubernetes:') && resource.type !== 'kubernetes:helm.sh/v3:Release',
  );
const kubernetesResource = (kind: string, name: string): RecordedResource => {
  const found = kubernetesObjects().find(
    (resource) =>
      resource.inputs.kind === kind &&
      (resource.inputs.metadata as { name?: string } | undefined)?.name === name,
  );
  if (!found) {
    throw new Error(`no ${kind} ${name}`);
  }
  return found;
};
const kubernetesObject = (kind: string, name: string): Record<string, unknown> =>
  kubernetesResource(kind, name).inputs;

interface Container {
  command?: string[];
  ports: unknown[];
  env: Array<{ name: string; value?: string; valueFrom?: unknown }>;
  envFrom: unknown[];
  volumeMounts: unknown[];
  livenessProbe: unknown;
  readinessProbe: unknown;
}
const podOf = (name: string) =>
  (
    kubernetesObject('Deployment', name) as {
      spec: { template: { spec: { containers: Container[]; volumes: unknown[] } } };
    }
  ).spec.template.spec;
const containerOf = (name: string): Container => {
  const [container] = podOf(name).containers;
  if (!container) throw new Error(`no container in ${name}`);
  return container;
};

describe('CitadelPlatform on AWS (mocked engine)', () => {
  it('keeps a platform master key with rotation on, behind its alias', () => {
    const key = engine.one('aws:kms/key:Key');
    expect(input(key, 'enableKeyRotation')).toBe(true);
    expect(input<number>(key, 'rotationPeriodInDays')).toBeGreaterThanOrEqual(90);
    expect(input(engine.one('aws:kms/alias:Alias'), 'name')).toBe('alias/citadel/platform');
  });

  it('spreads private and public subnets over the zones; private ones get no public address', () => {
    const subnets = engine.ofType('aws:ec2/subnet:Subnet');
    const privateSubnets = subnets.filter((subnet) => subnet.name.includes('-private-'));
    expect(privateSubnets).toHaveLength(3);
    expect(subnets).toHaveLength(6);
    expect(new Set(privateSubnets.map((subnet) => input(subnet, 'availabilityZone')))).toEqual(
      new Set(['eu-west-1a', 'eu-west-1b', 'eu-west-1c']),
    );
    for (const subnet of subnets) {
      expect(input(subnet, 'mapPublicIpOnLaunch')).toBe(false);
    }
    for (const subnet of privateSubnets) {
      expect(input<Record<string, string>>(subnet, 'tags')['kubernetes.io/role/internal-elb']).toBe(
        '1',
      );
    }
    expect(engine.ofType('aws:ec2/natGateway:NatGateway')).toHaveLength(3);
  });

  it('runs EKS in the private subnets, its Secrets encrypted with the platform key', () => {
    const cluster = engine.one('aws:eks/cluster:Cluster');
    const vpcConfig = input<Record<string, unknown>>(cluster, 'vpcConfig');
    const privateSubnetIds = engine
      .ofType('aws:ec2/subnet:Subnet')
      .filter((subnet) => subnet.name.includes('-private-'))
      .map((subnet) => `${subnet.name}-id`);
    expect(vpcConfig.subnetIds).toEqual(privateSubnetIds);
    expect(vpcConfig.endpointPrivateAccess).toBe(true);
    expect(vpcConfig.endpointPublicAccess).toBe(false);
    expect(input(cluster, 'encryptionConfig')).toEqual({
      provider: { keyArn: expect.stringContaining(':key/') as unknown },
      resources: ['secrets'],
    });
    expect(input(cluster, 'version')).toBe('1.33');
  });

  it('registers the cluster as an OIDC provider for IRSA', () => {
    const provider = engine.one('aws:iam/openIdConnectProvider:OpenIdConnectProvider');
    expect(input(provider, 'url')).toBe(MOCK_ISSUER);
    expect(input(provider, 'clientIdLists')).toEqual(['sts.amazonaws.com']);
  });

  it('has a system node group and a tainted GPU node group sized from the configuration', () => {
    const system = engine.one('aws:eks/nodeGroup:NodeGroup', '-system');
    expect(input(system, 'taints')).toEqual([]);
    const gpu = engine.one('aws:eks/nodeGroup:NodeGroup', '-gpu');
    expect(input(gpu, 'taints')).toEqual([
      { key: 'nvidia.com/gpu', value: 'present', effect: 'NO_SCHEDULE' },
    ]);
    expect(input(gpu, 'amiType')).toBe('AL2023_x86_64_NVIDIA');
    expect(input(gpu, 'instanceTypes')).toEqual(['g6.2xlarge']);
    expect(input(gpu, 'scalingConfig')).toEqual({ minSize: 1, maxSize: 5, desiredSize: 1 });
    expect(input(gpu, 'subnetIds')).toEqual(input(system, 'subnetIds'));
    expect(input<string[]>(gpu, 'subnetIds').every((id) => id.includes('-private-'))).toBe(true);
  });

  it('runs PostgreSQL 15+ encrypted, private, with pg_stat_statements preloaded', () => {
    const database = engine.one('aws:rds/instance:Instance');
    expect(input(database, 'engine')).toBe('postgres');
    expect(Number.parseInt(input<string>(database, 'engineVersion'), 10)).toBeGreaterThanOrEqual(
      15,
    );
    expect(input(database, 'storageEncrypted')).toBe(true);
    expect(input(database, 'kmsKeyId')).toContain(':key/');
    expect(input(database, 'publiclyAccessible')).toBe(false);
    expect(input(database, 'deletionProtection')).toBe(true);
    expect(database.secretInputs).toContain('/password');
    const parameters = input<Array<{ name: string; value: string }>>(
      engine.one('aws:rds/parameterGroup:ParameterGroup'),
      'parameters',
    );
    expect(parameters).toContainEqual(
      expect.objectContaining({ name: 'shared_preload_libraries' }),
    );
    expect(parameters).toContainEqual(
      expect.objectContaining({ name: 'rds.force_ssl', value: '1' }),
    );
    const subnetGroup = engine.one('aws:rds/subnetGroup:SubnetGroup');
    expect(input<string[]>(subnetGroup, 'subnetIds').every((id) => id.includes('-private-'))).toBe(
      true,
    );
  });

  it('runs Redis encrypted in transit and at rest, with the AUTH token from the secret config', () => {
    const redis = engine.one('aws:elasticache/replicationGroup:ReplicationGroup');
    expect(input(redis, 'atRestEncryptionEnabled')).toBe(true);
    expect(input(redis, 'transitEncryptionEnabled')).toBe(true);
    expect(input(redis, 'transitEncryptionMode')).toBe('required');
    expect(input(redis, 'authToken')).toBe('redis-auth-token-0123456789');
    expect(redis.secretInputs).toContain('/authToken');
    expect(input(redis, 'kmsKeyId')).toContain(':key/');
  });

  it('opens the database and Redis to the cluster security group only, on their ports only', () => {
    const rules = engine.ofType('aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule');
    expect(rules.map((rule) => [input(rule, 'fromPort'), input(rule, 'toPort')])).toEqual([
      [5432, 5432],
      [6379, 6379],
    ]);
    for (const rule of rules) {
      expect(input(rule, 'referencedSecurityGroupId')).toBe(MOCK_CLUSTER_SECURITY_GROUP);
      expect(rule.inputs).not.toHaveProperty('cidrIpv4');
    }
    expect(engine.ofType('aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule')).toEqual([]);
    for (const group of engine.ofType('aws:ec2/securitygroup:SecurityGroup')) {
      expect(group.inputs).not.toHaveProperty('ingress');
    }
  });

  it('gives each service account a role only it can assume', async () => {
    const roles = engine
      .ofType('aws:iam/role:Role')
      .filter(
        (role) => role.name.endsWith('-control-plane-role') || role.name.endsWith('-operator-role'),
      );
    expect(roles).toHaveLength(2);
    const subjects = roles.map((role) => {
      const trust = JSON.parse(input<string>(role, 'assumeRolePolicy')) as {
        Statement: Array<{ Condition: { StringEquals: Record<string, string> } }>;
      };
      return trust.Statement[0]?.Condition.StringEquals[
        `${MOCK_ISSUER.replace('https://', '')}:sub`
      ];
    });
    expect(subjects).toEqual([
      'system:serviceaccount:citadel-system:citadel-control-plane',
      'system:serviceaccount:citadel-system:citadel-operator',
    ]);
    const serviceAccount = kubernetesObject('ServiceAccount', 'citadel-operator');
    expect(serviceAccount.metadata).toMatchObject({
      annotations: { 'eks.amazonaws.com/role-arn': await valueOf(outputs.operatorRoleArn) },
    });
  });

  it('installs Milvus from a pinned chart version, sized by the configuration', () => {
    const release = engine.one('kubernetes:helm.sh/v3:Release');
    expect(input(release, 'version')).toBe(MILVUS_CHART.version);
    expect(MILVUS_CHART.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(input(release, 'namespace')).toBe('citadel-milvus');
    expect(input<Record<string, unknown>>(release, 'values')).toMatchObject({
      cluster: { enabled: false },
    });
  });

  it('applies every Kubernetes object through the new cluster, valid against its schema', () => {
    const objects = kubernetesObjects();
    expect(objects.map((object) => object.inputs.kind).sort()).toEqual(
      [
        'ClusterRole',
        'ClusterRole',
        'ClusterRoleBinding',
        'ClusterRoleBinding',
        'ConfigMap',
        'CustomResourceDefinition',
        'Deployment',
        'Deployment',
        'Ingress',
        'Namespace',
        'Namespace',
        'PodDisruptionBudget',
        'PodDisruptionBudget',
        'Role',
        'RoleBinding',
        'Secret',
        'Secret',
        'Service',
        'Service',
        'ServiceAccount',
        'ServiceAccount',
      ].sort(),
    );
    const provider = engine.one('pulumi:providers:kubernetes');
    for (const object of [...objects, engine.one('kubernetes:helm.sh/v3:Release')]) {
      expect(object.provider, object.name).toMatch(new RegExp(`::${provider.name}::`));
    }
    for (const object of objects) {
      expect(kubernetesObjectProblems(object.inputs), object.name).toEqual([]);
    }
  });

  it('installs the Tenant CRD from the file the operator commits', () => {
    const crd = kubernetesObject('CustomResourceDefinition', 'tenants.citadel.azora.dev');
    expect(crd.spec).toMatchObject({ group: 'citadel.azora.dev', names: { kind: 'Tenant' } });
  });

  it('runs the platform pods under the restricted pod security standard', () => {
    const namespace = kubernetesObject('Namespace', 'citadel-system');
    expect(namespace.metadata).toMatchObject({
      labels: { 'pod-security.kubernetes.io/enforce': 'restricted' },
    });
    for (const name of ['citadel-control-plane', 'citadel-operator']) {
      const pod = (
        kubernetesObject('Deployment', name) as {
          spec: { template: { spec: Record<string, unknown> } };
        }
      ).spec.template.spec;
      expect(pod.securityContext).toMatchObject({
        runAsNonRoot: true,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(pod.serviceAccountName).toBe(name);
      for (const container of pod.containers as Array<Record<string, unknown>>) {
        expect(container.securityContext).toEqual({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          runAsNonRoot: true,
          capabilities: { drop: ['ALL'] },
          seccompProfile: { type: 'RuntimeDefault' },
        });
        expect(container.image).toBe(`registry.example.com/azora/${name}:1.4.2`);
      }
    }
  });

  it('serves the control plane over TLS on the configured host and ingress class', () => {
    expect(kubernetesObject('Ingress', 'citadel-control-plane').spec).toMatchObject({
      ingressClassName: 'nginx',
      tls: [{ hosts: ['citadel.example.com'], secretName: 'citadel-tls' }],
      rules: [{ host: 'citadel.example.com' }],
    });
  });

  it('keeps a pod of each component through voluntary disruptions', () => {
    for (const name of ['citadel-control-plane', 'citadel-operator']) {
      expect(kubernetesObject('PodDisruptionBudget', name).spec).toEqual({
        minAvailable: 1,
        selector: { matchLabels: { 'app.kubernetes.io/name': name } },
      });
    }
  });

  it('grants the operator tenants and their children only: no wildcard, nothing cluster-wide', () => {
    const rules = kubernetesObject('ClusterRole', 'citadel-operator').rules as IPolicyRule[];
    for (const rule of rules) {
      for (const field of [rule.apiGroups, rule.resources, rule.verbs]) {
        expect(field).not.toContain('*');
      }
      for (const forbidden of ['nodes', 'pods/exec', 'clusterroles', 'clusterrolebindings']) {
        expect(rule.resources).not.toContain(forbidden);
      }
      expect(rule.resources).not.toContain('customresourcedefinitions');
    }
    expect(rules).toContainEqual({
      apiGroups: ['citadel.azora.dev'],
      resources: ['tenants/status'],
      verbs: ['patch'],
    });
    expect(rules.flatMap((rule) => rule.resources)).not.toContain('configmaps');
    expect(rules.flatMap((rule) => rule.resources)).not.toContain('events');
    const controlPlaneRules = kubernetesObject('ClusterRole', 'citadel-control-plane')
      .rules as IPolicyRule[];
    expect(controlPlaneRules.flatMap((rule) => rule.apiGroups)).toEqual([
      'citadel.azora.dev',
      'citadel.azora.dev',
    ]);
    expect(kubernetesObject('ClusterRoleBinding', 'citadel-operator').subjects).toEqual([
      { kind: 'ServiceAccount', name: 'citadel-operator', namespace: 'citadel-system' },
    ]);
  });

  it('hands the pods their database and Redis URLs in a Secret, over TLS', () => {
    expect(kubernetesResource('Secret', 'citadel-platform').secretInputs).toEqual(['/stringData']);
    const secret = kubernetesObject('Secret', 'citadel-platform') as {
      stringData: Record<string, string>;
    };
    expect(secret.stringData.DATABASE_URL).toBe(
      'postgres://citadel:p%40ss%2Fword@citadel-platform.abc.eu-west-1.rds.amazonaws.com:5432/citadel?sslmode=require',
    );
    expect(secret.stringData.REDIS_URL).toMatch(/^rediss:\/\//);
    const configMap = kubernetesObject('ConfigMap', 'citadel-platform') as {
      data: Record<string, string>;
    };
    expect(configMap.data.CITADEL_PUBLIC_URL).toBe('https://citadel.example.com');
  });

  it('runs the operator bundle with its settings, its port and nothing of the Secret but the database', () => {
    const container = containerOf('citadel-operator');
    expect(container.command).toEqual([
      'node',
      '--max-old-space-size=192',
      '--max-semi-space-size=8',
      'operators/dist/operator.js',
    ]);
    expect(container.ports).toEqual([{ name: 'http', containerPort: 8081, protocol: 'TCP' }]);
    expect(container.livenessProbe).toMatchObject({ httpGet: { path: '/healthz', port: 'http' } });
    expect(container.readinessProbe).toMatchObject({ httpGet: { path: '/readyz', port: 'http' } });
    // Only the ConfigMap is read whole: the admin token and Redis stay with the control plane.
    expect(container.envFrom).toEqual([{ configMapRef: { name: 'citadel-platform' } }]);
    const env = Object.fromEntries(
      container.env.map((variable) => [variable.name, variable.value ?? variable.valueFrom]),
    );
    expect(env).toEqual({
      CITADEL_OPERATOR_PORT: '8081',
      CITADEL_DATA_DIR: '/var/lib/citadel',
      CITADEL_OPERATOR_NAMESPACE: { fieldRef: { fieldPath: 'metadata.namespace' } },
      DATABASE_URL: { secretKeyRef: { name: 'citadel-platform', key: 'DATABASE_URL' } },
      CITADEL_INSTANCE_ID: 'prod01',
      CITADEL_DATA_PLANE_IMAGE: 'registry.example.com/azora/citadel-data-plane:1.4.3',
      CITADEL_GATEWAY_NAMESPACE: 'citadel-system',
      CITADEL_TENANT_DATABASE_HOST: 'citadel-platform.abc.eu-west-1.rds.amazonaws.com',
      CITADEL_TENANT_DATABASE_PORT: '5432',
      CITADEL_PLATFORM_ENDPOINTS: expect.any(String) as unknown,
      CITADEL_TOKEN_ISSUER: 'https://citadel.example.com',
      CITADEL_TOKEN_JWKS_URL:
        'http://citadel-control-plane.citadel-system.svc.cluster.local:8080/.well-known/jwks.json',
    });
    expect(JSON.parse(env.CITADEL_PLATFORM_ENDPOINTS as string)).toEqual([
      { name: 'database', port: 5432, destination: { cidr: '10.40.0.0/16' } },
      { name: 'vector-store', port: 19530, destination: { namespace: 'citadel-milvus' } },
      {
        name: 'token-keys',
        port: 8080,
        destination: {
          namespace: 'citadel-system',
          podLabels: { 'app.kubernetes.io/name': 'citadel-control-plane' },
        },
      },
    ]);
    // The rest comes from the shared ConfigMap.
    const configMap = kubernetesObject('ConfigMap', 'citadel-platform') as {
      data: Record<string, string>;
    };
    expect(configMap.data).toMatchObject({
      CITADEL_PUBLIC_URL: 'https://citadel.example.com',
      CITADEL_MILVUS_ADDRESS: 'milvus.citadel-milvus.svc.cluster.local:19530',
      LOG_LEVEL: 'info',
    });
    const controlPlane = containerOf('citadel-control-plane');
    expect(controlPlane.command).toBeUndefined();
    expect(controlPlane.envFrom).toEqual([
      { configMapRef: { name: 'citadel-platform' } },
      { secretRef: { name: 'citadel-platform' } },
    ]);
    expect(controlPlane.env).toEqual([
      { name: 'PORT', value: '8080' },
      { name: 'CITADEL_DATA_DIR', value: '/var/lib/citadel' },
    ]);
  });

  it('mounts the platform master key into the operator, read-only, from an immutable Secret', () => {
    const secret = kubernetesResource('Secret', 'citadel-master-key');
    expect(secret.secretInputs).toEqual(['/data']);
    expect(secret.inputs).toMatchObject({
      metadata: { namespace: 'citadel-system' },
      type: 'Opaque',
      immutable: true,
      data: { 'master.key': MASTER_KEY },
    });
    const pod = podOf('citadel-operator');
    expect(pod.volumes).toContainEqual({
      name: 'master-key',
      secret: {
        secretName: 'citadel-master-key',
        defaultMode: 0o400,
        items: [{ key: 'master.key', path: 'master.key' }],
      },
    });
    // The directory the key ring reads `master.key` from: <CITADEL_DATA_DIR>/keys.
    expect(containerOf('citadel-operator').volumeMounts).toEqual([
      { name: 'tmp', mountPath: '/tmp' },
      { name: 'data', mountPath: '/var/lib/citadel' },
      { name: 'master-key', mountPath: '/var/lib/citadel/keys', readOnly: true },
    ]);
    expect(podOf('citadel-control-plane').volumes).toHaveLength(2);
  });

  it('takes the master key as 32 bytes of base64 only, never repeating a bad one', () => {
    expect(parseMasterKey(` ${MASTER_KEY}\n`)).toBe(MASTER_KEY);
    for (const bad of [
      Buffer.alloc(16).toString('base64'),
      Buffer.alloc(32).toString('hex'),
      `${MASTER_KEY.slice(0, -2)}!=`,
    ]) {
      expect(() => parseMasterKey(bad)).toThrow(/citadel:masterKey must be 32 random bytes/);
      expect(() => parseMasterKey(bad)).not.toThrow(bad);
    }
  });

  it('exports what the tenant stacks need', async () => {
    expect(await valueOf(outputs.clusterName)).toBe('citadel');
    expect(await valueOf(outputs.privateSubnetIds)).toHaveLength(3);
    expect(await valueOf(outputs.platformRoleArn)).toMatch(/role\/citadel-control-plane-role$/);
    expect(JSON.parse(await valueOf(outputs.kubeconfig))).toMatchObject({
      users: [{ user: { exec: { command: 'aws' } } }],
    });
  });

  it('refuses a configuration whose GPU minimum exceeds its maximum', () => {
    pulumi.runtime.setAllConfig({ ...CONFIG, 'citadel:gpuNodeMin': '6' }, SECRET_KEYS);
    expect(() => readPlatformConfig()).toThrow(/gpuNodeMin \(6\) exceeds gpuNodeMax \(5\)/);
    pulumi.runtime.setAllConfig(CONFIG, SECRET_KEYS);
  });

  it('refuses an instance id the operator would refuse', () => {
    for (const instanceId of ['Prod01', 'prod', 'prod-01']) {
      pulumi.runtime.setAllConfig({ ...CONFIG, 'citadel:instanceId': instanceId }, SECRET_KEYS);
      expect(() => readPlatformConfig()).toThrow(/citadel:instanceId must be six lower-case/);
    }
    pulumi.runtime.setAllConfig(CONFIG, SECRET_KEYS);
  });
});
