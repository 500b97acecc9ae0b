import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ReconcileResult, TenantReconciler } from '../core/tenant-reconciler.ts';
import { ReconcileStepError } from '../core/tenant-reconciler.ts';

/** The operator's Prometheus metrics, in a registry of its own (no global state). */
export interface OperatorMetrics {
  registry: Registry;
  reconciles: Counter<'result'>;
  reconcileErrors: Counter<'component'>;
  reconcileDuration: Histogram;
  leader: Gauge;
  watchErrors: Counter<'watch'>;
}

export interface OperatorMetricsOptions {
  /** Tenants waiting or being reconciled, read when scraped. */
  queueDepth: () => number;
  /** Objects held by the operator's cache, read when scraped. */
  cachedObjects?: () => number;
}

/**
 * `citadel_operator_reconciles_total{result}` (`success`: converged, `requeue`: still
 * converging, `error`), `citadel_operator_reconcile_errors_total{component}` (the component
 * whose step failed), `citadel_operator_reconcile_duration_seconds`,
 * `citadel_operator_queue_depth`, `citadel_operator_leader` (1 on the replica that leads),
 * `citadel_operator_watch_errors_total{watch}`, `citadel_operator_cached_objects`, and
 * Node's process metrics.
 */
export function createOperatorMetrics(options: OperatorMetricsOptions): OperatorMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'citadel_operator_' });
  new Gauge({
    name: 'citadel_operator_queue_depth',
    help: 'Tenants waiting in the work queue or being reconciled.',
    registers: [registry],
    collect() {
      this.set(options.queueDepth());
    },
  });
  new Gauge({
    name: 'citadel_operator_cached_objects',
    help: "Tenants' objects held in the operator's cache (from its watches and writes).",
    registers: [registry],
    collect() {
      this.set(options.cachedObjects?.() ?? 0);
    },
  });
  return {
    registry,
    reconciles: new Counter({
      name: 'citadel_operator_reconciles_total',
      help: 'Reconcile passes, by result: success (converged), requeue (still converging), error.',
      labelNames: ['result'],
      registers: [registry],
    }),
    reconcileErrors: new Counter({
      name: 'citadel_operator_reconcile_errors_total',
      help: 'Failed reconcile passes, by the component whose step failed.',
      labelNames: ['component'],
      registers: [registry],
    }),
    reconcileDuration: new Histogram({
      name: 'citadel_operator_reconcile_duration_seconds',
      help: 'Duration of one reconcile pass of one tenant.',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers: [registry],
    }),
    leader: new Gauge({
      name: 'citadel_operator_leader',
      help: '1 while this replica holds the leader Lease and reconciles, else 0.',
      registers: [registry],
    }),
    watchErrors: new Counter({
      name: 'citadel_operator_watch_errors_total',
      help: 'Lists or watches that failed and were re-established after back-off, by watch.',
      labelNames: ['watch'],
      registers: [registry],
    }),
  };
}

/** The reconciler, measured: every pass counted by result and timed. */
export function measuredReconciler(
  reconciler: TenantReconciler,
  metrics: OperatorMetrics,
): TenantReconciler {
  return {
    async reconcile(slug, consecutiveFailures) {
      const endTimer = metrics.reconcileDuration.startTimer();
      try {
        const result: ReconcileResult = await reconciler.reconcile(slug, consecutiveFailures);
        metrics.reconciles.inc({
          result: result.requeueAfterMs === undefined ? 'success' : 'requeue',
        });
        return result;
      } catch (error) {
        metrics.reconciles.inc({ result: 'error' });
        const component = error instanceof ReconcileStepError ? error.action.component : 'other';
        metrics.reconcileErrors.inc({ component });
        throw error;
      } finally {
        endTimer();
      }
    },
  };
}
