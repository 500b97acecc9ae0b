/**
 * A delay that `wake()` ends early: loops that wait between attempts (leader election,
 * list+watch back-off) stop at once when they are stopped, instead of after their delay.
 */
export function createInterruptibleSleep() {
  let wakeCurrent: (() => void) | undefined;
  return {
    sleep: (ms: number): Promise<void> =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms);
        wakeCurrent = () => {
          clearTimeout(timer);
          resolve();
        };
      }),
    /** Ends the sleep in progress, if any. */
    wake: (): void => wakeCurrent?.(),
  };
}
