import type { TenantSpec } from '@citadel/contracts';
import type {
  ObservedDataExport,
  ObservedDatabase,
  ObservedGpuPool,
  ObservedKeys,
  ObservedNamespace,
  ObservedServices,
  ObservedVectorStore,
} from './observed-state.ts';
import type {
  DataExportAction,
  DatabaseAction,
  GpuPoolAction,
  KeysAction,
  NamespaceAction,
  ServicesAction,
  VectorStoreAction,
} from './reconcile-action.ts';

/** What a driver needs to know about the tenant it works on. */
export interface TenantRef {
  /** Stable id; survives nothing but the tenant itself. */
  uid: string;
  slug: string;
  spec: TenantSpec;
}

/**
 * A driver observes one component of a tenant and applies actions to it. `observe`
 * never changes anything; `apply` is idempotent.
 */
export interface ComponentDriver<Observed, Action> {
  observe(tenant: TenantRef): Promise<Observed>;
  apply(tenant: TenantRef, action: Action): Promise<void>;
}

export interface TenantDrivers {
  namespace: ComponentDriver<ObservedNamespace, NamespaceAction>;
  keys: ComponentDriver<ObservedKeys, KeysAction>;
  database: ComponentDriver<ObservedDatabase, DatabaseAction>;
  vectorStore: ComponentDriver<ObservedVectorStore, VectorStoreAction>;
  services: ComponentDriver<ObservedServices, ServicesAction>;
  gpuPool: ComponentDriver<ObservedGpuPool, GpuPoolAction>;
  /** Deletion only: the export of the tenant's data that must exist before anything is removed. */
  dataExport: ComponentDriver<ObservedDataExport, DataExportAction>;
}
