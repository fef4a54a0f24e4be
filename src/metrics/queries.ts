import { and, desc, eq, gte, lte } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { compiled } from '../db/compiled.js';
import { inboundMessages } from '../db/schema/index.js';

const LOOKBACK_MS = 24 * 3600_000;

/**
 * When the reply that completed a request was received: the latest reply on that request that
 * recorded a decision, received no later than the outcome mail was queued (the outcome mail is
 * written in the same transaction as that reply). Read from the database rather than kept in
 * memory, so it holds across a restart and when another instance handled the reply. The lower
 * bound lets the query use the received_at index: that reply is received moments before the
 * outcome is queued (longer only when handling it failed and was retried).
 */
export async function replyReceivedAt(db: Database, requestId: number, queuedAt: Date): Promise<Date | null> {
  const rows = await latestDecidingReply(db, { requestId, from: new Date(queuedAt.getTime() - LOOKBACK_MS), to: queuedAt });
  const at = rows[0]?.at;
  return at ? new Date(at) : null;
}

const latestDecidingReply = compiled<{ requestId: number; from: Date; to: Date }, { at: Date }[]>((q, p) =>
  q
    .select({ at: inboundMessages.receivedAt })
    .from(inboundMessages)
    .where(
      and(
        eq(inboundMessages.requestId, p('requestId')),
        eq(inboundMessages.action, 'decision-recorded'),
        gte(inboundMessages.receivedAt, p('from', inboundMessages.receivedAt)),
        lte(inboundMessages.receivedAt, p('to', inboundMessages.receivedAt)),
      ),
    )
    .orderBy(desc(inboundMessages.receivedAt))
    .limit(1),
);
