import type { DriverLogger } from '../drivers/local/driver-logger.ts';
import type { KubernetesTenantDriversDeps } from './kubernetes-tenant-drivers.ts';
import type { OperatorConfig } from './operator-config.ts';

/**
 * The drivers only some platforms have: Milvus (`CITADEL_MILVUS_ADDRESS`) and the Pulumi
 * tenant stacks (`CITADEL_PULUMI_BACKEND_URL` + `CITADEL_PULUMI_PLATFORM`). Their SDKs are
 * imported only when configured: the Milvus client (gRPC, protobuf) and the Pulumi
 * automation API with `@citadel/infra` (and the AWS provider's SDK) are ~50 and ~100 MiB of
 * resident memory an operator without them does not carry.
 */
export async function createOptionalDrivers(
  config: OperatorConfig,
  logger: DriverLogger,
): Promise<Pick<KubernetesTenantDriversDeps, 'milvus' | 'cloud'>> {
  const milvus = config.milvus
    ? { driver: await loadMilvusDriver(config.milvus), platform: config.milvus }
    : undefined;
  if (!config.pulumi) return milvus ? { milvus } : {};
  const [{ tenantProgram }, { createPulumiTenantStacks }, { createPulumiCloudDrivers }] =
    await Promise.all([
      import('@citadel/infra'),
      import('./drivers/pulumi-tenant-stacks.ts'),
      import('./drivers/pulumi-cloud-drivers.ts'),
    ]);
  const platform = JSON.parse(config.pulumi.platform) as Parameters<typeof tenantProgram>[1];
  const stacks = createPulumiTenantStacks({
    projectName: 'citadel',
    backendUrl: config.pulumi.backendUrl,
    program: (spec) => {
      const program = tenantProgram(spec, platform);
      return async () => ({ ...(await program()) });
    },
    ...(config.pulumi.region ? { stackConfig: { 'aws:region': config.pulumi.region } } : {}),
    logger,
  });
  return { ...(milvus ? { milvus } : {}), cloud: createPulumiCloudDrivers(stacks) };

  async function loadMilvusDriver(milvusConfig: NonNullable<OperatorConfig['milvus']>) {
    const [{ MilvusClient }, { createMilvusVectorStoreDriver }] = await Promise.all([
      import('@zilliz/milvus2-sdk-node'),
      import('./drivers/milvus-vector-store-driver.ts'),
    ]);
    return createMilvusVectorStoreDriver({
      client: new MilvusClient({
        address: milvusConfig.address,
        logLevel: 'warn',
        ...(milvusConfig.token ? { token: milvusConfig.token } : {}),
      }),
      instanceId: config.instanceId,
      logger,
    });
  }
}
