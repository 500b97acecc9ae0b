import * as aws from '@pulumi/aws';
import type * as pulumi from '@pulumi/pulumi';

/** Where a platform data store lives and who may reach it: the cluster's nodes only. */
export interface PrivateDataStoreArgs {
  vpcId: pulumi.Input<string>;
  privateSubnetIds: Array<pulumi.Input<string>>;
  /** The only security group allowed to connect: the cluster's. */
  clientSecurityGroupId: pulumi.Input<string>;
  kmsKeyArn: pulumi.Input<string>;
}

/**
 * A security group that admits one TCP port from the cluster's security group and nothing
 * else (named `name`, its rule `${name}-from-cluster`), for the platform's data stores.
 */
export function clusterOnlySecurityGroup(
  name: string,
  input: { args: PrivateDataStoreArgs; port: number; service: string },
  parent: pulumi.Resource,
): aws.ec2.SecurityGroup {
  const securityGroup = new aws.ec2.SecurityGroup(
    name,
    { vpcId: input.args.vpcId, description: `Citadel ${input.service}: from the cluster only` },
    { parent },
  );
  new aws.vpc.SecurityGroupIngressRule(
    `${name}-from-cluster`,
    {
      securityGroupId: securityGroup.id,
      referencedSecurityGroupId: input.args.clientSecurityGroupId,
      ipProtocol: 'tcp',
      fromPort: input.port,
      toPort: input.port,
      description: `${input.service} from the EKS cluster`,
    },
    { parent },
  );
  return securityGroup;
}
