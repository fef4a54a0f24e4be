import { asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as schema from '../../src/db/schema/index.js';
import { sha256 } from '../../src/mail/inbound/pipeline.js';
import { parseHeaderBlock } from '../../src/mail/inbound/parse.js';
import { TOKEN_PLACEHOLDER } from '../../src/requests/tokens.js';
import { exampleRules, startTestApp } from '../helpers/app.js';
import { buildMail, cutOff, quoteBelow, type TestMail } from '../helpers/mail.js';

/**
 * A message that arrives damaged or cut off is quarantined unread (nothing in it is acted on).
 * Its header block is still read: the record and the admins' alert say who sent it, and a
 * sender of the directory is asked to send it again, at most once per window, never when the
 * message looks automatic or comes from a stranger. Without that, a decider whose "approve" was
 * cut on its way believed it recorded.
 */
const MAILBOX = 'licenses@contoso.example';
const DAY = 24 * 3600 * 1000;
const CRLF = '\r\n';


/** The text part's Content-Transfer-Encoding header loses its first byte to a NUL (CI's seed 571686049). */
function damagedHeader(raw: Buffer): Buffer {
  const s = raw.toString('latin1');
  const at = s.indexOf('Content-Transfer-Encoding', s.indexOf('text/plain'));
  expect(at).toBeGreaterThan(0);
  return Buffer.from(`${s.slice(0, at)}\u0000${s.slice(at + 1)}`, 'latin1');
}

describe('an unreadable message', () => {
  let app: Awaited<ReturnType<typeof startTestApp>>;
  let now = new Date('2026-11-20T09:00:00Z');
  let requestId: number;
  let token: string;
  let shareText: string;

  const outbox = () => app.db.db.select().from(schema.outbox).orderBy(asc(schema.outbox.id));
  const handle = (raw: Buffer) => app.pipeline.handle(raw, { source: 'smtp' });
  const row = async (raw: Buffer) => (await app.db.db.select().from(schema.inboundMessages).where(eq(schema.inboundMessages.rawHash, sha256(raw))))[0];
  /** The mails the handling of `raw` added: the answers to its sender and the admins' alerts. */
  async function mailsFor(raw: Buffer): Promise<{ answers: (typeof schema.outbox.$inferSelect)[]; alerts: (typeof schema.outbox.$inferSelect)[] }> {
    const before = (await outbox()).length;
    expect(await handle(raw)).toMatchObject({ status: 'quarantined', classification: 'malformed' });
    const added = (await outbox()).slice(before);
    return { answers: added.filter((m) => m.kind === 'unreadable'), alerts: added.filter((m) => m.kind === 'admin-alert') };
  }
  const reply = (over: Partial<TestMail>) =>
    buildMail({ from: 'Dana Lee <dana@contoso.example>', to: `licenses+${token}@contoso.example`, subject: 'Re: Decision needed: Visio Plan 2', text: quoteBelow('approve', shareText), html: '<p>approve</p>', ...over });

  beforeAll(async () => {
    app = await startTestApp({ databaseUrl: null, clock: () => now });
    const r = await handle(await buildMail({ from: 'Alice Wong <alice@contoso.example>', to: MAILBOX, subject: 'Visio licence please', text: 'Visio for me.\nAlso for: bob' }));
    expect(r).toMatchObject({ status: 'done', action: 'request-created' });
    requestId = r.requestId!;
    const share = (await outbox()).find((m) => m.kind === 'shared-request' && m.requestId === requestId)!;
    token = share.secrets![TOKEN_PLACEHOLDER]!;
    shareText = share.text;
  });
  afterAll(async () => {
    await app?.cleanup();
  });

  it('from a decider, cut off after "approve": nothing is decided, the record and the alert name her, and she is asked to send it again', async () => {
    const raw = cutOff(await reply({ subject: 'Re: Decision needed: Visio Plan 2 (first try)' }));
    const { answers, alerts } = await mailsFor(raw);
    expect(await row(raw)).toMatchObject({ status: 'quarantined', fromAddress: 'dana@contoso.example', subject: 'Re: Decision needed: Visio Plan 2 (first try)' });
    expect(answers).toHaveLength(1);
    expect(answers[0]).toMatchObject({ toAddress: 'dana@contoso.example', requestId: null });
    expect(answers[0]!.subject).toContain('Re: Decision needed: Visio Plan 2 (first try)');
    expect(answers[0]!.text).toMatch(/damaged or incomplete[^]*nothing was done with it[^]*Please send it again/);
    expect(alerts).toHaveLength(exampleRules().admins.length);
    expect(alerts[0]!.text).toContain('From: dana@contoso.example');
    expect(alerts[0]!.text).toContain('Its sender was asked to send it again.');
    const people = await app.db.db.select().from(schema.requestPeople).where(eq(schema.requestPeople.requestId, requestId));
    expect(people.map((p) => p.verdict)).toEqual([null, null]);
  });

  it('the same message again (re-delivered): recorded once, answered once', async () => {
    const raw = cutOff(await reply({ subject: 'Re: Decision needed: Visio Plan 2 (first try)', messageId: '<same@dana.example>' }));
    const first = await mailsFor(raw);
    expect(first.answers).toHaveLength(0); // Dana was asked a moment ago (the window)
    const before = (await outbox()).length;
    expect(await handle(raw)).toMatchObject({ status: 'quarantined' });
    expect((await outbox()).length).toBe(before);
  });

  it('a second unreadable message within the window is not answered again (the alert says so); after the window it is', async () => {
    const again = await mailsFor(damagedHeader(await reply({ subject: 'Re: Decision needed: Visio Plan 2 (second try)' })));
    expect(again.answers).toEqual([]);
    expect(again.alerts[0]!.text).toContain('already asked');
    now = new Date(now.getTime() + 8 * DAY); // past autoReplies.perSenderWindow (7 days)
    const later = await mailsFor(damagedHeader(await reply({ subject: 'Re: Decision needed: Visio Plan 2 (third try)' })));
    expect(later.answers.map((m) => m.toAddress)).toEqual(['dana@contoso.example']);
  });

  it('is answered in the sender\'s language', async () => {
    const raw = cutOff(await buildMail({ from: '林美玲 <mei@contoso.example>', to: MAILBOX, subject: 'Visio 授權申請', text: '請幫我申請 Visio' }));
    const { answers } = await mailsFor(raw);
    expect(answers).toHaveLength(1);
    expect(answers[0]!.subject).toBe('無法讀取您的郵件「Visio 授權申請」，請重新寄出');
    expect(answers[0]!.text).toContain('請重新寄出');
  });

  it('without a subject: the answer reads without one', async () => {
    const { answers } = await mailsFor(cutOff(await buildMail({ from: 'carol@contoso.example', to: MAILBOX, subject: '', text: 'approve' })));
    expect(answers.map((m) => m.subject)).toEqual(['We couldn’t read your email — please send it again']);
    expect(answers[0]!.text).toContain('Your email reached us damaged or incomplete');
  });

  it('from a stranger, or looking automatic: quarantined and told to the admins only, saying why', async () => {
    const stranger = await mailsFor(cutOff(await buildMail({ from: 'someone@fabrikam.example', to: MAILBOX, subject: 'Visio', text: 'Visio please' })));
    expect(stranger.answers).toEqual([]);
    expect(stranger.alerts[0]!.text).toContain('From: someone@fabrikam.example');
    expect(stranger.alerts[0]!.text).toContain('not in the directory');
    const automatic = await mailsFor(cutOff(await buildMail({ from: 'bob@contoso.example', to: MAILBOX, subject: 'Out of Office: Visio', text: 'Away', headers: { 'Auto-Submitted': 'auto-replied' } })));
    expect(automatic.answers).toEqual([]);
    expect(automatic.alerts[0]!.text).toMatch(/looks automatic \(Auto-Submitted: auto-replied\): its sender was not told/);
  });

  it('too large to read (IMAP): its header block, fetched alone, names the sender, who is asked to send it smaller in their language', async () => {
    const before = (await outbox()).length;
    const headers = Buffer.from(`From: Rémi Durand <remi@contoso.example>${CRLF}To: ${MAILBOX}${CRLF}Subject: Devis Visio${CRLF}Message-ID: <big@contoso.example>${CRLF}${CRLF}`);
    const r = await app.pipeline.quarantineUnread({ source: 'imap', mailbox: 'INBOX', uidValidity: 1, uid: 7, size: 6_000_000 }, 'over the 5000000-byte limit', { limitBytes: 5_000_000, headers });
    expect(r).toMatchObject({ status: 'quarantined', classification: 'too-large' });
    const [rec] = await app.db.db.select().from(schema.inboundMessages).where(eq(schema.inboundMessages.rawHash, 'unread:INBOX:1:7'));
    expect(rec).toMatchObject({ status: 'quarantined', fromAddress: 'remi@contoso.example', subject: 'Devis Visio', messageId: '<big@contoso.example>' });
    const added = (await outbox()).slice(before);
    const answer = added.filter((m) => m.kind === 'unreadable');
    expect(answer.map((m) => [m.toAddress, m.subject])).toEqual([['remi@contoso.example', 'Nous n’avons pas pu lire votre e-mail « Devis Visio » : merci de le renvoyer']]);
    expect(answer[0]!.text).toContain('dépasse les 4,8 Mo que cette boîte accepte');
    expect(answer[0]!.text).toContain('sans pièces jointes volumineuses');
    expect(added.find((m) => m.kind === 'admin-alert')!.text).toMatch(/From: remi@contoso\.example[^]*Its sender was asked to send it again/);
    // Without its headers (the fetch failed), it is still quarantined and told to the admins.
    const bare = await app.pipeline.quarantineUnread({ source: 'imap', mailbox: 'INBOX', uidValidity: 1, uid: 8, size: 6_000_000 }, 'over the 5000000-byte limit', { limitBytes: 5_000_000, headers: null });
    expect(bare).toMatchObject({ status: 'quarantined' });
  });

  it('whose header block cannot be read either: the admins are told that nobody else was', async () => {
    const { answers, alerts } = await mailsFor(Buffer.from(`From: carol@contoso.example${CRLF}Subject: Visio${CRLF}Visio please`));
    expect(answers).toEqual([]);
    expect(alerts[0]!.text).toContain('From: unknown');
    expect(alerts[0]!.text).toContain('Its sender could not be read from its headers');
  });
});

describe('parseHeaderBlock', () => {
  it('reads the sender, subject and ids of a message whose body is damaged, NUL-free and without text', async () => {
    const raw = await buildMail({ from: 'Rémi Durand <remi@contoso.example>', to: MAILBOX, subject: 'Réponse : licence Visio', text: 'approuver', messageId: '<m1@contoso.example>', headers: { 'X-Note': 'a\u0000b' } });
    const head = await parseHeaderBlock(cutOff(raw));
    expect(head).toMatchObject({ from: 'remi@contoso.example', fromName: 'Rémi Durand', subject: 'Réponse : licence Visio', messageId: '<m1@contoso.example>', text: null, html: null });
    expect(head!.headers.get('x-note')).not.toContain('\u0000');
  });

  it('returns null without a header block, or with one over 64 KB', async () => {
    expect(await parseHeaderBlock(Buffer.from(`From: a@b.example${CRLF}no blank line`))).toBeNull();
    expect(await parseHeaderBlock(Buffer.from(`${CRLF}${CRLF}body`))).toBeNull();
    expect(await parseHeaderBlock(Buffer.from(`From: a@b.example${CRLF}X-Big: ${'a'.repeat(70_000)}${CRLF}${CRLF}body${CRLF}`))).toBeNull();
  });
});
