/**
 * A keyed work queue in the manner of client-go's: a key is processed by one worker at
 * a time, adding a key that is already waiting does nothing, and a key added while it
 * is being processed is processed once more afterwards. Different keys run concurrently.
 */
export interface WorkQueueOptions {
  concurrency: number;
  process(key: string): Promise<void>;
}

export interface WorkQueue {
  add(key: string): void;
  addAfter(key: string, delayMs: number): void;
  /** Keys waiting or being processed. */
  depth(): number;
  /** Resolves once nothing is waiting, processing or scheduled. */
  drained(): Promise<void>;
  /** Stops taking work and waits for the workers in flight. */
  shutdown(): Promise<void>;
}

export function createWorkQueue(options: WorkQueueOptions): WorkQueue {
  const waiting: string[] = [];
  const dirty = new Set<string>();
  const processing = new Set<string>();
  const timers = new Map<string, NodeJS.Timeout>();
  const inFlight = new Set<Promise<void>>();
  let drainWaiters: Array<() => void> = [];
  let stopped = false;

  function idle(): boolean {
    return waiting.length === 0 && processing.size === 0 && timers.size === 0;
  }

  function notifyIfDrained(): void {
    if (!idle()) return;
    const waiters = drainWaiters;
    drainWaiters = [];
    for (const resolve of waiters) resolve();
  }

  function pump(): void {
    while (!stopped && processing.size < options.concurrency) {
      const index = waiting.findIndex((key) => !processing.has(key));
      if (index < 0) return;
      const [key] = waiting.splice(index, 1);
      if (key === undefined) return;
      dirty.delete(key);
      processing.add(key);
      const run = options
        .process(key)
        .catch(() => undefined)
        .finally(() => {
          processing.delete(key);
          inFlight.delete(run);
          pump();
          notifyIfDrained();
        });
      inFlight.add(run);
    }
  }

  function add(key: string): void {
    if (stopped || dirty.has(key)) return;
    dirty.add(key);
    waiting.push(key);
    pump();
  }

  function addAfter(key: string, delayMs: number): void {
    if (stopped) return;
    const existing = timers.get(key);
    if (existing) clearTimeout(existing);
    const timer = setTimeout(() => {
      timers.delete(key);
      add(key);
      notifyIfDrained();
    }, delayMs);
    timer.unref();
    timers.set(key, timer);
  }

  return {
    add,
    addAfter,
    depth: () => waiting.length + processing.size,
    drained: () =>
      idle() ? Promise.resolve() : new Promise<void>((resolve) => drainWaiters.push(resolve)),
    async shutdown() {
      stopped = true;
      for (const timer of timers.values()) clearTimeout(timer);
      timers.clear();
      waiting.length = 0;
      await Promise.all([...inFlight]);
      notifyIfDrained();
    },
  };
}
