import { parentPort } from 'node:worker_threads';
import { MailgrantError } from '../../shared/errors.js';
import { readMessage } from './read-message.js';

/*
 * A parse worker (see parse-pool.ts): reads one message at a time and posts back the result or
 * the reason it could not. Its pool enforces the time limit by ending the thread, which is the
 * only way to stop synchronous parsing.
 */
export interface ParseJob { id: number; raw: Uint8Array }
export type ParseAnswer =
  | { ready: true }
  | { id: number; ok: true; result: Awaited<ReturnType<typeof readMessage>> }
  | { id: number; ok: false; message: string };

const port = parentPort;
if (!port) throw new Error('parse-worker.ts runs as a worker thread (see parse-pool.ts)');
port.on('message', (job: ParseJob) => {
  const raw = Buffer.from(job.raw.buffer, job.raw.byteOffset, job.raw.byteLength);
  // No time limit of its own: the pool's ends the thread, which also stops work stuck in a loop.
  readMessage(raw, Infinity).then(
    (result) => port.postMessage({ id: job.id, ok: true, result } satisfies ParseAnswer),
    (err: unknown) => {
      const message = err instanceof MailgrantError ? err.message : `the message could not be read: ${(err as Error).message}`;
      port.postMessage({ id: job.id, ok: false, message } satisfies ParseAnswer);
    },
  );
});
// Loaded: from now on a failure of this thread is blamed on the message it reads (parse-pool.ts).
port.postMessage({ ready: true } satisfies ParseAnswer);
