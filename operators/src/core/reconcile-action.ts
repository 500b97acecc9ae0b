/**
 * The steps a reconcile can take. Each is idempotent on its own: applying it twice has
 * the effect of applying it once, so a crash between steps only repeats a step.
 */
export interface NamespaceAction {
  component: 'namespace';
  type: 'ensure' | 'remove';
}

export type KeysAction =
  | { component: 'keys'; type: 'create-version'; version: number }
  /** Creates or updates the tenant's cloud key (where the platform keeps one). */
  | { component: 'keys'; type: 'ensure-cloud-key' }
  | { component: 'keys'; type: 'remove' };

export interface DatabaseAction {
  component: 'database';
  type:
    | 'ensure-role'
    | 'ensure-database'
    | 'revoke-public-connect'
    | 'allow-login'
    | 'deny-login'
    | 'remove';
}

export interface VectorStoreAction {
  component: 'vectorStore';
  /** `remove` only for stores outside the tenant's database (Milvus): the rest go with it. */
  type: 'ensure' | 'remove';
}

export interface ServicesAction {
  component: 'services';
  type: 'start' | 'stop';
}

export interface GpuPoolAction {
  component: 'gpuPool';
  type: 'ensure' | 'remove';
}

/** Exports the tenant's data (resource, audit log, database) before deletion removes anything. */
export interface DataExportAction {
  component: 'dataExport';
  type: 'export';
}

export type ReconcileAction =
  | NamespaceAction
  | KeysAction
  | DatabaseAction
  | VectorStoreAction
  | ServicesAction
  | GpuPoolAction
  | DataExportAction;

/** Human-readable form of an action, for logs and condition messages. */
export function describeAction(action: ReconcileAction): string {
  return 'version' in action
    ? `${action.component}: ${action.type} v${action.version}`
    : `${action.component}: ${action.type}`;
}
