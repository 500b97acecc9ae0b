import type * as aws from '@pulumi/aws';
import type * as pulumi from '@pulumi/pulumi';
import { type NodePoolSize } from './platform-config.ts';

/** The label every Citadel node group sets: which pool a node belongs to. */
export const NODE_POOL_LABEL = 'citadel.azora.dev/pool';
/** The taint key of a tenant's own GPU nodes; its value is the tenant's slug. */
export const TENANT_TAINT_KEY = 'citadel.azora.dev/tenant';

/** EKS-optimised Amazon Linux 2023 images, with and without the NVIDIA driver. */
export const STANDARD_AMI_TYPE = 'AL2023_x86_64_STANDARD';
export const GPU_AMI_TYPE = 'AL2023_x86_64_NVIDIA';

/** A Kubernetes taint as EKS node groups spell it (`NO_SCHEDULE` for `NoSchedule`). */
export interface NodeGroupTaint {
  key: string;
  value: string;
  effect: 'NO_SCHEDULE' | 'NO_EXECUTE' | 'PREFER_NO_SCHEDULE';
}

/** The platform's shared GPU pool: only pods that tolerate `nvidia.com/gpu=present` land there. */
export const PLATFORM_GPU_TAINT: NodeGroupTaint = {
  key: 'nvidia.com/gpu',
  value: 'present',
  effect: 'NO_SCHEDULE',
};

/** A tenant's GPU pool: only that tenant's pods tolerate `citadel.azora.dev/tenant=<slug>`. */
export function tenantGpuTaint(slug: string): NodeGroupTaint {
  return { key: TENANT_TAINT_KEY, value: slug, effect: 'NO_SCHEDULE' };
}

/** Where and as whom a managed node group's nodes run. */
export interface NodeGroupPlacement {
  clusterName: pulumi.Input<string>;
  nodeRoleArn: pulumi.Input<string>;
  /** Private subnets only: nodes never get a public address. */
  subnetIds: pulumi.Input<Array<pulumi.Input<string>>>;
}

/**
 * The arguments of one EKS managed node group. It starts at `min` nodes; later the cluster
 * autoscaler owns the desired size (the node group resources ignore changes to it).
 */
export function managedNodeGroupArgs(input: {
  placement: NodeGroupPlacement;
  nodeGroupName: string;
  size: NodePoolSize;
  amiType: string;
  labels: Record<string, string>;
  taints: NodeGroupTaint[];
}): aws.eks.NodeGroupArgs {
  return {
    clusterName: input.placement.clusterName,
    nodeRoleArn: input.placement.nodeRoleArn,
    subnetIds: input.placement.subnetIds,
    nodeGroupName: input.nodeGroupName,
    instanceTypes: [input.size.instanceType],
    amiType: input.amiType,
    capacityType: 'ON_DEMAND',
    scalingConfig: {
      minSize: input.size.min,
      maxSize: input.size.max,
      desiredSize: input.size.min,
    },
    updateConfig: { maxUnavailable: 1 },
    labels: input.labels,
    taints: input.taints,
    tags: { 'citadel.azora.dev/node-group': input.nodeGroupName },
  };
}
