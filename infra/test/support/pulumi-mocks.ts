import * as pulumi from '@pulumi/pulumi';

/** One resource the program registered, with its inputs as the engine would receive them. */
export interface RecordedResource {
  type: string;
  name: string;
  // Inputs are whatever the resource was given: tests narrow them where they read them.
  inputs: Record<string, unknown>;
  provider: string | undefined;
  /** Paths of the inputs that were Pulumi secrets (`stringData`, `authToken`…). */
  secretInputs: string[];
}

/** The signature key and value Pulumi marks a serialized secret with. */
const SECRET_SIGNATURE = ['4dabf18193072939515e22adb298388d', '1b47061264138c4ac30d75fd1eb44270'];

function isSerializedSecret(value: object): value is { value: unknown } {
  return (value as Record<string, unknown>)[SECRET_SIGNATURE[0] ?? ''] === SECRET_SIGNATURE[1];
}

/** Inputs with their secrets unwrapped, noting where the secrets were. */
function unwrapSecrets(value: unknown, path: string, secrets: string[]): unknown {
  if (typeof value !== 'object' || value === null) {
    return value;
  }
  if (Array.isArray(value)) {
    return value.map((item, index) => unwrapSecrets(item, `${path}/${index}`, secrets));
  }
  if (isSerializedSecret(value)) {
    secrets.push(path);
    return unwrapSecrets(value.value, path, secrets);
  }
  return Object.fromEntries(
    Object.entries(value).map(([key, child]) => [
      key,
      unwrapSecrets(child, `${path}/${key}`, secrets),
    ]),
  );
}

export const MOCK_ACCOUNT_ID = '123456789012';
export const MOCK_REGION = 'eu-west-1';
export const MOCK_ISSUER = 'https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE';
export const MOCK_CLUSTER_SECURITY_GROUP = 'sg-cluster';

/** Outputs the AWS provider would compute, for the resources whose outputs the program reads. */
function computedOutputs(type: string, name: string): Record<string, unknown> {
  const arn = (service: string, resource: string): string =>
    `arn:aws:${service}:${MOCK_REGION}:${MOCK_ACCOUNT_ID}:${resource}`;
  switch (type) {
    case 'aws:eks/cluster:Cluster':
      return {
        arn: arn('eks', `cluster/${name}`),
        endpoint: 'https://EXAMPLE.gr7.eu-west-1.eks.amazonaws.com',
        certificateAuthority: { data: 'Q0VSVElGSUNBVEU=' },
        identities: [{ oidcs: [{ issuer: MOCK_ISSUER }] }],
      };
    case 'aws:iam/role:Role':
      return { arn: `arn:aws:iam::${MOCK_ACCOUNT_ID}:role/${name}`, name };
    case 'aws:iam/openIdConnectProvider:OpenIdConnectProvider':
      return {
        arn: `arn:aws:iam::${MOCK_ACCOUNT_ID}:oidc-provider/${MOCK_ISSUER.replace('https://', '')}`,
      };
    case 'aws:kms/key:Key':
      return { arn: arn('kms', `key/${name}`), keyId: `${name}-key-id` };
    case 'aws:rds/instance:Instance':
      return { address: 'citadel-platform.abc.eu-west-1.rds.amazonaws.com', port: 5432 };
    case 'aws:elasticache/replicationGroup:ReplicationGroup':
      return { primaryEndpointAddress: 'master.citadel-platform.abc.euw1.cache.amazonaws.com' };
    default:
      return { arn: arn('mock', name) };
  }
}

function vpcConfigOutputs(type: string, inputs: Record<string, unknown>): Record<string, unknown> {
  if (type !== 'aws:eks/cluster:Cluster') {
    return {};
  }
  const vpcConfig = inputs.vpcConfig as Record<string, unknown>;
  return { vpcConfig: { ...vpcConfig, clusterSecurityGroupId: MOCK_CLUSTER_SECURITY_GROUP } };
}

function invoke(token: string): Record<string, unknown> {
  switch (token) {
    case 'aws:index/getCallerIdentity:getCallerIdentity':
      return {
        accountId: MOCK_ACCOUNT_ID,
        arn: `arn:aws:iam::${MOCK_ACCOUNT_ID}:user/deployer`,
        userId: 'AIDEXAMPLE',
        id: MOCK_ACCOUNT_ID,
      };
    case 'aws:index/getPartition:getPartition':
      return { partition: 'aws', dnsSuffix: 'amazonaws.com', id: 'aws' };
    case 'aws:index/getAvailabilityZones:getAvailabilityZones':
      return {
        names: ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'],
        zoneIds: ['euw1-az1', 'euw1-az2', 'euw1-az3'],
        id: MOCK_REGION,
      };
    default:
      throw new Error(`no mock for the invoke ${token}`);
  }
}

/** The resources a program registered, and ways to find them. */
export interface MockedEngine {
  resources: RecordedResource[];
  ofType(type: string): RecordedResource[];
  /** The one resource of `type` whose name ends with `nameSuffix`; throws unless exactly one. */
  one(type: string, nameSuffix?: string): RecordedResource;
  /** Waits until the program stops registering resources. */
  settled(): Promise<void>;
}

/**
 * Replaces the Pulumi engine with mocks that record every registration. `setMocks` is global to
 * the process (vitest runs each test file in its own), so each test file calls this once.
 */
export async function mockPulumiEngine(): Promise<MockedEngine> {
  const resources: RecordedResource[] = [];
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const secretInputs: string[] = [];
        const inputs = unwrapSecrets(args.inputs, '', secretInputs) as Record<string, unknown>;
        resources.push({
          type: args.type,
          name: args.name,
          inputs,
          provider: args.provider,
          secretInputs,
        });
        return {
          id: `${args.name}-id`,
          state: {
            ...inputs,
            ...computedOutputs(args.type, args.name),
            ...vpcConfigOutputs(args.type, inputs),
          },
        };
      },
      call: (args) => invoke(args.token),
    },
    'citadel',
    'test',
    false,
  );
  const ofType = (type: string): RecordedResource[] => resources.filter((r) => r.type === type);
  return {
    resources,
    ofType,
    one(type, nameSuffix = '') {
      const found = ofType(type).filter((resource) => resource.name.endsWith(nameSuffix));
      const [first] = found;
      if (found.length !== 1 || !first) {
        throw new Error(`${found.length} resources of ${type} named *${nameSuffix}`);
      }
      return first;
    },
    async settled() {
      let quietRounds = 0;
      let count = -1;
      while (quietRounds < 20) {
        await new Promise((resolve) => setTimeout(resolve, 2));
        quietRounds = resources.length === count ? quietRounds + 1 : 0;
        count = resources.length;
      }
    },
  };
}

/** The value of an output, once the mocks have resolved it. */
export function valueOf<T>(output: pulumi.Input<T>): Promise<T> {
  return new Promise((resolve) => {
    pulumi.output(output).apply((value) => {
      resolve(value as T);
      return value;
    });
  });
}
