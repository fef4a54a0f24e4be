/**
 * Pending requests for the benchmark, and their replies in the mailbox.
 *
 * - Latency phases: requests go through Mailgrant for real (request mails to its SMTP intake);
 *   the shared-request mails at the sink give each request's token, Message-ID, subject and
 *   text, which the reply quotes.
 * - Backlog: 10,000 requests through the pipeline would take minutes and measure the request
 *   path, not the reply path, so rows are written directly (requests, request_people, shares
 *   with the SHA-256 of a fresh token, as src/requests/sharing.ts stores them), and each reply
 *   quotes a real shared-request mail from the latency phase with the requester, product and
 *   token swapped in.
 */
import { createHash } from 'node:crypto';
import type { ImapFlow } from 'imapflow';
import { simpleParser } from 'mailparser';
import type { Database } from '../../src/db/client.js';
import { requestPeople, requests, shares } from '../../src/db/schema/index.js';
import { extractReply } from '../../src/mail/inbound/extract-reply.js';
import { parseMessage } from '../../src/mail/inbound/parse.js';
import { hashToken, newToken } from '../../src/requests/tokens.js';
import type { DovecotServer } from '../../test/helpers/dovecot.js';
import { APPROVER, DOMAIN, MAILBOX, replyMail, requestMail, type Org, type Person, type Product, type ShareMail } from '../org.js';
import type { BenchSink, SinkMail } from '../sink.js';
import { smtpClient } from '../smtp-client.js';
import { log, pool, within } from '../util.js';

export interface SeededShare extends ShareMail {
  requestId: number;
  requester: Person;
  product: Product;
}

const TOKEN_IN_REPLY_TO = /licenses\+([a-z2-7]{26})@/;

/** Reads a shared-request mail kept by the sink into what a reply needs. */
export async function shareFromSink(m: SinkMail): Promise<ShareMail> {
  if (!m.raw) throw new Error('the sink did not keep the shared-request mail');
  const token = TOKEN_IN_REPLY_TO.exec(m.headers['reply-to'] ?? '')?.[1];
  if (!token) throw new Error(`shared-request mail for request ${m.requestId} has no personal Reply-To (${m.headers['reply-to']})`);
  const parsed = await simpleParser(m.raw);
  return { token, messageId: parsed.messageId ?? m.headers['message-id']!, subject: parsed.subject ?? '', text: parsed.text ?? '', html: typeof parsed.html === 'string' ? parsed.html : '' };
}

/** Sends request mails for pairs [from, from+count) to Mailgrant's SMTP intake; returns their shares. */
export async function seedThroughSmtp(o: { org: Org; sink: BenchSink; intakePort: number; from: number; count: number }): Promise<SeededShare[]> {
  const { org, sink } = o;
  const t = smtpClient({ port: o.intakePort, maxConnections: 4 });
  const before = new Set(sink.mails.filter((m) => m.kind === 'shared-request').map((m) => m.requestId));
  try {
    await within(
      pool(Array.from({ length: o.count }, (_, i) => o.from + i), 4, async (k) => {
        const { user, product } = org.pair(k);
        await t.sendMail({ envelope: { from: user.email, to: [MAILBOX] }, raw: await requestMail(user, product) });
      }),
      60_000 + o.count * 200,
      `Mailgrant's SMTP intake to accept ${o.count} request mails`,
    );
  } finally {
    t.close();
  }
  const shareMails = await sink.waitFor((m) => m.kind === 'shared-request' && !before.has(m.requestId), {
    count: o.count, timeoutMs: 30_000 + o.count * 100, what: `${o.count} shared-request mails (one per new request) at the sink`,
  });
  await sink.waitFor((m) => m.kind === 'acknowledgement' && !before.has(m.requestId), { count: o.count, timeoutMs: 30_000, what: `${o.count} acknowledgement mails at the sink` });
  const out: SeededShare[] = [];
  for (const m of shareMails) {
    const share = await shareFromSink(m);
    const ack = sink.mailsFor(m.requestId!).find((x) => x.kind === 'acknowledgement');
    const requester = ack && org.users.find((u) => ack.to.includes(u.email));
    const product = org.products.find((p) => share.text.includes(p.name));
    if (!requester || !product) throw new Error(`cannot tell the requester or product of request ${m.requestId} from its mails`);
    out.push({ ...share, requestId: m.requestId!, requester, product });
  }
  return out.sort((a, b) => a.requestId - b.requestId);
}

/** Writes `count` pending one-person requests shared with the approver, each with a fresh token. */
export async function seedRows(o: { db: Database; org: Org; from: number; count: number; template: SeededShare }): Promise<SeededShare[]> {
  const out: SeededShare[] = [];
  const at = new Date();
  const expiresAt = new Date(at.getTime() + 90 * 86_400_000);
  for (let start = 0; start < o.count; start += 1000) {
    const pairs = Array.from({ length: Math.min(1000, o.count - start) }, (_, i) => o.org.pair(o.from + start + i));
    await o.db.transaction(async (tx) => {
      const reqRows = await tx
        .insert(requests)
        .values(pairs.map((p) => ({ productId: p.product.id, requesterEmail: p.user.email, subject: `${p.product.name} licence`, createdAt: at })))
        .returning({ id: requests.id, requesterEmail: requests.requesterEmail, productId: requests.productId });
      const idOf = new Map(reqRows.map((r) => [`${r.requesterEmail}|${r.productId}`, r.id]));
      const withIds = pairs.map((p) => ({ ...p, requestId: idOf.get(`${p.user.email}|${p.product.id}`)!, token: newToken() }));
      await tx.insert(requestPeople).values(withIds.map((p) => ({ requestId: p.requestId, email: p.user.email, name: p.user.name, isRequester: true })));
      const shareRows = await tx
        .insert(shares)
        .values(withIds.map((p) => ({ requestId: p.requestId, recipientEmail: APPROVER.email, tokenHash: hashToken(p.token), createdAt: at, expiresAt })))
        .returning({ id: shares.id, requestId: shares.requestId });
      const shareIdOf = new Map(shareRows.map((s) => [s.requestId, s.id]));
      for (const p of withIds) out.push(swapInto(o.template, p.requestId, p.user, p.product, p.token, shareIdOf.get(p.requestId)!));
    });
  }
  return out;
}

/** The template's shared-request mail, as it would read for another request. */
function swapInto(t: SeededShare, requestId: number, user: Person, product: Product, token: string, shareId: number): SeededShare {
  const swap = (s: string) => s.split(t.token).join(token).split(t.requester.name).join(user.name).split(t.requester.email).join(user.email).split(t.product.name).join(product.name);
  // The Message-ID is built as src/mail/outbound/compose.ts builds it for a share.
  const unique = createHash('sha256').update(`share:${shareId}`).digest('hex').slice(0, 20);
  return { requestId, requester: user, product, token, messageId: `<share.${token}.${unique}@${DOMAIN}>`, subject: swap(t.subject), text: swap(t.text), html: swap(t.html) };
}

/** Fails early when a reply would not read as a plain "approve": the benchmark must time the happy path. */
export async function checkReply(raw: Buffer): Promise<void> {
  const msg = await parseMessage(raw);
  const got = extractReply({ text: msg.text, html: msg.html }).text;
  if (got.trim().toLowerCase() !== 'approve') throw new Error(`the benchmark's reply reads as ${JSON.stringify(got)} instead of "approve": fix bench/org.ts replyMail`);
}

/** APPENDs one reply per share to `user`'s INBOX over `connections` connections; returns the bytes appended. */
export async function appendReplies(o: { dovecot: DovecotServer; user: string; shares: readonly SeededShare[]; connections: number; progressEvery: number }): Promise<number> {
  const clients: ImapFlow[] = [];
  let bytes = 0;
  let done = 0;
  try {
    for (let i = 0; i < o.connections; i++) clients.push(await within(o.dovecot.client(o.user), 15_000, 'an IMAP connection for APPEND'));
    let next = 0;
    await Promise.all(
      clients.map(async (c) => {
        while (next < o.shares.length) {
          const share = o.shares[next++]!;
          const raw = await replyMail(share);
          bytes += raw.length;
          const r = await within(c.append('INBOX', raw), 30_000, `APPEND of the reply to request ${share.requestId}`);
          if (!r) throw new Error(`APPEND of the reply to request ${share.requestId} failed`);
          if (++done % o.progressEvery === 0) log(`  appended ${done}/${o.shares.length} replies`);
        }
      }),
    );
  } finally {
    await Promise.all(clients.map((c) => c.logout().catch(() => c.close())));
  }
  return bytes;
}
