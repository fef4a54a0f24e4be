import v8 from 'node:v8';

/** How much V8 lets the heap grow between major collections, as a percentage (1.6×). */
export const HEAP_GROWING_PERCENT = 60;

/**
 * A daemon that drains a backlog allocates fast and keeps little: the live heap stays at
 * 50–70 MB, but V8's own growth factor (up to 4× under allocation pressure) let the heap reach
 * 150 MB between major collections and the process 265 MB. At 1.6× the benchmark's backlog
 * peaked at 193 MB with no loss of throughput (BENCHMARKS.md). Someone who starts node with
 * their own `--heap-growing-percent` keeps theirs. Set at run time: V8 reads it at every
 * collection, so it works however the daemon is launched (npm start, the bin, a container).
 */
export function tuneHeapGrowth(execArgv: readonly string[] = process.execArgv): boolean {
  if (execArgv.some((a) => /^--heap[-_]growing[-_]percent\b/.test(a))) return false;
  v8.setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  return true;
}
