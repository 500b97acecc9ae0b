/** IAM and KMS policy documents, built as plain data so tests can read every statement. */

export interface PolicyStatement {
  Sid: string;
  Effect: 'Allow' | 'Deny';
  Principal?: Record<string, string | string[]>;
  Action: string | string[];
  /** Absent in trust policies, whose resource is the role itself. */
  Resource?: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

export interface PolicyDocument {
  Version: '2012-10-17';
  Statement: PolicyStatement[];
}

/** What a role that only uses a key (never administers it) may do with it. */
export const KMS_KEY_USER_ACTIONS = [
  'kms:Encrypt',
  'kms:Decrypt',
  'kms:ReEncryptFrom',
  'kms:ReEncryptTo',
  'kms:GenerateDataKey',
  'kms:GenerateDataKeyWithoutPlaintext',
  'kms:DescribeKey',
];

/** A trust policy letting one AWS service assume the role. */
export function serviceTrustPolicy(service: string): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'ServiceAssumesRole',
        Effect: 'Allow',
        Principal: { Service: service },
        Action: 'sts:AssumeRole',
      },
    ],
  };
}

/**
 * IRSA: only the pods running as `serviceAccount` in `namespace` exchange their projected token
 * (audience `sts.amazonaws.com`) issued by the cluster's OIDC provider for this role.
 */
export function serviceAccountTrustPolicy(input: {
  oidcProviderArn: string;
  /** The issuer URL without `https://`, e.g. `oidc.eks.eu-west-1.amazonaws.com/id/ABC`. */
  issuerHost: string;
  namespace: string;
  serviceAccount: string;
}): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'ServiceAccountAssumesRole',
        Effect: 'Allow',
        Principal: { Federated: input.oidcProviderArn },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: {
          StringEquals: {
            [`${input.issuerHost}:sub`]: `system:serviceaccount:${input.namespace}:${input.serviceAccount}`,
            [`${input.issuerHost}:aud`]: 'sts.amazonaws.com',
          },
        },
      },
    ],
  };
}

/**
 * A customer-managed key's policy: the account's root principal keeps full control (so IAM
 * policies can grant administration and the key can never be locked out), and each user role may
 * only encrypt, decrypt and generate data keys.
 */
export function kmsKeyPolicy(input: {
  partition: string;
  accountId: string;
  userRoleArns: string[];
}): PolicyDocument {
  const statements: PolicyStatement[] = [
    {
      Sid: 'AccountAdministersKeyThroughIam',
      Effect: 'Allow',
      Principal: { AWS: `arn:${input.partition}:iam::${input.accountId}:root` },
      Action: 'kms:*',
      Resource: '*',
    },
  ];
  if (input.userRoleArns.length > 0) {
    statements.push({
      Sid: 'PlatformRolesUseKey',
      Effect: 'Allow',
      Principal: { AWS: input.userRoleArns },
      Action: KMS_KEY_USER_ACTIONS,
      Resource: '*',
    });
  }
  return { Version: '2012-10-17', Statement: statements };
}
