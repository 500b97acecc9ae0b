import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import {
  clusterOnlySecurityGroup,
  type PrivateDataStoreArgs,
} from './cluster-only-security-group.ts';

/** The oldest PostgreSQL major version the platform runs on (pgvector on RDS needs 15.2+). */
export const MINIMUM_POSTGRES_MAJOR = 15;
export const POSTGRES_PORT = 5432;

/** `16.4` → `postgres16`; refuses versions older than {@link MINIMUM_POSTGRES_MAJOR}. */
export function postgresParameterGroupFamily(engineVersion: string): string {
  const major = Number.parseInt(engineVersion.split('.')[0] ?? '', 10);
  if (!Number.isInteger(major) || major < MINIMUM_POSTGRES_MAJOR) {
    throw new Error(
      `PostgreSQL ${engineVersion}: the platform needs ${MINIMUM_POSTGRES_MAJOR} or later`,
    );
  }
  return `postgres${major}`;
}

/**
 * Server parameters. pgvector itself is created per database (`CREATE EXTENSION vector`) and
 * needs no preloading; `pg_stat_statements` is preloaded so slow tenant queries can be found.
 * Connections without TLS are refused.
 */
export const POSTGRES_PARAMETERS = [
  { name: 'shared_preload_libraries', value: 'pg_stat_statements', applyMethod: 'pending-reboot' },
  { name: 'rds.force_ssl', value: '1', applyMethod: 'pending-reboot' },
  { name: 'password_encryption', value: 'scram-sha-256', applyMethod: 'immediate' },
  { name: 'log_min_duration_statement', value: '1000', applyMethod: 'immediate' },
];

export interface PlatformDatabaseArgs extends PrivateDataStoreArgs {
  instanceClass: string;
  engineVersion: string;
  storageGi: number;
  maxStorageGi: number;
  multiAz: boolean;
  password: pulumi.Input<string>;
}

/**
 * RDS PostgreSQL for the control plane and the tenants' databases: in private subnets, encrypted
 * with the platform key (storage and Performance Insights), reachable on 5432 from the cluster's
 * security group only, deletion-protected, with a final snapshot.
 */
export class PlatformDatabase extends pulumi.ComponentResource {
  readonly address: pulumi.Output<string>;
  readonly port: pulumi.Output<number>;
  readonly username: pulumi.Output<string>;
  readonly databaseName: pulumi.Output<string>;

  constructor(name: string, args: PlatformDatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
    super('citadel:platform:PlatformDatabase', name, {}, opts);
    const securityGroup = clusterOnlySecurityGroup(
      name,
      { args, port: POSTGRES_PORT, service: 'PostgreSQL' },
      this,
    );
    const subnetGroup = new aws.rds.SubnetGroup(
      name,
      { subnetIds: args.privateSubnetIds, description: 'Citadel PostgreSQL private subnets' },
      { parent: this },
    );
    const parameterGroup = new aws.rds.ParameterGroup(
      name,
      {
        family: postgresParameterGroupFamily(args.engineVersion),
        description: 'Citadel PostgreSQL parameters',
        parameters: POSTGRES_PARAMETERS,
      },
      { parent: this },
    );
    const instance = new aws.rds.Instance(
      name,
      {
        identifier: 'citadel-platform',
        engine: 'postgres',
        engineVersion: args.engineVersion,
        instanceClass: args.instanceClass,
        allocatedStorage: args.storageGi,
        maxAllocatedStorage: args.maxStorageGi,
        storageType: 'gp3',
        storageEncrypted: true,
        kmsKeyId: args.kmsKeyArn,
        dbName: 'citadel',
        username: 'citadel',
        password: args.password,
        dbSubnetGroupName: subnetGroup.name,
        vpcSecurityGroupIds: [securityGroup.id],
        parameterGroupName: parameterGroup.name,
        publiclyAccessible: false,
        multiAz: args.multiAz,
        iamDatabaseAuthenticationEnabled: true,
        performanceInsightsEnabled: true,
        performanceInsightsKmsKeyId: args.kmsKeyArn,
        enabledCloudwatchLogsExports: ['postgresql'],
        backupRetentionPeriod: 14,
        copyTagsToSnapshot: true,
        deletionProtection: true,
        skipFinalSnapshot: false,
        finalSnapshotIdentifier: 'citadel-platform-final',
        autoMinorVersionUpgrade: true,
      },
      { parent: this, protect: true },
    );
    this.address = instance.address;
    this.port = instance.port;
    this.username = instance.username;
    this.databaseName = instance.dbName;
    this.registerOutputs({ address: this.address, port: this.port });
  }
}
