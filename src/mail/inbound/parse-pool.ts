import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';
import type { Logger } from 'pino';
import { MailgrantError } from '../../shared/errors.js';
import type { ParseAnswer, ParseJob } from './parse-worker.js';
import { readMessage, type ReadMessage } from './read-message.js';

/** Reads raw messages (parse-worker.ts / read-message.ts): in worker threads or on the main thread. */
export interface MessageReader {
  /**
   * Rejects with a `parse_failed` MailgrantError when the message cannot be read, and with
   * another error when it was not tried (the reader is closed).
   */
  read(raw: Buffer): Promise<ReadMessage>;
  close(): Promise<void>;
}

export const DEFAULT_PARSE_TIMEOUT_MS = 10_000;

/**
 * Reads on the main thread, one message at a time in the order asked, so that reading a batch
 * ahead interleaves with handling it instead of parsing the whole batch first. The time limit
 * cannot stop synchronous work here (see parse.ts); PARSE_WORKERS=0 chooses this.
 */
export function createInThreadReader(timeoutMs = DEFAULT_PARSE_TIMEOUT_MS): MessageReader {
  let tail: Promise<unknown> = Promise.resolve();
  return {
    read(raw) {
      const run = tail.then(() => readMessage(raw, timeoutMs));
      tail = run.catch(() => undefined);
      return run;
    },
    async close() {},
  };
}

export interface ParsePoolOptions {
  workers: number;
  timeoutMs?: number;
  logger: Logger;
}

/**
 * The worker's code and options. Built, it is parse-worker.js next to this file. Under tsx or
 * vitest this file is TypeScript, and so is the worker's: a small script registers tsx in the
 * thread first (`--import tsx` in a worker's execArgv does not reach its module loader on Node 20).
 */
function workerSource(): { source: URL | string; options: WorkerOptions } {
  // A small young generation: a message's parse garbage dies young and is cheap to collect, and
  // the default size added ~30-40 MB of resident memory for the thread in the benchmark's
  // backlog (RSS peak 229-243 MB with it, 201 MB with 4 MB, at the same rate).
  const options: WorkerOptions = { resourceLimits: { maxYoungGenerationSizeMb: 4 } };
  if (!import.meta.url.endsWith('.ts')) return { source: new URL('./parse-worker.js', import.meta.url), options };
  // tsx's ESM entry (require.resolve would give its CommonJS one, which cannot register in a thread).
  const require = createRequire(import.meta.url);
  const manifest = require.resolve('tsx/package.json');
  const entry = (require(manifest) as { exports: Record<string, { import: { default: string } }> }).exports['./esm/api']!.import.default;
  const tsx = pathToFileURL(join(dirname(manifest), entry)).href;
  const worker = new URL('./parse-worker.ts', import.meta.url).href;
  return {
    source: `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(worker)}); });`,
    options: { ...options, eval: true },
  };
}
const WORKER = workerSource();

interface Job {
  id: number;
  raw: Buffer;
  resolve: (r: ReadMessage) => void;
  reject: (e: Error) => void;
}
interface Slot {
  worker: Worker;
  job: Job | null;
  timer: NodeJS.Timeout | undefined;
}

/**
 * Reads messages in worker threads. Parsing MIME and HTML is most of the CPU a reply costs outside
 * the database, and it is synchronous: on the main thread a large message held up IMAP, the SMTP
 * intake, the outbox and /healthz for as long as it took (~1 s for the worst corpus message),
 * and a time limit could not interrupt it. Here the main thread keeps handling other messages
 * while one is read, and a message over the time limit ends its thread (a fresh one takes its
 * place): it is quarantined as unreadable, like one that does not parse. Jobs are taken in the
 * order asked; a worker reads one message at a time.
 */
export function createParsePool(o: ParsePoolOptions): MessageReader {
  const timeoutMs = o.timeoutMs ?? DEFAULT_PARSE_TIMEOUT_MS;
  const queue: Job[] = [];
  const slots: Slot[] = [];
  let nextId = 1;
  let closed = false;
  // Not parse_failed: the message is fine, and must be tried again rather than quarantined.
  const stopped = () => new MailgrantError('internal', 'the parse workers are stopped');

  function spawn(): Slot {
    // Not keeping the process alive by itself: the daemon's servers do, and a test that forgets
    // close() must not hang.
    const slot: Slot = { worker: new Worker(WORKER.source, WORKER.options), job: null, timer: undefined };
    slot.worker.unref();
    slot.worker.on('message', (a: ParseAnswer) => {
      const job = slot.job;
      if (!job || job.id !== a.id) return;
      clearTimeout(slot.timer);
      slot.job = null;
      if (a.ok) job.resolve(a.result);
      else job.reject(new MailgrantError('parse_failed', a.message));
      next(slot);
    });
    slot.worker.on('error', (err) => {
      o.logger.error({ err }, 'a parse worker failed; starting another');
      replace(slot, `the parse worker failed: ${err.message}`);
    });
    slot.worker.on('exit', (code) => replace(slot, `the parse worker stopped (exit code ${code})`));
    return slot;
  }

  /** Ends a worker (stuck, failed or gone), fails its message, and starts another in its place. */
  function replace(slot: Slot, reason: string): void {
    const i = slots.indexOf(slot);
    if (i < 0) return;
    slots.splice(i, 1);
    clearTimeout(slot.timer);
    const job = slot.job;
    slot.job = null;
    void slot.worker.terminate();
    job?.reject(new MailgrantError('parse_failed', reason));
    if (closed) return;
    const fresh = spawn();
    slots.push(fresh);
    next(fresh);
  }

  function next(slot: Slot): void {
    if (slot.job || closed) return;
    const job = queue.shift();
    if (!job) return;
    slot.job = job;
    slot.timer = setTimeout(() => {
      o.logger.warn({ timeoutMs }, 'reading a message took too long; its parse worker is ended and another started');
      replace(slot, `parsing took longer than ${timeoutMs} ms`);
    }, timeoutMs);
    slot.timer.unref();
    slot.worker.postMessage({ id: job.id, raw: job.raw } satisfies ParseJob);
  }

  return {
    read(raw) {
      if (closed) return Promise.reject(stopped());
      return new Promise<ReadMessage>((resolve, reject) => {
        queue.push({ id: nextId++, raw, resolve, reject });
        // Threads start with the first messages: an instance that never reads mail (or a test)
        // does not pay for them.
        if (slots.length < o.workers && !slots.some((s) => !s.job)) slots.push(spawn());
        const idle = slots.find((s) => !s.job);
        if (idle) next(idle);
      });
    },
    async close() {
      closed = true;
      for (const job of queue.splice(0)) job.reject(stopped());
      await Promise.all(
        slots.splice(0).map((s) => {
          clearTimeout(s.timer);
          s.job?.reject(stopped());
          return s.worker.terminate();
        }),
      );
    },
  };
}
