import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { kmsKeyPolicy } from './iam-policies.ts';

/** The alias of the platform master key. */
export const PLATFORM_KEY_ALIAS = 'alias/citadel/platform';

export interface PlatformKeysArgs {
  /** Days between automatic rotations of the key material (90 to 2560). */
  rotationPeriodInDays?: number;
}

/**
 * The platform master key: it encrypts the cluster's Secrets, the platform database and Redis at
 * rest, and wraps the tenants' data keys. Rotation is on; the key policy leaves administration to
 * IAM (the roles that use it get their own IAM policies, since they are created after the cluster
 * this key encrypts).
 */
export class PlatformKeys extends pulumi.ComponentResource {
  readonly masterKeyArn: pulumi.Output<string>;
  readonly masterKeyId: pulumi.Output<string>;

  constructor(name: string, args: PlatformKeysArgs, opts?: pulumi.ComponentResourceOptions) {
    super('citadel:platform:PlatformKeys', name, {}, opts);
    const identity = aws.getCallerIdentityOutput({}, { parent: this });
    const partition = aws.getPartitionOutput({}, { parent: this });
    const key = new aws.kms.Key(
      `${name}-master`,
      {
        description: 'Citadel platform master key',
        enableKeyRotation: true,
        rotationPeriodInDays: args.rotationPeriodInDays ?? 365,
        deletionWindowInDays: 30,
        keyUsage: 'ENCRYPT_DECRYPT',
        customerMasterKeySpec: 'SYMMETRIC_DEFAULT',
        policy: pulumi
          .all([partition.partition, identity.accountId])
          .apply(([partitionName, accountId]) =>
            JSON.stringify(kmsKeyPolicy({ partition: partitionName, accountId, userRoleArns: [] })),
          ),
        tags: { 'citadel.azora.dev/purpose': 'platform-master' },
      },
      { parent: this, protect: true },
    );
    new aws.kms.Alias(
      `${name}-master`,
      { name: PLATFORM_KEY_ALIAS, targetKeyId: key.keyId },
      { parent: this },
    );
    this.masterKeyArn = key.arn;
    this.masterKeyId = key.keyId;
    this.registerOutputs({ masterKeyArn: this.masterKeyArn });
  }
}
