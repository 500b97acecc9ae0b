import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import {
  clusterOnlySecurityGroup,
  type PrivateDataStoreArgs,
} from './cluster-only-security-group.ts';

export const REDIS_PORT = 6379;

export interface PlatformCacheArgs extends PrivateDataStoreArgs {
  nodeType: string;
  engineVersion: string;
  /** Primary plus replicas, spread over zones with automatic failover (at least 2). */
  replicas: number;
  authToken: pulumi.Input<string>;
}

/**
 * ElastiCache Redis for sessions, rate limits and live events: TLS required, encrypted at rest with
 * the platform key, an AUTH token from the stack's secrets, private subnets, reachable from the
 * cluster's security group only.
 */
export class PlatformCache extends pulumi.ComponentResource {
  readonly primaryEndpoint: pulumi.Output<string>;
  readonly port: pulumi.Output<number | undefined>;

  constructor(name: string, args: PlatformCacheArgs, opts?: pulumi.ComponentResourceOptions) {
    super('citadel:platform:PlatformCache', name, {}, opts);
    const securityGroup = clusterOnlySecurityGroup(
      name,
      { args, port: REDIS_PORT, service: 'Redis' },
      this,
    );
    const subnetGroup = new aws.elasticache.SubnetGroup(
      name,
      { subnetIds: args.privateSubnetIds, description: 'Citadel Redis private subnets' },
      { parent: this },
    );
    const group = new aws.elasticache.ReplicationGroup(
      name,
      {
        replicationGroupId: 'citadel-platform',
        description: 'Citadel platform Redis',
        engine: 'redis',
        engineVersion: args.engineVersion,
        nodeType: args.nodeType,
        port: REDIS_PORT,
        numCacheClusters: args.replicas,
        automaticFailoverEnabled: true,
        multiAzEnabled: true,
        atRestEncryptionEnabled: true,
        kmsKeyId: args.kmsKeyArn,
        transitEncryptionEnabled: true,
        transitEncryptionMode: 'required',
        authToken: args.authToken,
        subnetGroupName: subnetGroup.name,
        securityGroupIds: [securityGroup.id],
        snapshotRetentionLimit: 7,
        autoMinorVersionUpgrade: true,
      },
      { parent: this },
    );
    this.primaryEndpoint = group.primaryEndpointAddress;
    this.port = group.port;
    this.registerOutputs({ primaryEndpoint: this.primaryEndpoint });
  }
}
