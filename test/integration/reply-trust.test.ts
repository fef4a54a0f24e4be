import { generateKeyPairSync } from 'node:crypto';
import { asc, eq } from 'drizzle-orm';
import { dkimSign } from 'mailauth/lib/dkim/sign.js';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import * as schema from '../../src/db/schema/index.js';
import type { DnsResolver } from '../../src/mail/inbound/authenticate.js';
import { createInboundPipeline, type InboundPipeline } from '../../src/mail/inbound/pipeline.js';
import { TOKEN_PLACEHOLDER } from '../../src/requests/tokens.js';
import { exampleRules, memoryLogger, startTestApp } from '../helpers/app.js';
import { buildMail, quoteBelow, type TestMail } from '../helpers/mail.js';
import { startPostgres, type PgServer } from '../helpers/postgres.js';

/**
 * Who may decide (issue 5, item 1): a valid, unexpired token; the From address of the token's
 * recipient; people still pending; and, when the rules require it, a DMARC pass for the From
 * domain — from the organisation's own server's Authentication-Results header or from mailauth
 * with a DNS resolver the test controls. Everything else records nothing.
 */
const MAILBOX = 'licenses@contoso.example';
const DAY = 24 * 3600 * 1000;
const AUTH_RULES = (y: string) => `${y}security:\n  requireAuthentication: true\n  authservId: mx.contoso.example\n`;

/** DNS for contoso.example as a test decides it: a DKIM key under one selector and a DMARC record. */
function contosoDns(selector: string, publicKeyBase64: string): { resolver: DnsResolver; queries: string[] } {
  const queries: string[] = [];
  const resolver: DnsResolver = async (name, rrtype) => {
    queries.push(`${rrtype} ${name}`);
    if (rrtype === 'TXT' && name === `${selector}._domainkey.contoso.example`) return [[`v=DKIM1; k=rsa; p=${publicKeyBase64}`]];
    if (rrtype === 'TXT' && name === '_dmarc.contoso.example') return [['v=DMARC1; p=reject']];
    // What node:dns rejects with for a name that does not exist; mailauth reads err.code.
    throw Object.assign(new Error(`query${rrtype} ENOTFOUND ${name}`), { code: 'ENOTFOUND', hostname: name });
  };
  return { resolver, queries };
}

const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
const SELECTOR = 'mg2026';
const PRIVATE_PEM = keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const PUBLIC_B64 = keys.publicKey.export({ type: 'spki', format: 'der' }).toString('base64');

async function dkimSigned(message: Buffer, domain = 'contoso.example'): Promise<Buffer> {
  // The typings declare the single-signature fields as required; mailauth reads signatureData.
  const signed = await dkimSign(message, { signatureData: [{ signingDomain: domain, selector: SELECTOR, privateKey: PRIVATE_PEM }] } as never);
  expect(signed.errors).toEqual([]);
  return Buffer.concat([Buffer.from(signed.signatures), message]);
}

describe.each(['pglite', 'postgres'] as const)('who may decide, on %s', (driver) => {
  let pg: PgServer | null = null;
  let app: Awaited<ReturnType<typeof startTestApp>>;
  let now: Date;
  let dns: ReturnType<typeof contosoDns>;
  /** The app's modules with the test's DNS resolver in place of the real one. */
  let pipeline: InboundPipeline;

  beforeAll(async () => {
    if (driver === 'postgres') pg = await startPostgres();
  });
  afterAll(async () => {
    await pg?.stop();
  });
  async function start(patch: (y: string) => string = (y) => y): Promise<void> {
    now = new Date('2026-11-20T09:00:00Z');
    app = await startTestApp({ databaseUrl: pg ? await pg.createDatabase() : null, rules: exampleRules(patch), clock: () => now });
    dns = contosoDns(SELECTOR, PUBLIC_B64);
    pipeline = createInboundPipeline({ store: app.store, domain: app.domain, logger: memoryLogger().logger, onOutbox: () => {}, resolver: dns.resolver });
  }
  /** The rules patch of the tests about to run (a nested describe sets its own). */
  let patch: (y: string) => string = (y) => y;
  beforeEach(async () => {
    await start(patch);
  });
  afterEach(async () => {
    await app.cleanup();
  });

  const handle = (raw: Buffer) => pipeline.handle(raw, { source: 'smtp' });
  const deliver = async (m: Partial<TestMail> & { from: string }) => handle(await buildMail({ to: MAILBOX, subject: '', ...m }));
  const outbox = () => app.db.db.select().from(schema.outbox).orderBy(asc(schema.outbox.id));
  const mailsTo = async (to: string, kind?: string) => (await outbox()).filter((m) => m.toAddress === to && (!kind || m.kind === kind));
  const verdicts = async (requestId: number) =>
    (await app.db.db.select().from(schema.requestPeople).where(eq(schema.requestPeople.requestId, requestId)).orderBy(asc(schema.requestPeople.email))).map((p) => p.verdict);
  const audit = (action: string) => app.db.db.select().from(schema.auditLog).where(eq(schema.auditLog.action, action)).orderBy(asc(schema.auditLog.id));

  async function requestForThree(): Promise<{ requestId: number; token: string; shareText: string }> {
    const r = await deliver({ from: 'Alice Wong <alice@contoso.example>', subject: 'Visio licence please', text: 'Visio for me.\nAlso for: bob, Carol Jones' });
    expect(r).toMatchObject({ status: 'done', action: 'request-created' });
    const [share] = await mailsTo('dana@contoso.example', 'shared-request');
    return { requestId: r.requestId!, token: share!.secrets![TOKEN_PLACEHOLDER]!, shareText: share!.text };
  }
  const replyMail = (from: string, token: string, answer: string, original: string, extra: Partial<TestMail> = {}) =>
    buildMail({ from, to: `licenses+${token}@contoso.example`, subject: 'Re: Decision needed: Visio Plan 2', text: quoteBelow(answer, original), ...extra });

  describe('tokens', () => {
    it('an expired reply address records nothing, and its recipient is told', async () => {
      const { requestId, token, shareText } = await requestForThree();
      now = new Date(now.getTime() + 91 * DAY); // tokenTtl is 90 days
      const before = (await outbox()).length;
      const r = await handle(await replyMail('Dana Lee <dana@contoso.example>', token, 'approve', shareText));
      expect(r).toMatchObject({ status: 'done', classification: 'reply', action: 'expired-token', requestId });
      expect(await verdicts(requestId)).toEqual([null, null, null]);
      const added = (await outbox()).slice(before);
      expect(added.map((m) => [m.toAddress, m.kind])).toEqual([['dana@contoso.example', 'not-authorized']]);
      expect(added[0]!.text).toMatch(/expired/);
      expect(await app.db.db.select().from(schema.assignments)).toHaveLength(0);
    });

    it('a reply address still within its validity decides (the day before it expires)', async () => {
      const { requestId, token, shareText } = await requestForThree();
      now = new Date(now.getTime() + 89 * DAY);
      expect(await handle(await replyMail('dana@contoso.example', token, 'approve', shareText))).toMatchObject({ action: 'decision-recorded' });
      expect(await verdicts(requestId)).toEqual(['approve', 'approve', 'approve']);
    });

    it.each([
      ['an unknown, well-formed token', (t: string) => `licenses+${'a'.repeat(t.length)}@contoso.example`],
      ['a truncated token', (t: string) => `licenses+${t.slice(0, -1)}@contoso.example`],
      ['a token with one character too many', (t: string) => `licenses+${t}q@contoso.example`],
      ['a token with characters outside its alphabet', (t: string) => `licenses+${t.slice(0, 10)}0189${t.slice(14)}@contoso.example`],
      ['an empty token', () => 'licenses+@contoso.example'],
    ])('%s records nothing and gets no answer (and never becomes a new request)', async (_name, address) => {
      const { requestId, token, shareText } = await requestForThree();
      const before = (await outbox()).length;
      // The subject names the product and a person: read as a request it would create one.
      const r = await handle(await buildMail({
        from: 'Dana Lee <dana@contoso.example>', to: address(token), subject: 'Re: Decision needed: Visio Plan 2 licence request #1 from Alice Wong', text: quoteBelow('approve', shareText),
      }));
      expect(r).toMatchObject({ status: 'done', classification: 'reply', action: 'unknown-token' });
      expect(await verdicts(requestId)).toEqual([null, null, null]);
      expect((await outbox()).length).toBe(before);
      expect(await app.db.db.select().from(schema.requests)).toHaveLength(1);
    });

    it('a garbled token in In-Reply-To (address rewritten by a server) records nothing and gets no answer', async () => {
      const { requestId, token, shareText } = await requestForThree();
      const before = (await outbox()).length;
      const r = await deliver({
        from: 'dana@contoso.example', subject: 'Re: Decision needed: Visio Plan 2 licence request #1 from Alice Wong', text: quoteBelow('approve', shareText),
        inReplyTo: `<share.${token.slice(0, 20)}.0123456789abcdef0123@contoso.example>`,
      });
      expect(r).toMatchObject({ status: 'done', action: 'unknown-token' });
      expect(await verdicts(requestId)).toEqual([null, null, null]);
      expect((await outbox()).length).toBe(before);
      expect(await app.db.db.select().from(schema.requests)).toHaveLength(1);
    });
  });

  describe('the token\'s recipient only', () => {
    it('a forwarded share answered by another directory user records nothing; the recipient is told, the replier gets nothing', async () => {
      const { requestId, token, shareText } = await requestForThree();
      const before = (await outbox()).length;
      const r = await handle(await replyMail('Carol Jones <carol@contoso.example>', token, 'approve all', `---------- Forwarded message ---------\nFrom: Dana Lee <dana@contoso.example>\n\n${shareText}`));
      expect(r).toMatchObject({ status: 'done', action: 'not-recipient', requestId });
      expect(await verdicts(requestId)).toEqual([null, null, null]);
      const added = (await outbox()).slice(before);
      expect(added.map((m) => [m.toAddress, m.kind])).toEqual([['dana@contoso.example', 'not-authorized']]);
      expect(added[0]!.text).toContain('carol@contoso.example');
      expect(added[0]!.text).toMatch(/forwarded copy/);
      const [refused] = await audit('reply-refused');
      expect(refused!.details).toMatchObject({ reason: 'forwarded', tokenRecipient: 'dana@contoso.example' });
      // The recipient can still decide afterwards.
      expect(await handle(await replyMail('dana@contoso.example', token, 'approve', shareText))).toMatchObject({ action: 'decision-recorded' });
    });

    it('a reply from outside the organisation with the token records nothing and tells the recipient only', async () => {
      const { requestId, token, shareText } = await requestForThree();
      const before = (await outbox()).length;
      expect(await handle(await replyMail('Mallory <mallory@evil.example>', token, 'approve', shareText))).toMatchObject({ action: 'not-recipient' });
      expect(await verdicts(requestId)).toEqual([null, null, null]);
      expect((await outbox()).slice(before).map((m) => [m.toAddress, m.kind])).toEqual([['dana@contoso.example', 'not-authorized']]);
    });
  });

  describe('decided once', () => {
    it('a replayed reply (same text, new Message-ID) changes nothing; the receipt says already decided, and by whom', async () => {
      const { requestId, token, shareText } = await requestForThree();
      const first = await replyMail('dana@contoso.example', token, 'approve alice', shareText, { messageId: '<first@contoso.example>' });
      expect(await handle(first)).toMatchObject({ action: 'decision-recorded' });
      expect(await verdicts(requestId)).toEqual(['approve', null, null]);
      const replay = await replyMail('dana@contoso.example', token, 'approve alice', shareText, { messageId: '<replay@contoso.example>' });
      expect(await handle(replay)).toMatchObject({ status: 'done', action: 'already-decided' });
      expect(await verdicts(requestId)).toEqual(['approve', null, null]);
      const receipts = await mailsTo('dana@contoso.example', 'receipt');
      expect(receipts).toHaveLength(2);
      expect(receipts[1]!.text).toMatch(/Already decided before your reply/);
      expect(receipts[1]!.text).toMatch(/Alice Wong — approved by Dana Lee/);
      expect(receipts[1]!.text).toMatch(/Nothing new was recorded/);
      expect(await app.db.db.select().from(schema.assignments)).toHaveLength(1);
      // The very same bytes again are a duplicate: not even a second receipt.
      expect(await handle(replay)).toMatchObject({ status: 'duplicate' });
      expect(await mailsTo('dana@contoso.example', 'receipt')).toHaveLength(2);
    });

    it('a reply after the request completed changes nothing; the receipt says already decided', async () => {
      const { requestId, token, shareText } = await requestForThree();
      expect(await handle(await replyMail('dana@contoso.example', token, 'approve all except bob', shareText))).toMatchObject({ action: 'decision-recorded' });
      const [request] = await app.db.db.select().from(schema.requests).where(eq(schema.requests.id, requestId));
      expect(request!.status).toBe('completed');
      const outcomes = (await outbox()).filter((m) => m.kind.startsWith('outcome-')).length;
      now = new Date(now.getTime() + 2 * DAY);
      for (const answer of ['approve bob', 'deny all', 'approve']) {
        expect(await handle(await replyMail('dana@contoso.example', token, answer, shareText))).toMatchObject({ action: 'already-decided' });
      }
      expect(await verdicts(requestId)).toEqual(['approve', 'deny', 'approve']);
      const receipts = await mailsTo('dana@contoso.example', 'receipt');
      expect(receipts).toHaveLength(4);
      for (const r of receipts.slice(1)) expect(r.text).toMatch(/Already decided before your reply[\s\S]*by Dana Lee/);
      expect((await outbox()).filter((m) => m.kind.startsWith('outcome-'))).toHaveLength(outcomes);
      expect((await app.db.db.select().from(schema.assignments)).map((a) => a.email).sort()).toEqual(['alice@contoso.example', 'carol@contoso.example']);
    });
  });

  describe('with security.requireAuthentication', () => {
    beforeAll(() => {
      patch = AUTH_RULES;
    });
    afterAll(() => {
      patch = (y) => y;
    });

    const withHeaders = (top: string[], message: Buffer) => Buffer.concat([Buffer.from(top.map((h) => `${h}\r\n`).join('')), message]);

    it('a dmarc=pass from the organisation\'s own server (its authserv-id) decides, and the audit log says how it was authenticated', async () => {
      const { requestId, token, shareText } = await requestForThree();
      const raw = withHeaders(['Authentication-Results: mx.contoso.example;\r\n\tspf=pass smtp.mailfrom=contoso.example;\r\n\tdmarc=pass header.from=contoso.example'], await replyMail('dana@contoso.example', token, 'approve', shareText));
      expect(await handle(raw)).toMatchObject({ action: 'decision-recorded' });
      expect(await verdicts(requestId)).toEqual(['approve', 'approve', 'approve']);
      const approved = await audit('person-approved');
      expect(approved).toHaveLength(3);
      expect(approved[0]!.details).toMatchObject({ authentication: 'authentication-results: dmarc=pass by mx.contoso.example' });
      // The header sufficed: no DNS was asked.
      expect(dns.queries).toEqual([]);
    });

    it('a dmarc=fail from the organisation\'s own server records nothing, and the recipient is told', async () => {
      const { requestId, token, shareText } = await requestForThree();
      const before = (await outbox()).length;
      const raw = withHeaders(['Authentication-Results: mx.contoso.example; dmarc=fail (p=reject) header.from=contoso.example'], await replyMail('dana@contoso.example', token, 'approve', shareText));
      expect(await handle(raw)).toMatchObject({ action: 'unauthenticated' });
      expect(await verdicts(requestId)).toEqual([null, null, null]);
      const added = (await outbox()).slice(before);
      expect(added.map((m) => m.kind)).toEqual(['not-authorized']);
      expect(added[0]!.text).toMatch(/could not be verified/);
      const [refused] = await audit('reply-refused');
      expect(refused!.details).toMatchObject({ reason: 'unauthenticated', authentication: 'authentication-results: dmarc=fail by mx.contoso.example' });
    });

    it('a dmarc=pass from another authserv-id is ignored; mailauth then finds no DKIM and nothing is recorded', async () => {
      const { requestId, token, shareText } = await requestForThree();
      const raw = withHeaders(['Authentication-Results: evil.example; dmarc=pass header.from=contoso.example'], await replyMail('dana@contoso.example', token, 'approve', shareText));
      expect(await handle(raw)).toMatchObject({ action: 'unauthenticated' });
      expect(await verdicts(requestId)).toEqual([null, null, null]);
      const [refused] = await audit('reply-refused');
      expect(String(refused!.details.authentication)).toMatch(/^mailauth: dmarc=(fail|none)/);
      // mailauth did look the domain's DMARC policy up through the test's resolver.
      expect(dns.queries).toContain('TXT _dmarc.contoso.example');
    });

    it('a forged pass with the trusted authserv-id below the organisation\'s own header does not count', async () => {
      const { requestId, token, shareText } = await requestForThree();
      // The server's own header (on top) has no DMARC result; the sender wrote one further down.
      const message = await replyMail('dana@contoso.example', token, 'approve', shareText, {
        headers: { 'Authentication-Results': 'mx.contoso.example; dmarc=pass header.from=contoso.example' },
      });
      const raw = withHeaders(['Authentication-Results: mx.contoso.example; spf=softfail smtp.mailfrom=contoso.example'], message);
      expect(await handle(raw)).toMatchObject({ action: 'unauthenticated' });
      expect(await verdicts(requestId)).toEqual([null, null, null]);
    });

    it('a pass for another From domain does not count', async () => {
      const { requestId, token, shareText } = await requestForThree();
      const raw = withHeaders(['Authentication-Results: mx.contoso.example; dmarc=pass header.from=evil.example'], await replyMail('dana@contoso.example', token, 'approve', shareText));
      expect(await handle(raw)).toMatchObject({ action: 'unauthenticated' });
      expect(await verdicts(requestId)).toEqual([null, null, null]);
    });

    it('a reply DKIM-signed for contoso.example decides through mailauth, with the result in the audit log', async () => {
      const { requestId, token, shareText } = await requestForThree();
      const raw = await dkimSigned(await replyMail('Dana Lee <dana@contoso.example>', token, 'approve all except bob: no budget', shareText));
      expect(await handle(raw)).toMatchObject({ status: 'done', action: 'decision-recorded', requestId });
      expect(await verdicts(requestId)).toEqual(['approve', 'deny', 'approve']);
      expect(dns.queries).toContain(`TXT ${SELECTOR}._domainkey.contoso.example`);
      const decided = [...(await audit('person-approved')), ...(await audit('person-denied'))];
      expect(decided).toHaveLength(3);
      for (const row of decided) expect(row.details).toMatchObject({ authentication: 'mailauth: dmarc=pass', messageId: expect.any(String) });
    });

    it('a DKIM-signed reply whose body was changed after signing records nothing', async () => {
      const { requestId, token, shareText } = await requestForThree();
      const signed = (await dkimSigned(await replyMail('dana@contoso.example', token, 'deny all', shareText))).toString('utf8');
      const tampered = Buffer.from(signed.replace('deny all', 'approve all'));
      expect(await handle(tampered)).toMatchObject({ action: 'unauthenticated' });
      expect(await verdicts(requestId)).toEqual([null, null, null]);
    });

    it('a reply DKIM-signed by another domain (no alignment) records nothing', async () => {
      const { requestId, token, shareText } = await requestForThree();
      const raw = await dkimSigned(await replyMail('dana@contoso.example', token, 'approve', shareText), 'evil.example');
      expect(await handle(raw)).toMatchObject({ action: 'unauthenticated' });
      expect(await verdicts(requestId)).toEqual([null, null, null]);
    });

    it('authentication does not let anyone else decide: a DKIM-valid reply from another user with the token is still refused', async () => {
      const { requestId, token, shareText } = await requestForThree();
      const raw = await dkimSigned(await replyMail('carol@contoso.example', token, 'approve', shareText));
      expect(await handle(raw)).toMatchObject({ action: 'not-recipient' });
      expect(await verdicts(requestId)).toEqual([null, null, null]);
    });

    it('an authenticated reply with an expired token records nothing', async () => {
      const { requestId, token, shareText } = await requestForThree();
      now = new Date(now.getTime() + 91 * DAY);
      const raw = await dkimSigned(await replyMail('dana@contoso.example', token, 'approve', shareText));
      expect(await handle(raw)).toMatchObject({ action: 'expired-token' });
      expect(await verdicts(requestId)).toEqual([null, null, null]);
    });
  });
});
