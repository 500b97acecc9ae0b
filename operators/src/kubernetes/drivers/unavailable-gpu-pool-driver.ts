import type { ObservedGpuPool } from '../../core/observed-state.ts';
import type { GpuPoolAction } from '../../core/reconcile-action.ts';
import type { ComponentDriver } from '../../core/tenant-drivers.ts';

/**
 * The GPU pool where the operator has no way to create node groups (no Pulumi tenant
 * stacks configured): never available, so it does not hold readiness back, and the
 * condition says why.
 */
export function createUnavailableGpuPoolDriver(): ComponentDriver<ObservedGpuPool, GpuPoolAction> {
  return {
    observe(tenant) {
      const requested = tenant.spec.resources.gpuPool;
      return Promise.resolve(
        requested.enabled
          ? {
              available: false,
              ready: false,
              reason: 'NoNodeGroupProvisioner',
              message:
                `GPU pool ${requested.instanceType} (${requested.min}-${requested.max} nodes) requested, ` +
                'but this operator runs without Pulumi tenant stacks (CITADEL_PULUMI_BACKEND_URL unset)',
            }
          : {
              available: false,
              ready: false,
              reason: 'NotRequested',
              message: 'The tenant has no GPU pool in its spec.',
            },
      );
    },
    apply() {
      return Promise.resolve();
    },
  };
}
