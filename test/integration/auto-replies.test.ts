import { asc, eq } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as schema from '../../src/db/schema/index.js';
import { sha256 } from '../../src/mail/inbound/pipeline.js';
import { UNCLEAR_ANSWERS_PER_REQUEST } from '../../src/requests/replies.js';
import { TOKEN_PLACEHOLDER } from '../../src/requests/tokens.js';
import { exampleRules, startTestApp } from '../helpers/app.js';
import { buildMail, quoteBelow, type TestMail } from '../helpers/mail.js';

/**
 * Automatic mail is never answered and never decides (issue 5, item 2), and every answer
 * Mailgrant gives on its own goes at most once per sender (and kind) per window, so that an
 * auto-responder that slips through classification cannot keep a conversation with Mailgrant.
 */
const MAILBOX = 'licenses@contoso.example';
const DAY = 24 * 3600 * 1000;
type TestApp = Awaited<ReturnType<typeof startTestApp>>;

function helpers(get: () => TestApp) {
  const outbox = () => get().db.db.select().from(schema.outbox).orderBy(asc(schema.outbox.id));
  const deliverRaw = (raw: Buffer) => get().pipeline.handle(raw, { source: 'smtp' });
  const deliver = async (m: Partial<TestMail> & { from: string }) => deliverRaw(await buildMail({ to: MAILBOX, subject: '', ...m }));
  const inboundRow = async (raw: Buffer) => (await get().db.db.select().from(schema.inboundMessages).where(eq(schema.inboundMessages.rawHash, sha256(raw))))[0];
  const verdicts = async (requestId: number) =>
    (await get().db.db.select().from(schema.requestPeople).where(eq(schema.requestPeople.requestId, requestId)).orderBy(asc(schema.requestPeople.email))).map((p) => p.verdict);
  async function requestForThree(from = 'Alice Wong <alice@contoso.example>') {
    const r = await deliver({ from, subject: 'Visio licence please', text: 'Visio for me.\nAlso for: bob, Carol Jones' });
    expect(r).toMatchObject({ status: 'done', action: 'request-created' });
    const share = (await outbox()).find((m) => m.kind === 'shared-request' && m.requestId === r.requestId)!;
    return { requestId: r.requestId!, token: share.secrets![TOKEN_PLACEHOLDER]!, share };
  }
  return { outbox, deliver, deliverRaw, inboundRow, verdicts, requestForThree };
}

describe('automatic mail is recorded and nothing else happens, even with a valid token saying "approve"', () => {
  let app: TestApp;
  const h = helpers(() => app);
  let request: Awaited<ReturnType<typeof h.requestForThree>>;
  let quoted: string;

  beforeAll(async () => {
    app = await startTestApp({ databaseUrl: null });
    request = await h.requestForThree();
    quoted = quoteBelow('approve', request.share.text);
  });
  afterAll(async () => {
    await app.cleanup();
  });

  /** A reply to Dana's shared-request mail, to her reply address, that a human would have sent as a decision. */
  const reply = (over: Partial<TestMail> & { raw?: (m: Buffer) => Buffer } = {}) => {
    const { raw, ...mail } = over;
    if (mail.text) mail.text = mail.text.replace('%ORIGINAL%', quoteBelow('', request.share.text));
    return buildMail({ from: 'Dana Lee <dana@contoso.example>', to: `licenses+${request.token}@contoso.example`, subject: 'Re: Decision needed: Visio Plan 2', text: quoted, ...mail }).then((m) => (raw ? raw(m) : m));
  };
  const withTop = (header: string) => (m: Buffer) => Buffer.concat([Buffer.from(`${header}\r\n`), m]);

  it.each<[string, Partial<TestMail> & { raw?: (m: Buffer) => Buffer }, RegExp]>([
    ['Auto-Submitted: auto-replied', { headers: { 'Auto-Submitted': 'auto-replied' } }, /Auto-Submitted/],
    ['Auto-Submitted: auto-generated', { headers: { 'Auto-Submitted': 'auto-generated' } }, /Auto-Submitted/],
    ['Precedence: bulk', { headers: { Precedence: 'bulk' } }, /Precedence: bulk/],
    ['Precedence: junk', { headers: { Precedence: 'junk' } }, /Precedence: junk/],
    ['Precedence: list', { headers: { Precedence: 'list' } }, /Precedence: list/],
    ['List-Id (a list that has Dana on it)', { headers: { 'List-Id': 'IT team <it.lists.contoso.example>' } }, /list-id/],
    ['List-Unsubscribe', { headers: { 'List-Unsubscribe': '<mailto:leave@lists.contoso.example>' } }, /list-unsubscribe/],
    ['X-Autoreply', { headers: { 'X-Autoreply': 'yes' } }, /x-autoreply/],
    ['X-Autorespond', { headers: { 'X-Autorespond': 'Re: Decision needed' } }, /x-autorespond/],
    ['an empty Return-Path', { raw: withTop('Return-Path: <>') }, /empty Return-Path/],
    ['From mailer-daemon', { from: 'MAILER-DAEMON@contoso.example' }, /sender/],
    ['From postmaster', { from: 'postmaster@contoso.example' }, /sender/],
    ['From noreply', { from: 'noreply@contoso.example' }, /sender/],
    ['From Mailgrant itself', { from: `Contoso Licences <${MAILBOX}>` }, /Mailgrant itself/],
    ['a Mailgrant mail looped back', { headers: { 'X-Mailgrant-Kind': 'shared-request' } }, /Mailgrant mail/],
    ['an English out-of-office reply (Exchange)', { subject: 'Automatic reply: Decision needed: Visio Plan 2' }, /out-of-office/],
    ['an English out-of-office reply (generic)', { subject: 'Out of Office: Decision needed: Visio Plan 2' }, /out-of-office/],
    ['a French out-of-office reply', { subject: 'Réponse automatique : Decision needed: Visio Plan 2' }, /out-of-office/],
    ['a Traditional Chinese out-of-office reply', { subject: '自動回覆: Decision needed: Visio Plan 2' }, /out-of-office/],
    ['a German out-of-office reply', { subject: 'Automatische Antwort: Decision needed: Visio Plan 2' }, /out-of-office/],
    ['a Spanish out-of-office reply', { subject: 'Respuesta automática: Decision needed: Visio Plan 2' }, /out-of-office/],
    // What a vacation responder really sends: "approve" appears only in the quoted original.
    ['a Gmail vacation reply quoting the request', { subject: 'Re: Decision needed: Visio Plan 2', headers: { 'Auto-Submitted': 'auto-replied' }, text: 'I am on leave until 1 December.\n\n%ORIGINAL%' }, /Auto-Submitted/],
  ])('%s', async (_name, over, reason) => {
    const before = (await h.outbox()).length;
    const raw = await reply(over);
    const r = await h.deliverRaw(raw);
    expect(r).toMatchObject({ status: 'done', action: 'ignored' });
    expect(r.classification).toMatch(/^automatic: /);
    expect(r.classification).toMatch(reason);
    const row = await h.inboundRow(raw);
    expect(row).toMatchObject({ status: 'done', action: 'ignored', classification: r.classification });
    expect((await h.outbox()).length).toBe(before);
    expect(await h.verdicts(request.requestId)).toEqual([null, null, null]);
  });

  it('a real bounce (DSN, multipart/report) of the shared-request mail, carrying its token, is recorded and nothing else', async () => {
    const before = (await h.outbox()).length;
    const messageId = request.share.messageId.replace(TOKEN_PLACEHOLDER, request.token);
    const replyTo = request.share.replyTo!.replace(TOKEN_PLACEHOLDER, request.token);
    const dsn = [
      'Return-Path: <>',
      'Received: from mx.fabrikam.example by mx.contoso.example; Fri, 20 Nov 2026 15:05:00 +0000',
      'Date: Fri, 20 Nov 2026 15:05:00 +0000',
      'From: Mail Delivery System <MAILER-DAEMON@mx.fabrikam.example>',
      `To: ${replyTo}`,
      'Subject: Undelivered Mail Returned to Sender',
      'Message-ID: <20261120150500.ABC@mx.fabrikam.example>',
      `In-Reply-To: ${messageId}`,
      'Auto-Submitted: auto-replied',
      'MIME-Version: 1.0',
      'Content-Type: multipart/report; report-type=delivery-status; boundary="dsn-b"',
      '',
      'This is a MIME-encapsulated message.',
      '',
      '--dsn-b',
      'Content-Description: Notification',
      'Content-Type: text/plain; charset=us-ascii',
      '',
      'This is the mail system at host mx.fabrikam.example.',
      "I'm sorry to have to inform you that your message could not be delivered. approve",
      '',
      '--dsn-b',
      'Content-Description: Delivery report',
      'Content-Type: message/delivery-status',
      '',
      'Reporting-MTA: dns; mx.fabrikam.example',
      'Arrival-Date: Fri, 20 Nov 2026 15:04:59 +0000',
      '',
      'Final-Recipient: rfc822; dana@fabrikam.example',
      'Action: failed',
      'Status: 5.1.1',
      'Diagnostic-Code: smtp; 550 5.1.1 <dana@fabrikam.example>: Recipient address rejected',
      '',
      '--dsn-b',
      'Content-Description: Undelivered Message',
      'Content-Type: message/rfc822',
      '',
      `From: Contoso Licences <${MAILBOX}>`,
      `Reply-To: ${replyTo}`,
      'To: dana@fabrikam.example',
      `Message-ID: ${messageId}`,
      `Subject: ${request.share.subject}`,
      '',
      request.share.text,
      '',
      '--dsn-b--',
      '',
    ].join('\r\n');
    const raw = Buffer.from(dsn);
    const r = await h.deliverRaw(raw);
    expect(r).toMatchObject({ status: 'done', action: 'ignored', classification: 'automatic: delivery or disposition report' });
    expect(await h.inboundRow(raw)).toMatchObject({ status: 'done', classification: 'automatic: delivery or disposition report' });
    expect((await h.outbox()).length).toBe(before);
    expect(await h.verdicts(request.requestId)).toEqual([null, null, null]);
  });

  it('a read receipt (disposition notification) is recorded and nothing else', async () => {
    const before = (await h.outbox()).length;
    const raw = await reply({ raw: (m) => Buffer.from(m.toString('utf8').replace(/^Content-Type: [^\r\n]*(\r\n[ \t][^\r\n]*)*/im, 'Content-Type: multipart/report; report-type=disposition-notification; boundary="rr"')) });
    const r = await h.deliverRaw(raw);
    expect(r).toMatchObject({ status: 'done', action: 'ignored' });
    expect((await h.outbox()).length).toBe(before);
    expect(await h.verdicts(request.requestId)).toEqual([null, null, null]);
  });

  it('after all that, the same reply without the automatic markers decides (the token was valid all along)', async () => {
    expect(await h.deliverRaw(await reply())).toMatchObject({ action: 'decision-recorded' });
    expect(await h.verdicts(request.requestId)).toEqual(['approve', 'approve', 'approve']);
  });
});

describe('at most one auto-reply per sender and kind per window', () => {
  let app: TestApp;
  let now: Date;
  const h = helpers(() => app);
  const start = async (patch: (y: string) => string = (y) => y) => {
    now = new Date('2026-11-20T09:00:00Z');
    app = await startTestApp({ databaseUrl: null, rules: exampleRules(patch), clock: () => now });
  };
  afterEach(async () => {
    await app.cleanup();
  });
  const kinds = async (to: string) => (await h.outbox()).filter((m) => m.toAddress === to).map((m) => m.kind);

  it('an auto-responder that answers every mail with the same unknown-product request gets one answer per 7 days', async () => {
    await start();
    // Each of its mails is new (own Message-ID, own date), as a responder's would be.
    for (let i = 0; i < 5; i++) {
      const r = await h.deliver({ from: 'bob@contoso.example', subject: 'Re: We could not find that product', text: `Photoshop please (${i})`, messageId: `<loop-${i}@contoso.example>` });
      expect(r).toMatchObject({ status: 'done', classification: 'request', action: i === 0 ? 'unknown-product' : 'auto-reply-suppressed' });
      now = new Date(now.getTime() + 3600 * 1000);
    }
    expect(await kinds('bob@contoso.example')).toEqual(['unknown-product']);
    now = new Date(now.getTime() + 7 * DAY);
    expect(await h.deliver({ from: 'bob@contoso.example', subject: 'Photoshop please', text: 'again' })).toMatchObject({ action: 'unknown-product' });
    expect(await kinds('bob@contoso.example')).toEqual(['unknown-product', 'unknown-product']);
  });

  it('the window is autoReplies.perSenderWindow', async () => {
    await start((y) => `${y}autoReplies:\n  perSenderWindow: 1 day\n`);
    for (let i = 0; i < 3; i++) await h.deliver({ from: 'bob@contoso.example', subject: 'Photoshop please', text: String(i) });
    expect(await kinds('bob@contoso.example')).toEqual(['unknown-product']);
    now = new Date(now.getTime() + 25 * 3600 * 1000);
    await h.deliver({ from: 'bob@contoso.example', subject: 'Photoshop please', text: 'next day' });
    expect(await kinds('bob@contoso.example')).toEqual(['unknown-product', 'unknown-product']);
  });

  it('senders outside the directory, unknown people and the own request process are limited the same way, each kind on its own', async () => {
    await start();
    for (let i = 0; i < 5; i++) await h.deliver({ from: 'robot@fabrikam.example', subject: 'Visio please', text: String(i) });
    expect(await kinds('robot@fabrikam.example')).toEqual(['not-in-directory']);
    for (let i = 0; i < 5; i++) await h.deliver({ from: 'carol@contoso.example', subject: 'Acme Diagrams', text: `Also for: zed${'z'.repeat(i)}` });
    // A different kind for the same sender is answered once too.
    for (let i = 0; i < 3; i++) await h.deliver({ from: 'carol@contoso.example', subject: 'Photoshop', text: String(i) });
    expect(await kinds('carol@contoso.example')).toEqual(['unknown-people', 'unknown-product']);
    app.setRules(exampleRules((y) => y.replace('enabled: false', 'enabled: true')));
    for (let i = 0; i < 5; i++) await h.deliver({ from: 'remi@contoso.example', subject: 'Visio', text: String(i) });
    expect(await kinds('remi@contoso.example')).toEqual(['own-process']);
  });

  it('a sender that keeps re-sending a pending request is told it is a duplicate once per window', async () => {
    await start();
    const { requestId } = await h.requestForThree();
    for (let i = 0; i < 5; i++) {
      const r = await h.deliver({ from: 'alice@contoso.example', subject: 'Re: Your Visio Plan 2 licence request', text: `Visio please (${i})` });
      expect(r).toMatchObject({ status: 'done' });
    }
    expect(await kinds('alice@contoso.example')).toEqual(['acknowledgement', 'duplicate-request']);
    now = new Date(now.getTime() + 8 * DAY);
    await h.deliver({ from: 'alice@contoso.example', subject: 'Visio again', text: 'still waiting' });
    expect(await kinds('alice@contoso.example')).toEqual(['acknowledgement', 'duplicate-request', 'duplicate-request']);
    expect(await app.db.db.select().from(schema.requests)).toHaveLength(1);
    expect(await h.verdicts(requestId)).toEqual([null, null, null]);
  });

  it('unclear replies: an auto-responder repeating itself gets one answer; a decider\'s corrected attempt is still answered and decides', async () => {
    await start();
    const { requestId, token, share } = await h.requestForThree();
    const dana = (text: string, i: number) =>
      h.deliver({ from: 'Dana Lee <dana@contoso.example>', to: `licenses+${token}@contoso.example`, subject: 'Re: Decision needed', text: quoteBelow(text, share.text), messageId: `<d-${i}@contoso.example>` });
    const unclear = async () => (await h.outbox()).filter((m) => m.toAddress === 'dana@contoso.example' && m.kind === 'unclear-reply').length;
    // A responder without automatic headers, answering each of our unclear-reply mails with the same words.
    for (let i = 0; i < 5; i++) {
      const r = await dana('Thank you for your message. I will answer as soon as possible.', i);
      expect(r).toMatchObject({ status: 'done', classification: 'reply', action: i === 0 ? 'unclear' : 'auto-reply-suppressed' });
    }
    expect(await unclear()).toBe(1);
    // A person trying again with other words is answered...
    expect(await dana("don't approve bob", 10)).toMatchObject({ action: 'unclear' });
    expect(await unclear()).toBe(2);
    // ...and a clear reply decides as always.
    expect(await dana('approve alice', 11)).toMatchObject({ action: 'decision-recorded' });
    expect(await h.verdicts(requestId)).toEqual(['approve', null, null]);
    const audit = await app.db.db.select().from(schema.auditLog).where(eq(schema.auditLog.action, 'reply-unclear'));
    expect(audit).toHaveLength(6);
    expect(audit.filter((a) => a.details.answered === false)).toHaveLength(4);
  });

  it(`unclear replies: a responder that varies its words gets at most ${UNCLEAR_ANSWERS_PER_REQUEST} answers per request per window, and again after it`, async () => {
    await start();
    const { token, share } = await h.requestForThree();
    const dana = (text: string) =>
      h.deliver({ from: 'dana@contoso.example', to: `licenses+${token}@contoso.example`, subject: 'Re: Decision needed', text: quoteBelow(text, share.text) });
    for (let i = 0; i < 12; i++) await dana(`Auto response #${i}: I am away, ticket ${1000 + i} opened.`);
    const unclear = async () => (await h.outbox()).filter((m) => m.kind === 'unclear-reply').length;
    expect(await unclear()).toBe(UNCLEAR_ANSWERS_PER_REQUEST);
    now = new Date(now.getTime() + 8 * DAY);
    await dana('Auto response #99: I am away.');
    expect(await unclear()).toBe(UNCLEAR_ANSWERS_PER_REQUEST + 1);
  });

  it('two Mailgrant-like responders cannot loop: our own mail coming back is never answered', async () => {
    await start();
    const { requestId } = await h.requestForThree();
    // Every mail Mailgrant wrote so far, delivered back to it as a misconfigured relay would.
    for (const m of await h.outbox()) {
      const raw = await buildMail({ from: m.fromAddress, to: m.toAddress, subject: m.subject, text: m.text.replaceAll(TOKEN_PLACEHOLDER, 'x'), headers: m.headers, messageId: m.messageId.replace(TOKEN_PLACEHOLDER, 'x') });
      expect(await h.deliverRaw(raw)).toMatchObject({ status: 'done', action: 'ignored' });
    }
    expect((await h.outbox()).map((m) => m.kind)).toEqual(['acknowledgement', 'shared-request']);
    expect(await h.verdicts(requestId)).toEqual([null, null, null]);
  });
});
