import { and, eq, sql } from 'drizzle-orm';
import type { Queryable } from '../client.js';
import { compiled, compiledInsert } from '../compiled.js';
import { sendNow, type Send } from '../write-behind.js';
import { inboundMessages } from '../schema/index.js';

export type InboundRow = typeof inboundMessages.$inferSelect;

export interface InboundIdentity {
  source: 'imap' | 'smtp' | 'cli';
  mailbox: string | null;
  uidValidity: number | null;
  uid: number | null;
  rawHash: string;
  messageId: string | null;
  fromAddress: string | null;
  subject: string | null;
  /** When it arrived, by the domain's clock (retention counts from it). */
  receivedAt?: Date;
}

type ClaimRow = InboundIdentity & { status: 'done'; attempts: number };
const claimRow = compiledInsert<ClaimRow, { id: number }[]>((q, v) =>
  q
    .insert(inboundMessages)
    .values(v)
    .onConflictDoUpdate({
      target: inboundMessages.rawHash,
      set: { status: 'done', attempts: sql`${inboundMessages.attempts} + 1`, mailbox: v.mailbox, uidValidity: v.uidValidity, uid: v.uid, error: null },
      setWhere: sql`${inboundMessages.status} = 'failed'`,
    })
    .returning({ id: inboundMessages.id }),
);
const finishRow = compiled<{ id: number; classification: string; action: string; requestId: number | null; at: Date }, unknown>((q, p) =>
  q
    .update(inboundMessages)
    .set({ classification: p('classification'), action: p('action'), requestId: p('requestId'), processedAt: p('at') })
    .where(eq(inboundMessages.id, p('id'))),
);

export function createInboundRepo(q: Queryable, send: Send = sendNow) {
  return {
    /**
     * Claims a message for handling inside the handling transaction. Returns the row id, or null
     * when these bytes were already handled (status done or quarantined). A previous failed
     * attempt is taken over, so retries keep one row and its attempt count.
     */
    async claim(m: InboundIdentity): Promise<number | null> {
      const rows = await claimRow(q, { ...m, status: 'done', attempts: 1 });
      return rows[0]?.id ?? null;
    },

    /** In a transaction, sent with the next statement (write-behind.ts): the commit. */
    finish(id: number, outcome: { classification: string; action: string; requestId: number | null; at: Date }): Promise<void> {
      return send(finishRow(q, { id, ...outcome }));
    },

    /**
     * Records a failed attempt outside the (rolled back) handling transaction; returns the attempt
     * count and whether the message is now quarantined. `settled`: the message was already done
     * or quarantined before this attempt (it failed before its claim could say so), and nothing
     * was recorded.
     */
    async recordFailure(m: InboundIdentity, error: string, quarantineAfter: number): Promise<{ attempts: number; quarantined: boolean; settled: 'done' | 'quarantined' | null }> {
      const rows = await q
        .insert(inboundMessages)
        .values({ ...m, status: 'failed', attempts: 1, error, action: 'failed' })
        .onConflictDoUpdate({
          target: inboundMessages.rawHash,
          set: {
            attempts: sql`${inboundMessages.attempts} + 1`,
            error,
            status: sql`case when ${inboundMessages.attempts} + 1 >= ${quarantineAfter} then 'quarantined' else 'failed' end`,
          },
          setWhere: sql`${inboundMessages.status} = 'failed'`,
        })
        .returning({ attempts: inboundMessages.attempts, status: inboundMessages.status });
      const row = rows[0];
      if (!row) {
        const [prior] = await q.select({ attempts: inboundMessages.attempts, status: inboundMessages.status }).from(inboundMessages).where(eq(inboundMessages.rawHash, m.rawHash));
        const settled = prior?.status === 'done' || prior?.status === 'quarantined' ? prior.status : null;
        return { attempts: prior?.attempts ?? 0, quarantined: settled === 'quarantined', settled };
      }
      if (row.attempts >= quarantineAfter && row.status !== 'quarantined') {
        await q.update(inboundMessages).set({ status: 'quarantined' }).where(eq(inboundMessages.rawHash, m.rawHash));
        return { attempts: row.attempts, quarantined: true, settled: null };
      }
      return { attempts: row.attempts, quarantined: row.status === 'quarantined', settled: null };
    },

    /**
     * Records a message that will not be handled (unreadable, or too large to read) as
     * quarantined. Returns true when this call recorded it, false when it was already recorded.
     */
    async quarantine(m: InboundIdentity, reason: string, classification: string, at: Date): Promise<boolean> {
      const rows = await q
        .insert(inboundMessages)
        .values({ ...m, status: 'quarantined', attempts: 1, error: reason, classification, action: 'quarantined', processedAt: at, receivedAt: m.receivedAt ?? at })
        .onConflictDoNothing()
        .returning({ id: inboundMessages.id });
      return rows.length === 1;
    },

    async findByHash(rawHash: string): Promise<InboundRow | undefined> {
      const rows = await q.select().from(inboundMessages).where(eq(inboundMessages.rawHash, rawHash)).limit(1);
      return rows[0];
    },

    async findByUid(mailbox: string, uidValidity: number, uid: number): Promise<InboundRow | undefined> {
      const rows = await q
        .select()
        .from(inboundMessages)
        .where(and(eq(inboundMessages.mailbox, mailbox), eq(inboundMessages.uidValidity, uidValidity), eq(inboundMessages.uid, uid)))
        .limit(1);
      return rows[0];
    },
  };
}

export type InboundRepo = ReturnType<typeof createInboundRepo>;
