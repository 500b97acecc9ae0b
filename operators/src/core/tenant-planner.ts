import type { TenantPhase, TenantResource, TenantSpec } from '@citadel/contracts';
import type { ObservedTenant } from './observed-state.ts';
import type { ReconcileAction } from './reconcile-action.ts';
import {
  computeConditionDrafts,
  dataExportCondition,
  isKeyRotationDue,
  requiredConditionTypes,
  type ConditionDraft,
} from './tenant-conditions.ts';

/**
 * The outcome of planning one reconcile pass: the ordered actions that move the
 * observed state toward the spec, and the status the observation justifies now.
 * Pure: the same tenant and observation always give the same plan.
 */
export interface TenantPlan {
  actions: ReconcileAction[];
  phase: TenantPhase;
  conditions: ConditionDraft[];
  /** True when nothing is left to do: the tenant converged (or is fully torn down). */
  converged: boolean;
}

function planKeys(spec: TenantSpec, observed: ObservedTenant, now: Date): ReconcileAction[] {
  const { cloudKey } = observed.keys;
  // The cloud key comes first: on such platforms the data keys are wrapped under it.
  const cloud: ReconcileAction[] =
    cloudKey && cloudKey.state !== 'ready' ? [{ component: 'keys', type: 'ensure-cloud-key' }] : [];
  return [...cloud, ...planDataKeys(spec, observed, now)];
}

/** Whether a driver reported objects that are missing or differ from the spec. */
export function hasDrift(observed: { drift?: readonly string[] }): boolean {
  return (observed.drift?.length ?? 0) > 0;
}

function planDataKeys(spec: TenantSpec, observed: ObservedTenant, now: Date): ReconcileAction[] {
  const versions = observed.keys.versions;
  const active = versions.find((version) => version.active);
  const nextVersion = Math.max(0, ...versions.map((version) => version.version)) + 1;
  if (!active || isKeyRotationDue(spec, active.createdAt, now)) {
    return [{ component: 'keys', type: 'create-version', version: nextVersion }];
  }
  return [];
}

function planDatabase(spec: TenantSpec, observed: ObservedTenant): ReconcileAction[] {
  const db = observed.database;
  const actions: ReconcileAction[] = [];
  if (!db.roleExists || !db.credentialsStored)
    actions.push({ component: 'database', type: 'ensure-role' });
  if (!db.databaseExists) actions.push({ component: 'database', type: 'ensure-database' });
  if (!db.publicConnectRevoked || !db.databaseExists) {
    actions.push({ component: 'database', type: 'revoke-public-connect' });
  }
  if (!spec.suspended && !db.loginAllowed && db.roleExists) {
    actions.push({ component: 'database', type: 'allow-login' });
  }
  return actions;
}

function planServices(spec: TenantSpec, observed: ObservedTenant): ReconcileAction[] {
  const services = observed.services;
  if (!spec.suspended) {
    const start = services.state === 'stopped' || hasDrift(services);
    return start ? [{ component: 'services', type: 'start' }] : [];
  }
  // Stop serving first, then close the database to the tenant's role.
  const actions: ReconcileAction[] = [];
  if (services.state !== 'stopped' || hasDrift(services)) {
    actions.push({ component: 'services', type: 'stop' });
  }
  if (observed.database.loginAllowed) actions.push({ component: 'database', type: 'deny-login' });
  return actions;
}

/** Actions that bring a live (not deleting) tenant to its spec, in dependency order. */
function planLive(spec: TenantSpec, observed: ObservedTenant, now: Date): ReconcileAction[] {
  const actions: ReconcileAction[] = [];
  if (!observed.namespace.exists || hasDrift(observed.namespace)) {
    actions.push({ component: 'namespace', type: 'ensure' });
  }
  actions.push(...planKeys(spec, observed, now));
  actions.push(...planDatabase(spec, observed));
  if (!observed.vectorStore.ready) actions.push({ component: 'vectorStore', type: 'ensure' });
  actions.push(...planServices(spec, observed));
  const gpu = observed.gpuPool;
  if (gpu.available && spec.resources.gpuPool.enabled && !gpu.ready) {
    actions.push({ component: 'gpuPool', type: 'ensure' });
  }
  return actions;
}

function hasDatabaseResources(observed: ObservedTenant): boolean {
  const db = observed.database;
  return db.roleExists || db.databaseExists || db.credentialsStored;
}

/**
 * Actions that delete the tenant: stop serving (so the export is consistent), export its
 * data, then remove everything it owns, keys last. Until an export is observed complete,
 * no removal is planned at all: a failed or interrupted export holds the deletion back.
 */
function planDeletion(observed: ObservedTenant): ReconcileAction[] {
  const actions: ReconcileAction[] = [];
  if (observed.services.state !== 'stopped') actions.push({ component: 'services', type: 'stop' });
  if (!observed.dataExport.completed) {
    actions.push({ component: 'dataExport', type: 'export' });
    return actions;
  }
  return [...actions, ...planRemovals(observed)];
}

/** Once the data is exported: everything the tenant owns, keys and boundary last. */
function planRemovals(observed: ObservedTenant): ReconcileAction[] {
  const actions: ReconcileAction[] = [];
  if (observed.gpuPool.available && observed.gpuPool.ready) {
    actions.push({ component: 'gpuPool', type: 'remove' });
  }
  // A store outside the tenant's database does not go with it.
  if (observed.vectorStore.engine === 'milvus') {
    actions.push({ component: 'vectorStore', type: 'remove' });
  }
  if (hasDatabaseResources(observed)) actions.push({ component: 'database', type: 'remove' });
  const cloudKeyLeft = (observed.keys.cloudKey?.state ?? 'absent') !== 'absent';
  if (observed.keys.versions.length > 0 || cloudKeyLeft) {
    actions.push({ component: 'keys', type: 'remove' });
  }
  if (observed.namespace.exists) actions.push({ component: 'namespace', type: 'remove' });
  return actions;
}

function livePhase(
  spec: TenantSpec,
  observed: ObservedTenant,
  conditions: ConditionDraft[],
  actions: ReconcileAction[],
): TenantPhase {
  if (spec.suspended) return actions.length === 0 ? 'Suspended' : 'Provisioning';
  const required = requiredConditionTypes(observed);
  const ready = conditions
    .filter((condition) => required.includes(condition.type))
    .every((condition) => condition.status === 'True');
  return ready && actions.length === 0 ? 'Ready' : 'Provisioning';
}

/** Plans one reconcile pass of `tenant` given what the drivers observed. */
export function planTenant(
  tenant: TenantResource,
  observed: ObservedTenant,
  now: Date,
): TenantPlan {
  const { spec } = tenant;
  const conditions = computeConditionDrafts(spec, observed, now);
  if (tenant.metadata.deletionTimestamp !== undefined) {
    const actions = planDeletion(observed);
    const deleting = [...conditions, dataExportCondition(observed)];
    return { actions, phase: 'Deleting', conditions: deleting, converged: actions.length === 0 };
  }
  const actions = planLive(spec, observed, now);
  const phase = livePhase(spec, observed, conditions, actions);
  const settled = phase === 'Ready' || phase === 'Suspended';
  return { actions, phase, conditions, converged: settled };
}
