import { KMS_KEY_USER_ACTIONS, type PolicyDocument } from './iam-policies.ts';

/** The tag every tenant stack's resources carry, which the operator's IAM policy is scoped to. */
export const MANAGED_BY_TAG = { key: 'citadel.azora.dev/managed-by', value: 'citadel-operator' };
/** Prefix of tenants' node group names, which the operator's IAM policy is scoped to. */
export const TENANT_NODE_GROUP_PREFIX = 'citadel-tenant-';

export interface AccountScope {
  partition: string;
  region: string;
  accountId: string;
}

/** The control plane only uses the platform master key (wrapping tenants' data keys). */
export function controlPlanePolicy(input: { masterKeyArn: string }): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'UsePlatformMasterKey',
        Effect: 'Allow',
        Action: KMS_KEY_USER_ACTIONS,
        Resource: input.masterKeyArn,
      },
    ],
  };
}

/**
 * The operator runs the tenant stacks (Automation API): it creates tenants' KMS keys and GPU node
 * groups and may touch nothing else: keys it did not tag, node groups outside its name prefix and
 * roles other than the node role are out of reach.
 */
export function operatorPolicy(
  input: AccountScope & { clusterName: string; nodeRoleArn: string },
): PolicyDocument {
  const arn = (service: string, resource: string): string =>
    `arn:${input.partition}:${service}:${input.region}:${input.accountId}:${resource}`;
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'CreateTenantKeys',
        Effect: 'Allow',
        Action: ['kms:CreateKey', 'kms:TagResource'],
        Resource: '*',
        Condition: {
          StringEquals: { [`aws:RequestTag/${MANAGED_BY_TAG.key}`]: MANAGED_BY_TAG.value },
        },
      },
      {
        Sid: 'AdministerTenantKeys',
        Effect: 'Allow',
        Action: [
          'kms:DescribeKey',
          'kms:GetKeyPolicy',
          'kms:PutKeyPolicy',
          'kms:GetKeyRotationStatus',
          'kms:EnableKeyRotation',
          'kms:ListResourceTags',
          'kms:TagResource',
          'kms:UntagResource',
          'kms:UpdateKeyDescription',
          'kms:ScheduleKeyDeletion',
          'kms:CancelKeyDeletion',
          'kms:CreateAlias',
          'kms:DeleteAlias',
        ],
        Resource: arn('kms', 'key/*'),
        Condition: {
          StringEquals: { [`aws:ResourceTag/${MANAGED_BY_TAG.key}`]: MANAGED_BY_TAG.value },
        },
      },
      {
        Sid: 'NameTenantKeys',
        Effect: 'Allow',
        Action: ['kms:CreateAlias', 'kms:DeleteAlias'],
        Resource: arn('kms', 'alias/citadel/tenant/*'),
      },
      {
        Sid: 'ManageTenantNodeGroups',
        Effect: 'Allow',
        Action: [
          'eks:CreateNodegroup',
          'eks:DeleteNodegroup',
          'eks:DescribeNodegroup',
          'eks:UpdateNodegroupConfig',
          'eks:UpdateNodegroupVersion',
          'eks:TagResource',
          'eks:UntagResource',
        ],
        Resource: [
          arn('eks', `cluster/${input.clusterName}`),
          arn('eks', `nodegroup/${input.clusterName}/${TENANT_NODE_GROUP_PREFIX}*/*`),
        ],
      },
      {
        Sid: 'PassNodeRoleToEks',
        Effect: 'Allow',
        Action: 'iam:PassRole',
        Resource: input.nodeRoleArn,
        Condition: { StringEquals: { 'iam:PassedToService': 'eks.amazonaws.com' } },
      },
      {
        Sid: 'ReadCallerAndNetwork',
        Effect: 'Allow',
        Action: [
          'sts:GetCallerIdentity',
          'kms:ListAliases',
          'ec2:DescribeSubnets',
          'eks:DescribeCluster',
        ],
        Resource: '*',
      },
    ],
  };
}
