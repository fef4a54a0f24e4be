import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createInThreadReader, createParsePool, type MessageReader } from '../../src/mail/inbound/parse-pool.js';
import { readMessage } from '../../src/mail/inbound/read-message.js';
import { MailgrantError } from '../../src/shared/errors.js';

const FIXTURES = join(import.meta.dirname, '../fixtures/replies');
const emls = readdirSync(FIXTURES).filter((f) => f.endsWith('.eml')).sort();
const logger = pino({ level: 'silent' });

describe('reading messages in worker threads', () => {
  const open: MessageReader[] = [];
  const pool = (o: { workers: number; timeoutMs?: number }) => {
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

  it('ends a worker that takes longer than the limit, fails that message as unreadable, and answers the next ones', async () => {
    // 1 ms: no worker can even start in that time, so every read here times out, deterministically.
    const slow = pool({ workers: 1, timeoutMs: 1 });
    const raw = readFileSync(join(FIXTURES, emls[0]!));
    for (let i = 0; i < 3; i++) {
      const err = await slow.read(raw).then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(MailgrantError);
      expect(err).toMatchObject({ code: 'parse_failed', message: 'parsing took longer than 1 ms' });
    }
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
