import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createInThreadReader, createParsePool, type MessageReader, type ParsePoolOptions } from '../../src/mail/inbound/parse-pool.js';
import { readMessage } from '../../src/mail/inbound/read-message.js';

const FIXTURES = join(import.meta.dirname, '../fixtures/replies');
const emls = readdirSync(FIXTURES).filter((f) => f.endsWith('.eml')).sort();
const logger = pino({ level: 'silent' });

describe('reading messages in worker threads', () => {
  const open: MessageReader[] = [];
  const pool = (o: Omit<ParsePoolOptions, 'logger'>) => {
    const p = createParsePool({ ...o, logger });
    open.push(p);
    return p;
  };
  afterEach(async () => {
    await Promise.all(open.splice(0).map((p) => p.close()));
  });

  it('gives what reading on the main thread gives, for every reply fixture (charsets, HTML-only, QP, base64)', async () => {
    expect(emls.length).toBeGreaterThanOrEqual(18);
    const workers = pool({ workers: 2 });
    const raws = emls.map((f) => readFileSync(join(FIXTURES, f)));
    // All at once: the pool queues them and answers each with its own result.
    const inWorkers = await Promise.all(raws.map((raw) => workers.read(raw)));
    for (const [i, raw] of raws.entries()) {
      const here = await readMessage(raw);
      expect(inWorkers[i], emls[i]).toEqual(here);
      expect(inWorkers[i]!.msg.headers).toBeInstanceOf(Map);
    }
  });

  // A stand-in worker speaking parse-worker.ts's messages: a 1-byte message hangs it, a 2-byte one kills it.
  const fake = {
    source: `const { parentPort } = require('node:worker_threads');
      parentPort.on('message', (job) => {
        if (job.raw.length === 1) for (;;);
        if (job.raw.length === 2) process.exit(3);
        parentPort.postMessage({ id: job.id, ok: true, result: { msg: { subject: 'read ' + job.raw.length }, reply: null } });
      });
      parentPort.postMessage({ ready: true });`,
    options: { eval: true },
  };
  const subject = (r: { msg: { subject: string } }) => r.msg.subject;

  it('ends a worker stuck past the limit or killed by a message, fails only that message, and reads the next ones', async () => {
    const p = pool({ workers: 1, timeoutMs: 1_000, worker: fake });
    expect(subject(await p.read(Buffer.from('abc')))).toBe('read 3');
    const stuck = p.read(Buffer.from('x'));
    const after = p.read(Buffer.from('abcd'));
    await expect(stuck).rejects.toMatchObject({ code: 'parse_failed', message: 'parsing took longer than 1000 ms' });
    expect(subject(await after)).toBe('read 4');
    const killer = p.read(Buffer.from('xy'));
    const next = p.read(Buffer.from('abcde'));
    await expect(killer).rejects.toMatchObject({ code: 'parse_failed', message: 'the parse worker stopped (exit code 3)' });
    expect(subject(await next)).toBe('read 5');
  });

  it('reads on the main thread when the worker threads cannot start at all, rather than failing every message', async () => {
    const broken = pool({ workers: 2, worker: { source: "throw new Error('a broken installation')", options: { eval: true } } });
    const raws = emls.slice(0, 4).map((f) => readFileSync(join(FIXTURES, f)));
    const read = await Promise.all(raws.map((raw) => broken.read(raw)));
    for (const [i, raw] of raws.entries()) expect(read[i]).toEqual(await readMessage(raw));
  });

  it('refuses work once closed, as not tried (not as an unreadable message)', async () => {
    const p = pool({ workers: 1 });
    const raw = readFileSync(join(FIXTURES, emls[0]!));
    await p.read(raw);
    const inFlight = p.read(raw).then(() => null, (e: unknown) => e);
    await p.close();
    expect(await inFlight).toMatchObject({ code: 'internal' });
    await expect(p.read(raw)).rejects.toMatchObject({ code: 'internal' });
  });
});

describe('reading on the main thread (PARSE_WORKERS=0)', () => {
  it('reads one message at a time in the order asked', async () => {
    const reader = createInThreadReader();
    const raws = emls.slice(0, 6).map((f) => readFileSync(join(FIXTURES, f)));
    const order: number[] = [];
    await Promise.all(raws.map((raw, i) => reader.read(raw).then(() => order.push(i))));
    expect(order).toEqual([0, 1, 2, 3, 4, 5]);
  });
});
