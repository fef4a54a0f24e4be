import { addDuration } from '../config/duration.js';
import type { RequestWithPeople } from '../db/repos/requests-repo.js';
import type { Repos } from '../db/store.js';
import { TOKEN_PLACEHOLDER, hashToken, newToken, replyAddress } from './tokens.js';
import type { DomainDeps } from './deps.js';
import { common, personView, requestView } from './views.js';

export interface ShareInput {
  request: RequestWithPeople;
  recipients: readonly string[];
  /** The admin who shared it, or null for the automatic share with the product's approvers. */
  sharedBy: string | null;
  subject?: string | null;
  message?: string | null;
  channel: 'email' | 'cli' | 'system';
}

/**
 * Shares a request with each recipient: a reply token of their own (only its hash stored) and
 * a shared-request mail, written to the outbox in the caller's transaction.
 */
export async function shareRequest(repos: Repos, deps: DomainDeps, input: ShareInput): Promise<void> {
  const rules = deps.rules();
  const now = deps.clock();
  const product = rules.product(input.request.productId);
  const seatsTotal = product?.seats ?? 0;
  const seatsLeft = Math.max(0, seatsTotal - (await repos.ledger.countAssigned(input.request.productId)));
  const view = requestView(rules, input.request);
  for (const recipient of input.recipients) {
    const token = newToken();
    const shareId = await repos.shares.insert({
      requestId: input.request.id,
      recipientEmail: recipient,
      tokenHash: hashToken(token),
      subject: input.subject ?? null,
      message: input.message ?? null,
      sharedBy: input.sharedBy,
      createdAt: now,
      expiresAt: addDuration(now, rules.security.tokenTtl),
    });
    await repos.outbox.enqueue(
      deps.composer.compose(
        'shared-request',
        {
          ...common(rules, recipient),
          request: view,
          seatsLeft,
          seatsTotal,
          // The template shows the address with a placeholder; the dispatcher puts the token in.
          replyAddress: replyAddress(rules.organization.mailbox, TOKEN_PLACEHOLDER),
          sharedBy: input.sharedBy ? personView(rules, input.sharedBy) : null,
          customSubject: input.subject ?? null,
          personalMessage: input.message ?? null,
        },
        { to: recipient, dedupeKey: `share:${shareId}`, requestId: input.request.id, replyToken: token },
      ),
    );
    await repos.audit.record({
      actor: input.sharedBy ?? 'mailgrant',
      channel: input.channel,
      action: 'request-shared',
      requestId: input.request.id,
      details: { recipient, shareId, subject: input.subject ?? null },
      at: now,
    });
  }
}
