import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { serviceTrustPolicy } from './iam-policies.ts';
import {
  GPU_AMI_TYPE,
  managedNodeGroupArgs,
  NODE_POOL_LABEL,
  PLATFORM_GPU_TAINT,
  STANDARD_AMI_TYPE,
} from './node-groups.ts';
import { type NodePoolSize } from './platform-config.ts';

export interface PlatformClusterArgs {
  clusterName: string;
  version: string;
  region: string;
  privateSubnetIds: Array<pulumi.Input<string>>;
  publicSubnetIds: Array<pulumi.Input<string>>;
  /** CIDRs allowed on the public API endpoint; empty: the API is reachable from the VPC only. */
  apiPublicAccessCidrs: string[];
  /** Encrypts the cluster's Secrets (envelope encryption in etcd). */
  secretsKeyArn: pulumi.Input<string>;
  systemNodes: NodePoolSize;
  gpuNodes: NodePoolSize;
}

/** A kubeconfig that authenticates with `aws eks get-token` (no long-lived credentials in it). */
export function eksKubeconfig(input: {
  clusterName: string;
  endpoint: string;
  certificateAuthority: string;
  region: string;
}): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: input.clusterName,
        cluster: {
          server: input.endpoint,
          'certificate-authority-data': input.certificateAuthority,
        },
      },
    ],
    contexts: [{ name: input.clusterName, context: { cluster: input.clusterName, user: 'aws' } }],
    'current-context': input.clusterName,
    users: [
      {
        name: 'aws',
        user: {
          exec: {
            apiVersion: 'client.authentication.k8s.io/v1beta1',
            command: 'aws',
            args: [
              'eks',
              'get-token',
              '--cluster-name',
              input.clusterName,
              '--region',
              input.region,
            ],
          },
        },
      },
    ],
  });
}

const MANAGED_POLICIES = {
  cluster: ['AmazonEKSClusterPolicy'],
  node: ['AmazonEKSWorkerNodePolicy', 'AmazonEKS_CNI_Policy', 'AmazonEC2ContainerRegistryReadOnly'],
};

/**
 * The EKS cluster: its IAM role, the control plane (private endpoint, Secrets encrypted with the
 * platform key, audit logs on), the OIDC provider for IRSA, the node role, a system node group and
 * a GPU node group tainted `nvidia.com/gpu=present:NoSchedule`. Nodes live in private subnets.
 */
export class PlatformCluster extends pulumi.ComponentResource {
  readonly clusterName: pulumi.Output<string>;
  readonly kubeconfig: pulumi.Output<string>;
  readonly oidcProviderArn: pulumi.Output<string>;
  readonly oidcIssuerUrl: pulumi.Output<string>;
  readonly nodeRoleArn: pulumi.Output<string>;
  /** The security group EKS attaches to the control plane and to managed nodes. */
  readonly clusterSecurityGroupId: pulumi.Output<string>;

  constructor(name: string, args: PlatformClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super('citadel:platform:PlatformCluster', name, {}, opts);
    const partition = aws.getPartitionOutput({}, { parent: this }).partition;
    const clusterRole = this.role(
      `${name}-cluster`,
      'eks.amazonaws.com',
      MANAGED_POLICIES.cluster,
      partition,
    );
    const cluster = new aws.eks.Cluster(
      name,
      {
        name: args.clusterName,
        version: args.version,
        roleArn: clusterRole.role.arn,
        vpcConfig: {
          subnetIds: args.privateSubnetIds,
          endpointPrivateAccess: true,
          endpointPublicAccess: args.apiPublicAccessCidrs.length > 0,
          publicAccessCidrs:
            args.apiPublicAccessCidrs.length > 0 ? args.apiPublicAccessCidrs : undefined,
        },
        encryptionConfig: { provider: { keyArn: args.secretsKeyArn }, resources: ['secrets'] },
        enabledClusterLogTypes: ['api', 'audit', 'authenticator'],
        accessConfig: { authenticationMode: 'API', bootstrapClusterCreatorAdminPermissions: true },
      },
      { parent: this, dependsOn: clusterRole.attachments },
    );
    const issuerUrl = cluster.identities.apply(
      (identities) => identities[0]?.oidcs[0]?.issuer ?? '',
    );
    const oidcProvider = new aws.iam.OpenIdConnectProvider(
      name,
      { url: issuerUrl, clientIdLists: ['sts.amazonaws.com'] },
      { parent: this },
    );
    const nodeRole = this.role(
      `${name}-node`,
      'ec2.amazonaws.com',
      MANAGED_POLICIES.node,
      partition,
    );
    const placement = {
      clusterName: cluster.name,
      nodeRoleArn: nodeRole.role.arn,
      subnetIds: args.privateSubnetIds,
    };
    const nodeGroupOptions = {
      parent: this,
      ignoreChanges: ['scalingConfig.desiredSize'],
      dependsOn: nodeRole.attachments,
    };
    new aws.eks.NodeGroup(
      `${name}-system`,
      managedNodeGroupArgs({
        placement,
        nodeGroupName: 'system',
        size: args.systemNodes,
        amiType: STANDARD_AMI_TYPE,
        labels: { [NODE_POOL_LABEL]: 'system' },
        taints: [],
      }),
      nodeGroupOptions,
    );
    new aws.eks.NodeGroup(
      `${name}-gpu`,
      managedNodeGroupArgs({
        placement,
        nodeGroupName: 'gpu',
        size: args.gpuNodes,
        amiType: GPU_AMI_TYPE,
        labels: { [NODE_POOL_LABEL]: 'gpu' },
        taints: [PLATFORM_GPU_TAINT],
      }),
      nodeGroupOptions,
    );
    this.clusterName = cluster.name;
    this.oidcProviderArn = oidcProvider.arn;
    this.oidcIssuerUrl = issuerUrl;
    this.nodeRoleArn = nodeRole.role.arn;
    this.clusterSecurityGroupId = cluster.vpcConfig.clusterSecurityGroupId;
    this.kubeconfig = pulumi.secret(
      pulumi
        .all([cluster.name, cluster.endpoint, cluster.certificateAuthority.data])
        .apply(([clusterName, endpoint, certificateAuthority]) =>
          eksKubeconfig({ clusterName, endpoint, certificateAuthority, region: args.region }),
        ),
    );
    this.registerOutputs({
      clusterName: this.clusterName,
      oidcProviderArn: this.oidcProviderArn,
      nodeRoleArn: this.nodeRoleArn,
    });
  }

  private role(
    name: string,
    service: string,
    managedPolicies: string[],
    partition: pulumi.Output<string>,
  ): { role: aws.iam.Role; attachments: aws.iam.RolePolicyAttachment[] } {
    const role = new aws.iam.Role(
      name,
      { assumeRolePolicy: JSON.stringify(serviceTrustPolicy(service)) },
      { parent: this },
    );
    const attachments = managedPolicies.map(
      (policy) =>
        new aws.iam.RolePolicyAttachment(
          `${name}-${policy}`,
          {
            role: role.name,
            policyArn: pulumi.interpolate`arn:${partition}:iam::aws:policy/${policy}`,
          },
          { parent: this },
        ),
    );
    return { role, attachments };
  }
}
