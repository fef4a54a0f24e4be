import type { Repos } from '../db/store.js';
import { sendWindowedAutoReply } from './auto-reply.js';
import type { DomainDeps } from './deps.js';
import { common } from './views.js';

/** A message that could not be read, as far as its header block tells. */
export interface UnreadableMail {
  /** The From address, lower-case. */
  from: string;
  subject: string;
  messageId: string | null;
  /** Names the message (the hash of its bytes): one answer per message, however often it is seen. */
  key: string;
  /** Set when it was not read because it was over this many bytes (not because it was damaged). */
  limitBytes: number | null;
}

export type UnreadableAnswer =
  /** The sender was asked to send it again. */
  | 'asked-to-resend'
  /** Not a person of the directory: a stranger's unreadable mail is not answered (backscatter). */
  | 'not-in-directory'
  /** Already asked within `autoReplies.perSenderWindow`. */
  | 'already-asked';

/**
 * Asks the sender of a message that arrived damaged or cut off (or too large to read) to send it
 * again: a decider whose "approve" was quarantined would otherwise believe it recorded. Only
 * people of the directory are answered (a damaged mail's From may be forged, and strangers' mail
 * is not ours to answer), at most once per sender per window (`sendWindowedAutoReply`).
 */
export async function answerUnreadable(repos: Repos, deps: DomainDeps, mail: UnreadableMail): Promise<UnreadableAnswer> {
  const rules = deps.rules();
  if (!rules.user(mail.from)) return 'not-in-directory';
  const limitMb = mail.limitBytes === null ? null : Math.round((mail.limitBytes / (1024 * 1024)) * 10) / 10;
  const sent = await sendWindowedAutoReply(repos, deps, 'unreadable', { ...common(rules, mail.from), subjectLine: mail.subject, limitMb }, {
    to: mail.from, dedupeKey: `unreadable:${mail.key}`, requestId: null, inReplyTo: mail.messageId,
  });
  return sent ? 'asked-to-resend' : 'already-asked';
}
