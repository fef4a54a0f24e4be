import { createHash } from 'node:crypto';
import type { Rules } from '../../config/rules.js';
import type { OutboxInsert } from '../../db/repos/outbox-repo.js';
import { TOKEN_PLACEHOLDER, replyAddress, shareMessageIdLocal } from '../../requests/tokens.js';
import type { MailDataByKind, MailKind } from './mail-data.js';
import type { Renderer } from './render.js';

/** Kinds that answer someone's mail automatically (RFC 3834 "auto-replied"). */
const AUTO_REPLY_KINDS: ReadonlySet<MailKind> = new Set([
  'own-process', 'unknown-product', 'unknown-people', 'not-in-directory', 'duplicate-request', 'unclear-reply', 'receipt', 'acknowledgement',
  'unreadable',
]);

export interface Envelope {
  to: string;
  /** Names the logical mail; the outbox refuses a second mail with the same key. */
  dedupeKey: string;
  requestId: number | null;
  /** The Message-ID being answered, for threading. */
  inReplyTo?: string | null;
  /** The reply token of the recipient: goes into Reply-To and the Message-ID, never stored in clear. */
  replyToken?: string | null;
}

export interface MailComposer {
  compose<K extends MailKind>(kind: K, data: MailDataByKind[K], envelope: Envelope): OutboxInsert;
}

export function createMailComposer(deps: { renderer: Renderer; rules: () => Rules; clock?: () => Date }): MailComposer {
  const clock = deps.clock ?? (() => new Date());
  return {
    compose(kind, data, env) {
      const rules = deps.rules();
      const { mailbox, domain, name } = rules.organization;
      const rendered = deps.renderer.render(kind, data);
      const now = clock();
      const unique = createHash('sha256').update(env.dedupeKey).digest('hex').slice(0, 20);
      const withToken = Boolean(env.replyToken);
      const local = withToken ? shareMessageIdLocal(TOKEN_PLACEHOLDER, unique) : `mg.${kind}.${unique}`;
      const headers: Record<string, string> = {
        'Auto-Submitted': AUTO_REPLY_KINDS.has(kind) ? 'auto-replied' : 'auto-generated',
        'X-Mailgrant-Kind': kind,
        // Asks well-behaved auto-responders (Exchange, Gmail vacation) not to answer us.
        'X-Auto-Response-Suppress': 'All',
      };
      if (env.requestId !== null) headers['X-Mailgrant-Request'] = String(env.requestId);
      if (env.inReplyTo) headers['References'] = env.inReplyTo;
      return {
        dedupeKey: env.dedupeKey,
        messageId: `<${local}@${domain}>`,
        kind,
        requestId: env.requestId,
        toAddress: env.to,
        fromAddress: `"${name.replace(/["\\]/g, '')}" <${mailbox}>`,
        replyTo: withToken ? replyAddress(mailbox, TOKEN_PLACEHOLDER) : null,
        inReplyTo: env.inReplyTo ?? null,
        subject: rendered.subject,
        html: rendered.html,
        text: rendered.text,
        headers,
        secrets: withToken ? { [TOKEN_PLACEHOLDER]: env.replyToken! } : null,
        // The domain's clock, not the database's, so that retention and retries agree with it.
        createdAt: now,
        nextAttemptAt: now,
      };
    },
  };
}

/** Puts the secrets back into a stored mail just before it is sent. */
export function revealSecrets(value: string, secrets: Record<string, string> | null | undefined): string {
  if (!secrets) return value;
  let out = value;
  for (const [placeholder, secret] of Object.entries(secrets)) out = out.split(placeholder).join(secret);
  return out;
}
