import type { TenantEndpoints, TenantResource } from '@citadel/contracts';
import { createTenantController, type TenantController } from '../core/tenant-controller.ts';
import type { TenantDrivers } from '../core/tenant-drivers.ts';
import {
  createTenantReconciler,
  type ReconcileLogger,
  type TenantReconciler,
} from '../core/tenant-reconciler.ts';
import { createChildObjectWatcher, type ChildObjectWatcher } from './child-object-watcher.ts';
import type { KubernetesClients } from './kubernetes-clients.ts';
import {
  createKubernetesTenantStore,
  OPERATOR_FINALIZER,
  type KubernetesTenantStore,
} from './kubernetes-tenant-store.ts';
import {
  createLeaderElector,
  type LeaderElectionTimings,
  type LeaderElector,
} from './lease-leader-elector.ts';
import {
  createOperatorMetrics,
  measuredReconciler,
  type OperatorMetrics,
} from './operator-metrics.ts';
import type { Readiness } from './operator-http-server.ts';
import type { TenantObjectCache } from './tenant-object-cache.ts';

export interface KubernetesTenantOperatorOptions {
  clients: KubernetesClients;
  drivers: TenantDrivers;
  logger: ReconcileLogger;
  leaderElection: {
    /** Where the Lease lives: the operator's own namespace. */
    namespace: string;
    /** The Lease's name, the same for every replica. */
    leaseName: string;
    identity: string;
    timings?: Partial<LeaderElectionTimings>;
  };
  /** Tenants reconciled at once. */
  concurrency: number;
  /** Every tenant is reconciled again this often, whatever happened. */
  resyncIntervalMs: number;
  /** The platform's public URL, for each tenant's `status.endpoints`. */
  publicUrl: string;
  /**
   * The cache the drivers read the tenants' objects from (the same one they record their
   * writes in): filled by the child watches while this replica leads, emptied when it stops.
   */
  cache?: TenantObjectCache;
  /** First retry delay after a failed pass (doubles up to `maxBackoffMs`). */
  baseBackoffMs?: number;
  maxBackoffMs?: number;
}

export interface KubernetesTenantOperator {
  metrics: OperatorMetrics;
  /** Campaigns for the Lease; reconciles while it holds it. Returns at once. */
  start(): void;
  /** Stops reconciling and campaigning; with `release`, frees the Lease for another replica. */
  stop(options?: { release?: boolean }): Promise<void>;
  isLeader(): boolean;
  readiness(): Readiness;
  /** Resolves when the leader's queue is empty (tests). */
  idle(): Promise<void>;
}

/** The gateway's URLs of the tenant and of each service it runs, keys sorted. */
export function kubernetesTenantEndpoints(publicUrl: string) {
  return (tenant: TenantResource): TenantEndpoints => {
    const gateway = `${publicUrl.replace(/\/$/, '')}/t/${tenant.metadata.name}`;
    const entries: Array<[string, string]> = [
      ['gateway', gateway],
      ...tenant.spec.services.map((service): [string, string] => [
        service,
        `${gateway}/${service}/v1`,
      ]),
    ];
    return Object.fromEntries(entries.sort(([a], [b]) => a.localeCompare(b)));
  };
}

/**
 * The reconciler, run only on tenants that carry the operator's finalizer (added here first),
 * with the status the store held back written at the end of each pass.
 */
function finalizingReconciler(
  store: KubernetesTenantStore,
  reconciler: TenantReconciler,
): TenantReconciler {
  return {
    async reconcile(slug, consecutiveFailures) {
      if (!(await store.ensureFinalizer(slug))) return { requeueAfterMs: undefined };
      try {
        return await reconciler.reconcile(slug, consecutiveFailures);
      } finally {
        // The pass's last status goes out before the pass ends, whatever the outcome.
        await store.flushStatus(slug);
      }
    },
  };
}

/** What runs while this replica leads: the Tenant store and watches, and the controller. */
interface Leadership {
  store: KubernetesTenantStore;
  children: ChildObjectWatcher;
  controller: TenantController;
  started: Promise<void>;
}

/**
 * The Kubernetes operator: the core's reconciler and work queue over Tenant custom
 * resources, fed by a watch on Tenants, a watch on every child object (by label) and the
 * periodic resync, run only by the replica holding the leader Lease. Losing the Lease stops
 * the controller (in-flight passes finish; nothing new starts) before another replica can
 * take over.
 */
export function createKubernetesTenantOperator(
  options: KubernetesTenantOperatorOptions,
): KubernetesTenantOperator {
  const { clients, logger } = options;
  let leadership: Leadership | undefined;
  const metrics = createOperatorMetrics({
    queueDepth: () => leadership?.controller.queueDepth() ?? 0,
    cachedObjects: () => options.cache?.size() ?? 0,
  });
  const onWatchError = (watch: string) => () => metrics.watchErrors.inc({ watch });

  function lead(): Leadership {
    const store = createKubernetesTenantStore({
      rest: clients.rest,
      watch: clients.watch,
      logger,
      onWatchError: onWatchError('tenants'),
    });
    const reconciler = createTenantReconciler({
      store,
      drivers: options.drivers,
      endpointsFor: kubernetesTenantEndpoints(options.publicUrl),
      logger,
      finalizer: OPERATOR_FINALIZER,
    });
    const controller = createTenantController({
      store,
      reconciler: measuredReconciler(finalizingReconciler(store, reconciler), metrics),
      logger,
      concurrency: options.concurrency,
      resyncIntervalMs: options.resyncIntervalMs,
      ...(options.baseBackoffMs === undefined ? {} : { baseBackoffMs: options.baseBackoffMs }),
      ...(options.maxBackoffMs === undefined ? {} : { maxBackoffMs: options.maxBackoffMs }),
    });
    store.onChange((slug) => controller.enqueue(slug));
    const children = createChildObjectWatcher({
      rest: clients.rest,
      watch: clients.watch,
      logger,
      onTenantObjectChange: (slug) => controller.enqueue(slug),
      onWatchError: onWatchError('children'),
      ...(options.cache ? { cache: options.cache } : {}),
    });
    const started = Promise.all([store.start(), children.start()])
      .then(() => controller.start())
      .catch((error: unknown) => logger.error({ err: error }, 'operator failed to start leading'));
    return { store, children, controller, started };
  }

  async function abdicate(): Promise<void> {
    const current = leadership;
    leadership = undefined;
    metrics.leader.set(0);
    if (!current) return;
    current.store.stop();
    current.children.stop();
    await current.controller.stop();
  }

  const elector: LeaderElector = createLeaderElector({
    rest: clients.rest,
    namespace: options.leaderElection.namespace,
    name: options.leaderElection.leaseName,
    identity: options.leaderElection.identity,
    ...(options.leaderElection.timings ? { timings: options.leaderElection.timings } : {}),
    logger,
    onStartedLeading() {
      metrics.leader.set(1);
      // Not awaited: renewing the Lease must not wait on the first lists.
      leadership = lead();
    },
    onStoppedLeading: abdicate,
  });

  return {
    metrics,
    start() {
      void elector.run();
    },
    stop: (stopOptions) => elector.stop(stopOptions),
    isLeader: () => elector.isLeader(),
    readiness() {
      if (!elector.apiReachable())
        return { ready: false, reason: 'the API server is not reachable' };
      if (!elector.isLeader()) {
        return {
          ready: true,
          reason: `standing by; leader is ${elector.observedLeader() ?? 'unknown'}`,
        };
      }
      const synced = leadership?.store.hasSynced() ?? false;
      return synced
        ? { ready: true, reason: 'leading; tenants listed and watched' }
        : { ready: false, reason: 'leading; listing tenants' };
    },
    async idle() {
      await leadership?.started;
      await leadership?.controller.idle();
    },
  };
}
