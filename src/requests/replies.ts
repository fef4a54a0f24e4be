import { createHash } from 'node:crypto';
import { subtractDuration } from '../config/duration.js';
import type { Repos } from '../db/store.js';
import { applyDecisions } from './decisions.js';
import type { DomainDeps } from './deps.js';
import { interpretReply, type Interpretation } from './reply-grammar/index.js';
import { hashToken } from './tokens.js';
import { common, personView, requestView } from './views.js';

/** A reply to a shared-request mail as the domain sees it. */
export interface ReplyMail {
  from: string;
  token: string;
  /** What the person wrote above the quote. */
  text: string;
  messageId: string | null;
  inboundId: number;
  /** Whether the From domain is authenticated (DMARC), with how that was decided, for the audit trail. */
  authentication: { pass: boolean; detail: string };
}

export type ReplyAction =
  | 'decision-recorded'
  | 'already-decided'
  | 'unclear'
  | 'unknown-token'
  | 'expired-token'
  | 'not-recipient'
  | 'unauthenticated'
  /** An unclear reply left unanswered: its answer already went out within the window (see below). */
  | 'auto-reply-suppressed';

/** Different unclear texts answered per sender and request within autoReplies.perSenderWindow. */
export const UNCLEAR_ANSWERS_PER_REQUEST = 5;

export interface ReplyResult { action: ReplyAction; requestId: number | null; interpretation: Interpretation | null }

export async function handleReply(repos: Repos, deps: DomainDeps, mail: ReplyMail): Promise<ReplyResult> {
  const rules = deps.rules();
  const now = deps.clock();
  const from = mail.from.toLowerCase();
  const share = await repos.shares.findByTokenHash(hashToken(mail.token));
  // An unknown token gets no answer: answering would tell a forger which guesses are wrong.
  if (!share) return { action: 'unknown-token', requestId: null, interpretation: null };

  const request = await repos.requests.get(share.requestId, { forUpdate: true });
  if (!request) return { action: 'unknown-token', requestId: null, interpretation: null };
  const notify = async (reason: 'not-recipient' | 'forwarded' | 'expired' | 'completed' | 'unauthenticated') => {
    // Told to the token's owner, never to the replier: a forger learns nothing.
    await repos.outbox.enqueue(
      deps.composer.compose('not-authorized', { ...common(rules, share.recipientEmail), request: requestView(rules, request), reason, replier: from }, {
        to: share.recipientEmail, dedupeKey: `not-authorized:inbound:${mail.inboundId}`, requestId: request.id,
      }),
    );
    await repos.audit.record({
      actor: from, channel: 'email', action: 'reply-refused', requestId: request.id, at: now,
      details: { reason, tokenRecipient: share.recipientEmail, messageId: mail.messageId, authentication: mail.authentication.detail },
    });
  };
  if (from !== share.recipientEmail) {
    await notify('forwarded');
    return { action: 'not-recipient', requestId: request.id, interpretation: null };
  }
  if (!mail.authentication.pass) {
    // The From address may be forged: record nothing, and tell the real recipient rather than the sender.
    await notify('unauthenticated');
    return { action: 'unauthenticated', requestId: request.id, interpretation: null };
  }
  if (share.expiresAt.getTime() < now.getTime()) {
    await notify('expired');
    return { action: 'expired-token', requestId: request.id, interpretation: null };
  }

  const interpretation = interpretReply(
    mail.text,
    request.people.map((p) => ({ email: p.email, name: p.name, pending: p.verdict === null })),
  );
  const locale = rules.user(from)?.locale ?? interpretation.language ?? rules.organization.locale;
  const replyEnv = { to: from, requestId: request.id, inReplyTo: mail.messageId, replyToken: mail.token };

  if (interpretation.kind === 'unclear' && interpretation.reason.code !== 'nobody_pending') {
    /*
     * An auto-responder that slipped through classification answers our unclear-reply mail, and
     * its answer is unclear again: without a limit the two would answer each other for ever.
     * So, per sender and request within autoReplies.perSenderWindow, the same kept text is
     * answered once, and at most UNCLEAR_ANSWERS_PER_REQUEST different texts are answered. A
     * decider's corrected attempt (different text) still gets its answer; a responder that
     * repeats itself gets one, and one that varies its text gets a handful at most.
     */
    const since = subtractDuration(now, rules.autoReplies.perSenderWindow);
    const prefix = `unclear-reply:${request.id}:`;
    const textKind = `${prefix}${createHash('sha256').update(interpretation.text.toLowerCase().replace(/\s+/g, ' ').trim()).digest('hex').slice(0, 16)}`;
    const suppressed =
      (await repos.autoReplies.sentSince(from, textKind, since)) ||
      (await repos.autoReplies.countSince(from, prefix, since)) >= UNCLEAR_ANSWERS_PER_REQUEST;
    await repos.audit.record({ actor: from, channel: 'email', action: 'reply-unclear', requestId: request.id, at: now, details: { reason: interpretation.reason, messageId: mail.messageId, answered: !suppressed } });
    if (suppressed) return { action: 'auto-reply-suppressed', requestId: request.id, interpretation };
    await repos.autoReplies.record(from, textKind, now);
    await repos.outbox.enqueue(
      deps.composer.compose('unclear-reply', { ...common(rules, from, locale), request: requestView(rules, request), reason: interpretation.reason, keptText: interpretation.text }, {
        ...replyEnv, dedupeKey: `unclear:inbound:${mail.inboundId}`,
      }),
    );
    return { action: 'unclear', requestId: request.id, interpretation };
  }

  // "approve" when nobody is left undecided: tell them who decided, rather than "unclear".
  const decisions = interpretation.kind === 'decision' ? interpretation.decisions : request.people.map((p) => ({ user: p.email, verdict: p.verdict! }));
  const result = await applyDecisions(repos, deps, {
    requestId: request.id,
    locked: request,
    decisions,
    decider: from,
    channel: 'email',
    comment: interpretation.kind === 'decision' ? interpretation.comment : null,
    evidence: { messageId: mail.messageId, authentication: mail.authentication.detail, shareId: share.id },
    eventKey: `inbound:${mail.inboundId}`,
  });
  const byEmail = new Map(result.request.people.map((p) => [p.email, p]));
  const person = (email: string) => personView(rules, email, byEmail.get(email)?.name);
  await repos.outbox.enqueue(
    deps.composer.compose('receipt', {
      ...common(rules, from, locale),
      request: requestView(rules, result.request),
      recorded: result.recorded.map((r) => ({ person: person(r.email), verdict: r.verdict })),
      alreadyDecided: result.alreadyDecided.map((r) => ({ person: person(r.email), verdict: r.verdict, by: rules.displayName(r.by) })),
      waitingForSeats: result.waitingForSeats.map(person),
      comment: interpretation.kind === 'decision' ? interpretation.comment : null,
      completed: result.request.status === 'completed',
    }, { ...replyEnv, dedupeKey: `receipt:inbound:${mail.inboundId}` }),
  );
  return {
    action: result.recorded.length > 0 ? 'decision-recorded' : 'already-decided',
    requestId: request.id,
    interpretation,
  };
}
