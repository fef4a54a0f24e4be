/**
 * A sleep that another part of the loop can cut short: service loops wait on it between rounds,
 * and stop() or new work wakes them at once instead of after the timer.
 */
export interface Sleeper {
  sleep(ms: number): Promise<void>;
  /** Ends the current sleep, if any. */
  wake(): void;
}

export function createSleeper(): Sleeper {
  let wakeCurrent: (() => void) | null = null;
  return {
    sleep(ms) {
      return new Promise<void>((resolve) => {
        const timer = setTimeout(done, ms);
        function done() {
          clearTimeout(timer);
          if (wakeCurrent === done) wakeCurrent = null;
          resolve();
        }
        wakeCurrent = done;
      });
    },
    wake() {
      wakeCurrent?.();
    },
  };
}
