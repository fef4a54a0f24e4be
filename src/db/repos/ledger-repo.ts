import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import type { Queryable } from '../client.js';
import { assignments } from '../schema/index.js';

export type AssignmentRow = typeof assignments.$inferSelect;

export function createLedgerRepo(q: Queryable) {
  return {
    /**
     * Serialises seat counting for one product until the transaction ends. Counting and then
     * inserting is only safe under this lock; the unique key still guards each person.
     */
    async lockProduct(productId: string): Promise<void> {
      await q.execute(sql`select pg_advisory_xact_lock(hashtext(${'mailgrant-seats:' + productId}))`);
    },
    async countAssigned(productId: string): Promise<number> {
      const rows = await q.select({ n: sql<number>`count(*)::int` }).from(assignments).where(eq(assignments.productId, productId));
      return rows[0]?.n ?? 0;
    },
    async countsByProduct(): Promise<Map<string, number>> {
      const rows = await q.select({ productId: assignments.productId, n: sql<number>`count(*)::int` }).from(assignments).groupBy(assignments.productId);
      return new Map(rows.map((r) => [r.productId, r.n]));
    },
    /** false when the person already had the product. */
    async assign(a: typeof assignments.$inferInsert): Promise<boolean> {
      const rows = await q.insert(assignments).values(a).onConflictDoNothing().returning({ id: assignments.id });
      return rows.length === 1;
    },
    async revoke(productId: string, email: string): Promise<boolean> {
      const rows = await q.delete(assignments).where(and(eq(assignments.productId, productId), eq(assignments.email, email))).returning({ id: assignments.id });
      return rows.length === 1;
    },
    async forRequest(requestId: number): Promise<AssignmentRow[]> {
      return q.select().from(assignments).where(eq(assignments.requestId, requestId)).orderBy(asc(assignments.id));
    },
    async holdersOf(productIds: string[], emails: string[]): Promise<AssignmentRow[]> {
      if (productIds.length === 0 || emails.length === 0) return [];
      return q.select().from(assignments).where(and(inArray(assignments.productId, productIds), inArray(assignments.email, emails))).orderBy(asc(assignments.id));
    },
  };
}

export type LedgerRepo = ReturnType<typeof createLedgerRepo>;
