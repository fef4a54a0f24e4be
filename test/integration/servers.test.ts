/**
 * Proves the real-server test helpers work: PostgreSQL, Dovecot (APPEND/FETCH, IDLE,
 * pause/resume) and the SMTP sink, each started from Debian binaries on 127.0.0.1.
 */
import { randomUUID } from 'node:crypto';
import type { ImapFlow } from 'imapflow';
import nodemailer from 'nodemailer';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDovecot, type DovecotServer } from '../helpers/dovecot.js';
import { startPostgres, type PgServer } from '../helpers/postgres.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';

/** Rejects with `what` when `promise` has not settled within `ms`. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function rawMessage(subject: string, body = 'Hello from the helper test.'): string {
  return [
    'From: Requester <requester@example.org>',
    'To: licences@example.org',
    `Subject: ${subject}`,
    `Message-ID: <${randomUUID()}@example.org>`,
    'Date: Thu, 01 Jan 2026 10:00:00 +0000',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    body,
    '',
  ].join('\r\n');
}

describe('startPostgres', () => {
  let pg: PgServer | undefined;
  beforeAll(async () => {
    pg = await startPostgres();
  });
  afterAll(async () => {
    await pg?.stop();
  });

  it('serves select 1 through postgres.js on a database from createDatabase()', async () => {
    const server = pg!;
    const url = await server.createDatabase();
    expect(url).toMatch(new RegExp(`^postgres://[^@/]+@127\\.0\\.0\\.1:${server.port}/t_`));
    const sql = postgres(url, { max: 1, onnotice: () => {} });
    try {
      const rows = await sql<{ one: number; db: string }[]>`select 1 as one, current_database() as db`;
      expect(rows[0]?.one).toBe(1);
      expect(url.endsWith(`/${rows[0]?.db}`)).toBe(true);
    } finally {
      await sql.end({ timeout: 1 });
    }
    // Every call gives a distinct database.
    expect(await server.createDatabase()).not.toBe(url);
  });
});

describe('startDovecot', () => {
  let dovecot: DovecotServer | undefined;
  const clients: ImapFlow[] = [];
  const track = (client: ImapFlow): ImapFlow => {
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    dovecot = await startDovecot({
      users: [
        { user: 'licences@example.org', password: 'pa ssw%rd@/' },
        { user: 'other', password: 'secret' },
      ],
    });
  });
  afterAll(async () => {
    for (const client of clients) client.close();
    await dovecot?.stop();
  });

  it('builds URL-encoded imap URLs', () => {
    expect(dovecot!.imapUrl('licences@example.org')).toBe(
      `imap://licences%40example.org:pa%20ssw%25rd%40%2F@127.0.0.1:${dovecot!.port}/INBOX`,
    );
    expect(dovecot!.imapUrl('other', 'Archive/2026')).toBe(`imap://other:secret@127.0.0.1:${dovecot!.port}/Archive/2026`);
  });

  it('APPENDs a message that a fresh client fetches back', async () => {
    const subject = `append-${randomUUID()}`;
    await dovecot!.append('licences@example.org', 'INBOX', rawMessage(subject), ['\\Seen']);

    const client = track(await dovecot!.client('licences@example.org'));
    const lock = await client.getMailboxLock('INBOX');
    try {
      const found = await client.search({ header: { subject } }, { uid: true });
      expect(found).toHaveLength(1);
      const message = await client.fetchOne(String((found as number[])[0]), { envelope: true, flags: true, source: true }, { uid: true });
      expect(message && message.envelope?.subject).toBe(subject);
      expect(message && [...(message.flags ?? [])]).toContain('\\Seen');
      expect(message && message.source?.toString('utf8')).toContain('Hello from the helper test.');
    } finally {
      lock.release();
      await client.logout();
    }
  });

  it('APPENDs into a new non-INBOX mailbox', async () => {
    await dovecot!.append('other', 'Archive/2026.01', rawMessage('archived'));
    const client = track(await dovecot!.client('other'));
    const status = await client.status('Archive/2026.01', { messages: true });
    expect(status && status.messages).toBe(1);
    await client.logout();
  });

  it('pushes EXISTS to a client in IDLE within 5 s of another connection APPENDing', async () => {
    const user = 'licences@example.org';
    // emitLogs: the 'log' event tells when the server has acknowledged IDLE.
    const watcher = track(await dovecot!.client(user, { emitLogs: true }));
    const mailbox = await watcher.mailboxOpen('INBOX');
    const before = mailbox.exists;

    const idleAcknowledged = new Promise<void>((resolve) => {
      watcher.on('log', (entry: { msg?: string }) => {
        if (entry.msg?.startsWith('Initiated IDLE')) resolve();
      });
    });
    const grew = new Promise<number>((resolve) => {
      watcher.on('exists', (data: { count: number }) => {
        if (data.count > before) resolve(data.count);
      });
    });
    const idling = watcher.idle();
    await within(idleAcknowledged, 5000, 'server acknowledging IDLE');

    const started = Date.now();
    await dovecot!.append(user, 'INBOX', rawMessage(`idle-${randomUUID()}`));
    const count = await within(grew, 5000, 'EXISTS while idling');
    const elapsed = Date.now() - started;

    expect(count).toBe(before + 1);
    expect(elapsed).toBeLessThan(5000);
    await watcher.logout(); // breaks IDLE
    await idling.catch(() => {});
  });

  it('pause() drops connections and stops the server; resume() brings it back with the same data', async () => {
    const user = 'other';
    const connected = track(await dovecot!.client(user));
    const closed = new Promise<void>((resolve) => connected.once('close', () => resolve()));

    await dovecot!.pause();
    await within(closed, 5000, 'client connection closing on pause()');
    await expect(dovecot!.client(user)).rejects.toThrow();

    await dovecot!.resume();
    const client = track(await dovecot!.client(user));
    const status = await client.status('Archive/2026.01', { messages: true });
    expect(status && status.messages).toBe(1);
    await client.logout();
  });
});

describe('startSmtpSink', () => {
  let sink: SmtpSink | undefined;
  beforeAll(async () => {
    sink = await startSmtpSink();
  });
  afterAll(async () => {
    await sink?.stop();
  });

  it('receives a message sent with nodemailer, with subject and custom header', async () => {
    const transport = nodemailer.createTransport(sink!.url);
    const subject = `Your licence request ${randomUUID()}`;
    const waiting = sink!.waitFor((m) => m.subject === subject, { timeoutMs: 5000 });
    try {
      await transport.sendMail({
        from: 'Mailgrant <licences@example.org>',
        to: 'requester@example.org',
        bcc: 'audit@example.org',
        subject,
        text: 'Granted.',
        html: '<p>Granted.</p>',
        headers: { 'X-Mailgrant-Request': 'req-42' },
      });
    } finally {
      transport.close();
    }
    const [mail] = await waiting;
    expect(mail?.subject).toBe(subject);
    expect(mail?.headers['x-mailgrant-request']).toBe('req-42');
    expect(mail?.from).toBe('licences@example.org');
    expect(mail?.to.sort()).toEqual(['audit@example.org', 'requester@example.org']);
    expect(mail?.headers.from).toBe('"Mailgrant" <licences@example.org>'); // mailparser's rendering
    expect(mail?.messageId).toMatch(/^<.+>$/);
    expect(mail?.text.trim()).toBe('Granted.');
    expect(mail?.html).toContain('<p>Granted.</p>');
    expect(mail?.raw).toContain('X-Mailgrant-Request: req-42');

    // Already-received messages count, so a second wait resolves at once.
    await expect(sink!.waitFor((m) => m.subject === subject)).resolves.toHaveLength(1);
  });

  it('rejects waitFor on timeout, listing what did arrive', async () => {
    await expect(sink!.waitFor((m) => m.subject === 'never sent', { timeoutMs: 200 })).rejects.toThrow(
      /0 matched; 1 message\(s\) arrived:[\s\S]*Your licence request/,
    );
    sink!.clear();
    expect(sink!.messages).toHaveLength(0);
  });
});
