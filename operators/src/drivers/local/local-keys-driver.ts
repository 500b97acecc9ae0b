import type { ObservedKeys } from '../../core/observed-state.ts';
import type { KeysAction } from '../../core/reconcile-action.ts';
import type { ComponentDriver } from '../../core/tenant-drivers.ts';
import type { TenantSecretStore } from '../../core/tenant-secret-store.ts';
import type { LocalKeyRing } from './local-key-ring.ts';

export interface LocalKeysDriverDeps {
  keyRing: LocalKeyRing;
  secrets: TenantSecretStore;
}

/**
 * The tenant's data keys: random 256-bit keys wrapped by the platform master key and kept
 * in the secret store. Rotation is the planner asking for version n+1; older versions stay
 * for decryption until the tenant is removed.
 */
export function createLocalKeysDriver(
  deps: LocalKeysDriverDeps,
): ComponentDriver<ObservedKeys, KeysAction> {
  const { keyRing, secrets } = deps;
  return {
    async observe(tenant) {
      const keys = await secrets.listDataKeys(tenant.uid);
      return {
        versions: keys
          .map(({ version, active, createdAt }) => ({ version, active, createdAt }))
          .sort((a, b) => a.version - b.version),
      };
    },
    async apply(tenant, action) {
      switch (action.type) {
        case 'create-version': {
          if (!Number.isInteger(action.version) || action.version < 1) {
            throw new Error(`data key version must be a positive integer, got ${action.version}`);
          }
          const existing = await secrets.listDataKeys(tenant.uid);
          if (existing.some((key) => key.version === action.version)) return;
          const dataKey = keyRing.generateDataKey();
          try {
            // The store ignores a version it already holds, so a retry racing this one is harmless.
            await secrets.addDataKey(tenant.uid, {
              version: action.version,
              wrappedKey: keyRing.wrap(dataKey),
            });
          } finally {
            dataKey.fill(0);
          }
          return;
        }
        case 'ensure-cloud-key':
          // Never planned here: the local platform reports no cloud key.
          return;
        case 'remove':
          await secrets.deleteDataKeys(tenant.uid);
          return;
      }
    },
  };
}
