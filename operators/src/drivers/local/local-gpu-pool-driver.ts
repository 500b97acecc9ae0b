import type { ObservedGpuPool } from '../../core/observed-state.ts';
import type { GpuPoolAction } from '../../core/reconcile-action.ts';
import type { ComponentDriver } from '../../core/tenant-drivers.ts';

/**
 * A local host has no GPU to give: the pool is never available, and the condition says
 * why. Applying does nothing, so the reconciler converges instead of retrying forever.
 */
export function createLocalGpuPoolDriver(): ComponentDriver<ObservedGpuPool, GpuPoolAction> {
  return {
    observe(tenant) {
      const requested = tenant.spec.resources.gpuPool;
      if (!requested.enabled) {
        return Promise.resolve({
          available: false,
          ready: false,
          reason: 'NotRequested',
          message: 'The tenant has no GPU pool in its spec.',
        });
      }
      return Promise.resolve({
        available: false,
        ready: false,
        reason: 'NoGpuOnHost',
        message:
          `The local platform runs on a host without GPUs, so the requested pool ` +
          `(${requested.instanceType}, ${requested.min}-${requested.max} nodes) cannot be provided; ` +
          `run Citadel on Kubernetes with a GPU node group for GPU workloads.`,
      });
    },
    apply() {
      // Nothing to create or remove on a host without GPUs.
      return Promise.resolve();
    },
  };
}
