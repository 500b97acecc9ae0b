import {
  TENANT_FINALIZER,
  type TenantCondition,
  type TenantEndpoints,
  type TenantPhase,
  type TenantResource,
  type TenantStatus,
} from '@citadel/contracts';
import type { ObservedTenant } from './observed-state.ts';
import { describeAction, type ReconcileAction } from './reconcile-action.ts';
import type { TenantDrivers, TenantRef } from './tenant-drivers.ts';
import { planTenant, type TenantPlan } from './tenant-planner.ts';
import type { TenantStore } from './tenant-store.ts';
import { stampConditions, type ConditionDraft } from './tenant-conditions.ts';

export interface ReconcileLogger {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

export interface TenantReconcilerDeps {
  store: TenantStore;
  drivers: TenantDrivers;
  /** Public endpoints of a tenant (gateway URLs), derived from where the platform is served. */
  endpointsFor(tenant: TenantResource, observed: ObservedTenant): TenantEndpoints;
  logger: ReconcileLogger;
  now?: () => Date;
  /**
   * The finalizer this reconciler holds and removes once a deleted tenant owns nothing:
   * {@link TENANT_FINALIZER} by default (the control plane's store); the Kubernetes
   * operator holds its own.
   */
  finalizer?: string;
}

/** What the work queue should do with the tenant after a pass. */
export interface ReconcileResult {
  /** Reconcile again after this delay (the tenant is still converging). */
  requeueAfterMs: number | undefined;
}

/** How often to look again at a tenant that waits on something outside our control. */
const CONVERGING_REQUEUE_MS = 200;
/** A pass applies at most this many plans before yielding to other tenants. */
const MAX_PLANS_PER_PASS = 8;

/** An error from a driver step, carrying the component that failed. */
export class ReconcileStepError extends Error {
  readonly action: ReconcileAction;
  constructor(action: ReconcileAction, cause: unknown) {
    super(
      `${describeAction(action)} failed: ${cause instanceof Error ? cause.message : String(cause)}`,
      {
        cause,
      },
    );
    this.name = 'ReconcileStepError';
    this.action = action;
  }
}

async function observeTenant(drivers: TenantDrivers, ref: TenantRef): Promise<ObservedTenant> {
  const [namespace, keys, database, vectorStore, services, gpuPool, dataExport] = await Promise.all(
    [
      drivers.namespace.observe(ref),
      drivers.keys.observe(ref),
      drivers.database.observe(ref),
      drivers.vectorStore.observe(ref),
      drivers.services.observe(ref),
      drivers.gpuPool.observe(ref),
      drivers.dataExport.observe(ref),
    ],
  );
  return { namespace, keys, database, vectorStore, services, gpuPool, dataExport };
}

async function applyAction(
  drivers: TenantDrivers,
  ref: TenantRef,
  action: ReconcileAction,
): Promise<void> {
  switch (action.component) {
    case 'namespace':
      return drivers.namespace.apply(ref, action);
    case 'keys':
      return drivers.keys.apply(ref, action);
    case 'database':
      return drivers.database.apply(ref, action);
    case 'vectorStore':
      return drivers.vectorStore.apply(ref, action);
    case 'services':
      return drivers.services.apply(ref, action);
    case 'gpuPool':
      return drivers.gpuPool.apply(ref, action);
    case 'dataExport':
      return drivers.dataExport.apply(ref, action);
  }
}

/** Re-observes only the component an action touched, so status follows every step. */
async function observeComponent(
  drivers: TenantDrivers,
  ref: TenantRef,
  observed: ObservedTenant,
  component: ReconcileAction['component'],
): Promise<ObservedTenant> {
  switch (component) {
    case 'namespace':
      return { ...observed, namespace: await drivers.namespace.observe(ref) };
    case 'keys':
      return { ...observed, keys: await drivers.keys.observe(ref) };
    case 'database':
      return { ...observed, database: await drivers.database.observe(ref) };
    case 'vectorStore':
      return { ...observed, vectorStore: await drivers.vectorStore.observe(ref) };
    case 'services':
      return { ...observed, services: await drivers.services.observe(ref) };
    case 'gpuPool':
      return { ...observed, gpuPool: await drivers.gpuPool.observe(ref) };
    case 'dataExport':
      return { ...observed, dataExport: await drivers.dataExport.observe(ref) };
  }
}

/** A status whose conditions are not yet stamped with transition times. */
interface StatusDraft {
  phase: TenantPhase;
  observedGeneration: number;
  conditions: ConditionDraft[];
  endpoints: TenantEndpoints;
}

const COMPONENT_CONDITION = {
  namespace: 'NamespaceReady',
  keys: 'KeysReady',
  database: 'DatabaseReady',
  vectorStore: 'VectorStoreReady',
  services: 'ServicesReady',
  gpuPool: 'GpuPoolReady',
  dataExport: 'DataExported',
} as const;

/**
 * Applies plans to one tenant: observe, plan, apply each step, write status after each
 * step, until the tenant converges or a step fails. Level-triggered: it reads the whole
 * state every pass and never relies on what happened before.
 */
export function createTenantReconciler(deps: TenantReconcilerDeps) {
  const now = deps.now ?? (() => new Date());

  function buildStatus(tenant: TenantResource, draft: StatusDraft): TenantStatus {
    const { phase, observedGeneration, endpoints } = draft;
    const conditions: TenantCondition[] = stampConditions(
      draft.conditions,
      tenant.status.conditions,
      tenant.metadata.generation,
      now(),
    );
    // Key order matters: writeStatus compares statuses by their JSON.
    return { phase, observedGeneration, conditions, endpoints };
  }

  async function writeStatus(tenant: TenantResource, status: TenantStatus): Promise<void> {
    // Level-triggered resyncs re-derive the same status; don't rewrite an unchanged row.
    if (JSON.stringify(status) === JSON.stringify(tenant.status)) return;
    await deps.store.writeStatus(tenant.metadata.name, tenant.metadata.uid, status);
    tenant.status = status;
  }

  async function writePlanStatus(
    tenant: TenantResource,
    plan: TenantPlan,
    observed: ObservedTenant,
  ): Promise<void> {
    const endpoints = plan.phase === 'Ready' ? deps.endpointsFor(tenant, observed) : {};
    const observedGeneration = plan.converged
      ? tenant.metadata.generation
      : tenant.status.observedGeneration;
    await writeStatus(
      tenant,
      buildStatus(tenant, {
        phase: plan.phase,
        observedGeneration,
        conditions: plan.conditions,
        endpoints,
      }),
    );
  }

  async function recordFailure(
    tenant: TenantResource,
    plan: TenantPlan,
    error: ReconcileStepError,
    failed: boolean,
  ): Promise<void> {
    const type = COMPONENT_CONDITION[error.action.component];
    const drafts = plan.conditions.map((draft) =>
      draft.type === type
        ? { ...draft, status: 'False' as const, reason: 'ReconcileError', message: error.message }
        : draft,
    );
    const phase: TenantPhase = failed && plan.phase !== 'Deleting' ? 'Failed' : plan.phase;
    await writeStatus(
      tenant,
      buildStatus(tenant, {
        phase,
        observedGeneration: tenant.status.observedGeneration,
        conditions: drafts,
        endpoints: {},
      }),
    );
  }

  async function applyPlan(
    tenant: TenantResource,
    ref: TenantRef,
    plan: TenantPlan,
    initial: ObservedTenant,
  ): Promise<ObservedTenant> {
    let observed = initial;
    for (const action of plan.actions) {
      try {
        await applyAction(deps.drivers, ref, action);
        observed = await observeComponent(deps.drivers, ref, observed, action.component);
      } catch (cause) {
        throw new ReconcileStepError(action, cause);
      }
      deps.logger.info(
        { tenant: ref.slug, action: describeAction(action) },
        'reconcile step applied',
      );
      const progress = planTenant(tenant, observed, now());
      await writePlanStatus(tenant, { ...progress, converged: false }, observed);
    }
    return observed;
  }

  /**
   * Reconciles the tenant `slug`. `consecutiveFailures` lets the caller's back-off
   * decide when a tenant that keeps failing is reported as Failed.
   */
  async function reconcile(slug: string, consecutiveFailures = 0): Promise<ReconcileResult> {
    const tenant = await deps.store.get(slug);
    if (!tenant) return { requeueAfterMs: undefined };
    const ref: TenantRef = { uid: tenant.metadata.uid, slug, spec: tenant.spec };
    let observed = await observeTenant(deps.drivers, ref);
    for (let pass = 0; pass < MAX_PLANS_PER_PASS; pass += 1) {
      const plan = planTenant(tenant, observed, now());
      if (plan.actions.length === 0) {
        return finish(tenant, plan, observed);
      }
      if (pass === 0 && tenant.status.phase === 'Pending') {
        await writePlanStatus(
          tenant,
          { ...plan, phase: 'Provisioning', converged: false },
          observed,
        );
      }
      try {
        observed = await applyPlan(tenant, ref, plan, observed);
      } catch (error) {
        if (!(error instanceof ReconcileStepError)) throw error;
        await recordFailure(tenant, plan, error, consecutiveFailures + 1 >= FAILED_AFTER_ATTEMPTS);
        throw error;
      }
      observed = await observeTenant(deps.drivers, ref);
    }
    return { requeueAfterMs: CONVERGING_REQUEUE_MS };
  }

  async function finish(
    tenant: TenantResource,
    plan: TenantPlan,
    observed: ObservedTenant,
  ): Promise<ReconcileResult> {
    if (plan.phase === 'Deleting') {
      await writePlanStatus(tenant, plan, observed);
      const finalizer = deps.finalizer ?? TENANT_FINALIZER;
      await deps.store.removeFinalizer(tenant.metadata.name, tenant.metadata.uid, finalizer);
      deps.logger.info({ tenant: tenant.metadata.name }, 'tenant deleted; no resources left');
      return { requeueAfterMs: undefined };
    }
    await writePlanStatus(tenant, plan, observed);
    return { requeueAfterMs: plan.converged ? undefined : CONVERGING_REQUEUE_MS };
  }

  return { reconcile };
}

/** After this many failed passes in a row a tenant's phase reads Failed (it is still retried). */
export const FAILED_AFTER_ATTEMPTS = 6;

export type TenantReconciler = ReturnType<typeof createTenantReconciler>;
