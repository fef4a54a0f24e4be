import { subtractDuration } from '../config/duration.js';
import type { Repos } from '../db/store.js';
import type { Envelope } from '../mail/outbound/compose.js';
import type { MailDataByKind, MailKind } from '../mail/outbound/mail-data.js';
import type { DomainDeps } from './deps.js';

/**
 * Sends an answer that is not about a recorded request, at most once per recipient and kind per
 * `autoReplies.perSenderWindow`: if the sender is itself an auto-responder that slipped through
 * classification, the two cannot keep answering each other. False when one was already sent in
 * the window (nothing is sent).
 */
export async function sendWindowedAutoReply<K extends MailKind>(repos: Repos, deps: DomainDeps, kind: K, data: MailDataByKind[K], envelope: Envelope): Promise<boolean> {
  const now = deps.clock();
  if (await repos.autoReplies.sentSince(envelope.to, kind, subtractDuration(now, deps.rules().autoReplies.perSenderWindow))) return false;
  await repos.autoReplies.record(envelope.to, kind, now);
  await repos.outbox.enqueue(deps.composer.compose(kind, data, envelope));
  return true;
}
