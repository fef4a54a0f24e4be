import { asc, eq } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import * as schema from '../../src/db/schema/index.js';
import { TOKEN_PLACEHOLDER } from '../../src/requests/tokens.js';
import { exampleRules, startTestApp } from '../helpers/app.js';
import { buildMail, quoteBelow, type TestMail } from '../helpers/mail.js';
import { startPostgres, type PgServer } from '../helpers/postgres.js';

const MAILBOX = 'licenses@contoso.example';

/**
 * The request → share → reply → outcome loop through the real pipeline and database, on both
 * drivers. Mail is inspected in the outbox table, where the domain writes it; the end-to-end
 * test covers real IMAP and SMTP.
 */
describe.each(['pglite', 'postgres'] as const)('core flow on %s', (driver) => {
  let pg: PgServer | null = null;
  let app: Awaited<ReturnType<typeof startTestApp>>;
  let rulesPatch: (y: string) => string = (y) => y;

  beforeAll(async () => {
    if (driver === 'postgres') pg = await startPostgres();
  });
  afterAll(async () => {
    await pg?.stop();
  });
  beforeEach(async () => {
    app = await startTestApp({ databaseUrl: pg ? await pg.createDatabase() : null, rules: exampleRules(rulesPatch) });
  });
  afterEach(async () => {
    await app.cleanup();
    rulesPatch = (y) => y;
  });

  const deliver = async (m: Partial<TestMail> & { from: string }) =>
    app.pipeline.handle(await buildMail({ to: MAILBOX, subject: '', ...m }), { source: 'smtp' });
  const outbox = () => app.db.db.select().from(schema.outbox).orderBy(asc(schema.outbox.id));
  const mailsTo = async (to: string, kind?: string) => (await outbox()).filter((m) => m.toAddress === to && (!kind || m.kind === kind));
  const people = async (requestId: number) =>
    app.db.db.select().from(schema.requestPeople).where(eq(schema.requestPeople.requestId, requestId)).orderBy(asc(schema.requestPeople.email));

  async function requestForThree(): Promise<{ requestId: number; token: string; shareText: string }> {
    const r = await deliver({ from: 'Alice Wong <alice@contoso.example>', subject: 'Visio licence please', text: 'Hi,\nI need Visio for the new floor plans.\nAlso for: bob, Carol Jones\n\nAlice' });
    expect(r).toMatchObject({ status: 'done', classification: 'request', action: 'request-created' });
    const [share] = await mailsTo('dana@contoso.example', 'shared-request');
    expect(share).toBeDefined();
    return { requestId: r.requestId!, token: share!.secrets![TOKEN_PLACEHOLDER]!, shareText: share!.text };
  }
  const reply = (from: string, token: string, answer: string, original: string) =>
    deliver({ from, to: `licenses+${token}@contoso.example`, subject: 'Re: Licence request', text: quoteBelow(answer, original) });

  it('records a request for the requester and the people named, acknowledges it and shares it with the approver', async () => {
    const { requestId, token, shareText } = await requestForThree();
    const [request] = await app.db.db.select().from(schema.requests).where(eq(schema.requests.id, requestId));
    expect(request).toMatchObject({ productId: 'visio-plan-2', requesterEmail: 'alice@contoso.example', status: 'pending' });
    expect((await people(requestId)).map((p) => [p.email, p.isRequester, p.verdict])).toEqual([
      ['alice@contoso.example', true, null],
      ['bob@contoso.example', false, null],
      ['carol@contoso.example', false, null],
    ]);
    expect(await mailsTo('alice@contoso.example', 'acknowledgement')).toHaveLength(1);
    expect(shareText).toContain('Visio Plan 2');
    // Only the token's hash is stored; the stored mail carries a placeholder instead of the token.
    const shares = await app.db.db.select().from(schema.shares);
    expect(shares).toHaveLength(1);
    expect(shares[0]!.tokenHash).not.toContain(token);
    const [shareMail] = await mailsTo('dana@contoso.example', 'shared-request');
    expect(shareMail!.replyTo).toBe(`licenses+${TOKEN_PLACEHOLDER}@contoso.example`);
    expect(JSON.stringify({ ...shareMail, secrets: null })).not.toContain(token);
    expect(shareMail!.headers).toMatchObject({ 'Auto-Submitted': 'auto-generated', 'X-Mailgrant-Kind': 'shared-request', 'X-Mailgrant-Request': String(requestId) });
  });

  it('"approve all except bob" from the approver approves alice and carol, denies bob, and sends one outcome each', async () => {
    const { requestId, token, shareText } = await requestForThree();
    const r = await reply('Dana Lee <dana@contoso.example>', token, 'approve all except bob: no budget for a third seat', shareText);
    expect(r).toMatchObject({ status: 'done', classification: 'reply', action: 'decision-recorded', requestId });
    expect((await people(requestId)).map((p) => [p.email, p.verdict, p.decidedBy, p.channel, p.comment])).toEqual([
      ['alice@contoso.example', 'approve', 'dana@contoso.example', 'email', 'no budget for a third seat'],
      ['bob@contoso.example', 'deny', 'dana@contoso.example', 'email', 'no budget for a third seat'],
      ['carol@contoso.example', 'approve', 'dana@contoso.example', 'email', 'no budget for a third seat'],
    ]);
    const [request] = await app.db.db.select().from(schema.requests).where(eq(schema.requests.id, requestId));
    expect(request!.status).toBe('completed');
    const outcomes = (await outbox()).filter((m) => m.kind.startsWith('outcome-'));
    expect(outcomes.map((m) => [m.toAddress, m.kind]).sort()).toEqual([
      ['alice@contoso.example', 'outcome-approved'],
      ['bob@contoso.example', 'outcome-denied'],
      ['carol@contoso.example', 'outcome-approved'],
    ]);
    expect(outcomes.find((m) => m.toAddress === 'bob@contoso.example')!.text).toContain('no budget for a third seat');
    const receipt = await mailsTo('dana@contoso.example', 'receipt');
    expect(receipt).toHaveLength(1);
    expect(receipt[0]!.text).toMatch(/Bob Smith/);
    // Two seats are now in use.
    const seats = await app.db.db.select().from(schema.assignments);
    expect(seats.map((s) => s.email).sort()).toEqual(['alice@contoso.example', 'carol@contoso.example']);
  });

  it('records nothing when the reply comes from someone other than the token\'s recipient, and tells the recipient', async () => {
    const { requestId, token, shareText } = await requestForThree();
    const r = await reply('Bob Smith <bob@contoso.example>', token, 'approve all except bob', shareText);
    expect(r).toMatchObject({ status: 'done', action: 'not-recipient' });
    expect((await people(requestId)).every((p) => p.verdict === null)).toBe(true);
    expect(await app.db.db.select().from(schema.assignments)).toHaveLength(0);
    expect(await mailsTo('bob@contoso.example', 'outcome-denied')).toHaveLength(0);
    expect(await mailsTo('dana@contoso.example', 'not-authorized')).toHaveLength(1);
  });

  it('a reply matched only through In-Reply-To still decides (servers that rewrite the plus address)', async () => {
    const { requestId, token, shareText } = await requestForThree();
    const r = await deliver({
      from: 'dana@contoso.example', to: MAILBOX, subject: 'Re: x', inReplyTo: `<share.${token}.0123456789abcdef0123@contoso.example>`, text: quoteBelow('deny', shareText),
    });
    expect(r).toMatchObject({ action: 'decision-recorded', requestId });
    expect((await people(requestId)).every((p) => p.verdict === 'deny')).toBe(true);
  });

  it('decides in steps; a replayed or later reply changes nothing and gets an "already decided" receipt', async () => {
    const { requestId, token, shareText } = await requestForThree();
    expect(await reply('dana@contoso.example', token, 'approve alice', shareText)).toMatchObject({ action: 'decision-recorded' });
    let rows = await people(requestId);
    expect(rows.map((p) => p.verdict)).toEqual(['approve', null, null]);
    expect((await outbox()).filter((m) => m.kind.startsWith('outcome-'))).toHaveLength(0);
    expect(await reply('dana@contoso.example', token, 'deny bob, approve carol', shareText)).toMatchObject({ action: 'decision-recorded' });
    rows = await people(requestId);
    expect(rows.map((p) => p.verdict)).toEqual(['approve', 'deny', 'approve']);
    expect((await outbox()).filter((m) => m.kind.startsWith('outcome-'))).toHaveLength(3);
    // A different later reply: nothing changes, and the receipt says who decided.
    expect(await reply('dana@contoso.example', token, 'deny alice', shareText)).toMatchObject({ action: 'already-decided' });
    expect((await people(requestId)).map((p) => p.verdict)).toEqual(['approve', 'deny', 'approve']);
    const receipts = await mailsTo('dana@contoso.example', 'receipt');
    expect(receipts.at(-1)!.text).toMatch(/Dana Lee/);
    expect((await outbox()).filter((m) => m.kind.startsWith('outcome-'))).toHaveLength(3);
  });

  it('a batch handled four at a time keeps one decider\'s replies in order and decides every request once', async () => {
    const a = await requestForThree();
    const others = [];
    for (const who of ['Bob Smith <bob@contoso.example>', 'Carol Jones <carol@contoso.example>']) {
      const r = await deliver({ from: who, subject: 'Visio please', text: 'I need Visio.' });
      const share = (await mailsTo('dana@contoso.example', 'shared-request')).find((m) => m.requestId === r.requestId)!;
      others.push({ requestId: r.requestId!, token: share.secrets![TOKEN_PLACEHOLDER]!, shareText: share.text });
    }
    const mail = (token: string, answer: string, original: string) =>
      buildMail({ from: 'dana@contoso.example', to: `licenses+${token}@contoso.example`, subject: 'Re: Licence request', text: quoteBelow(answer, original) });
    // Dana first approves everyone on the first request, then changes her mind: the first reply
    // must be the one that counts, as it would be handled one at a time.
    const items = [
      await mail(a.token, 'approve', a.shareText),
      await mail(others[0]!.token, 'deny', others[0]!.shareText),
      await mail(a.token, 'deny all', a.shareText),
      await mail(others[1]!.token, 'approve', others[1]!.shareText),
      await mail(a.token, 'deny bob', a.shareText),
    ].map((raw, i) => ({ raw, source: { source: 'imap' as const, mailbox: 'INBOX', uidValidity: 1, uid: 100 + i } }));
    const order: number[] = [];
    const results = await app.pipeline.handleMany(items, { concurrency: 4, keepGoing: () => true, onResult: (i) => order.push(i) });
    expect(results.map((r) => r?.action)).toEqual(['decision-recorded', 'decision-recorded', 'already-decided', 'decision-recorded', 'already-decided']);
    // Within the first request's lane, the replies were handled in the order given.
    expect(order.filter((i) => [0, 2, 4].includes(i))).toEqual([0, 2, 4]);
    expect((await people(a.requestId)).map((p) => p.verdict)).toEqual(['approve', 'approve', 'approve']);
    expect((await people(others[0]!.requestId)).map((p) => p.verdict)).toEqual(['deny']);
    expect((await people(others[1]!.requestId)).map((p) => p.verdict)).toEqual(['approve']);
    // Stopping: nothing more is started, and what was not tried says so.
    const more = [await mail(a.token, 'approve', a.shareText)].map((raw) => ({ raw, source: { source: 'imap' as const, mailbox: 'INBOX', uidValidity: 1, uid: 200 } }));
    expect(await app.pipeline.handleMany(more, { concurrency: 4, keepGoing: () => false })).toEqual([null]);
  });

  it('the same message delivered twice is handled once', async () => {
    const raw = await buildMail({ from: 'alice@contoso.example', to: MAILBOX, subject: 'Visio please', text: 'Visio for me' });
    expect((await app.pipeline.handle(raw, { source: 'smtp' })).status).toBe('done');
    expect((await app.pipeline.handle(raw, { source: 'imap', mailbox: 'INBOX', uidValidity: 1, uid: 7 })).status).toBe('duplicate');
    expect(await app.db.db.select().from(schema.requests)).toHaveLength(1);
    expect(await mailsTo('alice@contoso.example', 'acknowledgement')).toHaveLength(1);
  });

  it('unclear replies record nothing and say why', async () => {
    const { requestId, token, shareText } = await requestForThree();
    for (const answer of ["don't approve bob", 'approve zed', 'Thanks!', '']) {
      const r = await reply('dana@contoso.example', token, answer, shareText);
      expect(r).toMatchObject({ status: 'done', action: 'unclear' });
    }
    expect((await people(requestId)).every((p) => p.verdict === null)).toBe(true);
    const unclear = await mailsTo('dana@contoso.example', 'unclear-reply');
    expect(unclear).toHaveLength(4);
    expect(unclear[1]!.text).toContain('zed');
    // The unclear-reply mail carries the decider's reply address, so they can simply answer it.
    expect(unclear[0]!.secrets![TOKEN_PLACEHOLDER]).toBe(token);
  });

  it('refuses duplicates, unknown senders, unknown products and unknown people without recording anything', async () => {
    await deliver({ from: 'alice@contoso.example', subject: 'Visio please', text: '' });
    expect(await deliver({ from: 'alice@contoso.example', subject: 'Visio again', text: 'still need it' })).toMatchObject({ action: 'duplicate-request' });
    expect(await deliver({ from: 'mallory@evil.example', subject: 'Visio please' })).toMatchObject({ action: 'not-in-directory' });
    expect(await deliver({ from: 'bob@contoso.example', subject: 'Photoshop please' })).toMatchObject({ action: 'unknown-product' });
    expect(await deliver({ from: 'carol@contoso.example', subject: 'Acme Diagrams', text: 'Also for: zed' })).toMatchObject({ action: 'unknown-people' });
    expect(await app.db.db.select().from(schema.requests)).toHaveLength(1);
    expect((await outbox()).map((m) => m.kind)).toEqual(['acknowledgement', 'shared-request', 'duplicate-request', 'not-in-directory', 'unknown-product', 'unknown-people']);
    const unknown = await mailsTo('bob@contoso.example', 'unknown-product');
    expect(unknown[0]!.text).toContain('Acme Diagrams');
    expect((await mailsTo('carol@contoso.example', 'unknown-people'))[0]!.text).toContain('zed');
  });

  it('never answers automatic mail', async () => {
    const r = await deliver({ from: 'alice@contoso.example', subject: 'Automatic reply: Visio', headers: { 'Auto-Submitted': 'auto-replied' }, text: 'I am away' });
    expect(r).toMatchObject({ status: 'done', action: 'ignored' });
    expect(r.classification).toMatch(/^automatic/);
    expect(await outbox()).toHaveLength(0);
  });

  it('gives out no more seats than the product has; the rest wait and the decider and admins are told', async () => {
    await app.cleanup();
    rulesPatch = (y) => y.replace('seats: 10', 'seats: 2');
    app = await startTestApp({ databaseUrl: pg ? await pg.createDatabase() : null, rules: exampleRules(rulesPatch) });
    const { requestId, token, shareText } = await requestForThree();
    const r = await reply('dana@contoso.example', token, 'approve', shareText);
    expect(r).toMatchObject({ action: 'decision-recorded' });
    const rows = await people(requestId);
    expect(rows.filter((p) => p.verdict === 'approve')).toHaveLength(2);
    expect(rows.filter((p) => p.verdict === null)).toHaveLength(1);
    expect(await app.db.db.select().from(schema.assignments)).toHaveLength(2);
    const missing = await mailsTo('dana@contoso.example', 'seats-missing');
    expect(missing).toHaveLength(1);
    expect((await outbox()).filter((m) => m.kind.startsWith('outcome-'))).toHaveLength(0);
  });

  it('with the own request process on, answers with the admin\'s message and records nothing; earlier requests stay decidable', async () => {
    const { requestId, token, shareText } = await requestForThree();
    app.setRules(exampleRules((y) => y.replace('enabled: false', 'enabled: true')));
    const r = await deliver({ from: 'bob@contoso.example', subject: 'Acme Diagrams please' });
    expect(r).toMatchObject({ action: 'own-process' });
    const [mail] = await mailsTo('bob@contoso.example', 'own-process');
    expect(mail!.text).toContain('Ask on the IT portal.');
    expect(mail!.text).toContain('https://intranet.contoso.example/software');
    expect(mail!.headers['Auto-Submitted']).toBe('auto-replied');
    expect(await app.db.db.select().from(schema.requests)).toHaveLength(1);
    // The request recorded before is still decided by reply.
    expect(await reply('dana@contoso.example', token, 'approve', shareText)).toMatchObject({ action: 'decision-recorded', requestId });
    // Turned off again: requests are recorded as before.
    app.setRules(exampleRules());
    expect(await deliver({ from: 'bob@contoso.example', subject: 'Acme Diagrams please' })).toMatchObject({ action: 'request-created' });
  });
});
