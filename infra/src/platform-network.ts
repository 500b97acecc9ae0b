import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';

export interface SubnetPlan {
  privateCidrs: string[];
  publicCidrs: string[];
}

/**
 * Carves a /16 VPC into one private /19 per availability zone (nodes, databases; 8k addresses for
 * pod IPs from the VPC CNI) and one public /22 per zone (load balancers, NAT gateways).
 */
export function planSubnets(vpcCidr: string, zoneCount: number): SubnetPlan {
  const match = /^(\d{1,3})\.(\d{1,3})\.0\.0\/16$/.exec(vpcCidr);
  if (!match) {
    throw new Error(`the VPC CIDR must be a /16 ending in .0.0, got ${vpcCidr}`);
  }
  if (zoneCount < 2 || zoneCount > 6) {
    throw new Error(`between 2 and 6 availability zones, got ${zoneCount}`);
  }
  const prefix = `${match[1] ?? ''}.${match[2] ?? ''}`;
  const zones = Array.from({ length: zoneCount }, (_, index) => index);
  return {
    privateCidrs: zones.map((index) => `${prefix}.${index * 32}.0/19`),
    publicCidrs: zones.map((index) => `${prefix}.${192 + index * 4}.0/22`),
  };
}

export interface PlatformNetworkArgs {
  vpcCidr: string;
  availabilityZoneCount: number;
  /** The EKS cluster's name, for the subnet tags its load balancer controller looks for. */
  clusterName: string;
}

/**
 * The VPC: public subnets for load balancers and NAT gateways, private subnets (no public IPs,
 * egress through one NAT gateway per zone) for nodes, the database and Redis.
 */
export class PlatformNetwork extends pulumi.ComponentResource {
  readonly vpcId: pulumi.Output<string>;
  readonly privateSubnetIds: Array<pulumi.Output<string>>;
  readonly publicSubnetIds: Array<pulumi.Output<string>>;

  constructor(name: string, args: PlatformNetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super('citadel:platform:PlatformNetwork', name, {}, opts);
    const plan = planSubnets(args.vpcCidr, args.availabilityZoneCount);
    const zones = aws.getAvailabilityZonesOutput({ state: 'available' }, { parent: this });
    const clusterTag = { [`kubernetes.io/cluster/${args.clusterName}`]: 'shared' };
    const vpc = new aws.ec2.Vpc(
      name,
      {
        cidrBlock: args.vpcCidr,
        enableDnsHostnames: true,
        enableDnsSupport: true,
        tags: { Name: name },
      },
      { parent: this },
    );
    const gateway = new aws.ec2.InternetGateway(name, { vpcId: vpc.id }, { parent: this });
    const publicRoutes = new aws.ec2.RouteTable(
      `${name}-public`,
      { vpcId: vpc.id, routes: [{ cidrBlock: '0.0.0.0/0', gatewayId: gateway.id }] },
      { parent: this },
    );
    this.publicSubnetIds = [];
    this.privateSubnetIds = [];
    plan.publicCidrs.forEach((publicCidr, index) => {
      const zone = zones.names.apply((names) => names[index] ?? '');
      const publicSubnet = new aws.ec2.Subnet(
        `${name}-public-${index}`,
        {
          vpcId: vpc.id,
          cidrBlock: publicCidr,
          availabilityZone: zone,
          mapPublicIpOnLaunch: false,
          tags: { ...clusterTag, 'kubernetes.io/role/elb': '1', Name: `${name}-public-${index}` },
        },
        { parent: this },
      );
      new aws.ec2.RouteTableAssociation(
        `${name}-public-${index}`,
        { subnetId: publicSubnet.id, routeTableId: publicRoutes.id },
        { parent: this },
      );
      const address = new aws.ec2.Eip(`${name}-nat-${index}`, { domain: 'vpc' }, { parent: this });
      const nat = new aws.ec2.NatGateway(
        `${name}-${index}`,
        { allocationId: address.id, subnetId: publicSubnet.id },
        { parent: this, dependsOn: [gateway] },
      );
      const privateSubnet = new aws.ec2.Subnet(
        `${name}-private-${index}`,
        {
          vpcId: vpc.id,
          cidrBlock: plan.privateCidrs[index] ?? '',
          availabilityZone: zone,
          mapPublicIpOnLaunch: false,
          tags: {
            ...clusterTag,
            'kubernetes.io/role/internal-elb': '1',
            Name: `${name}-private-${index}`,
          },
        },
        { parent: this },
      );
      const privateRoutes = new aws.ec2.RouteTable(
        `${name}-private-${index}`,
        { vpcId: vpc.id, routes: [{ cidrBlock: '0.0.0.0/0', natGatewayId: nat.id }] },
        { parent: this },
      );
      new aws.ec2.RouteTableAssociation(
        `${name}-private-${index}`,
        { subnetId: privateSubnet.id, routeTableId: privateRoutes.id },
        { parent: this },
      );
      this.publicSubnetIds.push(publicSubnet.id);
      this.privateSubnetIds.push(privateSubnet.id);
    });
    this.vpcId = vpc.id;
    this.registerOutputs({
      vpcId: this.vpcId,
      privateSubnetIds: this.privateSubnetIds,
      publicSubnetIds: this.publicSubnetIds,
    });
  }
}
