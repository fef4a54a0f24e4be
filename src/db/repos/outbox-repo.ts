import { and, asc, eq, gt, inArray, isNotNull, lt, lte, or, sql } from 'drizzle-orm';
import type { Queryable } from '../client.js';
import { compiled, compiledInsert } from '../compiled.js';
import { sendNow, type Send } from '../write-behind.js';
import { outbox } from '../schema/index.js';

export type OutboxRow = typeof outbox.$inferSelect;
export type OutboxInsert = typeof outbox.$inferInsert;

const insertIfNew = compiledInsert<OutboxInsert, unknown>((q, v) => q.insert(outbox).values(v).onConflictDoNothing());
const claimDueRows = compiled<{ limit: number; now: Date; lockedUntil: Date; claimedBy: string | null }, OutboxRow[]>((q, p) => {
  const due = q
    .select({ id: outbox.id })
    .from(outbox)
    .where(
      or(
        and(eq(outbox.status, 'pending'), lte(outbox.nextAttemptAt, p('now', outbox.nextAttemptAt))),
        and(eq(outbox.status, 'sending'), lt(outbox.lockedUntil, p('now', outbox.lockedUntil))),
      ),
    )
    .orderBy(asc(outbox.nextAttemptAt), asc(outbox.id))
    .limit(p('limit'))
    .for('update', { skipLocked: true });
  return q
    .update(outbox)
    .set({ status: 'sending', attempts: sql`${outbox.attempts} + 1`, lockedUntil: p('lockedUntil'), claimedBy: p('claimedBy') })
    .where(inArray(outbox.id, due))
    .returning();
});
// `= any($1)` with one array parameter: one statement text for any number of mails.
const markSentRows = compiled<{ ids: number[]; at: Date }, unknown>((q, p) =>
  q.update(outbox).set({ status: 'sent', sentAt: p('at'), lockedUntil: null, claimedBy: null, secrets: null, lastError: null }).where(sql`${outbox.id} = any(${p('ids')})`),
);

export function createOutboxRepo(q: Queryable, send: Send = sendNow) {
  return {
    /**
     * Queues a mail, unless a mail with the same dedupe key was already queued. In a transaction,
     * sent with the next statement (write-behind.ts).
     */
    enqueue(mail: OutboxInsert): Promise<void> {
      return send(insertIfNew(q, mail));
    },

    /**
     * Claims due mails for sending. A row in 'sending' whose lock expired belongs to a sender that
     * died mid-send and is claimed again; SKIP LOCKED lets several dispatchers share the table.
     */
    async claimDue(limit: number, lockMs: number, now: Date, claimedBy: string | null = null): Promise<OutboxRow[]> {
      return claimDueRows(q, { limit, now, lockedUntil: new Date(now.getTime() + lockMs), claimedBy });
    },

    /** Instances that have mails in 'sending', other than `self`. */
    async sendingClaimers(self: string): Promise<string[]> {
      const rows = await q
        .selectDistinct({ claimedBy: outbox.claimedBy })
        .from(outbox)
        .where(and(eq(outbox.status, 'sending'), sql`${outbox.claimedBy} is distinct from ${self}`));
      return rows.flatMap((r) => (r.claimedBy ? [r.claimedBy] : []));
    },

    /** Gives the mails of dead instances back to the queue; they are sent again with the same Message-ID. */
    async reclaimFrom(instances: string[]): Promise<number> {
      if (instances.length === 0) return 0;
      const rows = await q
        .update(outbox)
        .set({ status: 'pending', lockedUntil: null, claimedBy: null })
        .where(and(eq(outbox.status, 'sending'), inArray(outbox.claimedBy, instances)))
        .returning({ id: outbox.id });
      return rows.length;
    },

    /**
     * Gives back mails this instance claimed but is no longer sending (it is stopping): pending
     * again, due at `nextAttemptAt` (default: as they were). Only rows still in 'sending', so a
     * send that finished meanwhile keeps its outcome.
     */
    async release(ids: number[], nextAttemptAt?: Date): Promise<void> {
      if (ids.length === 0) return;
      await q
        .update(outbox)
        .set({ status: 'pending', lockedUntil: null, claimedBy: null, ...(nextAttemptAt ? { nextAttemptAt } : {}) })
        .where(and(eq(outbox.status, 'sending'), inArray(outbox.id, ids)));
    },

    async markSent(ids: readonly number[], at: Date): Promise<void> {
      if (ids.length === 0) return;
      await markSentRows(q, { ids: [...ids], at });
    },

    async markRetry(id: number, nextAttemptAt: Date, error: string): Promise<void> {
      await q.update(outbox).set({ status: 'pending', nextAttemptAt, lockedUntil: null, claimedBy: null, lastError: error }).where(eq(outbox.id, id));
    },

    /** Makes every mail waiting out a retry backoff due now; returns how many. */
    async retryNow(now: Date): Promise<number> {
      const rows = await q
        .update(outbox)
        .set({ nextAttemptAt: now })
        .where(and(eq(outbox.status, 'pending'), isNotNull(outbox.lastError), gt(outbox.nextAttemptAt, now)))
        .returning({ id: outbox.id });
      return rows.length;
    },

    async markFailed(id: number, error: string): Promise<void> {
      await q.update(outbox).set({ status: 'failed', lockedUntil: null, claimedBy: null, lastError: error }).where(eq(outbox.id, id));
    },

    async depth(): Promise<number> {
      const rows = await q.select({ n: sql<number>`count(*)::int` }).from(outbox).where(inArray(outbox.status, ['pending', 'sending']));
      return rows[0]?.n ?? 0;
    },

    async forRequest(requestId: number): Promise<OutboxRow[]> {
      return q.select().from(outbox).where(eq(outbox.requestId, requestId)).orderBy(asc(outbox.id));
    },

    async nextDueAt(): Promise<Date | null> {
      const rows = await q
        .select({ at: sql<Date | string | null>`min(${outbox.nextAttemptAt})` })
        .from(outbox)
        .where(eq(outbox.status, 'pending'));
      const at = rows[0]?.at;
      return at ? new Date(at) : null;
    },
  };
}

export type OutboxRepo = ReturnType<typeof createOutboxRepo>;
