import { chmod, mkdir, rm, stat } from 'node:fs/promises';
import type { ObservedNamespace } from '../../core/observed-state.ts';
import type { NamespaceAction } from '../../core/reconcile-action.ts';
import type { ComponentDriver } from '../../core/tenant-drivers.ts';
import { tenantDirectory } from './local-tenant-names.ts';

export interface LocalNamespaceDriverDeps {
  /** The platform's data directory (`CITADEL_DATA_DIR`). */
  dataDir: string;
}

/**
 * Locally a tenant's "namespace" is its private directory `<dataDir>/tenants/<slug>`
 * (mode 0700): the data-plane host's log and pid file live there.
 */
export function createLocalNamespaceDriver(
  deps: LocalNamespaceDriverDeps,
): ComponentDriver<ObservedNamespace, NamespaceAction> {
  return {
    async observe(tenant) {
      try {
        return { exists: (await stat(tenantDirectory(deps.dataDir, tenant.slug))).isDirectory() };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { exists: false };
        throw error;
      }
    },
    async apply(tenant, action) {
      const directory = tenantDirectory(deps.dataDir, tenant.slug);
      switch (action.type) {
        case 'ensure':
          await mkdir(directory, { recursive: true, mode: 0o700 });
          // mkdir leaves an existing directory's mode alone, and the umask may have narrowed it.
          await chmod(directory, 0o700);
          return;
        case 'remove':
          await rm(directory, { recursive: true, force: true });
          return;
      }
    },
  };
}
