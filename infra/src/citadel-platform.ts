import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { type ICustomResourceDefinition } from 'kubernetes-models/apiextensions.k8s.io/v1/CustomResourceDefinition';
import { IrsaRole } from './irsa-role.ts';
import { KubernetesObject, KubernetesProvider } from './kubernetes-object.ts';
import { MILVUS_NAMESPACE, MILVUS_PORT, MilvusRelease } from './milvus-release.ts';
import { PlatformCache } from './platform-cache.ts';
import { PlatformCluster } from './platform-cluster.ts';
import { type PlatformConfig } from './platform-config.ts';
import { PlatformDatabase } from './platform-database.ts';
import { controlPlanePolicy, operatorPolicy } from './platform-iam.ts';
import { PlatformKeys } from './platform-keys.ts';
import {
  componentName,
  controlPlaneEndpoint,
  controlPlaneServiceUrl,
  namespaceManifest,
  type OperatorSettings,
  SYSTEM_NAMESPACE,
} from './platform-manifests.ts';
import { PlatformNetwork } from './platform-network.ts';
import { PlatformWorkloads } from './platform-workloads.ts';

/** The EKS cluster's name; tenants' stacks and the operator's IAM policy refer to it. */
export const CLUSTER_NAME = 'citadel';

export interface CitadelPlatformArgs {
  config: PlatformConfig;
  /** The Tenant CRD (see `readTenantCrd`). */
  tenantCrd: ICustomResourceDefinition;
}

/** What the tenant stacks and operators need from the platform stack. */
export interface PlatformOutputs {
  clusterName: pulumi.Output<string>;
  kubeconfig: pulumi.Output<string>;
  nodeRoleArn: pulumi.Output<string>;
  privateSubnetIds: pulumi.Output<string[]>;
  masterKeyArn: pulumi.Output<string>;
  /** The control plane's IAM role: tenants' keys let it encrypt and decrypt. */
  platformRoleArn: pulumi.Output<string>;
  operatorRoleArn: pulumi.Output<string>;
  databaseAddress: pulumi.Output<string>;
  redisEndpoint: pulumi.Output<string>;
  milvusEndpoint: pulumi.Output<string>;
  url: pulumi.Output<string>;
}

/**
 * The whole platform stack: KMS, network, EKS (system and GPU node groups, IRSA), PostgreSQL,
 * Redis, Milvus, and Citadel itself on the cluster.
 */
export class CitadelPlatform extends pulumi.ComponentResource {
  readonly outputs: PlatformOutputs;

  constructor(name: string, args: CitadelPlatformArgs, opts?: pulumi.ComponentResourceOptions) {
    super('citadel:platform:CitadelPlatform', name, {}, opts);
    const { config } = args;
    const child = { parent: this };
    const keys = new PlatformKeys(`${name}-keys`, {}, child);
    const network = new PlatformNetwork(
      `${name}-network`,
      {
        vpcCidr: config.vpcCidr,
        availabilityZoneCount: config.availabilityZoneCount,
        clusterName: CLUSTER_NAME,
      },
      child,
    );
    const cluster = new PlatformCluster(
      `${name}-cluster`,
      {
        clusterName: CLUSTER_NAME,
        version: config.clusterVersion,
        region: config.region,
        privateSubnetIds: network.privateSubnetIds,
        publicSubnetIds: network.publicSubnetIds,
        apiPublicAccessCidrs: config.apiPublicAccessCidrs,
        secretsKeyArn: keys.masterKeyArn,
        systemNodes: config.systemNodes,
        gpuNodes: config.gpuNodes,
      },
      child,
    );
    const dataStores = {
      vpcId: network.vpcId,
      privateSubnetIds: network.privateSubnetIds,
      clientSecurityGroupId: cluster.clusterSecurityGroupId,
      kmsKeyArn: keys.masterKeyArn,
    };
    const database = new PlatformDatabase(
      `${name}-database`,
      { ...dataStores, ...config.database },
      child,
    );
    const cache = new PlatformCache(`${name}-cache`, { ...dataStores, ...config.redis }, child);
    const roles = this.serviceAccountRoles(name, config, cluster, keys);
    const provider = new KubernetesProvider(`${name}-kubernetes`, cluster.kubeconfig, child);
    const milvusNamespace = new KubernetesObject(
      `${name}-milvus-namespace`,
      namespaceManifest(MILVUS_NAMESPACE, 'baseline'),
      { parent: this, provider },
    );
    const milvus = new MilvusRelease(
      `${name}-milvus`,
      { scale: config.milvus, namespace: MILVUS_NAMESPACE },
      { parent: this, provider, dependsOn: [milvusNamespace] },
    );
    const url = `https://${config.domain}`;
    new PlatformWorkloads(
      `${name}-workloads`,
      {
        provider,
        tenantCrd: args.tenantCrd,
        images: { 'control-plane': config.images.controlPlane, operator: config.images.operator },
        replicas: {
          'control-plane': config.replicas.controlPlane,
          operator: config.replicas.operator,
        },
        roleArns: { 'control-plane': roles.controlPlane.roleArn, operator: roles.operator.roleArn },
        ingress: {
          host: config.domain,
          ingressClassName: config.ingressClassName,
          tlsSecretName: config.tlsSecretName,
        },
        environment: pulumi
          .all([keys.masterKeyArn, milvus.endpoint])
          .apply(([masterKeyArn, milvusAddress]) => ({
            CITADEL_PUBLIC_URL: url,
            HOST: '0.0.0.0',
            LOG_LEVEL: 'info',
            AWS_REGION: config.region,
            CITADEL_CLUSTER_NAME: CLUSTER_NAME,
            CITADEL_PLATFORM_KEY_ARN: masterKeyArn,
            CITADEL_MILVUS_ADDRESS: milvusAddress,
          })),
        secretEnvironment: pulumi
          .all([
            database.address,
            database.port,
            config.database.password,
            cache.primaryEndpoint,
            config.redis.authToken,
            config.adminToken,
          ])
          .apply(([address, port, password, redisHost, authToken, adminToken]) => ({
            DATABASE_URL: `postgres://citadel:${encodeURIComponent(password)}@${address}:${port}/citadel?sslmode=require`,
            REDIS_URL: `rediss://:${encodeURIComponent(authToken)}@${redisHost}:6379`,
            CITADEL_ADMIN_TOKEN: adminToken,
          })),
        operator: pulumi
          .all([database.address, database.port])
          .apply(([host, port]) => operatorSettings(config, { host, port }, url)),
        masterKey: config.masterKey,
      },
      { parent: this, provider },
    );
    this.outputs = {
      clusterName: cluster.clusterName,
      kubeconfig: cluster.kubeconfig,
      nodeRoleArn: cluster.nodeRoleArn,
      privateSubnetIds: pulumi.output(network.privateSubnetIds),
      masterKeyArn: keys.masterKeyArn,
      platformRoleArn: roles.controlPlane.roleArn,
      operatorRoleArn: roles.operator.roleArn,
      databaseAddress: database.address,
      redisEndpoint: cache.primaryEndpoint,
      milvusEndpoint: milvus.endpoint,
      url: pulumi.output(url),
    };
    this.registerOutputs({ ...this.outputs });
  }

  /** The IRSA roles of the control plane and the operator, each with its narrow policy. */
  private serviceAccountRoles(
    name: string,
    config: PlatformConfig,
    cluster: PlatformCluster,
    keys: PlatformKeys,
  ): { controlPlane: IrsaRole; operator: IrsaRole } {
    const oidc = { providerArn: cluster.oidcProviderArn, issuerUrl: cluster.oidcIssuerUrl };
    const identity = aws.getCallerIdentityOutput({}, { parent: this });
    const partition = aws.getPartitionOutput({}, { parent: this });
    const controlPlane = new IrsaRole(
      `${name}-control-plane-role`,
      {
        oidc,
        namespace: SYSTEM_NAMESPACE,
        serviceAccount: componentName('control-plane'),
        policy: keys.masterKeyArn.apply((masterKeyArn) => controlPlanePolicy({ masterKeyArn })),
      },
      { parent: this },
    );
    const operator = new IrsaRole(
      `${name}-operator-role`,
      {
        oidc,
        namespace: SYSTEM_NAMESPACE,
        serviceAccount: componentName('operator'),
        policy: pulumi
          .all([partition.partition, identity.accountId, cluster.clusterName, cluster.nodeRoleArn])
          .apply(([partitionName, accountId, clusterName, nodeRoleArn]) =>
            operatorPolicy({
              partition: partitionName,
              region: config.region,
              accountId,
              clusterName,
              nodeRoleArn,
            }),
          ),
      },
      { parent: this },
    );
    return { controlPlane, operator };
  }
}

/**
 * The operator's settings on this platform. Tenants' pods may reach the database (in the VPC),
 * Milvus and the control plane's token keys, each on its port, and nothing else outside their
 * namespace; their hosts verify requests against the control plane's JWKS inside the cluster.
 */
function operatorSettings(
  config: PlatformConfig,
  database: { host: string; port: number },
  url: string,
): OperatorSettings {
  return {
    instanceId: config.instanceId,
    dataPlaneImage: config.images.dataPlane,
    tenantDatabase: database,
    platformEndpoints: [
      { name: 'database', port: database.port, destination: { cidr: config.vpcCidr } },
      { name: 'vector-store', port: MILVUS_PORT, destination: { namespace: MILVUS_NAMESPACE } },
      controlPlaneEndpoint(),
    ],
    tokenIssuer: { issuer: url, jwksUrl: `${controlPlaneServiceUrl()}/.well-known/jwks.json` },
  };
}
