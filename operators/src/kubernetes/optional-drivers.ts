import { MilvusClient } from '@zilliz/milvus2-sdk-node';
import type { DriverLogger } from '../drivers/local/driver-logger.ts';
import { createMilvusVectorStoreDriver } from './drivers/milvus-vector-store-driver.ts';
import { createPulumiCloudDrivers } from './drivers/pulumi-cloud-drivers.ts';
import { createPulumiTenantStacks } from './drivers/pulumi-tenant-stacks.ts';
import type { KubernetesTenantDriversDeps } from './kubernetes-tenant-drivers.ts';
import type { OperatorConfig } from './operator-config.ts';

/**
 * The drivers only some platforms have: Milvus (`CITADEL_MILVUS_ADDRESS`) and the Pulumi
 * tenant stacks (`CITADEL_PULUMI_BACKEND_URL` + `CITADEL_PULUMI_PLATFORM`). `@citadel/infra`
 * (and with it the AWS provider's SDK) is loaded only when stacks are configured.
 */
export async function createOptionalDrivers(
  config: OperatorConfig,
  logger: DriverLogger,
): Promise<Pick<KubernetesTenantDriversDeps, 'milvus' | 'cloud'>> {
  const milvus = config.milvus
    ? createMilvusVectorStoreDriver({
        client: new MilvusClient({
          address: config.milvus.address,
          logLevel: 'warn',
          ...(config.milvus.token ? { token: config.milvus.token } : {}),
        }),
        instanceId: config.instanceId,
        logger,
      })
    : undefined;
  if (!config.pulumi) return milvus ? { milvus } : {};
  const { tenantProgram } = await import('@citadel/infra');
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
}
