import { and, asc, count, eq, gte, sql } from 'drizzle-orm';
import type { Queryable } from '../client.js';
import { compiledInsert } from '../compiled.js';
import { sendNow, type Send } from '../write-behind.js';
import { auditLog, autoReplies } from '../schema/index.js';

export type AuditRow = typeof auditLog.$inferSelect;
export interface AuditEntry {
  actor: string;
  channel: 'email' | 'cli' | 'system';
  action: string;
  requestId?: number | null;
  details?: Record<string, unknown>;
  at?: Date;
}

const insertAudit = compiledInsert<typeof auditLog.$inferInsert, unknown>((q, v) => q.insert(auditLog).values(v));

export function createAuditRepo(q: Queryable, send: Send = sendNow) {
  return {
    /** In a transaction, sent with the next statement (write-behind.ts). */
    record(e: AuditEntry): Promise<void> {
      return send(insertAudit(q, { actor: e.actor, channel: e.channel, action: e.action, requestId: e.requestId ?? null, details: e.details ?? {}, at: e.at ?? new Date() }));
    },
    async list(filter: { requestId?: number; since?: Date; limit?: number }): Promise<AuditRow[]> {
      const conds = [];
      if (filter.requestId !== undefined) conds.push(eq(auditLog.requestId, filter.requestId));
      if (filter.since) conds.push(gte(auditLog.at, filter.since));
      return q.select().from(auditLog).where(conds.length ? and(...conds) : undefined).orderBy(asc(auditLog.at), asc(auditLog.id)).limit(filter.limit ?? 10_000);
    },
  };
}

export function createAutoRepliesRepo(q: Queryable, send: Send = sendNow) {
  return {
    async sentSince(recipient: string, kind: string, since: Date): Promise<boolean> {
      const rows = await q
        .select({ id: autoReplies.id })
        .from(autoReplies)
        .where(and(eq(autoReplies.recipient, recipient), eq(autoReplies.kind, kind), gte(autoReplies.sentAt, since)))
        .limit(1);
      return rows.length > 0;
    },
    /** How many auto-replies whose kind starts with `kindPrefix` went to this recipient since then. */
    async countSince(recipient: string, kindPrefix: string, since: Date): Promise<number> {
      const rows = await q
        .select({ n: count() })
        .from(autoReplies)
        .where(and(eq(autoReplies.recipient, recipient), eq(sql`left(${autoReplies.kind}, ${kindPrefix.length})`, kindPrefix), gte(autoReplies.sentAt, since)));
      return Number(rows[0]?.n ?? 0);
    },
    /** In a transaction, sent with the next statement (write-behind.ts). */
    record(recipient: string, kind: string, at: Date): Promise<void> {
      return send(q.insert(autoReplies).values({ recipient, kind, sentAt: at }).execute());
    },
  };
}

export type AuditRepo = ReturnType<typeof createAuditRepo>;
export type AutoRepliesRepo = ReturnType<typeof createAutoRepliesRepo>;
