import type { Watch } from '@kubernetes/client-node';
import type { DriverLogger } from '../drivers/local/driver-logger.ts';
import { backoffDelayMs } from '../core/tenant-controller.ts';
import { describeKubernetesError, kubernetesStatusCode } from './kubernetes-clients.ts';
import { createInterruptibleSleep } from './interruptible-sleep.ts';

/** An object as a watch delivers it: only its metadata is read here. */
export interface WatchedObject {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string };
}

export interface WatchEvent<T extends WatchedObject> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: T;
}

/** A list and the resourceVersion to watch from. */
export interface ListResult<T extends WatchedObject> {
  items: T[];
  resourceVersion: string;
}

export interface ListWatcherOptions<T extends WatchedObject> {
  /** For logs and metrics, e.g. `tenants`. */
  name: string;
  watch: Watch;
  /** The collection's path, e.g. `/apis/apps/v1/deployments`. */
  path: string;
  labelSelector?: string;
  list(): Promise<ListResult<T>>;
  /** After every (re)list: the complete current state. */
  onList?(items: T[]): void;
  onEvent(event: WatchEvent<T>): void;
  /** Each time the watch has to be re-established after an error (for metrics). */
  onWatchError?(reason: string): void;
  logger: DriverLogger;
  /** Reconnection back-off after errors: 500 ms doubling to 30 s by default. */
  backoff?: { initialMs: number; maxMs: number };
  /** How long the server keeps one watch open before it is re-established (default 5–10 min). */
  timeoutSeconds?: () => number;
}

export interface ListWatcher {
  /** Starts listing and watching; resolves once the first list has been delivered. */
  start(): Promise<void>;
  stop(): void;
  hasSynced(): boolean;
}

type WatchOutcome =
  { kind: 'closed'; resourceVersion: string; events: number } | { kind: 'expired' };

/** A watch ERROR event carrying a Status; 410 Gone means the resourceVersion is too old. */
class WatchStatusError extends Error {
  readonly statusCode: number | undefined;
  constructor(status: { code?: number; message?: string }) {
    super(`watch error ${status.code ?? ''}: ${status.message ?? 'unknown'}`);
    this.statusCode = status.code;
  }
}

const GONE = 410;
const MIN_WATCH_MS = 1_000;

/**
 * List, then watch from the list's resourceVersion, as client-go's reflector does: every
 * event advances the resourceVersion (bookmarks too), a watch the server closes is resumed
 * from where it stopped, `410 Gone` (the version was compacted away) relists, and other
 * errors reconnect with exponential back-off. Level-triggered consumers lose nothing: a
 * relist delivers the whole current state again.
 */
export function createListWatcher<T extends WatchedObject>(
  options: ListWatcherOptions<T>,
): ListWatcher {
  const backoff = options.backoff ?? { initialMs: 500, maxMs: 30_000 };
  const timeoutSeconds = options.timeoutSeconds ?? (() => 300 + Math.floor(Math.random() * 300));
  let stopped = false;
  /** Read through a function: `stopped` changes while the loop awaits. */
  const isStopped = () => stopped;
  let synced = false;
  let abort: AbortController | undefined;
  let firstList: { resolve: () => void; reject: (error: unknown) => void } | undefined;

  const { sleep, wake } = createInterruptibleSleep();

  function watchOnce(resourceVersion: string): Promise<WatchOutcome> {
    return new Promise((resolve, reject) => {
      let current = resourceVersion;
      let events = 0;
      let failure: Error | undefined;
      const onLine = (type: string, object: T & { code?: number; message?: string }) => {
        if (type === 'ERROR') {
          failure = new WatchStatusError(object);
          abort?.abort();
          return;
        }
        current = object.metadata?.resourceVersion ?? current;
        if (type === 'BOOKMARK') return;
        events += 1;
        options.onEvent({ type: type as WatchEvent<T>['type'], object });
      };
      const onDone = (error: unknown) => {
        if (failure instanceof WatchStatusError && failure.statusCode === GONE) {
          resolve({ kind: 'expired' });
        } else if (failure ?? (error && !stopped)) {
          reject(failure ?? (error instanceof Error ? error : new Error(String(error))));
        } else {
          resolve({ kind: 'closed', resourceVersion: current, events });
        }
      };
      const query = {
        resourceVersion,
        allowWatchBookmarks: true,
        timeoutSeconds: timeoutSeconds(),
        labelSelector: options.labelSelector,
      };
      options.watch.watch(options.path, query, onLine, onDone).then((controller) => {
        abort = controller;
        if (stopped) controller.abort();
      }, reject);
    });
  }

  async function relist(): Promise<string> {
    const { items, resourceVersion } = await options.list();
    options.onList?.(items);
    synced = true;
    firstList?.resolve();
    firstList = undefined;
    return resourceVersion;
  }

  async function run(): Promise<void> {
    let resourceVersion: string | undefined;
    let failures = 0;
    while (!stopped) {
      try {
        resourceVersion ??= await relist();
        const startedAt = Date.now();
        const outcome = await watchOnce(resourceVersion);
        // A server that closes watches at once must not be hammered.
        if (Date.now() - startedAt < MIN_WATCH_MS) await sleep(MIN_WATCH_MS);
        if (outcome.kind === 'expired') {
          options.logger.info({ watch: options.name }, 'watch expired (410 Gone); relisting');
          resourceVersion = undefined;
          continue;
        }
        resourceVersion = outcome.resourceVersion;
        failures = 0;
      } catch (error) {
        if (isStopped()) return;
        if (kubernetesStatusCode(error) === GONE) resourceVersion = undefined;
        failures += 1;
        const delay = backoffDelayMs(failures, backoff.initialMs, backoff.maxMs);
        const reason = describeKubernetesError(error);
        options.onWatchError?.(reason);
        options.logger.warn(
          { watch: options.name, failures, retryInMs: delay, error: reason },
          'list or watch failed; reconnecting after back-off',
        );
        await sleep(delay);
      }
    }
  }

  return {
    start() {
      stopped = false;
      const started = new Promise<void>((resolve, reject) => {
        firstList = { resolve, reject };
      });
      void run();
      return started;
    },
    stop() {
      stopped = true;
      abort?.abort();
      wake();
      firstList?.reject(new Error(`watch ${options.name} stopped before its first list`));
      firstList = undefined;
    },
    hasSynced: () => synced,
  };
}
