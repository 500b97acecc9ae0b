import type { ReconcileLogger, TenantReconciler } from './tenant-reconciler.ts';
import type { TenantStore } from './tenant-store.ts';
import { createWorkQueue } from './work-queue.ts';

export interface TenantControllerOptions {
  store: TenantStore;
  reconciler: TenantReconciler;
  logger: ReconcileLogger;
  /** Tenants reconciled at once. */
  concurrency: number;
  /** Every tenant is looked at again this often, whatever happened (level-triggered). */
  resyncIntervalMs: number;
  /** First retry delay after a failure; doubles per failure up to `maxBackoffMs`. */
  baseBackoffMs?: number;
  maxBackoffMs?: number;
}

export interface TenantController {
  /** Lists every tenant and starts reconciling; returns once the first listing is queued. */
  start(): Promise<void>;
  /** Asks for a reconcile of `slug` (after a change, or a driver event). */
  enqueue(slug: string): void;
  queueDepth(): number;
  /** Resolves when no tenant is waiting or being reconciled. */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

/** Exponential back-off: base·2^(failures-1), capped. */
export function backoffDelayMs(failures: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, failures - 1));
}

/**
 * Drives the reconciler: a work queue of tenant slugs fed by changes, driver events and
 * a periodic resync, with exponential back-off for tenants whose reconcile fails.
 */
export function createTenantController(options: TenantControllerOptions): TenantController {
  const baseBackoffMs = options.baseBackoffMs ?? 500;
  const maxBackoffMs = options.maxBackoffMs ?? 5 * 60_000;
  const failures = new Map<string, number>();
  let resyncTimer: NodeJS.Timeout | undefined;

  const queue = createWorkQueue({
    concurrency: options.concurrency,
    async process(slug) {
      const previousFailures = failures.get(slug) ?? 0;
      try {
        const result = await options.reconciler.reconcile(slug, previousFailures);
        failures.delete(slug);
        if (result.requeueAfterMs !== undefined) queue.addAfter(slug, result.requeueAfterMs);
      } catch (error) {
        const count = previousFailures + 1;
        failures.set(slug, count);
        const delay = backoffDelayMs(count, baseBackoffMs, maxBackoffMs);
        options.logger.warn(
          { tenant: slug, failures: count, retryInMs: delay, err: error },
          'reconcile failed; backing off',
        );
        queue.addAfter(slug, delay);
      }
    },
  });

  async function resync(): Promise<void> {
    try {
      for (const slug of await options.store.listSlugs()) queue.add(slug);
    } catch (error) {
      options.logger.error({ err: error }, 'tenant resync failed');
    }
  }

  return {
    async start() {
      await resync();
      resyncTimer = setInterval(() => void resync(), options.resyncIntervalMs);
      resyncTimer.unref();
    },
    enqueue: (slug) => queue.add(slug),
    queueDepth: () => queue.depth(),
    idle: () => queue.drained(),
    async stop() {
      if (resyncTimer) clearInterval(resyncTimer);
      await queue.shutdown();
    },
  };
}
