import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { type TenantSpec } from '@citadel/contracts';
import { kmsKeyPolicy } from './iam-policies.ts';
import {
  GPU_AMI_TYPE,
  managedNodeGroupArgs,
  NODE_POOL_LABEL,
  type NodeGroupPlacement,
  TENANT_TAINT_KEY,
  tenantGpuTaint,
} from './node-groups.ts';
import { MANAGED_BY_TAG, TENANT_NODE_GROUP_PREFIX } from './platform-iam.ts';

/** AWS rotates key material automatically every 90 to 2560 days. */
export const KMS_ROTATION_DAYS = { min: 90, max: 2560 } as const;

/**
 * The automatic rotation period for a plan's `rotationDays`, within what KMS accepts. A plan that
 * asks for less than 90 days gets 90 here; the operator rotates such keys on demand in between.
 */
export function kmsRotationPeriodDays(rotationDays: number): number {
  return Math.min(KMS_ROTATION_DAYS.max, Math.max(KMS_ROTATION_DAYS.min, rotationDays));
}

export function tenantKeyAlias(slug: string): string {
  return `alias/citadel/tenant/${slug}`;
}

export function tenantNodeGroupName(slug: string): string {
  return `${TENANT_NODE_GROUP_PREFIX}${slug}-gpu`;
}

/** What a tenant stack takes from the platform stack's outputs. */
export interface TenantPlatformReference extends NodeGroupPlacement {
  /** The role (the control plane's) that may use every tenant's key. */
  platformRoleArn: pulumi.Input<string>;
}

/** The parts of a tenant's spec its cloud resources depend on. */
export type TenantStackSpec = Pick<TenantSpec, 'slug'> & {
  resources: Pick<TenantSpec['resources'], 'gpuPool' | 'keys'>;
};

export interface TenantStackArgs {
  spec: TenantStackSpec;
  platform: TenantPlatformReference;
}

/**
 * One tenant's cloud resources, in a Pulumi stack of its own: its KMS key (rotation on, alias
 * `alias/citadel/tenant/<slug>`, usable by the platform role) and, when its plan includes GPUs, an
 * EKS node group that only its pods tolerate (`citadel.azora.dev/tenant=<slug>:NoSchedule`).
 */
export class TenantStack extends pulumi.ComponentResource {
  readonly keyArn: pulumi.Output<string>;
  readonly keyAlias: string;
  /** Absent when the tenant has no GPU pool. */
  readonly gpuNodeGroupName: pulumi.Output<string> | undefined;

  constructor(name: string, args: TenantStackArgs, opts?: pulumi.ComponentResourceOptions) {
    super('citadel:tenant:TenantStack', name, {}, opts);
    const { slug } = args.spec;
    const tags = { [MANAGED_BY_TAG.key]: MANAGED_BY_TAG.value, [TENANT_TAINT_KEY]: slug };
    const identity = aws.getCallerIdentityOutput({}, { parent: this });
    const partition = aws.getPartitionOutput({}, { parent: this });
    const key = new aws.kms.Key(
      `${name}-key`,
      {
        description: `Citadel tenant ${slug}`,
        enableKeyRotation: true,
        rotationPeriodInDays: kmsRotationPeriodDays(args.spec.resources.keys.rotationDays),
        deletionWindowInDays: 30,
        policy: pulumi
          .all([partition.partition, identity.accountId, args.platform.platformRoleArn])
          .apply(([partitionName, accountId, platformRoleArn]) =>
            JSON.stringify(
              kmsKeyPolicy({
                partition: partitionName,
                accountId,
                userRoleArns: [platformRoleArn],
              }),
            ),
          ),
        tags,
      },
      { parent: this },
    );
    this.keyAlias = tenantKeyAlias(slug);
    new aws.kms.Alias(
      `${name}-key`,
      { name: this.keyAlias, targetKeyId: key.keyId },
      { parent: this },
    );
    this.keyArn = key.arn;
    this.gpuNodeGroupName = this.gpuNodeGroup(name, args, tags);
    this.registerOutputs({ keyArn: this.keyArn, gpuNodeGroupName: this.gpuNodeGroupName });
  }

  private gpuNodeGroup(
    name: string,
    args: TenantStackArgs,
    tags: Record<string, string>,
  ): pulumi.Output<string> | undefined {
    const { slug, resources } = args.spec;
    if (!resources.gpuPool.enabled) {
      return undefined;
    }
    const nodeGroupArgs = managedNodeGroupArgs({
      placement: args.platform,
      nodeGroupName: tenantNodeGroupName(slug),
      size: resources.gpuPool,
      amiType: GPU_AMI_TYPE,
      labels: { [NODE_POOL_LABEL]: 'tenant-gpu', [TENANT_TAINT_KEY]: slug },
      taints: [tenantGpuTaint(slug)],
    });
    const group = new aws.eks.NodeGroup(
      `${name}-gpu`,
      {
        ...nodeGroupArgs,
        tags: { ...tags, 'citadel.azora.dev/node-group': tenantNodeGroupName(slug) },
      },
      { parent: this, ignoreChanges: ['scalingConfig.desiredSize'] },
    );
    return group.nodeGroupName;
  }
}
