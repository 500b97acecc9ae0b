import path from 'node:path';
import {
  controlPlaneEndpoint,
  deploymentManifest,
  operatorContainer,
  type OperatorSettings,
  PLATFORM_PORTS,
} from '@citadel/infra';
import { type IContainer } from 'kubernetes-models/v1/Container';
import { type IPodSpec } from 'kubernetes-models/v1/PodSpec';
import { describe, expect, it } from 'vitest';
import { masterKeyPath } from '../src/drivers/local/local-key-ring.ts';
import { OperatorConfigError, readOperatorConfig } from '../src/kubernetes/operator-config.ts';

const REQUIRED = {
  DATABASE_URL: 'postgres://citadel:secret@db.internal:6432/postgres',
  CITADEL_INSTANCE_ID: 'prod01',
  CITADEL_DATA_PLANE_IMAGE: 'registry.example.com:5000/azora/data-plane:1.4.2',
};

describe('readOperatorConfig', () => {
  it('applies client-go lease timings, port 8081 and the tenant database address of DATABASE_URL', () => {
    const config = readOperatorConfig({
      ...REQUIRED,
      CITADEL_OPERATOR_NAMESPACE: 'citadel-system',
    });
    expect(config.http).toEqual({ host: '0.0.0.0', port: 8081 });
    expect(config.leaseTimings).toEqual({
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
    });
    expect(config.namespace).toBe('citadel-system');
    expect(config.templates.image).toEqual({
      repository: 'registry.example.com:5000/azora/data-plane',
      tag: '1.4.2',
    });
    expect(config.tenantDatabase).toEqual({
      host: 'db.internal',
      port: 6432,
      sslMode: 'verify-full',
    });
    expect(config.milvus).toBeUndefined();
    expect(config.pulumi).toBeUndefined();
    expect(config.kubeconfigPath).toBeUndefined();
  });

  it('reads the optional platform endpoints, Milvus and Pulumi settings', () => {
    const config = readOperatorConfig({
      ...REQUIRED,
      CITADEL_PLATFORM_ENDPOINTS: JSON.stringify([
        { name: 'database', port: 5432, destination: { cidr: '10.0.0.0/24' } },
      ]),
      CITADEL_MILVUS_ADDRESS: 'milvus.citadel-milvus.svc.cluster.local:19530',
      CITADEL_PULUMI_BACKEND_URL: 's3://citadel-state',
      CITADEL_PULUMI_PLATFORM: '{"clusterName":"citadel"}',
    });
    expect(config.templates.platformEndpoints).toHaveLength(1);
    expect(config.milvus).toEqual({
      address: 'milvus.citadel-milvus.svc.cluster.local:19530',
      token: undefined,
      egress: { port: 19_530, destination: { namespace: 'citadel-milvus' } },
    });
    expect(config.pulumi?.backendUrl).toBe('s3://citadel-state');
  });

  it.each([
    ['a cluster Service', 'milvus.vectors.svc:19530', {}, { namespace: 'vectors' }],
    ['an IPv4 address', 'https://10.40.1.7:443', {}, { cidr: '10.40.1.7/32' }],
    ['an IPv6 address', '[fd00::7]:19530', {}, { cidr: 'fd00::7/128' }],
    [
      'a host outside the cluster, given its destination',
      'https://in01-abc.vectors.example.com:19536',
      { CITADEL_MILVUS_DESTINATION: '{"cidr":"198.51.100.0/24"}' },
      { cidr: '198.51.100.0/24' },
    ],
  ])('opens to milvus tenants the port of Milvus at %s', (_case, address, extra, destination) => {
    const config = readOperatorConfig({
      ...REQUIRED,
      CITADEL_MILVUS_ADDRESS: address,
      CITADEL_MILVUS_TOKEN: 'root:Milvus',
      ...extra,
    });
    expect(config.milvus).toEqual({
      address,
      token: 'root:Milvus',
      egress: { port: Number(/:(\d+)$/.exec(address)?.[1]), destination },
    });
  });

  it.each([
    ['with no port', 'milvus.vectors.svc', 'CITADEL_MILVUS_ADDRESS'],
    [
      'outside the cluster, with no destination',
      'vectors.example.com:19530',
      'CITADEL_MILVUS_DESTINATION',
    ],
  ])('refuses a Milvus address %s', (_case, address, variable) => {
    expect(() => readOperatorConfig({ ...REQUIRED, CITADEL_MILVUS_ADDRESS: address })).toThrow(
      variable,
    );
  });

  it('names every invalid variable, and refuses a renew deadline not shorter than the lease', () => {
    const error = (() => {
      try {
        readOperatorConfig({
          CITADEL_DATA_PLANE_IMAGE: 'data-plane',
          CITADEL_PLATFORM_ENDPOINTS: 'nope',
        });
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(OperatorConfigError);
    const message = (error as Error).message;
    for (const name of [
      'DATABASE_URL',
      'CITADEL_INSTANCE_ID',
      'CITADEL_DATA_PLANE_IMAGE',
      'CITADEL_PLATFORM_ENDPOINTS',
    ]) {
      expect(message).toContain(name);
    }
    expect(() =>
      readOperatorConfig({
        ...REQUIRED,
        CITADEL_LEASE_DURATION_MS: '5000',
        CITADEL_LEASE_RENEW_DEADLINE_MS: '5000',
      }),
    ).toThrow(/CITADEL_LEASE_RENEW_DEADLINE_MS/);
  });

  it('accepts the pod the platform stack renders, whose master key is where the key ring reads it', () => {
    const pod = renderedOperatorPod(PLATFORM_SETTINGS);
    const config = readOperatorConfig(pod.environment);
    expect(config.http.port).toBe(PLATFORM_PORTS.operator);
    expect(config.namespace).toBe('citadel-system');
    expect(config.instanceId).toBe('prod01');
    expect(config.templates.image).toEqual({
      repository: 'registry.example.com/azora/citadel-data-plane',
      tag: '1.4.2',
    });
    expect(config.templates.platformEndpoints).toEqual(PLATFORM_SETTINGS.platformEndpoints);
    expect(config.templates.tokenIssuer).toEqual(PLATFORM_SETTINGS.tokenIssuer);
    expect(config.tenantDatabase).toEqual({
      ...PLATFORM_SETTINGS.tenantDatabase,
      sslMode: 'verify-full',
    });
    expect(pod.readOnly).toBe(true);
    expect(pod.file).toBe(masterKeyPath(config.dataDir));
  });
});

const PLATFORM_SETTINGS: OperatorSettings = {
  instanceId: 'prod01',
  dataPlaneImage: 'registry.example.com/azora/citadel-data-plane:1.4.2',
  tenantDatabase: { host: 'db.internal', port: 5432 },
  platformEndpoints: [
    { name: 'database', port: 5432, destination: { cidr: '10.40.0.0/16' } },
    controlPlaneEndpoint(),
  ],
  tokenIssuer: { issuer: 'https://citadel.example.com', jwksUrl: 'http://cp:8080/jwks' },
};

/**
 * The operator's pod as the platform stack renders it: its environment as the kubelet resolves
 * it (the pod's namespace, the platform Secret's `DATABASE_URL`), and its master key mount.
 */
function renderedOperatorPod(settings: OperatorSettings) {
  const pod = deploymentManifest({
    component: 'operator',
    image: 'registry.example.com/azora/citadel-operator:1.4.2',
    replicas: 2,
    port: PLATFORM_PORTS.operator,
    resources: { cpu: '250m', memory: '512Mi' },
    container: operatorContainer(settings),
  }).spec?.template.spec;
  const [container] = pod?.containers ?? [];
  if (!pod || !container) throw new Error('no operator pod rendered');
  const resolved: Record<string, string> = {
    CITADEL_OPERATOR_NAMESPACE: 'citadel-system',
    DATABASE_URL: REQUIRED.DATABASE_URL,
  };
  return {
    environment: Object.fromEntries(
      (container.env ?? []).map((variable) => [
        variable.name,
        variable.value ?? resolved[variable.name],
      ]),
    ),
    ...secretMount(pod, container, 'master-key'),
  };
}

/** Where a pod's container has the one key of Secret volume `name`, and whether read-only. */
function secretMount(pod: IPodSpec, container: IContainer, name: string) {
  const mount = container.volumeMounts?.find((candidate) => candidate.name === name);
  const [item] = pod.volumes?.find((volume) => volume.name === name)?.secret?.items ?? [];
  if (!mount || !item) throw new Error(`no Secret volume ${name} mounted`);
  return { file: path.join(mount.mountPath, item.path), readOnly: mount.readOnly };
}
