import net from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';

export interface WaitForPortOptions {
  host?: string;
  /** Delay between connection attempts (default 50 ms). */
  intervalMs?: number;
  /** Abort waiting early, e.g. when the server process has already exited. */
  signal?: AbortSignal;
}

function tryConnect(port: number, host: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    const done = (ok: boolean): void => {
      socket.removeAllListeners();
      socket.on('error', () => {});
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new Error(String(reason ?? 'aborted'));
}

/**
 * Resolves once a TCP connection to host:port (default 127.0.0.1) succeeds. There is no event
 * for "another process started listening", so this polls with short connection attempts.
 * Rejects after `timeoutMs`, or at once when `opts.signal` aborts.
 */
export async function waitForPort(port: number, timeoutMs: number, opts: WaitForPortOptions = {}): Promise<void> {
  const host = opts.host ?? '127.0.0.1';
  const intervalMs = opts.intervalMs ?? 50;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (opts.signal?.aborted) throw abortReason(opts.signal);
    const remaining = deadline - Date.now();
    if (remaining <= 0) throw new Error(`waitForPort: nothing accepted connections on ${host}:${port} within ${timeoutMs} ms`);
    if (await tryConnect(port, host, Math.min(1000, remaining))) return;
    if (opts.signal?.aborted) throw abortReason(opts.signal);
    await delay(Math.min(intervalMs, Math.max(0, deadline - Date.now())), undefined, opts.signal ? { signal: opts.signal } : {}).catch(
      () => {
        // aborted: reported on the next loop turn
      },
    );
  }
}

export interface WaitUntilOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** Included in the timeout error, e.g. "message 3 appears in INBOX". */
  description?: string;
}

/**
 * Polls `fn` until it returns a truthy value (resolved with that value) or the timeout passes.
 * Exceptions thrown by `fn` count as "not yet"; the last one is included in the timeout error.
 * Only for conditions that have no event to wait on - prefer events wherever one exists.
 */
export async function waitUntil<T>(
  fn: () => T | Promise<T>,
  opts: WaitUntilOptions = {},
): Promise<Exclude<T, false | 0 | '' | null | undefined>> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  const intervalMs = opts.intervalMs ?? 50;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await fn();
      if (value) return value as Exclude<T, false | 0 | '' | null | undefined>;
      lastError = undefined;
    } catch (err) {
      lastError = err;
    }
    const remaining = deadline - Date.now();
    if (remaining <= 0) {
      const what = opts.description ? ` for ${opts.description}` : '';
      const last = lastError === undefined ? '' : `; last error: ${lastError instanceof Error ? lastError.message : String(lastError)}`;
      throw new Error(`waitUntil: timed out after ${timeoutMs} ms${what}${last}`);
    }
    await delay(Math.min(intervalMs, remaining));
  }
}
