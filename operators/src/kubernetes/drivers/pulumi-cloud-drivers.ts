import type { TenantSpec } from '@citadel/contracts';
import type { ObservedGpuPool, ObservedKeys } from '../../core/observed-state.ts';
import type { GpuPoolAction, KeysAction } from '../../core/reconcile-action.ts';
import type { ComponentDriver, TenantRef } from '../../core/tenant-drivers.ts';
import type { CloudResourceDrivers } from '../kubernetes-tenant-drivers.ts';
import type { PulumiTenantStacks, TenantStackObservation } from './pulumi-tenant-stacks.ts';

const CLOUD_KEY_MESSAGES: Readonly<Record<TenantStackObservation['state'], string>> = {
  absent: 'the tenant stack (KMS key) is not deployed yet',
  outdated: 'the tenant stack was deployed for an older spec (rotation or GPU pool changed)',
  ready: 'KMS key deployed by the tenant stack',
};

function withoutGpuPool(spec: TenantSpec): TenantSpec {
  return {
    ...spec,
    resources: { ...spec.resources, gpuPool: { ...spec.resources.gpuPool, enabled: false } },
  };
}

function gpuPoolObservation(tenant: TenantRef, stack: TenantStackObservation): ObservedGpuPool {
  const requested = tenant.spec.resources.gpuPool;
  if (!requested.enabled) {
    return {
      available: false,
      ready: false,
      reason: 'NotRequested',
      message: 'The tenant has no GPU pool in its spec.',
    };
  }
  const nodeGroup = stack.outputs.gpuNodeGroupName;
  const ready = stack.state === 'ready' && typeof nodeGroup === 'string' && nodeGroup !== '';
  return {
    available: true,
    ready,
    reason: ready ? 'NodeGroupReady' : 'Pending',
    message: ready
      ? `node group ${nodeGroup} (${requested.instanceType}, ${requested.min}-${requested.max} nodes)`
      : `node group ${requested.instanceType} (${requested.min}-${requested.max} nodes) not deployed yet`,
  };
}

/**
 * The tenant's cloud resources through its Pulumi stack: the KMS key as the keys
 * component's cloud key (created before the first data key, destroyed with the stack when
 * the keys are removed), and the GPU node group as the GPU pool (its `remove` brings the
 * stack up without it; the key stays until the keys go).
 */
export function createPulumiCloudDrivers(stacks: PulumiTenantStacks): CloudResourceDrivers {
  const gpuPool: ComponentDriver<ObservedGpuPool, GpuPoolAction> = {
    async observe(tenant) {
      return gpuPoolObservation(tenant, await stacks.observe(tenant));
    },
    async apply(tenant, action) {
      if (action.type === 'ensure') return stacks.up(tenant, tenant.spec);
      if ((await stacks.observe(tenant)).state !== 'absent') {
        await stacks.up(tenant, withoutGpuPool(tenant.spec));
      }
    },
  };
  const keys = (
    dataKeys: ComponentDriver<ObservedKeys, KeysAction>,
  ): ComponentDriver<ObservedKeys, KeysAction> => ({
    async observe(tenant) {
      const [data, stack] = await Promise.all([dataKeys.observe(tenant), stacks.observe(tenant)]);
      return {
        ...data,
        cloudKey: { state: stack.state, message: CLOUD_KEY_MESSAGES[stack.state] },
      };
    },
    async apply(tenant, action) {
      switch (action.type) {
        case 'ensure-cloud-key':
          return stacks.up(tenant, tenant.spec);
        case 'remove':
          await dataKeys.apply(tenant, action);
          return stacks.destroy(tenant);
        case 'create-version':
          return dataKeys.apply(tenant, action);
      }
    },
  });
  return { keys, gpuPool };
}
