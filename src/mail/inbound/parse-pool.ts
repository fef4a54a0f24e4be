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
  /** For tests: another worker script (eval'd CommonJS or a file) speaking parse-worker.ts's messages. */
  worker?: { source: URL | string; options: WorkerOptions };
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
  /** The worker loaded its code (it says so first): a failure before that is the thread's, not a message's. */
  ready: boolean;
  job: Job | null;
  timer: NodeJS.Timeout | undefined;
}

/**
 * Reads messages in worker threads. Parsing MIME and HTML is most of the CPU a reply costs outside
 * the database, and it is synchronous: on the main thread a large message held up IMAP, the SMTP
 * intake, the outbox and /healthz for as long as it took (~1 s for the worst corpus message),
 * and a time limit could not interrupt it. Here the main thread keeps handling other messages
 * while one is read, and a message over the time limit or that kills its thread ends that thread:
 * it is quarantined as unreadable, like one that does not parse, and the next message gets a
 * fresh thread. Jobs are taken in the order asked; a worker reads one message at a time. Should
 * the threads be unable to start at all (a broken installation), messages are read on the main
 * thread instead, with an error in the log, rather than every one of them quarantined.
 */
export function createParsePool(o: ParsePoolOptions): MessageReader {
  const timeoutMs = o.timeoutMs ?? DEFAULT_PARSE_TIMEOUT_MS;
  const worker = o.worker ?? WORKER;
  const queue: Job[] = [];
  const slots: Slot[] = [];
  let nextId = 1;
  let closed = false;
  let fallback: MessageReader | null = null;
  // Not parse_failed: the message is fine, and must be tried again rather than quarantined.
  const stopped = () => new MailgrantError('internal', 'the parse workers are stopped');

  function spawn(): Slot {
    // Not keeping the process alive by itself: the daemon's servers do, and a test that forgets
    // close() must not hang.
    const slot: Slot = { worker: new Worker(worker.source, worker.options), ready: false, job: null, timer: undefined };
    slot.worker.unref();
    slot.worker.on('message', (a: ParseAnswer) => {
      if ('ready' in a) {
        slot.ready = true;
        return;
      }
      const job = slot.job;
      if (!job || job.id !== a.id) return;
      clearTimeout(slot.timer);
      slot.job = null;
      if (a.ok) job.resolve(a.result);
      else job.reject(new MailgrantError('parse_failed', a.message));
      next(slot);
    });
    slot.worker.on('error', (err) => {
      if (slot.ready) o.logger.error({ err }, 'a parse worker failed while reading a message; the next message gets a new one');
      end(slot, `the parse worker failed: ${err.message}`, err);
    });
    slot.worker.on('exit', (code) => end(slot, `the parse worker stopped (exit code ${code})`, new Error(`exit code ${code}`)));
    return slot;
  }

  /**
   * Ends a worker (stuck, failed or gone). Once it had started, the message it held is the cause:
   * that message fails. Before, the threads cannot start here: reading moves to the main thread.
   */
  function end(slot: Slot, reason: string, err: Error): void {
    const i = slots.indexOf(slot);
    if (i < 0) return;
    slots.splice(i, 1);
    clearTimeout(slot.timer);
    const job = slot.job;
    slot.job = null;
    void slot.worker.terminate();
    if (closed) {
      job?.reject(stopped());
      return;
    }
    if (!slot.ready) {
      fallBack(err, job);
      return;
    }
    job?.reject(new MailgrantError('parse_failed', reason));
    if (queue.length > 0) start();
  }

  function fallBack(err: Error, held: Job | null): void {
    if (!fallback) {
      o.logger.error({ err }, 'parse worker threads cannot start; reading inbound mail on the main thread instead');
      fallback = createInThreadReader(timeoutMs);
    }
    const reader = fallback;
    for (const job of [...(held ? [held] : []), ...queue.splice(0)]) reader.read(job.raw).then(job.resolve, job.reject);
    for (const other of slots.splice(0)) {
      clearTimeout(other.timer);
      void other.worker.terminate();
      if (other.job) reader.read(other.job.raw).then(other.job.resolve, other.job.reject);
    }
  }

  function start(): void {
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
      o.logger.warn({ timeoutMs }, 'reading a message took too long; its parse worker is ended');
      end(slot, `parsing took longer than ${timeoutMs} ms`, new Error('timeout'));
    }, timeoutMs);
    slot.timer.unref();
    slot.worker.postMessage({ id: job.id, raw: job.raw } satisfies ParseJob);
  }

  return {
    read(raw) {
      if (closed) return Promise.reject(stopped());
      if (fallback) return fallback.read(raw);
      return new Promise<ReadMessage>((resolve, reject) => {
        queue.push({ id: nextId++, raw, resolve, reject });
        // Threads start with the first messages: an instance that never reads mail (or a test)
        // does not pay for them.
        const idle = slots.find((s) => !s.job);
        if (idle) next(idle);
        else if (slots.length < o.workers) start();
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
