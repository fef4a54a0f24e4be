import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type DbHandle } from '../../src/db/client.js';
import * as schema from '../../src/db/schema/index.js';
import { exampleRules, startTestApp } from '../helpers/app.js';
import { daemonFiles, exitWithin, killAllDaemons, mailboxCount, rulesWithUsers, startDaemon, userAddress, waitForEmptyInbox, type Daemon, type LogEntry } from '../helpers/daemon.js';
import { startDovecot, type DovecotServer } from '../helpers/dovecot.js';
import { buildMail, quoteBelow } from '../helpers/mail.js';
import { startPostgres, type PgServer } from '../helpers/postgres.js';
import { startSmtpSink, type ReceivedMail, type SmtpSink } from '../helpers/smtp-sink.js';
import { waitUntil } from '../helpers/wait.js';

/**
 * SIGTERM: the daemon stops taking mail, finishes the messages in hand, stops its jobs, leaves the
 * outbox consistent, closes its connections and exits 0 within 10 s; started again, it finishes
 * the rest exactly once. A second signal exits at once.
 */
const N = 20;
const USER = 'licenses';
const STARTUP_MS = 120_000; // tsx compiles the daemon on a busy two-core machine

const kindOf = (m: ReceivedMail) => m.headers['x-mailgrant-kind'] ?? '';
const ofKind = (k: string) => (m: ReceivedMail) => kindOf(m) === k;
const msg = (text: string) => (e: LogEntry) => e.msg === text;

describe('shutdown on SIGTERM', () => {
  let pg: PgServer;
  let dovecot: DovecotServer;
  let sink: SmtpSink;
  let db: DbHandle;
  let env: Record<string, string>;
  const cleanups: (() => void)[] = [];

  beforeAll(async () => {
    [pg, dovecot, sink] = await Promise.all([
      startPostgres(),
      startDovecot({ users: [{ user: USER, password: 'stop-pw' }, { user: 'stuck', password: 'stop-pw' }, { user: 'unanswered', password: 'stop-pw' }] }),
      startSmtpSink(),
    ]);
    const databaseUrl = await pg.createDatabase();
    db = await openDatabase({ databaseUrl, dataDir: '/nonexistent', maxConnections: 2 });
    const files = daemonFiles(rulesWithUsers(N));
    cleanups.push(files.cleanup);
    env = {
      DATABASE_URL: databaseUrl, IMAP_URL: dovecot.imapUrl(USER), SMTP_URL: sink.url, SMTP_INTAKE: 'off', HTTP_PORT: 'off',
      RULES_FILE: files.rulesFile, DATA_DIR: files.dataDir, IMAP_POLL_SECONDS: '10',
    };

    // N pending requests, shared with Dana, by an in-process app reading the mailbox.
    const setup = await startTestApp({ databaseUrl, rules: exampleRules(() => rulesWithUsers(N)), env: { IMAP_URL: env.IMAP_URL!, SMTP_URL: sink.url, IMAP_POLL_SECONDS: '10' } });
    try {
      await setup.start();
      await appendAll(USER, await Promise.all(Array.from({ length: N }, (_, i) =>
        buildMail({ from: userAddress(i), to: 'licenses@contoso.example', subject: 'Visio licence', text: `Please (${i}).` }))));
      await sink.waitFor(ofKind('shared-request'), { count: N, timeoutMs: 120_000 });
      await sink.waitFor(ofKind('acknowledgement'), { count: N, timeoutMs: 60_000 });
      await waitForEmptyInbox(dovecot, USER);
    } finally {
      await setup.cleanup();
    }
  });
  afterAll(async () => {
    await killAllDaemons();
    await db?.close();
    for (const c of cleanups) c();
    await Promise.all([sink?.stop(), dovecot?.stop(), pg?.stop()]);
  });

  async function appendAll(user: string, raws: Buffer[]): Promise<void> {
    const c = await dovecot.client(user);
    try {
      for (const raw of raws) await c.append('INBOX', raw);
    } finally {
      await c.logout().catch(() => c.close());
    }
  }

  it(`with ${N} replies in flight: finishes the messages in hand, leaves the database consistent, exits 0 within 10 s`, async () => {
    const shares = sink.messages.filter(ofKind('shared-request'));
    await appendAll(USER, await Promise.all(shares.map((share) => {
      const token = /licenses\+([a-z2-7]{26})@contoso\.example/.exec(share.headers['reply-to'] ?? '')![1];
      return buildMail({
        from: 'Dana Lee <dana@contoso.example>', to: `licenses+${token}@contoso.example`, subject: `Re: ${share.subject}`,
        inReplyTo: share.messageId, references: [share.messageId], text: quoteBelow('approve', share.text),
      });
    })));

    const daemon = startDaemon('busy', env);
    await daemon.waitForLine(msg('inbound message handled'), STARTUP_MS);
    const signalledAt = Date.now();
    daemon.kill('SIGTERM');
    const exit = await exitWithin(daemon, 30_000);
    const tookMs = exit.at - signalledAt;
    console.log(`[shutdown] exited ${exit.signal ?? `with code ${exit.code}`} ${tookMs} ms after SIGTERM`);
    // Slow on a loaded machine? Show where the time went.
    if (tookMs > 2_000) console.log(daemon.entries.slice(daemon.entries.findIndex(msg('stopping: finishing the work in hand'))).map((e) => `${e.time} ${e.component ?? ''} ${e.msg}`).join('\n'));
    expect(exit.code, daemon.tail()).toBe(0);
    expect(tookMs).toBeLessThan(10_000);

    // Intake stopped at once: after the signal, at most the messages in hand were finished
    // (IMAP_CONCURRENCY, 4 by default, are handled at a time).
    const stopping = daemon.entries.findIndex(msg('stopping: finishing the work in hand'));
    expect(stopping).toBeGreaterThan(-1);
    const handledAfter = daemon.entries.slice(stopping).filter(msg('inbound message handled'));
    expect(handledAfter.length, daemon.tail(80)).toBeLessThanOrEqual(4);
    expect(daemon.lines(msg('stopped'))).toHaveLength(1);

    // The database is consistent: each reply either handled (done) or not recorded at all and
    // still in INBOX; no mail stuck in 'sending'.
    const replies = (await db.db.select().from(schema.inboundMessages)).filter((i) => i.classification === 'reply');
    expect(replies.every((i) => i.status === 'done' && i.action === 'decision-recorded')).toBe(true);
    expect(replies.length).toBeGreaterThanOrEqual(1);
    console.log(`[shutdown] ${replies.length} of ${N} replies handled before the exit`);
    expect(await mailboxCount(dovecot, USER)).toBe(N - replies.length);
    const outbox = await db.db.select().from(schema.outbox);
    expect(outbox.filter((r) => r.status !== 'pending' && r.status !== 'sent')).toEqual([]);
  }, 240_000);

  it('started again, it finishes the rest exactly once', async () => {
    const daemon = startDaemon('again', env);
    await daemon.waitForLine(msg('IMAP connected; waiting for mail'), STARTUP_MS);
    await sink.waitFor(ofKind('outcome-approved'), { count: N, timeoutMs: STARTUP_MS + 60_000 });
    await sink.waitFor(ofKind('receipt'), { count: N, timeoutMs: 60_000 });
    await waitUntil(async () => (await db.db.select().from(schema.outbox)).every((r) => r.status === 'sent'), { timeoutMs: 60_000, intervalMs: 250, description: 'every outbox row sent' });
    await waitForEmptyInbox(dovecot, USER);

    const inbound = await db.db.select().from(schema.inboundMessages);
    expect(inbound).toHaveLength(2 * N);
    expect(inbound.every((i) => i.status === 'done' && i.attempts === 1)).toBe(true);
    expect((await db.db.select().from(schema.requests)).map((r) => r.status)).toEqual(Array(N).fill('completed'));
    const outbox = await db.db.select().from(schema.outbox);
    expect(outbox).toHaveLength(4 * N);
    const copies = new Map<string, number>();
    for (const m of sink.messages) copies.set(m.messageId, (copies.get(m.messageId) ?? 0) + 1);
    expect(copies.size).toBe(outbox.length);
    expect([...copies.entries()].filter(([, n]) => n !== 1)).toEqual([]);

    const exit = await daemon.stop();
    expect(exit.code, daemon.tail()).toBe(0);
  }, 240_000);

  it('with an SMTP server that never answers: exits 0 within 10 s, the unsent mails back in the queue', async () => {
    const hole = await startBlackhole();
    try {
      const files = daemonFiles();
      cleanups.push(files.cleanup);
      const databaseUrl = await pg.createDatabase();
      const daemon = startDaemon('unanswered', {
        ...env, DATABASE_URL: databaseUrl, IMAP_URL: dovecot.imapUrl('unanswered'), SMTP_URL: hole.url, RULES_FILE: files.rulesFile, DATA_DIR: files.dataDir,
      });
      await daemon.waitForLine(msg('IMAP connected; waiting for mail'), STARTUP_MS);
      await appendAll('unanswered', [await buildMail({ from: 'alice@contoso.example', to: 'licenses@contoso.example', subject: 'Visio licence', text: 'Please.' })]);
      await daemon.waitForLine(msg('inbound message handled'), 60_000);
      await waitUntil(() => hole.sockets.size > 0, { timeoutMs: 30_000, description: 'the dispatcher connecting to the SMTP server' });

      const signalledAt = Date.now();
      daemon.kill('SIGTERM');
      const exit = await exitWithin(daemon, 30_000);
      console.log(`[shutdown] unanswered SMTP: exited ${exit.signal ?? `with code ${exit.code}`} ${exit.at - signalledAt} ms after SIGTERM`);
      expect(exit.code, daemon.tail()).toBe(0);
      expect(exit.at - signalledAt).toBeLessThan(10_000);
      const check = await openDatabase({ databaseUrl, dataDir: '/nonexistent', maxConnections: 1 });
      try {
        const rows = await check.db.select().from(schema.outbox);
        expect(rows.map((r) => r.status)).toEqual(['pending', 'pending']);
      } finally {
        await check.close();
      }
    } finally {
      await hole.stop();
    }
  }, 240_000);

  it('a SIGTERM while still starting (waiting for the migration lock): starts, then stops with exit 0', async () => {
    const databaseUrl = await pg.createDatabase();
    // Another "instance" migrating: the daemon waits for this lock before it is up.
    const other = postgres(databaseUrl, { max: 1, onnotice: () => {} });
    try {
      await other`select pg_advisory_lock(727001)`;
      const files = daemonFiles();
      cleanups.push(files.cleanup);
      const daemon = startDaemon('starting', { ...env, DATABASE_URL: databaseUrl, IMAP_URL: '', RULES_FILE: files.rulesFile, DATA_DIR: files.dataDir });
      await waitUntil(async () => (await other<{ n: number }[]>`select count(*)::int as n from pg_locks where locktype = 'advisory' and not granted`)[0]!.n > 0, {
        timeoutMs: STARTUP_MS, intervalMs: 250, description: 'the daemon waiting for the migration lock',
      });
      daemon.kill('SIGTERM');
      await daemon.waitForLine(msg('signal while starting: stopping as soon as started'), 10_000);
      await other`select pg_advisory_unlock(727001)`;
      const exit = await exitWithin(daemon, 30_000);
      expect(exit.code, daemon.tail()).toBe(0);
      expect(daemon.lines(msg('stopped'))).toHaveLength(1);
    } finally {
      await other.end({ timeout: 1 });
    }
  }, 240_000);

  it('a second signal exits at once', async () => {
    // A daemon whose SMTP server accepts connections and never answers: its graceful stop
    // waits a while for the mail in hand, so only the second signal can make it exit at once.
    const hole = await startBlackhole();
    try {
      const files = daemonFiles();
      cleanups.push(files.cleanup);
      const daemon: Daemon = startDaemon('stuck', {
        ...env, DATABASE_URL: await pg.createDatabase(), IMAP_URL: dovecot.imapUrl('stuck'),
        SMTP_URL: hole.url, RULES_FILE: files.rulesFile, DATA_DIR: files.dataDir,
      });
      await daemon.waitForLine(msg('IMAP connected; waiting for mail'), STARTUP_MS);
      await appendAll('stuck', [await buildMail({ from: 'alice@contoso.example', to: 'licenses@contoso.example', subject: 'Visio licence', text: 'Please.' })]);
      await daemon.waitForLine(msg('inbound message handled'), 60_000);
      await waitUntil(() => hole.sockets.size > 0, { timeoutMs: 30_000, description: 'the dispatcher connecting to the SMTP server' });

      daemon.kill('SIGTERM');
      await daemon.waitForLine(msg('stopping: finishing the work in hand'), 10_000);
      const secondAt = Date.now();
      daemon.kill('SIGTERM');
      const exit = await exitWithin(daemon, 10_000);
      console.log(`[shutdown] second signal: exited with code ${exit.code} ${exit.at - secondAt} ms after it`);
      expect(daemon.lines(msg('second signal: exiting now')), daemon.tail()).toHaveLength(1);
      expect(exit.code).toBe(1);
      expect(exit.at - secondAt).toBeLessThan(1_000);
    } finally {
      await hole.stop();
    }
  }, 240_000);
});

/** An "SMTP server" that accepts connections and never says a word. */
async function startBlackhole(): Promise<{ url: string; sockets: Set<Socket>; stop(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `smtp://127.0.0.1:${(server.address() as AddressInfo).port}`,
    sockets,
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
