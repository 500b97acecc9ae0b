import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { type PolicyDocument, serviceAccountTrustPolicy } from './iam-policies.ts';

/** The cluster's OIDC identity provider, which IAM trusts for service-account tokens. */
export interface ClusterOidc {
  providerArn: pulumi.Input<string>;
  /** The issuer URL, e.g. `https://oidc.eks.eu-west-1.amazonaws.com/id/ABC`. */
  issuerUrl: pulumi.Input<string>;
}

export interface IrsaRoleArgs {
  oidc: ClusterOidc;
  namespace: string;
  serviceAccount: string;
  /** The role's only permissions. */
  policy: pulumi.Input<PolicyDocument>;
}

/** An IAM role that exactly one Kubernetes service account can assume (IRSA). */
export class IrsaRole extends pulumi.ComponentResource {
  readonly roleArn: pulumi.Output<string>;

  constructor(name: string, args: IrsaRoleArgs, opts?: pulumi.ComponentResourceOptions) {
    super('citadel:platform:IrsaRole', name, {}, opts);
    const role = new aws.iam.Role(
      name,
      {
        description: `Assumed by ${args.namespace}/${args.serviceAccount} through IRSA`,
        assumeRolePolicy: pulumi
          .all([args.oidc.providerArn, args.oidc.issuerUrl])
          .apply(([oidcProviderArn, issuerUrl]) =>
            JSON.stringify(
              serviceAccountTrustPolicy({
                oidcProviderArn,
                issuerHost: issuerUrl.replace(/^https:\/\//, ''),
                namespace: args.namespace,
                serviceAccount: args.serviceAccount,
              }),
            ),
          ),
      },
      { parent: this },
    );
    new aws.iam.RolePolicy(
      name,
      { role: role.name, policy: pulumi.output(args.policy).apply((doc) => JSON.stringify(doc)) },
      { parent: this },
    );
    this.roleArn = role.arn;
    this.registerOutputs({ roleArn: this.roleArn });
  }
}
