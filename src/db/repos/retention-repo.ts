import { and, inArray, lt } from 'drizzle-orm';
import type { Queryable } from '../client.js';
import { autoReplies, inboundMessages, outbox, requests } from '../schema/index.js';

export type RetentionCounts = { requests: number; inbound: number; outbox: number; autoReplies: number };

export function createRetentionRepo(q: Queryable) {
  return {
    /** Deletes everything older than the cutoffs; people and shares go with their request (ON DELETE CASCADE). */
    async purge(cutoff: Date, autoReplyCutoff: Date): Promise<RetentionCounts> {
      const r = await q.delete(requests).where(lt(requests.createdAt, cutoff)).returning({ id: requests.id });
      const i = await q.delete(inboundMessages).where(lt(inboundMessages.receivedAt, cutoff)).returning({ id: inboundMessages.id });
      // Mail still waiting to go out is kept whatever its age: deleting it would lose it.
      const o = await q
        .delete(outbox)
        .where(and(lt(outbox.createdAt, cutoff), inArray(outbox.status, ['sent', 'failed'])))
        .returning({ id: outbox.id });
      const a = await q.delete(autoReplies).where(lt(autoReplies.sentAt, autoReplyCutoff)).returning({ id: autoReplies.id });
      return { requests: r.length, inbound: i.length, outbox: o.length, autoReplies: a.length };
    },
  };
}
