import { describe, expect, it } from 'vitest';
import { createWorkQueue } from '../src/core/work-queue.ts';
import { backoffDelayMs } from '../src/core/tenant-controller.ts';

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

describe('createWorkQueue', () => {
  it('never processes one key twice at once, and re-processes a key added meanwhile', async () => {
    const gate = deferred();
    const seen: string[] = [];
    let concurrentForA = 0;
    let maxConcurrentForA = 0;
    const queue = createWorkQueue({
      concurrency: 4,
      async process(key) {
        seen.push(key);
        if (key === 'a') {
          concurrentForA += 1;
          maxConcurrentForA = Math.max(maxConcurrentForA, concurrentForA);
          if (seen.length === 1) await gate.promise;
          concurrentForA -= 1;
        }
      },
    });
    queue.add('a');
    queue.add('a'); // processing: queued for once more
    queue.add('a'); // already waiting: deduplicated
    queue.add('b');
    gate.resolve();
    await queue.drained();
    expect(maxConcurrentForA).toBe(1);
    expect(seen.filter((key) => key === 'a')).toHaveLength(2);
    expect(seen).toContain('b');
  });

  it('runs different keys concurrently up to the limit', async () => {
    let running = 0;
    let peak = 0;
    const queue = createWorkQueue({
      concurrency: 3,
      async process() {
        running += 1;
        peak = Math.max(peak, running);
        await new Promise((resolve) => setTimeout(resolve, 10));
        running -= 1;
      },
    });
    for (let index = 0; index < 10; index += 1) queue.add(`key-${index}`);
    await queue.drained();
    expect(peak).toBe(3);
  });

  it('delays keys added with addAfter', async () => {
    const seen: number[] = [];
    const started = Date.now();
    const queue = createWorkQueue({
      concurrency: 1,
      process: () => {
        seen.push(Date.now() - started);
        return Promise.resolve();
      },
    });
    queue.addAfter('later', 50);
    await queue.drained();
    expect(seen[0]).toBeGreaterThanOrEqual(45);
  });
});

describe('backoffDelayMs', () => {
  it('doubles per failure and caps', () => {
    expect([1, 2, 3, 4].map((failures) => backoffDelayMs(failures, 500, 3_000))).toEqual([
      500, 1_000, 2_000, 3_000,
    ]);
  });
});
