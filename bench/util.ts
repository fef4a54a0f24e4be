/** Small helpers shared by the benchmark phases: bounded waits, percentiles, progress lines. */
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';

export { delay };
export const now = (): number => performance.now();

/** A step that did not finish in time: the message says what the run was waiting for. */
export class BenchTimeout extends Error {
  override name = 'BenchTimeout';
}

/** Rejects with "timed out after … waiting for <what>" when `promise` has not settled within `ms`. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new BenchTimeout(`timed out after ${(ms / 1000).toFixed(1)} s waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Nearest-rank percentile of unsorted samples (p in 0..100). */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export function median(samples: readonly number[]): number {
  return percentile(samples, 50);
}

export const round = (n: number, digits = 1): number => (Number.isFinite(n) ? Math.round(n * 10 ** digits) / 10 ** digits : n);

const startedAt = now();
/** A progress line on stderr, prefixed with the seconds since the run started. */
export function log(msg: string): void {
  process.stderr.write(`[bench ${((now() - startedAt) / 1000).toFixed(1).padStart(6)} s] ${msg}\n`);
}

/** Runs `fn` over `items` with at most `concurrency` calls in flight; results in input order. */
export async function pool<T, R>(items: readonly T[], concurrency: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!, i);
      }
    }),
  );
  return out;
}
