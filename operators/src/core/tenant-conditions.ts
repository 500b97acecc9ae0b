import type { TenantCondition, TenantConditionType, TenantSpec } from '@citadel/contracts';
import type { ObservedTenant } from './observed-state.ts';

/** A condition before it is stamped with a transition time and generation. */
export interface ConditionDraft {
  type: TenantConditionType;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
}

/** Conditions that must be True for a tenant to be Ready on this platform. */
export function requiredConditionTypes(observed: ObservedTenant): TenantConditionType[] {
  const required: TenantConditionType[] = [
    'NamespaceReady',
    'KeysReady',
    'DatabaseReady',
    'VectorStoreReady',
    'ServicesReady',
  ];
  // A GPU pool blocks readiness only where the platform can provide one at all.
  if (observed.gpuPool.available) required.push('GpuPoolReady');
  return required;
}

/** Whether the active data key is older than the spec's rotation period. */
export function isKeyRotationDue(spec: TenantSpec, createdAt: Date, now: Date): boolean {
  const ageMs = now.getTime() - createdAt.getTime();
  return ageMs >= spec.resources.keys.rotationDays * 24 * 60 * 60 * 1000;
}

/** `Kind/name, Kind/name` — at most five, then how many more. */
function listDrift(drift: readonly string[]): string {
  const shown = drift.slice(0, 5).join(', ');
  return drift.length > 5 ? `${shown} and ${drift.length - 5} more` : shown;
}

/** `Drifted` for a component whose driver reported objects missing or changed, if any. */
function driftCondition(
  type: TenantConditionType,
  drift: readonly string[] = [],
): ConditionDraft | undefined {
  if (drift.length === 0) return undefined;
  return {
    type,
    status: 'False',
    reason: 'Drifted',
    message: `missing or changed: ${listDrift(drift)}`,
  };
}

function namespaceCondition(observed: ObservedTenant): ConditionDraft {
  const drifted = driftCondition('NamespaceReady', observed.namespace.drift);
  if (observed.namespace.exists && drifted) return drifted;
  return observed.namespace.exists
    ? {
        type: 'NamespaceReady',
        status: 'True',
        reason: 'Created',
        message: 'isolation boundary exists',
      }
    : { type: 'NamespaceReady', status: 'False', reason: 'Pending', message: 'not created yet' };
}

function keysCondition(spec: TenantSpec, observed: ObservedTenant, now: Date): ConditionDraft {
  const { cloudKey } = observed.keys;
  if (cloudKey && cloudKey.state !== 'ready') {
    const reason = cloudKey.state === 'absent' ? 'CloudKeyPending' : 'CloudKeyOutdated';
    return { type: 'KeysReady', status: 'False', reason, message: cloudKey.message };
  }
  const active = observed.keys.versions.find((version) => version.active);
  if (!active) {
    return { type: 'KeysReady', status: 'False', reason: 'Pending', message: 'no active data key' };
  }
  if (isKeyRotationDue(spec, active.createdAt, now)) {
    return {
      type: 'KeysReady',
      status: 'False',
      reason: 'RotationDue',
      message: `data key v${active.version} is older than ${spec.resources.keys.rotationDays} days`,
    };
  }
  return {
    type: 'KeysReady',
    status: 'True',
    reason: 'Active',
    message: `data key v${active.version} active, ${observed.keys.versions.length} version(s) kept`,
  };
}

function databaseCondition(spec: TenantSpec, observed: ObservedTenant): ConditionDraft {
  const db = observed.database;
  const missing: string[] = [];
  if (!db.roleExists || !db.credentialsStored) missing.push('role');
  if (!db.databaseExists) missing.push('database');
  if (!db.publicConnectRevoked) missing.push('connect revoked from PUBLIC');
  if (missing.length > 0) {
    return {
      type: 'DatabaseReady',
      status: 'False',
      reason: 'Pending',
      message: `missing: ${missing.join(', ')}`,
    };
  }
  if (spec.suspended) {
    return db.loginAllowed
      ? {
          type: 'DatabaseReady',
          status: 'False',
          reason: 'Suspending',
          message: 'login still allowed',
        }
      : {
          type: 'DatabaseReady',
          status: 'True',
          reason: 'LoginDisabled',
          message: 'data kept, login disabled while suspended',
        };
  }
  return db.loginAllowed
    ? {
        type: 'DatabaseReady',
        status: 'True',
        reason: 'Provisioned',
        message: 'database and role ready',
      }
    : {
        type: 'DatabaseReady',
        status: 'False',
        reason: 'LoginDisabled',
        message: 'login not yet re-enabled',
      };
}

function vectorStoreCondition(observed: ObservedTenant): ConditionDraft {
  const store = observed.vectorStore;
  if (!store.ready) {
    return {
      type: 'VectorStoreReady',
      status: 'False',
      reason: 'Pending',
      message: 'not created yet',
    };
  }
  if (store.engine === 'milvus') {
    return {
      type: 'VectorStoreReady',
      status: 'True',
      reason: 'Milvus',
      message: "the tenant's own Milvus database",
    };
  }
  return store.engine === 'pgvector'
    ? {
        type: 'VectorStoreReady',
        status: 'True',
        reason: 'Pgvector',
        message: 'pgvector in the tenant database',
      }
    : {
        type: 'VectorStoreReady',
        status: 'True',
        reason: 'ExactSearch',
        message: 'pgvector is not installed on this server: the services search exactly',
      };
}

function suspendedServicesCondition(observed: ObservedTenant): ConditionDraft {
  return observed.services.state === 'stopped'
    ? {
        type: 'ServicesReady',
        status: 'False',
        reason: 'Suspended',
        message: 'stopped while suspended',
      }
    : {
        type: 'ServicesReady',
        status: 'False',
        reason: 'Stopping',
        message: 'stopping for suspension',
      };
}

function servicesCondition(spec: TenantSpec, observed: ObservedTenant): ConditionDraft {
  const services = observed.services;
  if (spec.suspended) return suspendedServicesCondition(observed);
  const drifted = driftCondition('ServicesReady', services.drift);
  if (drifted) return drifted;
  switch (services.state) {
    case 'running':
      if (services.runningAs)
        return { type: 'ServicesReady', status: 'True', ...services.runningAs };
      return {
        type: 'ServicesReady',
        status: 'True',
        reason: 'Running',
        message: `serving ${spec.services.join(', ') || 'no services'}`,
      };
    case 'starting':
      return {
        type: 'ServicesReady',
        status: 'False',
        reason: 'Starting',
        message: 'data-plane host starting',
      };
    case 'crashed':
      return {
        type: 'ServicesReady',
        status: 'False',
        reason: 'CrashLoopBackOff',
        message: `restarted ${services.restarts} time(s); last error: ${services.lastError ?? 'unknown'}`,
      };
    case 'stopped':
      return {
        type: 'ServicesReady',
        status: 'False',
        reason: 'Pending',
        message: 'not started yet',
      };
  }
}

function gpuPoolCondition(observed: ObservedTenant): ConditionDraft {
  const pool = observed.gpuPool;
  return {
    type: 'GpuPoolReady',
    status: pool.ready ? 'True' : 'False',
    reason: pool.reason,
    message: pool.message,
  };
}

/**
 * `DataExported`, reported while the tenant is being deleted: nothing is removed until it
 * is True.
 */
export function dataExportCondition(observed: ObservedTenant): ConditionDraft {
  const exported = observed.dataExport;
  return exported.completed
    ? {
        type: 'DataExported',
        status: 'True',
        reason: 'Exported',
        message: `data and audit log exported to ${exported.location ?? 'the export store'}`,
      }
    : {
        type: 'DataExported',
        status: 'False',
        reason: 'Pending',
        message: 'exporting data and audit log before any resource is removed',
      };
}

/** One condition per component, computed from what the drivers observed. */
export function computeConditionDrafts(
  spec: TenantSpec,
  observed: ObservedTenant,
  now: Date,
): ConditionDraft[] {
  return [
    namespaceCondition(observed),
    keysCondition(spec, observed, now),
    databaseCondition(spec, observed),
    vectorStoreCondition(observed),
    servicesCondition(spec, observed),
    gpuPoolCondition(observed),
  ];
}

/**
 * Stamps drafts into conditions, keeping `lastTransitionTime` from the previous status
 * when a condition's status did not change (Kubernetes semantics).
 */
export function stampConditions(
  drafts: ConditionDraft[],
  previous: readonly TenantCondition[],
  generation: number,
  now: Date,
): TenantCondition[] {
  return drafts.map((draft) => {
    const before = previous.find((condition) => condition.type === draft.type);
    const lastTransitionTime =
      before?.status === draft.status ? before.lastTransitionTime : now.toISOString();
    return { ...draft, lastTransitionTime, observedGeneration: generation };
  });
}
