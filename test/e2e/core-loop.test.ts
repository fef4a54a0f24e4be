import { asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as schema from '../../src/db/schema/index.js';
import { startTestApp } from '../helpers/app.js';
import { startDovecot, type DovecotServer } from '../helpers/dovecot.js';
import { buildMail, quoteBelow } from '../helpers/mail.js';
import { startPostgres, type PgServer } from '../helpers/postgres.js';
import { startSmtpSink, type ReceivedMail, type SmtpSink } from '../helpers/smtp-sink.js';
import { waitUntil } from '../helpers/wait.js';

/**
 * The whole loop over real servers: a request mail APPENDed to Dovecot → the shared-request mail
 * at the SMTP sink → the approver's reply APPENDed to Dovecot → decisions in PostgreSQL →
 * outcome mails at the sink, one each.
 */
describe('core loop over Dovecot, PostgreSQL and SMTP', () => {
  let pg: PgServer;
  let dovecot: DovecotServer;
  let sink: SmtpSink;
  let app: Awaited<ReturnType<typeof startTestApp>>;

  beforeAll(async () => {
    [pg, dovecot, sink] = await Promise.all([startPostgres(), startDovecot({ users: [{ user: 'licenses', password: 's3cret!pw' }] }), startSmtpSink()]);
    app = await startTestApp({
      databaseUrl: await pg.createDatabase(),
      env: { IMAP_URL: dovecot.imapUrl('licenses', 'INBOX'), SMTP_URL: sink.url, IMAP_POLL_SECONDS: '30' },
    });
    await app.start();
  });
  afterAll(async () => {
    await app?.cleanup();
    await Promise.all([sink?.stop(), dovecot?.stop(), pg?.stop()]);
  });

  const kind = (k: string, to?: string) => (m: ReceivedMail) => m.headers['x-mailgrant-kind'] === k && (!to || m.to.includes(to));
  const appendToInbox = async (raw: Buffer) => dovecot.append('licenses', 'INBOX', raw);

  it('request → share → "approve all except bob" → per-person decisions → one outcome mail each', async () => {
    await appendToInbox(
      await buildMail({ from: 'Alice Wong <alice@contoso.example>', to: 'licenses@contoso.example', subject: 'Visio licence', text: 'Hello,\nplease get Visio for me.\nAlso for: bob, carol\n' }),
    );
    const [share] = await sink.waitFor(kind('shared-request', 'dana@contoso.example'), { timeoutMs: 20_000 });
    const [ack] = await sink.waitFor(kind('acknowledgement', 'alice@contoso.example'));
    const requestId = Number(share!.headers['x-mailgrant-request']);
    expect(ack!.headers['x-mailgrant-request']).toBe(String(requestId));
    expect(share!.headers['auto-submitted']).toBe('auto-generated');
    const replyTo = /licenses\+([a-z2-7]{26})@contoso\.example/.exec(share!.headers['reply-to'] ?? '');
    expect(replyTo, 'the shared-request mail has a personal reply address').not.toBeNull();
    expect(share!.messageId).toContain(replyTo![1]);
    expect(share!.html).toContain('Visio Plan 2');

    // The IMAP message was moved out of INBOX only after the commit.
    await waitUntil(async () => {
      const c = await dovecot.client('licenses');
      try {
        const status = await c.status('INBOX', { messages: true });
        return status !== false && status.messages === 0;
      } finally {
        await c.logout();
      }
    }, { timeoutMs: 10_000 });

    await appendToInbox(
      await buildMail({
        from: 'Dana Lee <dana@contoso.example>',
        to: `licenses+${replyTo![1]}@contoso.example`,
        subject: `Re: ${share!.subject}`,
        inReplyTo: share!.messageId,
        references: [share!.messageId],
        text: quoteBelow('approve all except bob', share!.text),
      }),
    );
    const outcomes = await sink.waitFor((m) => /^outcome-/.test(m.headers['x-mailgrant-kind'] ?? ''), { count: 3, timeoutMs: 20_000 });
    await sink.waitFor(kind('receipt', 'dana@contoso.example'));

    const people = await app.db.db.select().from(schema.requestPeople).where(eq(schema.requestPeople.requestId, requestId)).orderBy(asc(schema.requestPeople.email));
    expect(people.map((p) => [p.email, p.verdict, p.decidedBy, p.channel])).toEqual([
      ['alice@contoso.example', 'approve', 'dana@contoso.example', 'email'],
      ['bob@contoso.example', 'deny', 'dana@contoso.example', 'email'],
      ['carol@contoso.example', 'approve', 'dana@contoso.example', 'email'],
    ]);
    expect(outcomes.map((m) => [m.to.join(','), m.headers['x-mailgrant-kind']]).sort()).toEqual([
      ['alice@contoso.example', 'outcome-approved'],
      ['bob@contoso.example', 'outcome-denied'],
      ['carol@contoso.example', 'outcome-approved'],
    ]);
    // Exactly one each: let the dispatcher run dry, then count.
    await app.dispatcher.drain();
    for (const who of ['alice', 'bob', 'carol']) {
      expect(sink.messages.filter((m) => /^outcome-/.test(m.headers['x-mailgrant-kind'] ?? '') && m.to.includes(`${who}@contoso.example`))).toHaveLength(1);
    }
    // The requester's outcome mail lists everyone's verdict.
    const alices = outcomes.find((m) => m.to.includes('alice@contoso.example'))!;
    expect(alices.text).toContain('Bob Smith');
  });

  it('the same reply from an address that is not the token\'s recipient records nothing', async () => {
    sink.clear();
    await appendToInbox(await buildMail({ from: 'carol@contoso.example', to: 'licenses@contoso.example', subject: 'Acme Diagrams please', text: 'Also for: bob' }));
    const [share] = await sink.waitFor(kind('shared-request', 'dana@contoso.example'), { timeoutMs: 20_000 });
    const requestId = Number(share!.headers['x-mailgrant-request']);
    const token = /licenses\+([a-z2-7]{26})@/.exec(share!.headers['reply-to'] ?? '')![1]!;
    await appendToInbox(
      await buildMail({ from: 'Bob Smith <bob@contoso.example>', to: `licenses+${token}@contoso.example`, subject: 'Re: x', inReplyTo: share!.messageId, text: quoteBelow('approve all except bob', share!.text) }),
    );
    // The token's recipient is told; that mail is the signal that the reply was handled.
    await sink.waitFor(kind('not-authorized', 'dana@contoso.example'), { timeoutMs: 20_000 });
    const people = await app.db.db.select().from(schema.requestPeople).where(eq(schema.requestPeople.requestId, requestId));
    expect(people.every((p) => p.verdict === null)).toBe(true);
    const inbound = await app.db.db.select().from(schema.inboundMessages).where(eq(schema.inboundMessages.requestId, requestId));
    expect(inbound.map((i) => i.action).sort()).toEqual(['not-recipient', 'request-created']);
    expect(sink.messages.filter((m) => /^outcome-/.test(m.headers['x-mailgrant-kind'] ?? ''))).toHaveLength(0);
  });
});
