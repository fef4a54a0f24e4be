import { asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, it, type ExpectStatic } from 'vitest';
import { openDatabase, type DbHandle } from '../../src/db/client.js';
import * as schema from '../../src/db/schema/index.js';
import type { FaultPoint } from '../../src/shared/faults.js';
import { startTestApp } from '../helpers/app.js';
import { daemonFiles, exitWithin, killAllDaemons, mailboxCount, startDaemon, waitForEmptyInbox } from '../helpers/daemon.js';
import { startDovecot, type DovecotServer } from '../helpers/dovecot.js';
import { buildMail, quoteBelow } from '../helpers/mail.js';
import { startPostgres, type PgServer } from '../helpers/postgres.js';
import { startSmtpSink, type ReceivedMail, type SmtpSink } from '../helpers/smtp-sink.js';
import { waitUntil } from '../helpers/wait.js';

/**
 * Exactly once across crashes: the database is the truth, IMAP flags only a hint. For each crash
 * point the daemon (a child process) kills itself with SIGKILL while handling a decider's reply,
 * then starts again: the decision is recorded once, every mail reaches the SMTP sink once (the
 * mail whose acceptance was cut short at most twice, with the same Message-ID) and nothing is
 * left half done.
 *
 * The four points run concurrently, each with its own database, mailbox and sink.
 */
const POINTS: readonly FaultPoint[] = ['before-commit', 'after-commit', 'after-outbox-commit', 'after-smtp-accept'];
const PASSWORD = 'crash-pw';
const STARTUP_MS = 120_000; // tsx compiles the daemon on a busy two-core machine

const kindOf = (m: ReceivedMail) => m.headers['x-mailgrant-kind'] ?? '';
const ofKind = (k: string) => (m: ReceivedMail) => kindOf(m) === k;
const isOutcome = (m: ReceivedMail) => kindOf(m).startsWith('outcome-');

describe('exactly once across crashes (SIGKILL at each crash point, then restart)', () => {
  let pg: PgServer;
  let dovecot: DovecotServer;
  const cleanups: (() => Promise<void> | void)[] = [];

  beforeAll(async () => {
    [pg, dovecot] = await Promise.all([startPostgres(), startDovecot({ users: POINTS.map((p) => ({ user: `lic-${p}`, password: PASSWORD })) })]);
  });
  afterAll(async () => {
    await killAllDaemons();
    for (const c of cleanups.splice(0)) await Promise.resolve(c()).catch(() => {});
    await Promise.all([dovecot?.stop(), pg?.stop()]);
  });

  for (const point of POINTS) {
    it.concurrent(`a crash at ${point} loses nothing and doubles nothing`, async ({ expect }) => {
      await crashAndRecover(point, expect);
    }, 300_000);
  }

  async function crashAndRecover(point: FaultPoint, expect: ExpectStatic): Promise<void> {
    const user = `lic-${point}`;
    const sink: SmtpSink = await startSmtpSink();
    cleanups.push(() => sink.stop());
    const databaseUrl = await pg.createDatabase();
    const files = daemonFiles();
    cleanups.push(files.cleanup);
    const imapUrl = dovecot.imapUrl(user);
    const env = {
      DATABASE_URL: databaseUrl, IMAP_URL: imapUrl, SMTP_URL: sink.url, SMTP_INTAKE: 'off', HTTP_PORT: 'off',
      RULES_FILE: files.rulesFile, DATA_DIR: files.dataDir, IMAP_POLL_SECONDS: '10',
    };
    const db: DbHandle = await openDatabase({ databaseUrl, dataDir: files.dataDir, maxConnections: 2 });
    cleanups.push(() => db.close());

    // 1. A pending request, shared with Dana. An in-process app reads it over IMAP and sends the
    //    acknowledgement and the shared-request mail, then stops cleanly: the crashing run below
    //    starts with an empty INBOX and an empty queue, so the crash hits the reply.
    const setup = await startTestApp({ databaseUrl, env: { IMAP_URL: imapUrl, SMTP_URL: sink.url, IMAP_POLL_SECONDS: '10' } });
    let share: ReceivedMail;
    try {
      await setup.start();
      await dovecot.append(user, 'INBOX', await buildMail({
        from: 'Alice Wong <alice@contoso.example>', to: 'licenses@contoso.example', subject: 'Visio licence', text: 'Hello,\nplease get Visio for me.\nAlso for: bob, carol\n',
      }));
      [share] = (await sink.waitFor(ofKind('shared-request'), { timeoutMs: 60_000 })) as [ReceivedMail];
      await sink.waitFor(ofKind('acknowledgement'), { timeoutMs: 30_000 });
      await waitForEmptyInbox(dovecot, user);
    } finally {
      await setup.cleanup();
    }
    const requestId = Number(share.headers['x-mailgrant-request']);
    const token = /licenses\+([a-z2-7]{26})@contoso\.example/.exec(share.headers['reply-to'] ?? '')?.[1];
    expect(token, 'the shared-request mail carries a personal reply address').toBeTruthy();
    expect((await db.db.select().from(schema.outbox)).map((r) => r.status)).toEqual(['sent', 'sent']);

    // 2. The crashing run: Dana's reply arrives while it runs and kills it at `point`.
    const crashing = startDaemon(`${point}/crashing`, { ...env, MAILGRANT_CRASH_AT: point });
    await crashing.waitForLine(/IMAP connected/, STARTUP_MS);
    await dovecot.append(user, 'INBOX', await buildMail({
      from: 'Dana Lee <dana@contoso.example>', to: `licenses+${token}@contoso.example`, subject: `Re: ${share.subject}`,
      inReplyTo: share.messageId, references: [share.messageId], text: quoteBelow('approve all except bob', share.text),
    }));
    const crash = await exitWithin(crashing, 60_000);
    expect(crash.signal, crashing.tail()).toBe('SIGKILL');
    expect(crashing.lines((e) => e.msg === 'MAILGRANT_CRASH_AT: killing this process now').map((e) => e.point)).toEqual([point]);
    await expectCrashedAt(point);

    // 3. The restart, without the fault, finishes the job.
    const restarted = startDaemon(`${point}/restarted`, env);
    await sink.waitFor(isOutcome, { count: 3, timeoutMs: STARTUP_MS + 60_000 });
    await sink.waitFor(ofKind('receipt'), { timeoutMs: 30_000 });
    await waitUntil(async () => (await db.db.select().from(schema.outbox)).every((r) => r.status === 'sent'), {
      timeoutMs: 60_000, intervalMs: 250, description: 'every outbox row sent',
    });
    await waitForEmptyInbox(dovecot, user);

    // The decision is recorded once: one verdict per person, one audit entry per verdict.
    const people = await db.db.select().from(schema.requestPeople).where(eq(schema.requestPeople.requestId, requestId)).orderBy(asc(schema.requestPeople.email));
    expect(people.map((p) => [p.email, p.verdict, p.decidedBy])).toEqual([
      ['alice@contoso.example', 'approve', 'dana@contoso.example'],
      ['bob@contoso.example', 'deny', 'dana@contoso.example'],
      ['carol@contoso.example', 'approve', 'dana@contoso.example'],
    ]);
    const audit = await db.db.select().from(schema.auditLog).where(eq(schema.auditLog.requestId, requestId));
    const actions = audit.map((a) => a.action).filter((a) => a !== 'request-created' && a !== 'request-shared').sort();
    expect(actions).toEqual(['person-approved', 'person-approved', 'person-denied', 'request-completed']);
    expect((await db.db.select().from(schema.assignments)).map((a) => a.email).sort()).toEqual(['alice@contoso.example', 'carol@contoso.example']);
    const [request] = await db.db.select().from(schema.requests).where(eq(schema.requests.id, requestId));
    expect(request?.status).toBe('completed');

    // Nothing is left unprocessed: every inbound message done once, every mail sent.
    const inbound = await db.db.select().from(schema.inboundMessages).orderBy(asc(schema.inboundMessages.id));
    expect(inbound.map((i) => [i.classification, i.action, i.status, i.attempts])).toEqual([
      ['request', 'request-created', 'done', 1],
      ['reply', 'decision-recorded', 'done', 1],
    ]);
    const outbox = await db.db.select().from(schema.outbox);
    expect(outbox.map((r) => r.kind).sort()).toEqual(['acknowledgement', 'outcome-approved', 'outcome-approved', 'outcome-denied', 'receipt', 'shared-request']);

    // Every mail reached the sink once; a mail whose acceptance the crash cut short, at most
    // twice and with the same Message-ID.
    const byId = new Map<string, ReceivedMail[]>();
    for (const m of sink.messages) byId.set(m.messageId, [...(byId.get(m.messageId) ?? []), m]);
    expect(byId.size, 'one Message-ID per outbox row').toBe(outbox.length);
    const copies = [...byId.values()].map((ms) => ms.length);
    if (point === 'after-smtp-accept') {
      expect(Math.max(...copies)).toBe(2);
      for (const ms of byId.values()) expect(new Set(ms.map((m) => `${kindOf(m)} ${m.to.join(',')} ${m.subject}`)).size).toBe(1);
      // Sent again at the restart's first outbox pass, not after the two-minute claim expired.
      const started = restarted.lines((e) => e.msg === 'starting Mailgrant')[0];
      const reclaimed = restarted.lines((e) => e.msg === 'took back mails left unsent by an instance that stopped')[0];
      expect(reclaimed, restarted.tail()).toBeDefined();
      const reclaimMs = (reclaimed!.time as number) - (started!.time as number);
      console.log(`[crash-recovery] after-smtp-accept: ${String(reclaimed!.count)} mail(s) taken back ${reclaimMs} ms after the restart began`);
      expect(reclaimMs).toBeLessThan(15_000);
    } else {
      expect(copies.every((n) => n === 1), `duplicates: ${JSON.stringify([...byId].filter(([, ms]) => ms.length > 1).map(([id]) => id))}`).toBe(true);
    }

    const stopped = await restarted.stop();
    expect(stopped.code, restarted.tail()).toBe(0);

    /** What the database and the mailbox look like right after the crash: proof it hit where it should. */
    async function expectCrashedAt(p: FaultPoint): Promise<void> {
      const verdicts = (await db.db.select().from(schema.requestPeople).where(eq(schema.requestPeople.requestId, requestId))).filter((x) => x.verdict);
      const replyRows = (await db.db.select().from(schema.outbox)).filter((r) => r.kind !== 'acknowledgement' && r.kind !== 'shared-request');
      const replyMailsAtSink = sink.messages.filter((m) => isOutcome(m) || kindOf(m) === 'receipt');
      if (p === 'before-commit') {
        // Rolled back: nothing recorded, the reply still in INBOX.
        expect(verdicts).toHaveLength(0);
        expect(replyRows).toHaveLength(0);
        expect(await mailboxCount(dovecot, user)).toBe(1);
      } else if (p === 'after-commit' || p === 'after-outbox-commit') {
        // Committed, but neither flagged nor moved nor sent.
        expect(verdicts).toHaveLength(3);
        expect(replyRows).toHaveLength(4);
        expect(replyRows.filter((r) => r.status === 'sent')).toHaveLength(0);
        expect(replyMailsAtSink).toHaveLength(0);
        expect(await mailboxCount(dovecot, user)).toBe(1);
      } else {
        // The SMTP server has the mail, the database still says 'sending'.
        expect(verdicts).toHaveLength(3);
        expect(replyMailsAtSink.length).toBeGreaterThanOrEqual(1);
        expect(replyRows.filter((r) => r.status === 'sending').length).toBeGreaterThanOrEqual(1);
      }
    }
  }
});
