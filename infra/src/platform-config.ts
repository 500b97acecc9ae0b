import * as pulumi from '@pulumi/pulumi';

/** A managed node group's size: EKS keeps between `min` and `max` nodes of `instanceType`. */
export interface NodePoolSize {
  instanceType: string;
  min: number;
  max: number;
}

/** How large the platform's Milvus runs: one standalone pod, or the distributed cluster mode. */
export interface MilvusScale {
  mode: 'standalone' | 'cluster';
  /** Query, data and index nodes and proxies each (cluster mode). */
  replicas: number;
  /** Persistent volume of the standalone pod, in GiB. */
  storageGi: number;
}

/** Everything the platform stack is configured with; read once by {@link readPlatformConfig}. */
export interface PlatformConfig {
  region: string;
  /** Kubernetes minor version of the EKS control plane, e.g. `1.33`. */
  clusterVersion: string;
  vpcCidr: string;
  availabilityZoneCount: number;
  /** CIDRs allowed to reach the public Kubernetes API endpoint; empty: private endpoint only. */
  apiPublicAccessCidrs: string[];
  systemNodes: NodePoolSize;
  gpuNodes: NodePoolSize;
  database: {
    instanceClass: string;
    engineVersion: string;
    storageGi: number;
    maxStorageGi: number;
    multiAz: boolean;
    password: pulumi.Output<string>;
  };
  redis: {
    nodeType: string;
    engineVersion: string;
    replicas: number;
    authToken: pulumi.Output<string>;
  };
  milvus: MilvusScale;
  domain: string;
  ingressClassName: string;
  tlsSecretName: string;
  /** `CITADEL_INSTANCE_ID`: six lower-case letters or digits, in every tenant database's name. */
  instanceId: string;
  images: { controlPlane: string; operator: string; dataPlane: string };
  replicas: { controlPlane: number; operator: number };
  adminToken: pulumi.Output<string>;
  /** The platform master key: 32 bytes, base64 (see {@link parseMasterKey}). */
  masterKey: pulumi.Output<string>;
  /** The Tenant CRD the operator team commits (YAML), relative to the working directory. */
  tenantCrdPath: string;
}

/** Defaults of every optional key; the README's configuration table lists the same values. */
export const PLATFORM_CONFIG_DEFAULTS = {
  clusterVersion: '1.33',
  vpcCidr: '10.40.0.0/16',
  availabilityZoneCount: 3,
  systemNodeInstanceType: 'm7i.large',
  systemNodeMin: 2,
  systemNodeMax: 6,
  gpuNodeInstanceType: 'g5.xlarge',
  gpuNodeMin: 0,
  gpuNodeMax: 2,
  databaseInstanceClass: 'db.r7g.large',
  databaseEngineVersion: '16.4',
  databaseStorageGi: 100,
  databaseMaxStorageGi: 1000,
  databaseMultiAz: true,
  redisNodeType: 'cache.r7g.large',
  redisEngineVersion: '7.1',
  redisReplicas: 2,
  milvusMode: 'standalone',
  milvusReplicas: 2,
  milvusStorageGi: 100,
  ingressClassName: 'nginx',
  tlsSecretName: 'citadel-tls',
  controlPlaneReplicas: 2,
  operatorReplicas: 2,
  tenantCrdPath: 'operators/crd/tenants.citadel.azora.dev.yaml',
} as const;

function nodePool(config: pulumi.Config, prefix: 'systemNode' | 'gpuNode'): NodePoolSize {
  const pool: NodePoolSize = {
    instanceType:
      config.get(`${prefix}InstanceType`) ?? PLATFORM_CONFIG_DEFAULTS[`${prefix}InstanceType`],
    min: config.getNumber(`${prefix}Min`, { min: 0 }) ?? PLATFORM_CONFIG_DEFAULTS[`${prefix}Min`],
    max: config.getNumber(`${prefix}Max`, { min: 1 }) ?? PLATFORM_CONFIG_DEFAULTS[`${prefix}Max`],
  };
  if (pool.min > pool.max) {
    throw new pulumi.RunError(
      `citadel:${prefix}Min (${pool.min}) exceeds ${prefix}Max (${pool.max})`,
    );
  }
  return pool;
}

const IMAGE_NAMES = {
  controlPlane: 'citadel-control-plane',
  operator: 'citadel-operator',
  dataPlane: 'citadel-data-plane',
} as const;

/** `<imageRegistry>/citadel-<name>:<nameImageTag>`. */
function image(config: pulumi.Config, name: keyof typeof IMAGE_NAMES): string {
  return `${config.require('imageRegistry')}/${IMAGE_NAMES[name]}:${config.require(`${name}ImageTag`)}`;
}

/** The operator's rule for `CITADEL_INSTANCE_ID`. */
const INSTANCE_ID_PATTERN = /^[a-z0-9]{6}$/;

function instanceId(config: pulumi.Config): string {
  const id = config.require('instanceId');
  if (!INSTANCE_ID_PATTERN.test(id)) {
    throw new pulumi.RunError(
      `citadel:instanceId must be six lower-case letters or digits, not ${JSON.stringify(id)}`,
    );
  }
  return id;
}

const MASTER_KEY_BYTES = 32;

/**
 * The platform master key as it must be configured: 32 random bytes in base64
 * (`openssl rand -base64 32`). Returns the canonical base64; refuses anything else without
 * repeating it (it is a secret).
 */
export function parseMasterKey(text: string): string {
  const trimmed = text.trim();
  const key = Buffer.from(trimmed, 'base64');
  if (key.length !== MASTER_KEY_BYTES || key.toString('base64') !== trimmed) {
    throw new pulumi.RunError(
      `citadel:masterKey must be ${MASTER_KEY_BYTES} random bytes in base64 ` +
        '(pulumi config set --secret citadel:masterKey "$(openssl rand -base64 32)")',
    );
  }
  return trimmed;
}

function milvusScale(config: pulumi.Config): MilvusScale {
  const defaults = PLATFORM_CONFIG_DEFAULTS;
  return {
    mode:
      config.get<MilvusScale['mode']>('milvusMode', { allowedValues: ['standalone', 'cluster'] }) ??
      defaults.milvusMode,
    replicas: config.getNumber('milvusReplicas', { min: 1 }) ?? defaults.milvusReplicas,
    storageGi: config.getNumber('milvusStorageGi', { min: 10 }) ?? defaults.milvusStorageGi,
  };
}

function databaseConfig(config: pulumi.Config): PlatformConfig['database'] {
  const defaults = PLATFORM_CONFIG_DEFAULTS;
  return {
    instanceClass: config.get('databaseInstanceClass') ?? defaults.databaseInstanceClass,
    engineVersion: config.get('databaseEngineVersion') ?? defaults.databaseEngineVersion,
    storageGi: config.getNumber('databaseStorageGi', { min: 20 }) ?? defaults.databaseStorageGi,
    maxStorageGi:
      config.getNumber('databaseMaxStorageGi', { min: 20 }) ?? defaults.databaseMaxStorageGi,
    multiAz: config.getBoolean('databaseMultiAz') ?? defaults.databaseMultiAz,
    password: config.requireSecret('databasePassword'),
  };
}

function redisConfig(config: pulumi.Config): PlatformConfig['redis'] {
  const defaults = PLATFORM_CONFIG_DEFAULTS;
  return {
    nodeType: config.get('redisNodeType') ?? defaults.redisNodeType,
    engineVersion: config.get('redisEngineVersion') ?? defaults.redisEngineVersion,
    replicas: config.getNumber('redisReplicas', { min: 2 }) ?? defaults.redisReplicas,
    // ElastiCache takes 16 to 128 printable characters.
    authToken: config.requireSecret('redisAuthToken'),
  };
}

/**
 * Reads the platform stack's configuration (`citadel:*` keys, and `aws:region`), applying the
 * defaults and checking bounds; a missing required key or a bad value stops the program naming it.
 */
export function readPlatformConfig(
  config: pulumi.Config = new pulumi.Config('citadel'),
  awsConfig: pulumi.Config = new pulumi.Config('aws'),
): PlatformConfig {
  return {
    region: awsConfig.require('region'),
    ...clusterSettings(config),
    systemNodes: nodePool(config, 'systemNode'),
    gpuNodes: nodePool(config, 'gpuNode'),
    database: databaseConfig(config),
    redis: redisConfig(config),
    milvus: milvusScale(config),
    ...exposure(config),
    instanceId: instanceId(config),
    images: {
      controlPlane: image(config, 'controlPlane'),
      operator: image(config, 'operator'),
      dataPlane: image(config, 'dataPlane'),
    },
    replicas: replicaCounts(config),
    adminToken: config.requireSecret('adminToken'),
    masterKey: config.requireSecret('masterKey').apply(parseMasterKey),
    tenantCrdPath: config.get('tenantCrdPath') ?? PLATFORM_CONFIG_DEFAULTS.tenantCrdPath,
  };
}

function clusterSettings(
  config: pulumi.Config,
): Pick<
  PlatformConfig,
  'clusterVersion' | 'vpcCidr' | 'availabilityZoneCount' | 'apiPublicAccessCidrs'
> {
  const defaults = PLATFORM_CONFIG_DEFAULTS;
  return {
    clusterVersion: config.get('clusterVersion') ?? defaults.clusterVersion,
    vpcCidr: config.get('vpcCidr') ?? defaults.vpcCidr,
    availabilityZoneCount:
      config.getNumber('availabilityZoneCount', { min: 2, max: 6 }) ??
      defaults.availabilityZoneCount,
    apiPublicAccessCidrs: config.getObject<string[]>('apiPublicAccessCidrs') ?? [],
  };
}

function exposure(
  config: pulumi.Config,
): Pick<PlatformConfig, 'domain' | 'ingressClassName' | 'tlsSecretName'> {
  return {
    domain: config.require('domain'),
    ingressClassName: config.get('ingressClassName') ?? PLATFORM_CONFIG_DEFAULTS.ingressClassName,
    tlsSecretName: config.get('tlsSecretName') ?? PLATFORM_CONFIG_DEFAULTS.tlsSecretName,
  };
}

function replicaCounts(config: pulumi.Config): PlatformConfig['replicas'] {
  const defaults = PLATFORM_CONFIG_DEFAULTS;
  return {
    controlPlane:
      config.getNumber('controlPlaneReplicas', { min: 1 }) ?? defaults.controlPlaneReplicas,
    operator: config.getNumber('operatorReplicas', { min: 1 }) ?? defaults.operatorReplicas,
  };
}
