import type { Repos } from '../db/store.js';
import type { MailKind, MailDataByKind } from '../mail/outbound/mail-data.js';
import { sendWindowedAutoReply } from './auto-reply.js';
import type { DomainDeps } from './deps.js';
import { matchPeople } from './people-match.js';
import { matchProducts } from './product-match.js';
import { shareRequest } from './sharing.js';
import { common, requestView } from './views.js';

/** A request mail as the domain sees it: no MIME, no IMAP. */
export interface RequestMail {
  from: string;
  subject: string;
  /** What the sender wrote (quotes and signatures removed). */
  body: string;
  messageId: string | null;
  /** The inbound record, so one message never creates two requests. */
  inboundId: number;
}

export type IntakeAction =
  | 'request-created'
  | 'own-process'
  | 'not-in-directory'
  | 'unknown-product'
  | 'unknown-people'
  | 'duplicate-request'
  | 'auto-reply-suppressed';

export interface IntakeResult { action: IntakeAction; requestId: number | null }

export async function handleRequestMail(repos: Repos, deps: DomainDeps, mail: RequestMail): Promise<IntakeResult> {
  const rules = deps.rules();
  const now = deps.clock();
  const from = mail.from.toLowerCase();

  /** Answers that are not about a recorded request: at most once per sender and kind per window. */
  const autoReply = async <K extends MailKind>(kind: K, data: MailDataByKind[K], action: IntakeAction): Promise<IntakeResult> => {
    const sent = await sendWindowedAutoReply(repos, deps, kind, data, { to: from, dedupeKey: `${kind}:inbound:${mail.inboundId}`, requestId: null, inReplyTo: mail.messageId });
    return { action: sent ? action : 'auto-reply-suppressed', requestId: null };
  };

  if (rules.ownRequestProcess.enabled) {
    return autoReply('own-process', { ...common(rules, from), message: rules.ownRequestProcess.message, link: rules.ownRequestProcess.link }, 'own-process');
  }
  const requester = rules.user(from);
  if (!requester) {
    return autoReply('not-in-directory', { ...common(rules, from), subjectLine: mail.subject }, 'not-in-directory');
  }
  const text = `${mail.subject}\n${mail.body}`;
  const products = matchProducts(text, rules.products);
  const product = products[0];
  if (!product) {
    return autoReply(
      'unknown-product',
      { ...common(rules, from), subjectLine: mail.subject, catalogue: rules.products.map((p) => ({ name: p.name, aliases: [...p.aliases] })) },
      'unknown-product',
    );
  }
  const people = matchPeople(text, rules, [from, rules.organization.mailbox]);
  if (people.unknown.length > 0) {
    return autoReply('unknown-people', { ...common(rules, from), productName: product.name, names: people.unknown }, 'unknown-people');
  }

  const requestId = await repos.requests.insertPending({
    productId: product.id,
    alternativeProductIds: products.slice(1).map((p) => p.id),
    requesterEmail: from,
    subject: mail.subject.slice(0, 500),
    sourceMessageId: mail.inboundId,
    createdAt: now,
  });
  if (requestId === null) {
    const existing = await repos.requests.findPending(from, product.id);
    const full = existing && (await repos.requests.get(existing.id));
    if (!full) throw new Error(`request insert for ${from}/${product.id} conflicted but no pending request exists`);
    // Limited like the answers above: a responder replying to our acknowledgement would otherwise
    // re-send the request and get a duplicate-request answer each time.
    const sent = await sendWindowedAutoReply(repos, deps, 'duplicate-request', { ...common(rules, from), request: requestView(rules, full) }, {
      to: from, dedupeKey: `duplicate-request:inbound:${mail.inboundId}`, requestId: full.id, inReplyTo: mail.messageId,
    });
    return { action: sent ? 'duplicate-request' : 'auto-reply-suppressed', requestId: full.id };
  }

  await repos.requests.addPeople(requestId, [
    { email: from, name: requester.name, isRequester: true },
    ...people.users.map((u) => ({ email: u.email, name: u.name, isRequester: false })),
  ]);
  const request = (await repos.requests.get(requestId))!;
  await repos.audit.record({
    actor: from, channel: 'email', action: 'request-created', requestId, at: now,
    details: { productId: product.id, people: request.people.map((p) => p.email), messageId: mail.messageId },
  });
  await repos.outbox.enqueue(
    deps.composer.compose('acknowledgement', { ...common(rules, from), request: requestView(rules, request) }, {
      to: from, dedupeKey: `acknowledgement:${requestId}`, requestId, inReplyTo: mail.messageId,
    }),
  );
  await shareRequest(repos, deps, { request, recipients: product.approvers, sharedBy: null, channel: 'system' });
  return { action: 'request-created', requestId };
}
